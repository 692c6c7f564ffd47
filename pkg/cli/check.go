package cli

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/check"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
)

// checkFormats are the formats of tierwall check -o.
var checkFormats = []string{"text", "json", "yaml", "sarif", "github"}

// EmptyInputCheck is the check id of the finding for input with no workload
// and no NetworkPolicy.
const EmptyInputCheck = "empty-input"

// checkConfig is what tierwall check was asked to do, besides its input.
type checkConfig struct {
	failOn       string
	format       string
	clusterCIDRs []string
	strict       bool
	allowEmpty   bool
	skip         []string
	// sourceRoot is what Helm's # Source: and kpt's
	// config.kubernetes.io/path are relative to (sarif, github).
	sourceRoot string
}

func (r *session) checkCommand() *cobra.Command {
	var f inputFlags
	var c checkConfig
	cmd := r.newCommand(&cobra.Command{
		Use:   "check [FILE|DIR|-]...",
		Short: "Check the NetworkPolicies of rendered manifests; exit 1 on findings",
		Long: `Checks the NetworkPolicies of rendered manifests: every pod of a protected
namespace default-denied both ways, no rule open to every peer or to
0.0.0.0/0, DNS reachable where egress is denied, no policy selecting nothing,
no rule that cannot work (a named port no pod declares, a Service port
instead of the pod port, an ipBlock aimed at cluster addresses). Prints one
line per finding, ending with its check id, and a summary, and exits 1 when a
finding is at or above --fail-on. Input with no workload and no
NetworkPolicy (a failed render piped in) is an error unless --allow-empty.

` + inputHelp,
		Example: `  helm template shop chart/ --post-renderer tierwall-postrender | tierwall check -n shop
  tierwall check --fail-on warning -o json rendered/`,
		Args: cobra.ArbitraryArgs,
		Run: func(cmd *cobra.Command, paths []string) {
			r.code = r.check(cmd, &f, c, paths)
		},
	})
	f.register(cmd.Flags())
	fs := cmd.Flags()
	fs.StringVar(&c.failOn, "fail-on", "error", "the lowest `SEVERITY` that fails the check: error or warning")
	fs.StringVarP(&c.format, "output", "o", "text", "output `FORMAT`: text (one line per finding and a summary), json or yaml (KRM results), sarif (SARIF 2.1.0 for code scanning), github (workflow commands that annotate the files)")
	fs.StringVar(&c.sourceRoot, "source-root", "", "the `DIR` (from the repository root) that Helm's '# Source:' paths and kpt's config.kubernetes.io/path are relative to, for -o sarif and github: the chart's parent folder, or the kpt package")
	fs.BoolVar(&c.strict, "strict", false, "report the deliberately wide defaults (API egress without addresses, open webhook ports, proxy egress to every pod) as errors")
	fs.BoolVar(&c.allowEmpty, "allow-empty", false, "pass input with no workload and no NetworkPolicy (by default an error: a failed render piped into check must not pass)")
	fs.StringSliceVar(&c.skip, "skip", nil, "check `IDS` whose findings are suppressed (comma-separated or repeated); suppressed findings are counted")
	fs.StringArrayVar(&c.clusterCIDRs, "cluster-cidr", nil, "a pod or Service range (`CIDR`) of the cluster (repeatable); defaults to the usual kubeadm and k3s ranges, with warnings only")
	fixedValues(cmd, "output", checkFormats...)
	fixedValues(cmd, "fail-on", "error", "warning")
	return cmd
}

// options checks the flags of tierwall check.
func (c checkConfig) options() (framework.Severity, []netip.Prefix, error) {
	var failOn framework.Severity
	switch c.failOn {
	case "error":
		failOn = result.Error
	case "warning":
		failOn = result.Warning
	default:
		return "", nil, fmt.Errorf("--fail-on %q: use error or warning", c.failOn)
	}
	if err := oneOf("-o", c.format, checkFormats); err != nil {
		return "", nil, err
	}
	var cidrs []netip.Prefix
	for _, s := range c.clusterCIDRs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return "", nil, fmt.Errorf("--cluster-cidr %q is not a CIDR", s)
		}
		cidrs = append(cidrs, p.Masked())
	}
	return failOn, cidrs, nil
}

func (r *session) check(cmd *cobra.Command, f *inputFlags, c checkConfig, paths []string) int {
	failOn, cidrs, err := c.options()
	if err != nil {
		return r.usageError(cmd, err)
	}
	m, objs, origins, code := r.checkInput(cmd, f, paths)
	if m == nil {
		return code
	}
	needs, inputFindings := check.ReadInput(objs, m.Spec)
	rs := check.Run(m, check.Options{ClusterCIDRs: cidrs, Needs: needs, Input: inputFindings, Strict: c.strict,
		Skip: c.skip, Reachability: true})
	s := summarize(m, objs)
	if s.empty() && !c.allowEmpty {
		rs = append(rs, emptyInput())
		result.Sort(rs)
	}
	counts := map[framework.Severity]int{}
	for _, res := range rs {
		counts[res.Severity]++
	}
	failed := counts[result.Error] > 0 || (failOn == result.Warning && counts[result.Warning] > 0)
	switch c.format {
	case "yaml", "json":
		if err := writeResults(r, rs, c.format); err != nil {
			fmt.Fprintf(r.Stderr, "tierwall check: %v\n", err)
			return ExitFailed
		}
	case "sarif":
		if err := writeSARIF(r.Stdout, rs, newLocator(objs, origins, c.sourceRoot, paths)); err != nil {
			fmt.Fprintf(r.Stderr, "tierwall check: %v\n", err)
			return ExitFailed
		}
	case "github":
		if err := writeGitHub(r.Stdout, rs, newLocator(objs, origins, c.sourceRoot, paths)); err != nil {
			fmt.Fprintf(r.Stderr, "tierwall check: %v\n", err)
			return ExitFailed
		}
		fallthrough
	default:
		for _, res := range rs {
			if c.format != "text" || (res.Severity != result.Error && res.Severity != result.Warning) {
				continue // github: the annotations above
			}
			// The check id, for --skip-style suppression and for reading docs.
			if id := res.Tags["check"]; id != "" {
				fmt.Fprintf(r.Stdout, "tierwall: %s [%s]\n", res.String(), id)
			} else {
				fmt.Fprintf(r.Stdout, "tierwall: %s\n", res.String())
			}
		}
		for _, res := range rs {
			if res.Severity == result.Info && strings.Contains(res.Message, "suppressed") {
				fmt.Fprintf(r.Stdout, "tierwall: %s\n", res.Message)
			}
		}
		fmt.Fprintf(r.Stdout, "tierwall: checked %s and %s in %s\n",
			plural(s.workloads, "workload"), plural(s.policies, "policy"), plural(s.namespaces, "namespace"))
		verdict := "passed"
		if failed {
			verdict = "failed"
		}
		fmt.Fprintf(r.Stdout, "tierwall check %s: %s, %s (--fail-on %s)\n", verdict,
			plural(counts[result.Error], "error"), plural(counts[result.Warning], "warning"), failOn)
	}
	if failed {
		return ExitFailed
	}
	return ExitOK
}

// writeResults writes the findings as KRM results: YAML (nothing when there
// is none) or a JSON array.
func writeResults(r *session, rs framework.Results, format string) error {
	var out []byte
	var err error
	switch {
	case format == "json":
		if rs == nil {
			rs = framework.Results{}
		}
		out, err = json.MarshalIndent(rs, "", "  ")
		out = append(out, '\n')
	case len(rs) > 0:
		out, err = yaml.Marshal(rs)
	}
	if err != nil {
		return err
	}
	_, err = r.Stdout.Write(out)
	return err
}

// checkSummary counts what a check looked at: the workloads and policies of
// the namespaces tierwall protects.
type checkSummary struct {
	workloads, policies, namespaces int
	// anyWorkload and anyPolicy count the whole input, skipped namespaces
	// included.
	anyWorkload, anyPolicy bool
}

func summarize(m *analysis.Model, objs []manifest.Object) checkSummary {
	var s checkSummary
	inScope := map[string]bool{}
	for _, n := range m.Namespaces {
		if n.InScope() {
			inScope[n.Name] = true
			s.namespaces++
		}
	}
	for _, e := range m.Endpoints {
		if e.Kind != analysis.Workload {
			continue
		}
		s.anyWorkload = true
		if inScope[e.Namespace] {
			s.workloads++
		}
	}
	for _, p := range m.Policies {
		if inScope[p.Namespace] {
			s.policies++
		}
	}
	s.anyPolicy = len(m.Policies) > 0
	for _, o := range objs {
		if o.IsNetworkPolicy() {
			s.anyPolicy = true
		}
	}
	return s
}

// empty reports whether the input holds no workload and no NetworkPolicy.
func (s checkSummary) empty() bool { return !s.anyWorkload && !s.anyPolicy }

// emptyInput is the finding for input with nothing to check.
func emptyInput() *framework.Result {
	r := result.New(result.Error, nil, "",
		"the input holds no workload and no NetworkPolicy: nothing to check, and a failed render piped into tierwall check must not pass (--allow-empty accepts it)")
	r.Tags = map[string]string{"check": EmptyInputCheck}
	return r
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if word == "policy" {
		return fmt.Sprintf("%d policies", n)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
