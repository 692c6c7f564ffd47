package check_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/check"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
)

const casesDir = "../../testdata/check"

// runCase checks the input of a case folder: input.yaml, with config.yaml
// (a TierWall) and options.yaml (clusterCIDRs) when present.
func runCase(t *testing.T, dir string) framework.Results {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
	require.NoError(t, err)
	nodes := testutil.Docs(t, data)
	objs := make([]manifest.Object, len(nodes))
	for i, n := range nodes {
		objs[i] = manifest.FromNode(i, n)
	}
	var fc *yaml.RNode
	if cfg, err := os.ReadFile(filepath.Join(dir, "config.yaml")); err == nil {
		fc, err = yaml.Parse(string(cfg))
		require.NoError(t, err)
	}
	spec, _, err := v1alpha1.Load(fc)
	require.NoError(t, err)
	var opts check.Options
	if o, err := os.ReadFile(filepath.Join(dir, "options.yaml")); err == nil {
		var raw struct {
			ClusterCIDRs []string `yaml:"clusterCIDRs"`
		}
		require.NoError(t, yaml.Unmarshal(o, &raw))
		for _, c := range raw.ClusterCIDRs {
			opts.ClusterCIDRs = append(opts.ClusterCIDRs, netip.MustParsePrefix(c))
		}
	}
	m := analysis.New(objs, analysis.Options{Spec: spec})
	return check.Run(m, opts)
}

// expectations reads findings.txt: one regular expression per finding, in
// the order of the sorted findings; blank lines and # comments are skipped.
func expectations(t *testing.T, dir string) []*regexp.Regexp {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "findings.txt"))
	require.NoError(t, err, "each case states its findings in findings.txt (none: an empty file)")
	var out []*regexp.Regexp
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, regexp.MustCompile(l))
	}
	return out
}

// TestCases runs every folder of testdata/check: each finding must match the
// regular expression on the same line of findings.txt, and there must be as
// many findings as expressions.
func TestCases(t *testing.T) {
	for _, name := range testutil.Cases(t, casesDir) {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(casesDir, name)
			rs := runCase(t, dir)
			var got []string
			for _, r := range rs {
				got = append(got, r.String())
			}
			want := expectations(t, dir)
			require.Len(t, got, len(want), "findings:\n%s", strings.Join(got, "\n"))
			for i, re := range want {
				assert.Regexp(t, re, got[i])
			}
		})
	}
}

// TestEveryCheckHasACase keeps the cases complete: each check named in the
// package fires in at least one case, tagged with its name.
func TestEveryCheckHasACase(t *testing.T) {
	fired := map[string]bool{}
	for _, name := range testutil.Cases(t, casesDir) {
		for _, r := range runCase(t, filepath.Join(casesDir, name)) {
			fired[r.Tags["check"]] = true
		}
	}
	for _, c := range []string{check.InvalidPolicy, check.NotDefaultDenied, check.HostNetwork, check.OpenRule, check.WholeInternet,
		check.AllNamespaces, check.SplitPeer, check.NoDNS, check.SelectsNoPod, check.UnknownNamedPort, check.ServicePort, check.InClusterIPBlock} {
		assert.True(t, fired[c], "no case of testdata/check shows check %s", c)
	}
}

func TestSeverities(t *testing.T) {
	rs := runCase(t, filepath.Join(casesDir, "in-cluster-ipblock"))
	require.Len(t, rs, 1)
	assert.Equal(t, result.Warning, rs[0].Severity, "a guessed cluster range gives a warning")
	rs = runCase(t, filepath.Join(casesDir, "in-cluster-ipblock-given-ranges"))
	require.Len(t, rs, 1)
	assert.Equal(t, result.Error, rs[0].Severity, "a given cluster range gives an error")
}

func TestObjects(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(casesDir, "no-dns", "input.yaml"))
	require.NoError(t, err)
	nodes := testutil.Docs(t, data)
	objs := make([]manifest.Object, len(nodes))
	for i, n := range nodes {
		objs[i] = manifest.FromNode(i, n)
	}
	spec, _, err := v1alpha1.Load(nil)
	require.NoError(t, err)
	rs := check.Objects(objs, spec, check.Options{})
	require.NotEmpty(t, rs)
	assert.True(t, result.HasErrors(rs))
	assert.Equal(t, check.NoDNS, rs[0].Tags["check"])
}
