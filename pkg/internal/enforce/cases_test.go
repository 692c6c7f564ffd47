package enforce

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// enforceCase is one object set the suite enforces: an example rendered by
// the real kustomize and tierwall, or a golden case's expected output.
type enforceCase struct {
	name string
	plan *Plan
}

// repoRoot is the repository's top folder.
func repoRoot(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// examples are rendered with kustomize running tierwall as an exec function,
// as pkg/internal/e2e renders them. examples/cilium contributes its plain policies;
// examples/compiled-addresses puts the zero-config fallback to the packets
// (pkg/internal/e2e holds its calls.yaml and microservices' call graph against the
// analysis, which this suite holds against the enforcers).
var examples = []string{"three-tier", "microservices", "multi-namespace", "cilium", "compiled-addresses"}

// goldenCases reads testdata/enforce/cases.txt: one testdata/fn case per
// line, # comments.
func goldenCases(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(t), "testdata", "enforce", "cases.txt"))
	require.NoError(t, err)
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line != "" {
			names = append(names, line)
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, names)
	return names
}

// goldenPlan reads testdata/fn/<name>/expected.yaml, a ResourceList holding
// the input and tierwall's policies, and its functionConfig.
func goldenPlan(t testing.TB, name string) *Plan {
	t.Helper()
	path := filepath.Join(repoRoot(t), "testdata", "fn", name, "expected.yaml")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	rw := &kio.ByteReader{Reader: bytes.NewReader(data), OmitReaderAnnotations: true}
	items, err := rw.Read()
	require.NoError(t, err, "reading %s", path)
	spec, _, err := v1alpha1.Load(rw.FunctionConfig)
	require.NoError(t, err, "the functionConfig of %s", path)
	objs := make([]manifest.Object, len(items))
	for i, it := range items {
		objs[i] = manifest.FromNode(i, it.YNode())
	}
	p, err := NewPlan(objs, spec)
	require.NoError(t, err, "planning %s", name)
	return p
}

// planStream plans a plain multi-document stream with a config file.
func planStream(t testing.TB, data []byte, configPath string) *Plan {
	t.Helper()
	nodes, err := kio.FromBytes(data)
	require.NoError(t, err)
	objs := make([]manifest.Object, len(nodes))
	for i, n := range nodes {
		objs[i] = manifest.FromNode(i, n.YNode())
	}
	var fc *yaml.RNode
	if configPath != "" {
		cfg, err := os.ReadFile(configPath)
		require.NoError(t, err)
		fc, err = yaml.Parse(string(cfg))
		require.NoError(t, err)
	}
	spec, _, err := v1alpha1.Load(fc)
	require.NoError(t, err)
	p, err := NewPlan(objs, spec)
	require.NoError(t, err)
	return p
}

// renderExample runs kustomize build with exec functions on examples/<name>.
func renderExample(t testing.TB, kustomize, name string) []byte {
	t.Helper()
	cmd := exec.Command(kustomize, "build", "--enable-alpha-plugins", "--enable-exec", filepath.Join("examples", name))
	cmd.Dir = repoRoot(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "kustomize build examples/%s: %s", name, stderr.String())
	return stdout.Bytes()
}

// negativeControl is a broken policy set enforced against the analysis of
// the correct one: the comparison must fail, and name the pairs in want.
type negativeControl struct {
	name            string
	correct, broken *Plan
	want            []Probe
}

// negativeControls reads testdata/enforce/negative: correct.yaml and one
// broken-<what>.yaml per control. The broken plan keeps the correct plan's
// pods, hosts and probes and only swaps the policies applied.
func negativeControls(t testing.TB) []negativeControl {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "testdata", "enforce", "negative")
	read := func(name string) *Plan {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return planStream(t, data, "")
	}
	correct := read("correct.yaml")
	web, api, db := "shop/Deployment/web", "shop/Deployment/api", "shop/Deployment/db"
	controls := []negativeControl{
		{name: "mistyped-label", want: []Probe{{From: web, To: api, Port: Port{"TCP", 8080}}}},
		{name: "dropped-except", want: []Probe{{From: web, To: db, Port: Port{"TCP", 5432}}}},
	}
	for i, c := range controls {
		broken := *correct
		broken.Policies = read("broken-" + c.name + ".yaml").Policies
		controls[i].correct, controls[i].broken = correct, &broken
		for _, w := range c.want {
			require.True(t, slices.Contains(correct.Probes, w), "the negative control %s probes %s", c.name, w)
		}
	}
	return controls
}

// knownDifferences reads testdata/enforce/known-differences.txt: lines of
// "ENFORCER CASE allowed|blocked FROM -> TO PROTO/PORT", # comments. Each is
// a probe where an enforcer departs from the NetworkPolicy API, which the
// analysis follows; the suite fails when one is no longer seen, too.
func knownDifferences(t testing.TB) map[string]map[string]map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "enforce", "known-differences.txt"))
	require.NoError(t, err)
	out := map[string]map[string]map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		require.True(t, len(f) == 7 && f[4] == "->" && (f[2] == "allowed" || f[2] == "blocked"),
			"known-differences.txt line %d: want ENFORCER CASE allowed|blocked FROM -> TO PROTO/PORT", i+1)
		if out[f[0]] == nil {
			out[f[0]] = map[string]map[string]bool{}
		}
		if out[f[0]][f[1]] == nil {
			out[f[0]][f[1]] = map[string]bool{}
		}
		out[f[0]][f[1]][strings.Join(f[2:], " ")] = true
	}
	return out
}
