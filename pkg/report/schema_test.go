package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/report"
)

// schema compiles docs/report-schema.json, the documented schema.
func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("../../docs/report-schema.json")
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("report-schema.json", doc))
	s, err := c.Compile("report-schema.json")
	require.NoError(t, err)
	return s
}

// TestSchema: the documented schema validates every JSON document of the
// report and diff golden cases and the YAML form of the report's, and
// refuses documents that break it.
func TestSchema(t *testing.T) {
	s := schema(t)
	var files []string
	for _, pattern := range []string{"../../testdata/report/*/expected.json", "../../testdata/diff/*/expected.json"} {
		m, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.Greater(t, len(files), 15)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		require.NoError(t, err)
		assert.NoError(t, s.Validate(doc), file)
	}
	for _, name := range cases(t) {
		var ys bytes.Buffer
		dir := filepath.Join(casesDir, name)
		require.NoError(t, report.WriteOptions(&ys, model(t, dir), "yaml", options(t, dir)))
		js, err := sigsyaml.YAMLToJSON(ys.Bytes())
		require.NoError(t, err)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
		require.NoError(t, err)
		assert.NoError(t, s.Validate(doc), name)
	}
	for name, bad := range map[string]string{
		"another version": `{"apiVersion": "report.tierwall.io/v2", "kind": "ConnectivityReport", "namespaces": [], "endpoints": [], "policies": [], "flows": []}`,
		"ports as text": `{"apiVersion": "report.tierwall.io/v1", "kind": "ConnectivityReport", "namespaces": [], "endpoints": [], "policies": [],
			"flows": [{"from": "a", "to": "b", "ports": ["TCP/80"]}]}`,
		"endPort alone": `{"apiVersion": "report.tierwall.io/v1", "kind": "ConnectivityReport", "namespaces": [], "endpoints": [], "policies": [],
			"flows": [{"from": "a", "to": "b", "ports": [{"protocol": "TCP", "endPort": 90}]}]}`,
		"unknown change": `{"apiVersion": "report.tierwall.io/v1", "kind": "ConnectivityDiff", "summary": {"added": 0, "widened": 0, "narrowed": 0, "removed": 0},
			"endpoints": [], "oldPolicies": [], "newPolicies": [], "changes": [{"change": "renamed", "from": "a", "to": "b", "ports": [], "before": [], "after": []}]}`,
	} {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(bad)))
		require.NoError(t, err)
		assert.Error(t, s.Validate(doc), name)
	}
}
