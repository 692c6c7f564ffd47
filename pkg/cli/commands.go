package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/check"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/report"
	"github.com/tierwall/tierwall/pkg/result"
)

const reportUsage = `Usage: tierwall report [-o text|markdown|json|dot] [--config FILE] [--namespace NS]
                       [--external NAME=CIDR ...] [FILE|DIR|- ...]

Reads rendered manifests (stdin when no path is given; folders recurse over
*.yaml and *.yml; plain multi-document streams, ResourceLists and Lists) and
shows who may talk to whom once their NetworkPolicies apply, and which
policies allow each flow. For example:

  kustomize build --enable-alpha-plugins --enable-exec . | tierwall report -o markdown

Flags:
`

const checkUsage = `Usage: tierwall check [--fail-on error|warning] [-o text|yaml] [--config FILE]
                      [--namespace NS] [--cluster-cidr CIDR ...] [FILE|DIR|- ...]

Reads rendered manifests like tierwall report and checks their
NetworkPolicies: every pod of a protected namespace default-denied both ways,
no rule open to every peer or to 0.0.0.0/0, DNS reachable where egress is
denied, no policy selecting nothing, no rule that cannot work (a named port no
pod declares, a Service port instead of the pod port, an ipBlock aimed at
cluster addresses). Prints one line per finding and exits 1 when a finding is
at or above --fail-on.

Flags:
`

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "TierWall (or ConfigMap) file with the settings used to render: DNS profile, skipped namespaces, monitoring")
	fs.StringVar(&c.namespace, "namespace", "", "namespace of the objects that have none (Helm's release namespace)")
	fs.Var((*stringList)(&c.external), "external", "name an address range shown as a peer, NAME=CIDR (repeatable)")
}

// parseArgs parses flags anywhere among the arguments and returns the
// others, in order.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs
}

// reportConfig is what tierwall report was asked to do.
type reportConfig struct {
	commonFlags
	format string
	paths  []string
}

func parseReportArgs(args []string, stderr io.Writer) (reportConfig, error) {
	var c reportConfig
	fs := newFlagSet("tierwall report", reportUsage, stderr)
	c.register(fs)
	fs.StringVar(&c.format, "o", "text", "output format: "+strings.Join(report.Formats, ", "))
	fs.StringVar(&c.format, "output", "text", "same as -o")
	paths, err := parseArgs(fs, args)
	if err != nil {
		return c, err
	}
	c.paths = paths
	for _, f := range append(report.Formats, "md") {
		if c.format == f {
			return c, nil
		}
	}
	return c, fmt.Errorf("-o %q: use one of %s", c.format, strings.Join(report.Formats, ", "))
}

func runReport(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, err := parseReportArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "tierwall report: %v\n", err)
		return 2
	}
	m, code := model(cfg.commonFlags, cfg.paths, stdin, stderr, "report")
	if m == nil {
		return code
	}
	result.Print(stderr, m.Findings, result.Warning)
	var buf bytes.Buffer
	if err := report.Write(&buf, m, cfg.format); err != nil {
		fmt.Fprintf(stderr, "tierwall report: %v\n", err)
		return 1
	}
	if _, err := stdout.Write(buf.Bytes()); err != nil {
		fmt.Fprintf(stderr, "tierwall report: writing the report: %v\n", err)
		return 1
	}
	return 0
}

// model reads the input and builds its model; nil and an exit code on error.
func model(c commonFlags, paths []string, stdin io.Reader, stderr io.Writer, cmd string) (*analysis.Model, int) {
	m, _, code := modelAndObjects(c, paths, stdin, stderr, cmd)
	return m, code
}

// modelAndObjects is model, also returning the objects read.
func modelAndObjects(c commonFlags, paths []string, stdin io.Reader, stderr io.Writer, cmd string) (*analysis.Model, []manifest.Object, int) {
	opts, err := c.analysisOptions()
	if err != nil {
		fmt.Fprintf(stderr, "tierwall %s: %v\n", cmd, err)
		return nil, nil, 2
	}
	objs, err := readObjects(paths, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "tierwall %s: %v\n", cmd, err)
		return nil, nil, 1
	}
	m, _ := analysis.New(objs, opts)
	return m, objs, 0
}

// checkConfig is what tierwall check was asked to do.
type checkConfig struct {
	commonFlags
	failOn       framework.Severity
	format       string
	clusterCIDRs []netip.Prefix
	paths        []string
	strict       bool
}

func parseCheckArgs(args []string, stderr io.Writer) (checkConfig, error) {
	var c checkConfig
	fs := newFlagSet("tierwall check", checkUsage, stderr)
	c.register(fs)
	failOn := fs.String("fail-on", "error", "lowest severity that fails the check: error or warning")
	fs.StringVar(&c.format, "o", "text", "output format: text (one line per finding) or yaml (KRM results)")
	fs.StringVar(&c.format, "output", "text", "same as -o")
	fs.BoolVar(&c.strict, "strict", false, "report the deliberately wide defaults (API egress without addresses, open webhook ports, proxy egress to every pod) as errors")
	var cidrs stringList
	fs.Var(&cidrs, "cluster-cidr", "a pod or Service range of the cluster (repeatable); defaults to the usual kubeadm and k3s ranges, with warnings only")
	paths, err := parseArgs(fs, args)
	if err != nil {
		return c, err
	}
	c.paths = paths
	switch *failOn {
	case "error":
		c.failOn = result.Error
	case "warning":
		c.failOn = result.Warning
	default:
		return c, fmt.Errorf("--fail-on %q: use error or warning", *failOn)
	}
	if c.format != "text" && c.format != "yaml" {
		return c, fmt.Errorf("-o %q: use text or yaml", c.format)
	}
	for _, s := range cidrs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return c, fmt.Errorf("--cluster-cidr %q is not a CIDR", s)
		}
		c.clusterCIDRs = append(c.clusterCIDRs, p.Masked())
	}
	return c, nil
}

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, err := parseCheckArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "tierwall check: %v\n", err)
		return 2
	}
	m, objs, code := modelAndObjects(cfg.commonFlags, cfg.paths, stdin, stderr, "check")
	if m == nil {
		return code
	}
	rs := check.Run(m, check.Options{ClusterCIDRs: cfg.clusterCIDRs, Needs: check.ReadNeeds(objs, m.Spec), Strict: cfg.strict})
	counts := map[framework.Severity]int{}
	for _, r := range rs {
		counts[r.Severity]++
	}
	failed := counts[result.Error] > 0 || (cfg.failOn == result.Warning && counts[result.Warning] > 0)
	if cfg.format == "yaml" {
		if len(rs) > 0 {
			out, err := yaml.Marshal(rs)
			if err != nil {
				fmt.Fprintf(stderr, "tierwall check: %v\n", err)
				return 1
			}
			_, _ = stdout.Write(out)
		}
	} else {
		for _, r := range rs {
			if r.Severity != result.Error && r.Severity != result.Warning {
				continue
			}
			// The check id, for --skip-style suppression and for reading docs.
			if id := r.Tags["check"]; id != "" {
				fmt.Fprintf(stdout, "tierwall: %s [%s]\n", r.String(), id)
			} else {
				fmt.Fprintf(stdout, "tierwall: %s\n", r.String())
			}
		}
		verdict := "passed"
		if failed {
			verdict = "failed"
		}
		fmt.Fprintf(stdout, "tierwall check %s: %s, %s (--fail-on %s)\n", verdict,
			plural(counts[result.Error], "error"), plural(counts[result.Warning], "warning"), cfg.failOn)
	}
	if failed {
		return 1
	}
	return 0
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
