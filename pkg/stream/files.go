package stream

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
)

// ReadObjects reads rendered manifests: the files and folders named by
// paths (folders recurse over *.yaml and *.yml, in lexical order; "-" is
// stdin), or stdin when there is none. A document may be a plain object, a
// ResourceList (its items) or a v1 List (its items).
func ReadObjects(paths []string, stdin io.Reader) ([]manifest.Object, error) {
	objs, _, err := (&Reader{Stdin: stdin}).Read(paths)
	return objs, err
}

// ManifestFiles lists path itself, or the YAML files under a folder.
func ManifestFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var out []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// unwrap returns the objects of one parsed document: the items of a
// ResourceList or a v1 List, or the document itself.
func unwrap(n *yaml.Node) ([]*yaml.Node, error) {
	o := manifest.FromNode(0, n)
	if !manifest.IsResourceList(n) && (o.Kind != "List" || o.APIVersion != "v1") {
		return []*yaml.Node{n}, nil
	}
	var out []*yaml.Node
	for i, it := range manifest.Items(n, "items") {
		if it == nil || it.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s: items[%d] is not an object", o.Kind, i)
		}
		out = append(out, it)
	}
	return out, nil
}

// Origin is where an object of the input was read, for findings that point
// at a file and line (check -o sarif and github).
type Origin struct {
	// File is the path read ("" for stdin).
	File string
	// Line is the object's first line in the file, from 1.
	Line int
	// Source is the Helm "# Source:" template of its document.
	Source string
	// node is the object; shift turns its nodes' lines into the file's.
	node  *yaml.Node
	shift int
}

// LineOf returns the line in the file of a field of the object
// ("spec.ingress[0].from"), or of the object when the field is not found.
func (o Origin) LineOf(field string) int {
	if n := fieldNode(o.node, field); n != nil && n.Line > 0 {
		return n.Line + o.shift
	}
	return o.Line
}

// item is an object of a document, its line counted from the document's
// first line.
type item struct {
	node  *yaml.Node
	shift int // line in the document = node.Line + shift
}

// docItems are the objects of a parsed document.
type docItems struct {
	items  []item
	source string
}

// Reader reads rendered manifests. A reader that remembers keeps every
// document it parsed by its bytes, and a reader given known documents parses
// only the others: the two sides of a diff share the documents they have in
// common, parsed once.
type Reader struct {
	// Stdin is read for the path "-".
	Stdin io.Reader
	// Remember keeps the documents read, for Seen.
	Remember bool
	// Known are documents another reader parsed (its Seen).
	Known Known
	seen  Known
}

// Known are parsed documents by their bytes.
type Known map[string]docItems

// Seen returns the documents a remembering reader parsed.
func (ir *Reader) Seen() Known { return ir.seen }

// Read reads the files and folders named by paths ("-" is stdin; stdin
// when there is none), and returns the objects and where each was read.
func (ir *Reader) Read(paths []string) ([]manifest.Object, []Origin, error) {
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	var objs []manifest.Object
	var origins []Origin
	add := func(file string, data []byte) error {
		docs, err := ir.parse(data)
		if err != nil {
			return err
		}
		for _, d := range docs {
			for _, it := range d.items {
				objs = append(objs, manifest.FromNode(len(objs), it.node))
				origins = append(origins, Origin{File: file, Line: it.node.Line + it.shift, Source: d.source, node: it.node, shift: it.shift})
			}
		}
		return nil
	}
	for _, p := range paths {
		if p == "-" {
			data, err := ReadAll(ir.Stdin)
			if err != nil {
				return nil, nil, fmt.Errorf("reading stdin: %w", err)
			}
			if err := add("", data); err != nil {
				return nil, nil, fmt.Errorf("reading stdin: %w", err)
			}
			continue
		}
		files, err := ManifestFiles(p)
		if err != nil {
			return nil, nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, nil, fmt.Errorf("reading %s: %w", f, err)
			}
			if err := add(f, data); err != nil {
				return nil, nil, fmt.Errorf("reading %s: %w", f, err)
			}
		}
	}
	return objs, origins, nil
}

// parse reads a stream into its documents' objects, with lines counted in
// data. Documents the reader knows are not parsed again.
func (ir *Reader) parse(data []byte) ([]docItems, error) {
	if ir.Known != nil {
		if docs, ok := ir.parseNew(data); ok {
			return docs, nil
		}
	}
	s, err := Parse(data)
	if err != nil {
		return nil, err
	}
	out := make([]docItems, 0, len(s.Documents))
	for _, d := range s.Documents {
		di, err := itemsOf(d)
		if err != nil {
			return nil, err
		}
		if ir.Remember {
			if ir.seen == nil {
				ir.seen = Known{}
			}
			ir.seen[string(d.Raw)] = relative(di, d.Line)
		}
		out = append(out, di)
	}
	return out, nil
}

// parseNew parses only the documents of data the reader does not know,
// as one stream; false when that fails (the whole stream is then parsed,
// for errors that name the right lines).
func (ir *Reader) parseNew(data []byte) ([]docItems, bool) {
	chunks := Split(data)
	var buf bytes.Buffer
	var fresh []int // chunks to parse
	var added []int // lines added before each, in buf
	for i, c := range chunks {
		if _, ok := ir.Known[string(c.Raw)]; ok {
			continue
		}
		fresh = append(fresh, i)
		extra := 0
		if !bytes.HasPrefix(c.Raw, []byte("---")) {
			buf.WriteString("---\n") // one document per chunk in buf too
			extra = 1
		}
		added = append(added, extra)
		buf.Write(c.Raw)
		if len(c.Raw) > 0 && c.Raw[len(c.Raw)-1] != '\n' {
			buf.WriteByte('\n')
		}
	}
	parsed := map[int]docItems{}
	if len(fresh) > 0 {
		s, err := Parse(buf.Bytes())
		if err != nil || len(s.Documents) != len(fresh) {
			return nil, false
		}
		for j, d := range s.Documents {
			di, err := itemsOf(d)
			if err != nil {
				return nil, false
			}
			parsed[fresh[j]] = relative(di, d.Line+added[j])
		}
	}
	out := make([]docItems, len(chunks))
	for i, c := range chunks {
		di, ok := parsed[i]
		if !ok {
			di = ir.Known[string(c.Raw)]
		}
		out[i] = absolute(di, c.Line)
	}
	return out, true
}

// itemsOf unwraps a document's objects, their lines counted in the stream
// parsed.
func itemsOf(d Document) (docItems, error) {
	di := docItems{source: d.Source}
	if len(d.Nodes) == 0 {
		return di, nil
	}
	// Node lines count from where the parser started, not always the
	// document: the first node's line is the document's first content line.
	shift := d.Line + ContentLine(d.Raw) - d.Nodes[0].Line
	for _, n := range d.Nodes {
		its, err := unwrap(n)
		if err != nil {
			return di, fmt.Errorf("%s %w", d.Describe(), err)
		}
		for _, it := range its {
			di.items = append(di.items, item{node: it, shift: shift})
		}
	}
	return di, nil
}

// ContentLine counts the lines of a document before its first line of
// content (separator, comments, blank lines, directives).
func ContentLine(raw []byte) int {
	n := 0
	for len(raw) > 0 {
		line, rest, _ := bytes.Cut(raw, []byte("\n"))
		t := bytes.TrimSpace(line)
		if !(len(t) == 0 || t[0] == '#' || t[0] == '%' || bytes.Equal(t, []byte("---"))) {
			return n // content, on the separator's line too ("--- {a: b}")
		}
		n++
		raw = rest
	}
	return n
}

// relative counts an item's lines from its document's first line.
func relative(di docItems, docLine int) docItems {
	out := docItems{source: di.source, items: make([]item, len(di.items))}
	for i, it := range di.items {
		out.items[i] = item{node: it.node, shift: it.shift - docLine}
	}
	return out
}

// absolute counts an item's lines in the stream, its document starting on
// docLine.
func absolute(di docItems, docLine int) docItems {
	return relative(di, -docLine)
}

// fieldNode follows a field path ("spec.ingress[0].from") from n.
func fieldNode(n *yaml.Node, path string) *yaml.Node {
	if n == nil || path == "" {
		return nil
	}
	cur := n
	for _, part := range splitField(path) {
		if part.index >= 0 {
			cur = manifest.Lookup(cur, part.key)
			if cur == nil || cur.Kind != yaml.SequenceNode || part.index >= len(cur.Content) {
				return nil
			}
			cur = cur.Content[part.index]
			continue
		}
		if cur = manifest.Lookup(cur, part.key); cur == nil {
			return nil
		}
	}
	return cur
}

type fieldPart struct {
	key   string
	index int // -1: not indexed
}

// splitField cuts "spec.ingress[0].from" into spec, ingress[0], from.
func splitField(path string) []fieldPart {
	var out []fieldPart
	for _, seg := range bytes.Split([]byte(path), []byte(".")) {
		key, idx := string(seg), -1
		if i := bytes.IndexByte(seg, '['); i > 0 && seg[len(seg)-1] == ']' {
			key = string(seg[:i])
			if _, err := fmt.Sscanf(string(seg[i+1:len(seg)-1]), "%d", &idx); err != nil {
				idx = -1
			}
		}
		out = append(out, fieldPart{key: key, index: idx})
	}
	return out
}

// ReadAll reads r to its end into a buffer of the input's size: sized
// from the start when r is a regular file, else trimmed after reading (a
// growing buffer ends with room to spare, which a run would hold on to).
func ReadAll(r io.Reader) ([]byte, error) {
	size := 0
	if f, ok := r.(*os.File); ok {
		if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
			size = int(info.Size())
		}
	}
	var b bytes.Buffer
	b.Grow(size + bytes.MinRead)
	_, err := b.ReadFrom(r)
	data := b.Bytes()
	if cap(data)-len(data) > bytes.MinRead+len(data)/16 {
		data = bytes.Clone(data)
	}
	return data, err
}
