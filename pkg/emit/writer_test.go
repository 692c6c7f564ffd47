package emit

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestWriteReadsBack writes nodes with every scalar shape and reads them
// back: the values and structure must be the same.
func TestWriteReadsBack(t *testing.T) {
	values := []string{"plain", "app.kubernetes.io/name", "a b", "a: b", "a #b", "a#b", "-x", "- x", "--- x", "*.github.com",
		"yes", "no", "on", "off", "y", "n", "true", "null", "~", "1.0", "0x1f", "1e3", ".5", "-1", "", " lead", "trail ", "it's",
		"\"q\"", "back\\slash", "tab\there", "line\nbreak", "ünïcode", "%x", "@x", "`x", "{x}", "[x]", "x,y", "x:", "?x", "|x", ">x", "!x", "&x",
		"GET|POST", "/api/v1/.*", "169.254.0.0/16", "::/0", "fc00::/7"}
	m := &yaml.Node{Kind: yaml.MappingNode}
	seqItems := &yaml.Node{Kind: yaml.SequenceNode}
	for _, v := range values {
		m.Content = append(m.Content, Str("k"+v), Str(v))
		seqItems.Content = append(seqItems.Content, Mapping("v", Str(v), "num", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "42"}))
	}
	root := Mapping("map", m, "seq", seqItems, "empty", Mapping(), "emptyseq", Seq(), "nested", Seq(Seq(Str("a"), Str("b"))))
	out := String(root)
	var back map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(out), &back), out)
	got := back["map"].(map[string]any)
	for _, v := range values {
		assert.Equal(t, v, got["k"+v], "value %q in:\n%s", v, out)
	}
	items := back["seq"].([]any)
	for i, v := range values {
		assert.Equal(t, v, items[i].(map[string]any)["v"])
		assert.Equal(t, 42, items[i].(map[string]any)["num"])
	}
	assert.Equal(t, map[string]any{}, back["empty"])
	assert.Equal(t, []any{}, back["emptyseq"])
	assert.Equal(t, []any{[]any{"a", "b"}}, back["nested"])
	// YAML 1.1 traps stay quoted.
	for _, v := range []string{"yes", "no", "on", "off", "y", "n"} {
		assert.Contains(t, out, "k"+v+": \""+v+"\"")
	}
	// Compact sequences, two-space indents.
	assert.Contains(t, out, "seq:\n- v: plain\n  num: 42\n")
}

// TestWriteDeepIndent: indents deeper than one run of spaces read back too,
// as items of a sequence at an indent (WriteItem) as well.
func TestWriteDeepIndent(t *testing.T) {
	n := Str("end")
	for i := 0; i < 40; i++ {
		n = Mapping("c", n, "l", Seq(Str("it's")))
	}
	var b strings.Builder
	require.NoError(t, WriteItem(&b, n, "  "))
	var back []map[string]any
	require.NoError(t, yaml.Unmarshal([]byte("  # items\n"+b.String()), &back), b.String())
	require.Len(t, back, 1)
	m := back[0]
	for i := 0; i < 39; i++ {
		assert.Equal(t, []any{"it's"}, m["l"])
		m = m["c"].(map[string]any)
	}
	assert.Equal(t, "end", m["c"])
}
