package cli

import (
	"bufio"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/stream"
)

// emptyComment is the Helm 4 plugin's output for blank input.
const emptyComment = "# tierwall-postrender: no objects in the input, no policies\n"

const postRenderLong = `tierwall-postrender adds zero-trust NetworkPolicies to a Helm release.

It reads the rendered manifests on stdin and writes them to stdout unchanged,
followed by the generated policies. stdout carries only YAML; findings go to
stderr, and warnings also travel as comments above the first policy (Helm
shows no stderr of a post-renderer that succeeds).

Flags override the --config file; list flags add to its lists.

Exit codes: 0 ok, 1 a failed run, 2 usage or configuration errors,
3 unreadable input. As a Helm 4 plugin (--helm4-plugin) a failure exits 0
and writes a document Helm rejects, naming the reason: Helm 4 drops a
plugin's stderr.`

const postRenderExample = `  # Helm 3: each flag is its own --post-renderer-args
  helm install REL CHART --post-renderer tierwall-postrender \
    --post-renderer-args=--namespace=shop --post-renderer-args=--config=tierwall.yaml

  # Helm 4: the plugin (make plugin), named by its name
  helm plugin install dist/helm-plugin
  helm install REL CHART --post-renderer tierwall --post-renderer-args=--namespace=shop

  # Any rendered stream:
  helm template REL CHART | tierwall-postrender -n shop`

// postRenderFlagText says, for config errors, where an overridden field
// came from.
var postRenderFlagText = map[string]string{
	"namespace":      "set by --namespace or HELM_NAMESPACE",
	"dns.profile":    "set by --dns-profile",
	"skipNamespaces": "from the config file or --skip-namespace",
	"kubeAPI.cidrs":  "from the config file or --kube-api-cidr",
}

// postRenderFlags are the post-renderer's flags.
type postRenderFlags struct {
	configFlags
	dnsProfile        string
	skipNamespaces    []string
	disableMonitoring bool
	disableTiers      bool
	kubeAPICIDRs      []string
	helm4Plugin       bool
	version           bool
}

// PostRender runs tierwall-postrender on args and returns its exit code.
// Nothing reaches stdout unless the whole run succeeds (or, as a Helm 4
// plugin, fails and reports it there).
func (c Command) PostRender(args []string) int {
	r := &session{Command: c}
	// A command line that does not parse cannot say --helm4-plugin through
	// the parser: look for it.
	helm4 := wantsHelm4(args)
	return r.execute(r.postRenderCommand(), args, func(cmd *cobra.Command, err error) int {
		return r.postRenderFail(cmd, helm4, ExitUsage, err, true)
	})
}

func (r *session) postRenderCommand() *cobra.Command {
	var f postRenderFlags
	cmd := r.newCommand(&cobra.Command{
		Use:     "tierwall-postrender",
		Short:   "Helm post-renderer: zero-trust NetworkPolicies for a Helm release",
		Long:    postRenderLong,
		Example: postRenderExample,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unexpected argument %q: flags only; with Helm, pass each one as --post-renderer-args=FLAG", args[0])
			}
			return nil
		},
		Run: func(cmd *cobra.Command, _ []string) {
			r.code = r.postRender(cmd, &f)
		},
	})
	fs := cmd.Flags()
	f.registerRender(fs)
	f.register(fs, true, "the release `NAMESPACE`: objects without metadata.namespace are in it and their policies name it. "+
		"Defaults to $HELM_NAMESPACE when set, else policies for those objects carry no namespace and Helm installs them beside the release")
	fs.StringVar(&f.dnsProfile, "dns-profile", "", "the DNS `PROFILE`: kube-dns, nodelocal, openshift, gke-cloud-dns or custom")
	fs.StringArrayVar(&f.skipNamespaces, "skip-namespace", nil, "give `NAMESPACE` no policies (repeatable)")
	fs.BoolVar(&f.disableMonitoring, "no-monitoring", false, "no Prometheus scrape allows")
	fs.BoolVar(&f.disableTiers, "no-tiers", false, "no allows derived from tier labels")
	fs.StringArrayVar(&f.kubeAPICIDRs, "kube-api-cidr", nil, "allow egress to the API server at `CIDR` (repeatable)")
	fs.BoolVar(&f.helm4Plugin, "helm4-plugin", false, "report failures in the output, where Helm 4 shows them (Helm 4 drops a post-renderer's stderr); the plugin sets it")
	fs.BoolVar(&f.version, "version", false, "print the version")
	fixedValues(cmd, "dns-profile", "kube-dns", "nodelocal", "openshift", "gke-cloud-dns", "custom")
	return cmd
}

func (r *session) postRender(cmd *cobra.Command, f *postRenderFlags) int {
	if f.version {
		return r.printVersion(cmd, "text")
	}
	if isTerminal(r.Stdin) {
		if cmd.Flags().NFlag() == 0 {
			// tierwall-postrender typed alone: say what it is instead of waiting.
			_ = cmd.Help()
			return ExitOK
		}
		return r.postRenderFail(cmd, f.helm4Plugin, ExitUsage, fmt.Errorf("stdin is a terminal: pipe rendered manifests in (Helm does)"), true)
	}
	o, err := f.check(cmd.Flags(), postRenderFlagText)
	if err != nil {
		return r.postRenderFail(cmd, f.helm4Plugin, ExitUsage, err, true)
	}
	if o.Namespace == "" {
		o.Namespace = r.getenv("HELM_NAMESPACE")
	}
	releaseFromEnv(&o, r.getenv)
	o.DNSProfile = f.dnsProfile
	o.SkipNamespaces = f.skipNamespaces
	o.DisableMonitoring = f.disableMonitoring
	o.DisableTiers = f.disableTiers
	o.KubeAPICIDRs = f.kubeAPICIDRs
	spec, err := loadConfig(f.file, o, r.readFile)
	if err != nil {
		return r.postRenderFail(cmd, f.helm4Plugin, ExitUsage, err, false)
	}
	data, err := stream.ReadAll(r.Stdin)
	if err != nil {
		return r.postRenderFail(cmd, f.helm4Plugin, ExitInput, fmt.Errorf("reading stdin: %w", err), false)
	}
	s, err := readStream(data, spec)
	if err != nil {
		return r.postRenderFail(cmd, f.helm4Plugin, ExitInput, err, false)
	}
	context, err := readContext(f.context)
	if err != nil {
		return r.postRenderFail(cmd, f.helm4Plugin, ExitInput, err, false)
	}
	plan, err := planStream(s, spec, context)
	if err != nil {
		return r.postRenderFail(cmd, f.helm4Plugin, ExitInput, err, false)
	}
	if plan.failed {
		return r.postRenderFail(cmd, f.helm4Plugin, ExitFailed, findingsError(plan.results), false)
	}
	// Helm drops a successful post-renderer's stderr, Argo CD logs it: the
	// summary goes there, and as the first comment of the output.
	if plan.summary != "" {
		fmt.Fprintf(r.Stderr, "tierwall: summary: %s\n", plan.summary)
	}
	result.Print(r.Stderr, plan.results, result.Warning)
	w := bufio.NewWriterSize(r.Stdout, 1<<16)
	var werr error
	if f.helm4Plugin && plan.Empty() {
		// Helm 4 fails a post-renderer whose output is blank (a chart
		// that renders no object would hit it): a comment is not blank.
		_, werr = w.WriteString(emptyComment)
	} else {
		werr = plan.Write(w)
	}
	if werr == nil {
		werr = w.Flush()
	}
	if werr != nil {
		fmt.Fprintf(r.Stderr, "tierwall-postrender: writing stdout: %v\n", werr)
		return ExitFailed
	}
	return ExitOK
}

// postRenderFail reports err on stderr (with the usage line for a
// command-line error) and returns code; as a Helm 4 plugin it also writes
// the error document to stdout and returns 0, the only way Helm 4 shows the
// reason (it discards the stderr and the stdout of a failed plugin).
func (r *session) postRenderFail(cmd *cobra.Command, helm4 bool, code int, err error, usage bool) int {
	msg := "tierwall-postrender: " + err.Error()
	if usage {
		writeUsageError(r.Stderr, cmd, err)
	} else {
		fmt.Fprintln(r.Stderr, msg)
	}
	if !helm4 {
		return code
	}
	if _, werr := r.Stdout.Write(errorDocument(msg)); werr != nil {
		return code
	}
	return ExitOK
}

// wantsHelm4 reports whether args ask for Helm 4 error reporting, for
// command lines that fail to parse.
func wantsHelm4(args []string) bool {
	for _, a := range args {
		if a == "--helm4-plugin" || a == "-helm4-plugin" || a == "--helm4-plugin=true" {
			return true
		}
	}
	return false
}
