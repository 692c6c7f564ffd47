package emit_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/emit"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// TestWithHashIsSpecHash: the hash written to generated objects is the one
// manifest.SpecHash reads back from the input, whatever the spec holds
// (keys out of order, every scalar type, anchors, deep nesting).
func TestWithHashIsSpecHash(t *testing.T) {
	for _, spec := range []string{
		`{}`,
		`{podSelector: {}}`,
		`{z: 1, a: "1", m: [true, 1.5, null, ~, "x\ny", 'q"q'], b: {y: [], x: {}}}`,
		`{egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}], ports: [{protocol: TCP, port: 53, endPort: 60}]}], podSelector: {matchLabels: {app: web, yes: "no"}}}`,
		`{k17: 17, k16: 16, k15: 15, k14: 14, k13: 13, k12: 12, k11: 11, k10: 10, k9: 9, k8: 8, k7: 7, k6: 6, k5: 5, k4: 4, k3: 3, k2: 2, k1: 1, k0: 0}`,
		`{a: &x {b: [1, 2]}, c: *x, d: !!str 5, e: 0x1f, f: .inf, g: "é\u2028"}`,
		strings.Repeat("[", 70) + "1" + strings.Repeat("]", 70),
	} {
		var doc yaml.Node
		require.NoError(t, yaml.Unmarshal([]byte("metadata: {annotations: {a: b, z: y}}\nspec: "+spec+"\n"), &doc), spec)
		n := doc.Content[0]
		emit.WithHash(n)
		want := manifest.SpecHash(n)
		require.Len(t, want, 16)
		got := manifest.Lookup(n, "metadata", "annotations")
		require.Len(t, got.Content, 6, spec)
		assert.Equal(t, []string{"a", "b", manifest.HashAnnotation, want, "z", "y"},
			[]string{got.Content[0].Value, got.Content[1].Value, got.Content[2].Value, got.Content[3].Value, got.Content[4].Value, got.Content[5].Value}, spec)
	}
}
