package cli

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/report"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/stream"
)

const inputHelp = `Reads rendered manifests: the files and folders named (folders recurse over
*.yaml and *.yml, in lexical order; "-" is stdin), or stdin when none is
named. Plain multi-document streams, ResourceLists and v1 Lists are read.`

// inputFlags are the flags report and check share.
type inputFlags struct {
	configFlags
	external []string
}

func (f *inputFlags) register(fs *pflag.FlagSet) {
	f.configFlags.register(fs, true, namespaceUsage)
	fs.StringArrayVar(&f.external, "external", nil, "name an address range shown as a peer, `NAME=CIDR` (repeatable)")
}

// model reads the settings and the input and builds the model: nil and the
// exit code when it cannot. (tierwall verify's, behind the verify build tag.)
//
//nolint:unused // used by verify.go, built with -tags verify
func (r *session) model(cmd *cobra.Command, f *inputFlags, paths []string) (*analysis.Model, []manifest.Object, int) {
	m, objs, _, code := r.checkInput(cmd, f, paths)
	return m, objs, code
}

// analysisOptions reads the settings of report, check and diff: the
// flags, then the --config file. inputs are the path lists the command
// will read, for the stdin check.
func (r *session) analysisOptions(cmd *cobra.Command, f *inputFlags, inputs [][]string) (analysis.Options, int) {
	var opts analysis.Options
	o, err := f.check(cmd.Flags(), namespaceFlagText)
	if err != nil {
		return opts, r.usageError(cmd, err)
	}
	for _, e := range f.external {
		name, cidr, ok := strings.Cut(e, "=")
		p, err := netip.ParsePrefix(cidr)
		if !ok || name == "" || err != nil {
			return opts, r.usageError(cmd, fmt.Errorf("--external %q: want NAME=CIDR, e.g. payments-db=10.20.0.0/24", e))
		}
		opts.External = append(opts.External, analysis.NamedCIDR{Name: name, CIDR: p})
	}
	for _, paths := range inputs {
		if (len(paths) == 0 || slices.Contains(paths, "-")) && isTerminal(r.Stdin) {
			return opts, r.usageError(cmd, fmt.Errorf("stdin is a terminal: pipe rendered manifests in, or name files or folders"))
		}
	}
	if opts.Spec, err = loadConfig(f.file, o, r.readFile); err != nil {
		fmt.Fprintf(r.Stderr, "%s: %v\n", cmd.CommandPath(), err)
		return opts, ExitUsage
	}
	return opts, ExitOK
}

// namespacedKinds are kinds that live in a namespace, which --namespace
// gives to those of them that have none.
var namespacedKinds = map[string]bool{
	"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true, "Job": true, "CronJob": true,
	"Pod": true, "Service": true, "NetworkPolicy": true, "CiliumNetworkPolicy": true, "ConfigMap": true, "Secret": true,
	"ServiceAccount": true, "Role": true, "RoleBinding": true, "Ingress": true,
}

// ambiguousNamespace is the error of a --namespace that changes nothing,
// every object of the input having its own: most likely meant as a filter,
// which --in is.
func ambiguousNamespace(f *inputFlags, objs ...[]manifest.Object) error {
	if f.namespace == "" {
		return nil
	}
	for _, list := range objs {
		for _, o := range list {
			if o.Namespace == "" && namespacedKinds[o.Kind] {
				return nil
			}
		}
	}
	return fmt.Errorf("--namespace %s changes nothing: every object of the input has its own namespace. --namespace is the namespace of the objects that have none (as for Helm and kubectl); to show only namespace %s, use --in %s", f.namespace, f.namespace, f.namespace)
}

// viewFlags are the flags that narrow and bound what report and diff show.
type viewFlags struct {
	in, from, to []string
	hideBaseline bool
	maxBytes     int
	jsonOut      string
	jsonWhere    string
}

func (v *viewFlags) register(fs *pflag.FlagSet, what string) {
	fs.StringArrayVar(&v.in, "in", nil, "show only the `NAMESPACE` and "+what+" from or to its pods (repeatable); --namespace is the namespace of objects without one")
	fs.StringArrayVar(&v.from, "from", nil, "show only "+what+" from the `ENDPOINT`: NAMESPACE/NAME, NAME, NAMESPACE/, internet, kube-apiserver, any, or a glob of those (repeatable)")
	fs.StringArrayVar(&v.to, "to", nil, "show only "+what+" to the `ENDPOINT`, as --from (repeatable)")
	fs.BoolVar(&v.hideBaseline, "hide-baseline", false, "leave out the baseline "+what+": to the cluster DNS and from Prometheus")
	fs.IntVar(&v.maxBytes, "max-bytes", report.DefaultMaxBytes, "the Markdown's size budget in `BYTES` (a pull-request comment holds 65536); over it, "+what+" are aggregated; 0 is no budget")
	fs.StringVar(&v.jsonOut, "json-out", "", "also write the complete JSON document to `FILE`, which cut Markdown points to")
	fs.StringVar(&v.jsonWhere, "json-where", "", "where readers of cut Markdown find the complete JSON (`TEXT`, e.g. a link to a build artifact); defaults to the --json-out file")
}

// options are the report options of the flags.
func (v *viewFlags) options() (report.Options, error) {
	o := report.Options{In: v.in, From: v.from, To: v.to, HideBaseline: v.hideBaseline, MaxBytes: v.maxBytes}
	switch {
	case v.maxBytes == 0:
		o.MaxBytes = -1
	case v.maxBytes < report.MinMaxBytes:
		return o, fmt.Errorf("--max-bytes %d: at least %d (a summary and where the complete JSON is), or 0 for no budget", v.maxBytes, report.MinMaxBytes)
	}
	o.FullJSON = v.jsonWhere
	if o.FullJSON == "" && v.jsonOut != "" {
		o.FullJSON = "`" + v.jsonOut + "`"
	}
	return o, nil
}

// reportFormats are the formats of tierwall report -o ("md" is markdown too).
var reportFormats = []string{"text", "markdown", "json", "yaml", "dot"}

func (r *session) reportCommand() *cobra.Command {
	var f inputFlags
	var v viewFlags
	var format string
	cmd := r.newCommand(&cobra.Command{
		Use:   "report [FILE|DIR|-]...",
		Short: "Show who may talk to whom in rendered manifests, and why",
		Long: `Shows who may talk to whom once the NetworkPolicies of rendered manifests
apply, and which policies allow each flow: a text table, Markdown (a summary
and a folded section per namespace with a Mermaid graph, within --max-bytes),
JSON (schema report.tierwall.io/v1, docs/report-schema.md), YAML or DOT.
Peers the input does not hold are endpoints of their own: the cluster DNS,
Prometheus, pods and namespaces a policy names by selector, address blocks,
the API server.

--in, --from, --to and --hide-baseline narrow what is shown.

` + inputHelp,
		Example: `  kustomize build --enable-alpha-plugins --enable-exec . | tierwall report -o markdown
  tierwall report -o json --config tierwall.yaml rendered/
  tierwall report --in shop --hide-baseline rendered/
  tierwall report --from 'shop/*' --to internet rendered/
  tierwall report -o markdown --json-out connectivity.json rendered/ > connectivity.md`,
		Args: cobra.ArbitraryArgs,
		Run: func(cmd *cobra.Command, paths []string) {
			r.code = r.report(cmd, &f, &v, format, paths)
		},
	})
	f.register(cmd.Flags())
	v.register(cmd.Flags(), "flows")
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output `FORMAT`: "+strings.Join(reportFormats, ", "))
	fixedValues(cmd, "output", reportFormats...)
	return cmd
}

func (r *session) report(cmd *cobra.Command, f *inputFlags, v *viewFlags, format string, paths []string) int {
	if format == "md" {
		format = "markdown"
	}
	if err := oneOf("-o", format, reportFormats); err != nil {
		return r.usageError(cmd, err)
	}
	ro, err := v.options()
	if err != nil {
		return r.usageError(cmd, err)
	}
	opts, code := r.analysisOptions(cmd, f, [][]string{paths})
	if code != ExitOK {
		return code
	}
	objs, err := stream.ReadObjects(paths, r.Stdin)
	if err != nil {
		fmt.Fprintf(r.Stderr, "%s: %v\n", cmd.CommandPath(), err)
		return ExitInput
	}
	if err := ambiguousNamespace(f, objs); err != nil {
		return r.usageError(cmd, err)
	}
	opts.SelectorPeers = true
	m := analysis.New(objs, opts)
	rep, err := report.Build(m, ro)
	if err != nil {
		return r.usageError(cmd, err)
	}
	result.Print(r.Stderr, m.Findings, result.Warning)
	if v.jsonOut != "" {
		if code := r.writeFile(cmd, v.jsonOut, func(w io.Writer) error { return report.JSON(w, rep) }); code != ExitOK {
			return code
		}
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, rep, format); err != nil {
		fmt.Fprintf(r.Stderr, "tierwall report: %v\n", err)
		return ExitFailed
	}
	if _, err := r.Stdout.Write(buf.Bytes()); err != nil {
		fmt.Fprintf(r.Stderr, "tierwall report: writing the report: %v\n", err)
		return ExitFailed
	}
	return ExitOK
}

// writeFile writes a file through write, reporting a failure.
func (r *session) writeFile(cmd *cobra.Command, path string, write func(io.Writer) error) int {
	var buf bytes.Buffer
	err := write(&buf)
	if err == nil {
		err = os.WriteFile(path, buf.Bytes(), 0o644)
	}
	if err != nil {
		fmt.Fprintf(r.Stderr, "%s: writing %s: %v\n", cmd.CommandPath(), path, err)
		return ExitFailed
	}
	return ExitOK
}
