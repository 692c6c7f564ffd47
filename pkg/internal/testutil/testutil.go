// Package testutil holds helpers shared by tierwall's tests: reading YAML
// streams, building ResourceLists, comparing documents and the -update
// switch for golden files.
package testutil

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Updating reports whether golden files are rewritten instead of compared
// with (UPDATE_GOLDEN=1, as make golden sets it).
func Updating() bool { return os.Getenv("UPDATE_GOLDEN") == "1" }

// Docs parses a multi-document YAML stream into its non-empty documents.
func Docs(t testing.TB, data []byte) []*yaml.Node {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		if len(n.Content) > 0 {
			out = append(out, n.Content[0])
		}
	}
}

// ResourceList builds a ResourceList document from items and an optional
// functionConfig.
func ResourceList(t testing.TB, items []*yaml.Node, fc *yaml.Node) []byte {
	t.Helper()
	root := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k string, v *yaml.Node) {
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, v)
	}
	add("apiVersion", &yaml.Node{Kind: yaml.ScalarNode, Value: "config.kubernetes.io/v1"})
	add("kind", &yaml.Node{Kind: yaml.ScalarNode, Value: "ResourceList"})
	add("items", &yaml.Node{Kind: yaml.SequenceNode, Content: items})
	if fc != nil {
		add("functionConfig", fc)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	require.NoError(t, enc.Encode(root))
	require.NoError(t, enc.Close())
	return buf.Bytes()
}

// String encodes one node as YAML.
func String(t testing.TB, n *yaml.Node) string {
	t.Helper()
	s, err := yaml.String(n)
	require.NoError(t, err)
	return s
}

// Stream encodes nodes as a multi-document stream.
func Stream(t testing.TB, nodes []*yaml.Node) string {
	t.Helper()
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		parts[i] = String(t, n)
	}
	return strings.Join(parts, "---\n")
}

// Golden compares got with the file at path, or rewrites it under -update.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if Updating() {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run make golden and review the diff")
	require.Equal(t, string(want), string(got), "output differs from %s (make golden rewrites it; review the diff)", path)
}

// Cases lists the sub-folders of dir, the golden cases.
func Cases(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	require.NotEmpty(t, out, "no golden cases under %s", dir)
	return out
}
