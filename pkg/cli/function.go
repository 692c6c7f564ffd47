package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/resourcelist"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/stream"
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
	in, err := stream.ReadAll(r.Stdin)
	if err != nil {
		fmt.Fprintf(r.Stderr, "tierwall: reading stdin: %v\n", err)
		return ExitInput
	}
	return runFunction(in, o, context, r.Stdout, r.Stderr)
}

// runFunction processes the ResourceList in input (the whole of stdin) with
// the command-line settings o merged into its functionConfig, writes the
// output ResourceList to stdout and findings to stderr, and returns the
// exit code. A run that fails writes the input items back unchanged with
// error results, and the same text on stderr (kustomize ignores results but
// shows stderr).
func runFunction(input []byte, o v1alpha1.Overrides, context []manifest.Object, stdout, stderr io.Writer) int {
	l, err := resourcelist.Read(input)
	if err != nil {
		fmt.Fprintf(stderr, "tierwall: %v\n", err)
		return ExitInput
	}
	var fc *yaml.RNode
	if l.FunctionConfig != nil {
		fc = yaml.NewRNode(l.FunctionConfig)
	}
	spec, src, cfgErr := v1alpha1.LoadWithOverrides(fc, o)
	var prepare func(*manifest.Object)
	if cfgErr == nil {
		extra := inject.ExtraKinds(spec)
		prepare = func(o *manifest.Object) { inject.Prepare(o, extra) }
	}
	if err := l.ReadItems(prepare); err != nil {
		var ie *resourcelist.ItemError
		if !errors.As(err, &ie) {
			fmt.Fprintf(stderr, "tierwall: %v\n", err)
			return ExitInput
		}
		failFunction(stdout, stderr, l, framework.Results{result.New(result.Error, nil, "", "%v", err)})
		return ExitInput
	}
	if cfgErr != nil {
		failFunction(stdout, stderr, l, configResults(src, cfgErr))
		return ExitUsage
	}
	out, failed, err := inject.Engine{Spec: spec, Context: context}.Process(l.Objects)
	if err != nil {
		// The engine fails only on items it cannot trust (no apiVersion
		// or kind).
		failFunction(stdout, stderr, l, framework.Results{result.New(result.Error, nil, "", "%v", err)})
		return ExitInput
	}
	// kustomize and kpt stream stderr to the user: the summary first.
	fmt.Fprintf(stderr, "tierwall: summary: %s\n", out.Summary.Text())
	result.Print(stderr, out.Results, result.Warning)
	if failed {
		if spec.Check.Enabled != nil && *spec.Check.Enabled && !result.HasErrors(out.Results) {
			fmt.Fprintf(stderr, "tierwall: the checks of the output failed (spec.check.failOn: %s)\n", spec.Check.FailOn)
		}
		_ = l.Write(stdout, resourcelist.Output{Results: out.Results})
		return ExitFailed
	}
	w := resourcelist.Output{Objects: out.Objects, FunctionConfig: true, Results: out.Results}
	if len(out.Drop) > 0 {
		w.Dropped = map[int]bool{}
		for _, i := range out.Drop {
			w.Dropped[i] = true
		}
	}
	if err := l.Write(stdout, w); err != nil {
		fmt.Fprintf(stderr, "tierwall: writing ResourceList: %v\n", err)
		return ExitFailed
	}
	return ExitOK
}

// failFunction writes the input items back unchanged with the error
// results, which also go to stderr.
func failFunction(stdout, stderr io.Writer, l *resourcelist.List, rs framework.Results) {
	result.Print(stderr, rs, result.Error)
	_ = l.Write(stdout, resourcelist.Output{Results: rs})
}

// configResults are an error result per problem of the configuration.
func configResults(src v1alpha1.Source, err error) framework.Results {
	var rs framework.Results
	ref := &result.Ref{APIVersion: src.APIVersion, Kind: src.Kind, Name: src.Name, Namespace: src.Namespace}
	var fes v1alpha1.Errors
	if errors.As(err, &fes) {
		for _, fe := range fes {
			rs = append(rs, result.New(result.Error, ref, fe.Path, "invalid functionConfig %s: %s: %s", src, fe.Path, fe.Message))
		}
	} else {
		rs = append(rs, result.New(result.Error, ref, "", "%v", err))
	}
	return rs
}

// extraCommands are commands that builds with tags add (verify).
var extraCommands []func(*session) *cobra.Command
