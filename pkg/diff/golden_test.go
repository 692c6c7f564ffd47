package diff_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/diff"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/report"
	"github.com/tierwall/tierwall/pkg/stream"
)

const casesDir = "../../testdata/diff"

var goldenFiles = map[string]string{"text": "expected.txt", "markdown": "expected.md", "json": "expected.json"}

func model(t testing.TB, path string) *analysis.Model {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	s, err := stream.Parse(data)
	require.NoError(t, err)
	objs := append([]manifest.Object{}, s.Objects...)
	m := analysis.New(objs, analysis.Options{SelectorPeers: true})
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

// want are the counts each case must show, beside its golden files.
var want = map[string]map[diff.Change]int{
	"no-change":      {},
	"renamed-policy": {},
	"added":          {diff.Added: 2},
	"removed":        {diff.Removed: 1},
	"widened-port":   {diff.Widened: 1},
	"narrowed-port":  {diff.Narrowed: 1},
	"widened-peer":   {diff.Widened: 1},
	"narrowed-peer":  {diff.Narrowed: 1},
}

// TestGolden compares each case of testdata/diff (old.yaml, new.yaml) in
// every format, checks its counts, and that the diff the other way round
// swaps added and removed, widened and narrowed.
func TestGolden(t *testing.T) {
	for _, name := range testutil.Cases(t, casesDir) {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(casesDir, name)
			old, new := model(t, filepath.Join(dir, "old.yaml")), model(t, filepath.Join(dir, "new.yaml"))
			d := diff.Compute(old, new, options(t, dir))
			for format, file := range goldenFiles {
				var buf bytes.Buffer
				require.NoError(t, diff.Write(&buf, d, format))
				testutil.Golden(t, filepath.Join(dir, file), buf.Bytes())
			}
			counts, ok := want[name]
			require.True(t, ok, "no counts for case %s", name)
			for _, c := range diff.Changes {
				assert.Equal(t, counts[c], d.Count(c), "%s", c)
			}
			back := diff.Compute(new, old, options(t, dir))
			swap := map[diff.Change]diff.Change{diff.Added: diff.Removed, diff.Removed: diff.Added, diff.Widened: diff.Narrowed, diff.Narrowed: diff.Widened}
			for _, c := range diff.Changes {
				assert.Equal(t, d.Count(c), back.Count(swap[c]), "%s the other way round", c)
			}
		})
	}
}
