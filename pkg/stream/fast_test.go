package stream

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/bench"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// sameTree describes the first difference between two trees, "" when they
// are the same in every field a reader may look at.
func sameTree(path string, a, b *yaml.Node) string {
	switch {
	case a == nil && b == nil:
		return ""
	case a == nil || b == nil:
		return fmt.Sprintf("%s: %v vs %v", path, a, b)
	case a.Kind != b.Kind, a.Tag != b.Tag, a.Value != b.Value, a.Style != b.Style, a.Line != b.Line, a.Column != b.Column,
		len(a.Content) != len(b.Content), a.Anchor != b.Anchor, a.Alias != nil || b.Alias != nil:
		return fmt.Sprintf("%s: fast {kind %d tag %s value %q style %d at %d:%d, %d children} vs yaml.v3 {kind %d tag %s value %q style %d at %d:%d, %d children}",
			path, a.Kind, a.Tag, a.Value, a.Style, a.Line, a.Column, len(a.Content), b.Kind, b.Tag, b.Value, b.Style, b.Line, b.Column, len(b.Content))
	}
	for i := range a.Content {
		if d := sameTree(fmt.Sprintf("%s/%d", path, i), a.Content[i], b.Content[i]); d != "" {
			return d
		}
	}
	return ""
}

// checkFast holds the fast reader to yaml.v3 on one document: when it
// reads the document, it must build yaml.v3's tree; it may decline.
func checkFast(t *testing.T, raw []byte) (read bool) {
	t.Helper()
	return checkFastAt(t, raw, 0, raw)
}

// checkFastAt holds the fast reader, reading raw after prefix bytes a line,
// to yaml.v3 reading doc (raw as a document of its own).
func checkFastAt(t *testing.T, raw []byte, prefix int, doc []byte) (read bool) {
	t.Helper()
	fast, ok := (&fastReader{}).parseAt(raw, prefix)
	if !ok {
		return false
	}
	want, err := parseDocument(doc)
	if err != nil {
		t.Fatalf("the fast reader read a document yaml.v3 refuses (%v):\n%s", err, raw)
	}
	if fast == nil {
		if len(want) != 0 {
			t.Fatalf("the fast reader found no object, yaml.v3 %d:\n%s", len(want), raw)
		}
		return true
	}
	if len(want) != 1 {
		t.Fatalf("the fast reader found one object, yaml.v3 %d:\n%s", len(want), raw)
	}
	if d := sameTree("", fast, want[0]); d != "" {
		t.Fatalf("%s\n%s", d, raw)
	}
	return true
}

// asItem writes a document as an item of a block sequence at indent:
// "- " before its first line with content, two spaces before the others.
func asItem(doc []byte, indent string) []byte {
	var out []byte
	first := true
	for _, l := range strings.SplitAfter(string(doc), "\n") {
		if l == "" || strings.HasPrefix(l, "---") && first {
			continue
		}
		switch {
		case strings.TrimSpace(l) == "":
			out = append(out, l...)
		case first:
			out = append(append(out, indent+"- "...), l...)
			first = false
		default:
			out = append(append(out, indent+"  "...), l...)
		}
	}
	return out
}

// checkFastItem holds the fast reader, reading an item in place, to
// yaml.v3 reading the item dedented.
func checkFastItem(t *testing.T, raw []byte, prefix int) (read bool) {
	t.Helper()
	return checkFastAt(t, raw, prefix, dedentItem(raw, prefix))
}

// TestFastReaderReadsItemsInPlace: items of a ResourceList, read in place,
// give the trees of the dedented items, and every item of the realistic set
// takes the fast path at both indents kustomize and kpt write.
func TestFastReaderReadsItemsInPlace(t *testing.T) {
	for _, indent := range []string{"", "  "} {
		for _, c := range Split(bench.Realistic(2, 20, false)) {
			item := asItem(c.Raw, indent)
			require.True(t, checkFastItem(t, item, len(indent)+2), "declined:\n%s", item)
		}
		for _, doc := range []string{"a: |\n  x\n\n  y\nb: c\n", "a:\n- b\n- c: d\n", "a: |+\n  x\n\n"} {
			checkFastItem(t, asItem([]byte(doc), indent), len(indent)+2)
		}
	}
}

func TestFastReaderAgreesWithYAMLv3(t *testing.T) {
	var docs [][]byte
	add := func(data []byte) {
		for _, c := range Split(data) {
			docs = append(docs, c.Raw)
		}
	}
	add(bench.Realistic(3, 4, false))
	add(bench.Stream(2, 3, false))
	for _, root := range []string{"../../testdata", "../../examples"} {
		require.NoError(t, filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				return err
			}
			data, err := os.ReadFile(p)
			if err == nil {
				add(data)
			}
			return err
		}))
	}
	read := 0
	for _, d := range docs {
		if checkFast(t, d) {
			read++
		}
	}
	t.Logf("the fast reader read %d of %d documents", read, len(docs))
	assert.Greater(t, read, len(docs)*8/10, "most documents take the fast path")
}

func TestFastReaderCases(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		read bool
	}{
		"plain":                     {"a: b\nc: 1\n", true},
		"separator and comments":    {"---\n# Source: x\na: b # c\n\n# d\ne: f\n", true},
		"nested":                    {"a:\n  b:\n    c: d\n  e: f\ng: h\n", true},
		"sequence at the key":       {"a:\n- b\n- c: d\n  e: f\ng: h\n", true},
		"indented sequence":         {"a:\n  - b: c\n    d: [e, 'f', \"g\"]\n  - {h: i, j: [k]}\n", true},
		"empty values":              {"a:\nb:\n  c:\nd: e\n", true},
		"empty collections":         {"a: {}\nb: []\nc: ''\nd: \"\"\n", true},
		"numbers and booleans":      {"a: 1\nb: -2\nc: 1.5\nd: true\ne: no\nf: ~\ng: 0x1F\nh: 2001-12-14\ni: .inf\n", true},
		"quoted keys":               {"\"a\": b\n'c d': e\n", true},
		"colons in values":          {"a: http://b:80/c\nd: e:f\n", true},
		"literal":                   {"a: |\n  line 1\n\n    indented\n  line 3\nb: x\n", true},
		"literal strip and keep":    {"a: |-\n  x\n\nb: |+\n  y\n\n\nc: z\n", true},
		"literal at the end":        {"a: |\n  x\n  y\n", true},
		"literal in a sequence":     {"a:\n- |\n  x\n- b\n", true},
		"hash in a literal":         {"a: |\n  # not a comment\n  x\nb: c\n", true},
		"url with hash":             {"a: b#c\n", true},
		"dash values":               {"a: -b\nc: '-'\n", true},
		"dash entries":              {"d:\n- --flag=x\n- -1\n", true},
		"nested sequence":           {"a:\n- - b\n", false},
		"flow colons":               {"a: [serve, --listen=:9090, http://b:80/c]\nb: {c: d:e}\n", true},
		"more numbers":              {"j: 0755\nk: 08\nl: 123456789012345678901\nm: False\nn: NULL\no: 1.11.3\np: 8m\n", true},
		"empty values, spaces":      {"a:   \nb:  # c\nd: e\n", true},
		"flow nested":               {"a: {b: [1, 2, {c: d}], e: f}\n", true},
		"anchor":                    {"a: &x b\nc: *x\n", false},
		"tag":                       {"a: !!str 1\n", false},
		"folded":                    {"a: >\n  x\n  y\n", false},
		"escape":                    {"a: \"b\\nc\"\n", false},
		"multi-line plain":          {"a: b\n  c\nd: e\n", false},
		"multi-line flow":           {"a: [b,\n  c]\n", false},
		"tab":                       {"a:\tb\n", false},
		"crlf":                      {"a: b\r\nc: d\r\n", false},
		"root sequence":             {"- a\n- b\n", false},
		"root scalar":               {"a\n", false},
		"mapping in a value":        {"a: b: c\n", false},
		"merge key":                 {"a: b\n<<: {c: d}\n", false},
		"non-ASCII":                 {"a: caf\u00e9\n", false},
		"document end":              {"a: b\n...\n", false},
		"complex key":               {"? a\n: b\n", false},
		"comment only":              {"---\n# nothing\n", true},
		"bad indentation":           {"a: b\n  c: d\n", false},
		"duplicate keys still read": {"a: b\na: c\n", true},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.read, checkFast(t, []byte(tc.in)))
		})
	}
}

// FuzzFastReader holds the fast reader to yaml.v3 on any document.
func FuzzFastReader(f *testing.F) {
	for _, c := range Split(bench.Realistic(1, 2, false)) {
		f.Add(c.Raw)
	}
	f.Add([]byte("a: |\n  x\n\n  y\nb: [c, {d: e}]\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkFast(t, raw)
		checkFastItem(t, asItem(raw, "  "), 4)
	})
}

// TestFastReaderReadsHelmOutput: every document of the realistic data set,
// modelled on Helm charts, takes the fast path (a document it declines
// costs a yaml.v3 parser of its own).
func TestFastReaderReadsHelmOutput(t *testing.T) {
	for _, c := range Split(bench.Realistic(2, 20, false)) {
		require.True(t, checkFast(t, c.Raw), "declined:\n%s", c.Raw)
	}
}

// TestKeptTrees: a tree an object keeps is its own copy; it loses
// metadata.labels and annotations (the object holds them) only once the
// kind readers have prepared the objects, never for a caller that reads the
// trees itself.
func TestKeptTrees(t *testing.T) {
	in := []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: {app: a}\n  annotations: {x: y}\nspec: {containers: [{name: c}]}\n")
	for _, prepared := range []bool{false, true} {
		var opts Options
		if prepared {
			opts.Prepare = func(*manifest.Object) {}
		}
		s, err := ParseWith(in, opts)
		require.NoError(t, err)
		require.Len(t, s.Objects, 1)
		o := s.Objects[0]
		assert.Equal(t, map[string]string{"app": "a"}, o.Labels)
		require.NotNil(t, o.Node)
		assert.Equal(t, !prepared, manifest.Lookup(o.Node, "metadata", "labels") != nil, "prepared %v", prepared)
		assert.Equal(t, !prepared, manifest.Lookup(o.Node, "metadata", "annotations") != nil, "prepared %v", prepared)
		assert.Equal(t, "a", manifest.String(o.Node, "metadata", "name"))
		assert.NotNil(t, manifest.Lookup(o.Node, "spec", "containers"))
	}
}
