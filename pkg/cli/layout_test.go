package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// TestLayouts feeds every golden case as a ResourceList in three layouts:
// block with the dashes at column 0 (kustomize's; items copied through as
// bytes), block with the dashes at column 2 (also copied), and JSON (the
// general path, items encoded again). The items and the generated objects
// must be the same in all three.
func TestFunctionLayouts(t *testing.T) {
	for _, name := range testutil.Cases(t, functionGoldenDir) {
		t.Run(name, func(t *testing.T) {
			c := loadFunctionCase(t, name)
			if _, err := os.Stat(filepath.Join(c.dir, "errors.txt")); err == nil {
				t.Skip("errors case")
			}
			compact := testutil.ResourceList(t, c.items, c.config)
			indented := indentItems(t, compact)
			asJSON := toJSON(t, compact)
			var want []any
			for _, layout := range []string{"compact", "indented", "json"} {
				in := map[string][]byte{"compact": compact, "indented": indented, "json": asJSON}[layout]
				out, stderr, code := runFunction(t, in)
				require.Equal(t, 0, code, "%s: %s", layout, stderr)
				items, _ := outputItems(t, out)
				var got []any
				for _, it := range items {
					var v any
					require.NoError(t, it.Decode(&v))
					got = append(got, v)
				}
				if want == nil {
					want = got
					// Only tierwall's own unedited earlier output may go.
					kept := 0
					for i, it := range c.items {
						if !inject.Unedited(manifest.FromNode(i, it)) {
							kept++
						}
					}
					require.GreaterOrEqual(t, len(got), kept)
				}
				assert.Equal(t, want, got, "layout %s", layout)
			}
		})
	}
}

// indentItems rewrites "items:" so that its dashes stand at column 2.
func indentItems(t *testing.T, rl []byte) []byte {
	t.Helper()
	lines := strings.SplitAfter(string(rl), "\n")
	var b strings.Builder
	in := false
	for _, l := range lines {
		switch {
		case strings.TrimRight(l, "\n") == "items:":
			in = true
		case in && l != "" && l[0] != ' ' && l[0] != '-' && l != "\n":
			in = false
		case in && l != "\n":
			l = "  " + l
		}
		b.WriteString(l)
	}
	if !strings.Contains(string(rl), "items: []") {
		require.Contains(t, b.String(), "items:\n  - ")
	}
	return []byte(b.String())
}

func toJSON(t *testing.T, rl []byte) []byte {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(rl, &v))
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// TestItemsCopiedAsBytes: items in block layout come out as the bytes they
// came in, comments, quoting and key order included; a layout the fast path
// declines (an alias across items) still gives the same items.
func TestItemsCopiedAsBytes(t *testing.T) {
	items := `- apiVersion: apps/v1 # a comment kept as written
  kind: Deployment
  metadata: {name: api, namespace: "shop", labels: {app: api}}
  spec:
    selector:
      matchLabels: {app: api}
    template:
      metadata:
        labels: &labels {app: api, tier: 'api'}
      spec:
        containers:
        - name: api
          image: example/api:1.0

          ports: [{containerPort: 8080}]
`
	rl := "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + items
	out, stderr, code := runFunction(t, []byte(rl))
	require.Equal(t, 0, code, stderr)
	assert.True(t, strings.HasPrefix(out, "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"+items), out)

	aliased := rl + "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c, namespace: shop, labels: *labels}\n"
	out, stderr, code = runFunction(t, []byte(aliased))
	require.Equal(t, 0, code, stderr)
	got, _ := outputItems(t, out)
	require.GreaterOrEqual(t, len(got), 2)
	assert.Equal(t, "api", manifestLabel(t, got[1]))
}

func manifestLabel(t *testing.T, n *yaml.Node) string {
	t.Helper()
	var v struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
	}
	require.NoError(t, n.Decode(&v))
	return v.Metadata.Labels["app"]
}
