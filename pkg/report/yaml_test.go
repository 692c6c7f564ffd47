package report_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/report"
)

// TestYAMLIsTheJSONDocument: -o yaml is the JSON document, field for field,
// on every case.
func TestYAMLIsTheJSONDocument(t *testing.T) {
	for _, name := range cases(t) {
		t.Run(name, func(t *testing.T) {
			m := model(t, filepath.Join(casesDir, name))
			var js, ys bytes.Buffer
			o := options(t, filepath.Join(casesDir, name))
			require.NoError(t, report.WriteOptions(&js, m, "json", o))
			require.NoError(t, report.WriteOptions(&ys, m, "yaml", o))
			converted, err := sigsyaml.YAMLToJSON(ys.Bytes())
			require.NoError(t, err)
			assert.JSONEq(t, js.String(), string(converted))
		})
	}
}
