package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/report"
)

const casesDir = "../../testdata/report"

var goldenFiles = map[string]string{"text": "expected.txt", "markdown": "expected.md", "json": "expected.json", "dot": "expected.dot"}

// model reads a case: input.yaml, with config.yaml (a TierWall) if present;
// or those of the case that input-of names.
func model(t *testing.T, dir string) *analysis.Model {
	t.Helper()
	if other, err := os.ReadFile(filepath.Join(dir, "input-of")); err == nil {
		dir = filepath.Join(filepath.Dir(dir), strings.TrimSpace(string(other)))
	}
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
	m := analysis.New(objs, analysis.Options{Spec: spec, SelectorPeers: true})
	return m
}

// options reads a case's options.yaml (report.Options), if any.
func options(t *testing.T, dir string) report.Options {
	t.Helper()
	var o report.Options
	if data, err := os.ReadFile(filepath.Join(dir, "options.yaml")); err == nil {
		require.NoError(t, sigsyaml.UnmarshalStrict(data, &o))
	}
	return o
}

// TestGolden renders each case of testdata/report in every format, with
// the case's options.yaml if it has one. The cases named after the
// examples hold the examples' real rendered output, kept current by
// pkg/internal/e2e's TestReportExamples.
func TestGolden(t *testing.T) {
	for _, name := range cases(t) {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(casesDir, name)
			for format, file := range goldenFiles {
				var buf bytes.Buffer
				require.NoError(t, report.WriteOptions(&buf, model(t, dir), format, options(t, dir)))
				testutil.Golden(t, filepath.Join(dir, file), buf.Bytes())
			}
		})
	}
}

// cases are the folders of testdata/report with an input.yaml or an
// input-of (at-scale is TestBudgetAtScale's).
func cases(t *testing.T) []string {
	var out []string
	for _, name := range testutil.Cases(t, casesDir) {
		for _, f := range []string{"input.yaml", "input-of"} {
			if _, err := os.Stat(filepath.Join(casesDir, name, f)); err == nil {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// TestDeterministic shuffles the input documents: the report is the same.
func TestDeterministic(t *testing.T) {
	dir := filepath.Join(casesDir, "multi-namespace")
	data, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
	require.NoError(t, err)
	nodes := testutil.Docs(t, data)
	for i, j := 0, len(nodes)-1; i < j; i, j = i+1, j-1 {
		nodes[i], nodes[j] = nodes[j], nodes[i]
	}
	reversed := filepath.Join(t.TempDir(), "input.yaml")
	require.NoError(t, os.WriteFile(reversed, []byte(testutil.Stream(t, nodes)), 0o644))
	cfg, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(reversed), "config.yaml"), cfg, 0o644))
	for format := range goldenFiles {
		var a, b bytes.Buffer
		require.NoError(t, report.Write(&a, model(t, dir), format))
		require.NoError(t, report.Write(&b, model(t, filepath.Dir(reversed)), format))
		require.Equal(t, a.String(), b.String(), format)
	}
}

func TestUnknownFormat(t *testing.T) {
	err := report.Write(&bytes.Buffer{}, model(t, filepath.Join(casesDir, "empty")), "html")
	require.ErrorContains(t, err, `unknown report format "html"`)
}
