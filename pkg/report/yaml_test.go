package report_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/report"
	"github.com/tierwall/tierwall/pkg/testutil"
)

// TestYAMLIsTheJSONDocument: -o yaml is the JSON document, field for field,
// on every case.
func TestYAMLIsTheJSONDocument(t *testing.T) {
	for _, name := range testutil.Cases(t, casesDir) {
		t.Run(name, func(t *testing.T) {
			m := model(t, filepath.Join(casesDir, name))
			var js, ys bytes.Buffer
			require.NoError(t, report.Write(&js, m, "json"))
			require.NoError(t, report.Write(&ys, m, "yaml"))
			converted, err := sigsyaml.YAMLToJSON(ys.Bytes())
			require.NoError(t, err)
			assert.JSONEq(t, js.String(), string(converted))
		})
	}
}
