package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tierwall/tierwall/pkg/krmfn"
)

const functionLong = `tierwall adds zero-trust NetworkPolicies to Kubernetes manifests.

With no command, tierwall is a KRM function: it reads a ResourceList on stdin
(from kustomize or kpt) and writes it back with the generated policies after
the input items, and its findings as results. Its settings are the
functionConfig (a TierWall object or a v1 ConfigMap); --namespace overrides
spec.namespace.

The commands read rendered manifests (files, folders or stdin) and say who
may talk to whom (report) or whether their policies hold (check).

Exit codes: 0 ok, 1 findings or a failed run, 2 usage or configuration
errors, 3 unreadable input.`

const functionExample = `  # As a KRM function (kustomize runs it; see README.md):
  kustomize build --enable-alpha-plugins --enable-exec .

  # On a ResourceList of your own:
  tierwall -n shop < resourcelist.yaml

  # Rendered manifests:
  kustomize build --enable-alpha-plugins --enable-exec . | tierwall report -o markdown
  helm template shop chart/ --post-renderer tierwall-postrender | tierwall check -n shop`

// Main runs tierwall on args and returns its exit code.
func (c Command) Main(args []string) int {
	r := &session{Command: c}
	return r.execute(r.rootCommand(), args, r.usageError)
}

// rootCommand is tierwall: the KRM function, and the commands under it.
func (r *session) rootCommand() *cobra.Command {
	var cfg configFlags
	var showVersion bool
	root := r.newCommand(&cobra.Command{
		Use:     "tierwall",
		Short:   "Zero-trust NetworkPolicies for rendered Kubernetes manifests",
		Long:    functionLong,
		Example: functionExample,
		Run: func(cmd *cobra.Command, _ []string) {
			if showVersion {
				r.code = r.printVersion(cmd, "text")
				return
			}
			r.code = r.function(cmd, &cfg)
		},
	})
	cfg.register(root.Flags(), false, namespaceUsage)
	cfg.registerRender(root.Flags())
	root.Flags().BoolVar(&showVersion, "version", false, "print the version (as tierwall version)")
	root.AddCommand(r.reportCommand(), r.diffCommand(), r.checkCommand(), r.policiesCommand(), r.versionCommand())
	for _, c := range extraCommands {
		root.AddCommand(c(r))
	}
	// cobra's completion command, runnable so that an unknown shell is a
	// usage error rather than its help and exit 0.
	root.InitDefaultCompletionCmd()
	for _, sub := range root.Commands() {
		if sub.Name() == "completion" {
			sub.Run = func(cmd *cobra.Command, _ []string) { _ = cmd.Help() }
		}
	}
	return root
}

// function runs the KRM function on the ResourceList on stdin.
func (r *session) function(cmd *cobra.Command, cfg *configFlags) int {
	if isTerminal(r.Stdin) {
		if cmd.Flags().NFlag() == 0 {
			// tierwall typed alone: say what it is instead of waiting.
			_ = cmd.Help()
			return ExitOK
		}
		return r.usageError(cmd, fmt.Errorf("stdin is a terminal: pipe a ResourceList in (kustomize and kpt do)"))
	}
	o, err := cfg.check(cmd.Flags(), namespaceFlagText)
	if err != nil {
		return r.usageError(cmd, err)
	}
	releaseFromEnv(&o, r.getenv)
	context, err := readContext(cfg.context)
	if err != nil {
		fmt.Fprintf(r.Stderr, "tierwall: %v\n", err)
		return ExitInput
	}
	in, err := io.ReadAll(r.Stdin)
	if err != nil {
		fmt.Fprintf(r.Stderr, "tierwall: reading stdin: %v\n", err)
		return ExitInput
	}
	switch krmfn.RunWith(in, o, context, r.Stdout, r.Stderr) {
	case krmfn.OK:
		return ExitOK
	case krmfn.BadConfig:
		return ExitUsage
	case krmfn.BadInput:
		return ExitInput
	default:
		return ExitFailed
	}
}

// extraCommands are commands that builds with tags add (verify).
var extraCommands []func(*session) *cobra.Command
