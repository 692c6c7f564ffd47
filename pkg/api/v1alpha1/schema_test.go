package v1alpha1_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
)

const schemaFile = "../../../docs/tierwall.schema.json"

// TestSchemaIsCurrent: docs/tierwall.schema.json and the copy the loader
// embeds are what the Go types give (go run ./scripts/schema rewrites both).
func TestSchemaIsCurrent(t *testing.T) {
	want, err := v1alpha1.Schema("../../..")
	require.NoError(t, err)
	for _, path := range []string{schemaFile, "tierwall.schema.json"} {
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), "%s is stale: run go run ./scripts/schema", path)
	}
}

func compiled(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource(v1alpha1.SchemaID, doc))
	s, err := c.Compile(v1alpha1.SchemaID)
	require.NoError(t, err)
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, yamlText []byte) error {
	t.Helper()
	js, err := sigsyaml.YAMLToJSON(yamlText)
	require.NoError(t, err)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	require.NoError(t, err)
	return s.Validate(v)
}

// TestSchemaValidatesConfigs: a real JSON Schema validator accepts every
// TierWall config of the examples and the golden cases that load, and
// rejects a misspelt field.
func TestSchemaValidatesConfigs(t *testing.T) {
	s := compiled(t)
	var files []string
	for _, pattern := range []string{"../../../examples/*/tierwall*.yaml", "../../../examples/*/*/tierwall*.yaml", "../../../testdata/fn/*/config.yaml"} {
		m, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, m...)
	}
	checked := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		if !strings.Contains(string(data), "kind: TierWall") {
			continue // a ConfigMap config
		}
		// The loader's verdict is the reference: valid configs validate,
		// configs with unknown fields do not.
		_, _, loadErr := v1alpha1.Load(mustRNode(t, data))
		err = validate(t, s, data)
		if loadErr == nil {
			require.NoError(t, err, "%s loads but does not validate against the schema", f)
			checked++
		}
	}
	assert.Greater(t, checked, 20, "configs checked")

	misspelt := []byte("apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: t}\nspec:\n  fallback: {calers: none}\n")
	err := validate(t, s, misspelt)
	require.Error(t, err, "a misspelt field must be refused")
	assert.Contains(t, err.Error(), "calers")
	wrongType := []byte("apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: t}\nspec:\n  defaultDeny: {ingress: maybe}\n")
	assert.Error(t, validate(t, s, wrongType), "a wrong type must be refused")
}

func mustRNode(t *testing.T, data []byte) *kyaml.RNode {
	t.Helper()
	n, err := kyaml.Parse(string(data))
	require.NoError(t, err)
	return n
}
