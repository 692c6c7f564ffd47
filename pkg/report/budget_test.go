package report_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/bench"
	"github.com/tierwall/tierwall/pkg/cli"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/report"
	"github.com/tierwall/tierwall/pkg/stream"
)

// realisticModel is the realistic benchmark set of namespaces x apps after
// tierwall added its policies.
func realisticModel(t testing.TB, namespaces, apps int) *analysis.Model {
	spec, _, err := v1alpha1.Load(nil)
	require.NoError(t, err)
	out, _, err := cli.RenderStream(bench.Realistic(namespaces, apps, false), spec)
	require.NoError(t, err)
	s, err := stream.Parse(out)
	require.NoError(t, err)
	m := analysis.New(s.Objects, analysis.Options{Spec: spec, SelectorPeers: true})
	return m
}

var mermaidBlock = regexp.MustCompile("(?s)```mermaid\n(.*?)```")

// TestBudgetAtScale: the Markdown of 3,061 workloads stays within the
// default budget (a pull-request comment), aggregated, saying so and where
// the complete JSON is; each Mermaid block is within GitHub's limits; the
// JSON holds every flow. Smaller budgets hold too.
func TestBudgetAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 9,000 objects")
	}
	m := realisticModel(t, 50, 20)
	var md bytes.Buffer
	r, err := report.Build(m, report.Options{FullJSON: "the job's artifact `connectivity.json`"})
	require.NoError(t, err)
	require.NoError(t, report.Markdown(&md, r))
	assert.LessOrEqual(t, md.Len(), report.DefaultMaxBytes)
	assert.Contains(t, md.String(), "flows are aggregated by namespace pair and ports")
	assert.Contains(t, md.String(), "is in the job's artifact `connectivity.json`")
	blocks := mermaidBlock.FindAllStringSubmatch(md.String(), -1)
	require.NotEmpty(t, blocks)
	for _, b := range blocks {
		assert.LessOrEqual(t, len(b[1]), report.MermaidMaxChars)
		assert.LessOrEqual(t, strings.Count(b[1], "-->"), report.MermaidMaxEdges)
	}
	testutil.Golden(t, filepath.Join(casesDir, "at-scale", "expected.md"), md.Bytes())

	for _, limit := range []int{report.MinMaxBytes, 10000, 200000} {
		var b bytes.Buffer
		r := r
		r.Options = report.Options{MaxBytes: limit}
		require.NoError(t, report.Markdown(&b, r))
		assert.LessOrEqual(t, b.Len(), limit)
		assert.Contains(t, b.String(), "`tierwall report -o json` on the same input")
	}

	var js bytes.Buffer
	require.NoError(t, report.JSON(&js, r))
	var doc struct {
		Flows []json.RawMessage `json:"flows"`
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &doc))
	assert.Len(t, doc.Flows, len(r.Flows))
}
