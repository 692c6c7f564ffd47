package cli

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/report"
	"github.com/tierwall/tierwall/pkg/result"
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
// exit code when it cannot.
func (r *session) model(cmd *cobra.Command, f *inputFlags, paths []string) (*analysis.Model, []manifest.Object, int) {
	o, err := f.check(cmd.Flags(), namespaceFlagText)
	if err != nil {
		return nil, nil, r.usageError(cmd, err)
	}
	var opts analysis.Options
	for _, e := range f.external {
		name, cidr, ok := strings.Cut(e, "=")
		p, err := netip.ParsePrefix(cidr)
		if !ok || name == "" || err != nil {
			return nil, nil, r.usageError(cmd, fmt.Errorf("--external %q: want NAME=CIDR, e.g. payments-db=10.20.0.0/24", e))
		}
		opts.External = append(opts.External, analysis.NamedCIDR{Name: name, CIDR: p})
	}
	if (len(paths) == 0 || slices.Contains(paths, "-")) && isTerminal(r.Stdin) {
		return nil, nil, r.usageError(cmd, fmt.Errorf("stdin is a terminal: pipe rendered manifests in, or name files or folders"))
	}
	if opts.Spec, err = loadConfig(f.file, o, r.readFile); err != nil {
		fmt.Fprintf(r.Stderr, "%s: %v\n", cmd.CommandPath(), err)
		return nil, nil, ExitUsage
	}
	objs, err := readObjects(paths, r.Stdin)
	if err != nil {
		fmt.Fprintf(r.Stderr, "%s: %v\n", cmd.CommandPath(), err)
		return nil, nil, ExitInput
	}
	m, _ := analysis.New(objs, opts)
	return m, objs, ExitOK
}

// reportFormats are the formats of tierwall report -o ("md" is markdown too).
var reportFormats = []string{"text", "markdown", "json", "yaml", "dot"}

func (r *session) reportCommand() *cobra.Command {
	var f inputFlags
	var format string
	cmd := r.newCommand(&cobra.Command{
		Use:   "report [FILE|DIR|-]...",
		Short: "Show who may talk to whom in rendered manifests, and why",
		Long: `Shows who may talk to whom once the NetworkPolicies of rendered manifests
apply, and which policies allow each flow: a text table, Markdown with a
Mermaid graph, JSON, YAML or DOT.

` + inputHelp,
		Example: `  kustomize build --enable-alpha-plugins --enable-exec . | tierwall report -o markdown
  tierwall report -o json --config tierwall.yaml rendered/`,
		Args: cobra.ArbitraryArgs,
		Run: func(cmd *cobra.Command, paths []string) {
			r.code = r.report(cmd, &f, format, paths)
		},
	})
	f.register(cmd.Flags())
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output `FORMAT`: "+strings.Join(reportFormats, ", "))
	fixedValues(cmd, "output", reportFormats...)
	return cmd
}

func (r *session) report(cmd *cobra.Command, f *inputFlags, format string, paths []string) int {
	if format == "md" {
		format = "markdown"
	}
	if err := oneOf("-o", format, reportFormats); err != nil {
		return r.usageError(cmd, err)
	}
	m, _, code := r.model(cmd, f, paths)
	if m == nil {
		return code
	}
	result.Print(r.Stderr, m.Findings, result.Warning)
	var buf bytes.Buffer
	if err := report.Write(&buf, m, format); err != nil {
		fmt.Fprintf(r.Stderr, "tierwall report: %v\n", err)
		return ExitFailed
	}
	if _, err := r.Stdout.Write(buf.Bytes()); err != nil {
		fmt.Fprintf(r.Stderr, "tierwall report: writing the report: %v\n", err)
		return ExitFailed
	}
	return ExitOK
}
