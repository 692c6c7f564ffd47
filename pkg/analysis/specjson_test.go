package analysis

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/stream"
)

// TestSpecJSON: the JSON written straight from the nodes is byte for byte
// what decoding and encoding gives, for every NetworkPolicy spec under
// testdata and for YAML's less plain corners.
func TestSpecJSON(t *testing.T) {
	slow := func(n *yaml.Node) ([]byte, error) {
		var raw any
		if err := n.Decode(&raw); err != nil {
			return nil, err
		}
		if raw == nil {
			return nil, nil
		}
		return json.Marshal(raw)
	}
	var specs []*yaml.Node
	err := filepath.WalkDir("../../testdata", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s, err := stream.Parse(data)
		if err != nil {
			return nil // the bad-input cases
		}
		for _, o := range s.Objects {
			if o.IsNetworkPolicy() {
				if n := manifest.Lookup(o.Node, "spec"); n != nil {
					specs = append(specs, n)
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, len(specs), 100)
	corners := `a:
  z: 1
  y: [1, 0x1f, 1.5, -2, "3", 0o17]
  x: null
  w: ~
  v: true
  u: "<&>"
  t: |
    two
    lines
  s: 'it''s'
  r: 1e3
  q: 12345678901234567890
  "k\"ey\\<": "tab\there, é, \u2028, \x7f, ~ and }"
  "plain-key_1.2/x": "printable ASCII !#$%()*+,-./:;=?@[]^_{|}~"
b: null
c: &anchor {k: v}
d: *anchor
e: {<<: *anchor, j: 1}
f: !!binary aGVsbG8=
g: 2001-12-14
h: {1: one}
`
	doc, err := yaml.Parse(corners)
	require.NoError(t, err)
	for i := 0; i+1 < len(doc.YNode().Content); i += 2 {
		specs = append(specs, doc.YNode().Content[i+1])
	}
	for _, n := range specs {
		got, err := specJSON(n)
		want, wantErr := slow(n)
		assert.Equal(t, wantErr, err)
		assert.Equal(t, string(want), string(got))
	}
}
