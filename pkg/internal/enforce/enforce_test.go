//go:build linux

package enforce

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tool returns the path of an external program named by env. Outside make
// (TIERWALL_E2E unset) the test is skipped with a note; under make test a
// missing program is a failure.
func tool(t testing.TB, env string) string {
	t.Helper()
	if os.Getenv("TIERWALL_E2E") != "1" {
		t.Skipf("end-to-end test: run it with make e2e or make test (TIERWALL_E2E=1 and %s set)", env)
	}
	p := os.Getenv(env)
	if p == "" {
		t.Fatalf("%s is not set: make test builds and names the program (scripts/enforcers.sh, scripts/apiserver.sh)", env)
	}
	if _, err := exec.LookPath(p); err != nil {
		t.Fatalf("%s=%s: %v (make tools builds it)", env, p, err)
	}
	return p
}

// system checks the programs and privileges the sandbox needs.
func system(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the enforcement suite needs root: network namespaces, iptables and ipset")
	}
	for _, p := range []string{"ip", "iptables", "ipset", "nft", "unshare", "sysctl", "openssl", "curl"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is needed (scripts/enforcers.sh installs ipset and nftables): %v", p, err)
		}
	}
}

// TestEnforcersAgreeWithAnalysis runs every example, the golden cases of
// testdata/enforce/cases.txt and the cases written in testdata/enforce
// through both enforcers, one sandbox each for the whole suite, and asserts
// that the connections each enforcer lets through are exactly those
// pkg/analysis allows, probe by probe, but for the known differences of an
// enforcer. It also runs the negative controls, and checks that the host's
// own firewall, links and routes are the same before and after.
func TestEnforcersAgreeWithAnalysis(t *testing.T) {
	bins := map[string]string{}
	for _, e := range Enforcers {
		bins[e.Name] = tool(t, e.Env)
	}
	tool(t, "KUBE_APISERVER")
	tool(t, "ETCD")
	kustomize := tool(t, "KUSTOMIZE")
	system(t)
	root := repoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "bin", "tierwall")); err != nil {
		t.Fatalf("make build writes bin/tierwall, which the examples run: %v", err)
	}
	began := time.Now()
	before := hostState(t)

	cases := planCases(t, kustomize)
	neg := negativeControls(t)
	known := knownDifferences(t)
	var mu sync.Mutex
	stats := map[string]*suiteStats{}

	t.Run("enforcer", func(t *testing.T) {
		for _, e := range Enforcers {
			t.Run(e.Name, func(t *testing.T) {
				t.Parallel()
				st := &suiteStats{}
				mu.Lock()
				stats[e.Name] = st
				mu.Unlock()
				ctx := context.Background()
				start := time.Now()
				sb, err := Start(ctx, Config{
					Enforcer: e, Binary: bins[e.Name],
					APIServerScript: filepath.Join(root, "scripts", "apiserver.sh"),
					Dir:             t.TempDir(), Logf: t.Logf,
				})
				require.NoError(t, err)
				defer sb.Close()
				st.start = time.Since(start)
				for _, c := range cases {
					t.Run(c.name, func(t *testing.T) {
						res, err := sb.Run(ctx, c.plan, c.plan.Expect)
						require.NoError(t, err)
						st.add(c.plan, res)
						checkCase(t, e.Name, c.plan, res, known[e.Name][c.name])
						logResult(t, c.plan, res)
					})
				}
				for _, n := range neg {
					t.Run("negative/"+n.name, func(t *testing.T) {
						res, err := sb.Run(ctx, n.broken, n.correct.Expect)
						require.NoError(t, err)
						got := mismatches(n.correct, res)
						require.NotEmpty(t, got, "the broken policy set (%s) passed the comparison: the suite cannot tell", n.name)
						for _, want := range n.want {
							assert.True(t, containsPrefix(got, want.String()), "mismatch %s not reported; reported:\n%s", want, strings.Join(got, "\n"))
						}
					})
				}
				st.total = time.Since(start)
			})
		}
	})

	assert.Equal(t, before, hostState(t), "the host's own network state changed")
	leftover, _ := filepath.Glob(filepath.Join(netnsDir, fmt.Sprintf("twe%d-*", os.Getpid())))
	assert.Empty(t, leftover, "network namespaces left behind")
	for _, e := range Enforcers {
		if st := stats[e.Name]; st != nil {
			t.Logf("%s: start %s, %d cases, %d probes (%d allowed), %d rechecked, %d flipped on recheck, total %s",
				e.Name, st.start.Round(time.Millisecond), st.cases, st.probes, st.allowed, st.rechecked, st.flipped, st.total.Round(time.Millisecond))
		}
	}
	t.Logf("enforcement suite wall time: %s", time.Since(began).Round(time.Millisecond))
}

type suiteStats struct {
	start, total                               time.Duration
	cases, probes, allowed, rechecked, flipped int
}

func (s *suiteStats) add(p *Plan, r *Result) {
	s.cases++
	s.probes += len(r.Allowed)
	for _, ok := range r.Allowed {
		if ok {
			s.allowed++
		}
	}
	s.rechecked += len(r.Rechecked)
	s.flipped += len(r.Flipped)
}

// planCases renders the examples and reads the golden cases and the cases
// written for this suite (testdata/enforce/*.yaml, default configuration).
func planCases(t *testing.T, kustomize string) []enforceCase {
	t.Helper()
	root := repoRoot(t)
	var out []enforceCase
	for _, ex := range examples {
		data := renderExample(t, kustomize, ex)
		out = append(out, enforceCase{"examples/" + ex, planStream(t, data, filepath.Join(root, "examples", ex, "tierwall.yaml"))})
	}
	for _, name := range goldenCases(t) {
		out = append(out, enforceCase{"fn/" + name, goldenPlan(t, name)})
	}
	written, err := filepath.Glob(filepath.Join(root, "testdata", "enforce", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, written, "testdata/enforce holds no written case")
	for _, path := range written {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		out = append(out, enforceCase{"enforce/" + strings.TrimSuffix(filepath.Base(path), ".yaml"), planStream(t, data, "")})
	}
	return out
}

// mismatch is a probe whose enforced outcome differs from the analysis.
type mismatch struct {
	Probe
	allowed bool // by the enforcer
}

// key names the mismatch as testdata/enforce/known-differences.txt does,
// after the enforcer and the case.
func (m mismatch) key() string { return word(m.allowed) + " " + m.Probe.String() }

// findMismatches lists the probes whose enforced outcome differs from the
// analysis.
func findMismatches(p *Plan, r *Result) []mismatch {
	var out []mismatch
	for _, pr := range p.Probes {
		if got := r.Allowed[pr]; got != p.Expect(pr) {
			out = append(out, mismatch{pr, got})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// describe says what a mismatch is and which policies govern the probe.
func describe(p *Plan, m mismatch) string {
	return fmt.Sprintf("%s: %s by the enforcer, %s by the analysis (%s)", m.Probe, word(m.allowed), word(!m.allowed), p.Why(m.Probe))
}

// mismatches describes every mismatch of a result.
func mismatches(p *Plan, r *Result) []string {
	var out []string
	for _, m := range findMismatches(p, r) {
		out = append(out, describe(p, m))
	}
	return out
}

// checkCase fails the test on every mismatch not listed as known for the
// enforcer and case, and on every known one that did not happen.
func checkCase(t *testing.T, enforcer string, p *Plan, r *Result, known map[string]bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range findMismatches(p, r) {
		seen[m.key()] = true
		if known[m.key()] {
			t.Logf("known difference of %s: %s", enforcer, describe(p, m))
			continue
		}
		t.Errorf("%s disagrees with the analysis: %s", enforcer, describe(p, m))
	}
	for k := range known {
		if !seen[k] {
			t.Errorf("known difference of %s not seen any more (remove it from testdata/enforce/known-differences.txt): %s", enforcer, k)
		}
	}
}

func word(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "blocked"
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix+":") {
			return true
		}
	}
	return false
}

// logResult reports the case's size and timings, the probes a recheck
// flipped, and the probes where the analysis of the manifests alone (no pod
// addresses) differs from the enforcer: ipBlocks that match pods.
func logResult(t *testing.T, p *Plan, r *Result) {
	t.Helper()
	allowed := 0
	for _, ok := range r.Allowed {
		if ok {
			allowed++
		}
	}
	var steps []string
	for _, k := range []string{"deploy", "baseline", "apply", "probe", "recheck", "reset"} {
		if d, ok := r.Timings[k]; ok {
			steps = append(steps, fmt.Sprintf("%s %s", k, d.Round(time.Millisecond)))
		}
	}
	t.Logf("%d pods, %d hosts, %d policies, %d probes (%d allowed); %s", len(p.Pods), len(p.Hosts), len(p.Policies), len(p.Probes), allowed, strings.Join(steps, ", "))
	for _, pr := range r.Flipped {
		t.Logf("flipped on recheck (slow first answer): %s", pr)
	}
	var podAddr []string
	for _, pr := range p.Probes {
		if p.ExpectManifest(pr) != r.Allowed[pr] {
			podAddr = append(podAddr, fmt.Sprintf("%s (%s by the enforcer)", pr, word(r.Allowed[pr])))
		}
	}
	if len(podAddr) > 0 {
		sort.Strings(podAddr)
		t.Logf("%d probes where the analysis of the manifests alone (no pod addresses) differs: ipBlocks that match pods:\n  %s", len(podAddr), strings.Join(truncate(podAddr, 10), "\n  "))
	}
	for _, l := range p.Left {
		t.Logf("left out: %s", l)
	}
}

// hostState is the host's own firewall and network configuration, without
// counters: iptables (nf_tables and legacy), nftables, ipsets, links,
// addresses, routes and forwarding.
func hostState(t *testing.T) map[string]string {
	t.Helper()
	counters := regexp.MustCompile(`\[\d+:\d+\]|counter packets \d+ bytes \d+|^# .*$`)
	out := map[string]string{}
	for _, c := range [][]string{
		{"iptables-nft-save"}, {"ip6tables-nft-save"}, {"iptables-legacy-save"}, {"ip6tables-legacy-save"},
		{"nft", "list", "ruleset"}, {"ipset", "list"},
		{"ip", "-o", "link"}, {"ip", "-o", "addr"}, {"ip", "route", "show", "table", "all"},
		{"sysctl", "net.ipv4.ip_forward"},
	} {
		b, err := exec.Command(c[0], c[1:]...).CombinedOutput()
		if err != nil {
			if _, lerr := exec.LookPath(c[0]); lerr != nil && strings.Contains(c[0], "legacy") {
				continue
			}
			require.NoError(t, err, "%s: %s", strings.Join(c, " "), b)
		}
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			lines = append(lines, counters.ReplaceAllString(l, ""))
		}
		out[strings.Join(c, " ")] = strings.Join(lines, "\n")
	}
	return out
}
