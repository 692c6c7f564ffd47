package diff_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/bench"
	"github.com/tierwall/tierwall/pkg/cli"
	"github.com/tierwall/tierwall/pkg/diff"
	"github.com/tierwall/tierwall/pkg/report"
	"github.com/tierwall/tierwall/pkg/stream"
)

// TestMarkdownBudget: the Markdown of a large diff stays within its budget,
// aggregated and saying where the complete JSON is, which holds every
// change.
func TestMarkdownBudget(t *testing.T) {
	spec, _, err := v1alpha1.Load(nil)
	require.NoError(t, err)
	var models [2]*analysis.Model
	for i, ns := range []int{6, 8} {
		out, _, err := cli.RenderStream(bench.Realistic(ns, 10, false), spec)
		require.NoError(t, err)
		s, err := stream.Parse(out)
		require.NoError(t, err)
		models[i] = analysis.New(s.Objects, analysis.Options{Spec: spec, SelectorPeers: true})
	}
	full := diff.Compute(models[0], models[1], report.Options{MaxBytes: -1})
	var unbounded bytes.Buffer
	require.NoError(t, diff.Markdown(&unbounded, full))
	require.Greater(t, unbounded.Len(), 20000, "a diff large enough to cut")
	for _, limit := range []int{report.MinMaxBytes, 20000} {
		d := diff.Compute(models[0], models[1], report.Options{MaxBytes: limit, FullJSON: "`diff.json`"})
		var md bytes.Buffer
		require.NoError(t, diff.Markdown(&md, d))
		assert.LessOrEqual(t, md.Len(), limit)
		assert.Contains(t, md.String(), "`diff.json`")
		assert.Contains(t, md.String(), "| Added | Widened | Narrowed | Removed |")
	}
	var js bytes.Buffer
	require.NoError(t, diff.JSON(&js, full))
	var doc struct {
		Changes []json.RawMessage `json:"changes"`
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &doc))
	assert.Len(t, doc.Changes, len(full.Entries))
}
