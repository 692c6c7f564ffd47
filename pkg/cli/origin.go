package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/stream"
)

// origin is where an object of the input was read, for findings that point
// at a file and line (check -o sarif and github).
type origin struct {
	// file is the path read ("" for stdin).
	file string
	// line is the object's first line in the file, from 1.
	line int
	// source is the Helm "# Source:" template of its document.
	source string
	// node is the object; shift turns its nodes' lines into the file's.
	node  *yaml.Node
	shift int
}

// lineOf returns the line in the file of a field of the object
// ("spec.ingress[0].from"), or of the object when the field is not found.
func (o origin) lineOf(field string) int {
	if n := fieldNode(o.node, field); n != nil && n.Line > 0 {
		return n.Line + o.shift
	}
	return o.line
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

// inputReader reads rendered manifests. A reader that remembers keeps every
// document it parsed by its bytes, and a reader given known documents parses
// only the others: the two sides of a diff share the documents they have in
// common, parsed once.
type inputReader struct {
	stdin    io.Reader
	remember bool
	known    map[string]docItems
	seen     map[string]docItems
}

// read reads the files and folders named by paths ("-" is stdin; stdin
// when there is none), and returns the objects and where each was read.
func (ir *inputReader) read(paths []string) ([]manifest.Object, []origin, error) {
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	var objs []manifest.Object
	var origins []origin
	add := func(file string, data []byte) error {
		docs, err := ir.parse(data)
		if err != nil {
			return err
		}
		for _, d := range docs {
			for _, it := range d.items {
				objs = append(objs, manifest.FromNode(len(objs), it.node))
				origins = append(origins, origin{file: file, line: it.node.Line + it.shift, source: d.source, node: it.node, shift: it.shift})
			}
		}
		return nil
	}
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(ir.stdin)
			if err != nil {
				return nil, nil, fmt.Errorf("reading stdin: %w", err)
			}
			if err := add("", data); err != nil {
				return nil, nil, fmt.Errorf("reading stdin: %w", err)
			}
			continue
		}
		files, err := manifestFiles(p)
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
func (ir *inputReader) parse(data []byte) ([]docItems, error) {
	if ir.known != nil {
		if docs, ok := ir.parseNew(data); ok {
			return docs, nil
		}
	}
	s, err := stream.Parse(data)
	if err != nil {
		return nil, err
	}
	out := make([]docItems, 0, len(s.Documents))
	for _, d := range s.Documents {
		di, err := itemsOf(d)
		if err != nil {
			return nil, err
		}
		if ir.remember {
			if ir.seen == nil {
				ir.seen = map[string]docItems{}
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
func (ir *inputReader) parseNew(data []byte) ([]docItems, bool) {
	chunks := stream.Split(data)
	var buf bytes.Buffer
	var fresh []int // chunks to parse
	var added []int // lines added before each, in buf
	for i, c := range chunks {
		if _, ok := ir.known[string(c.Raw)]; ok {
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
		s, err := stream.Parse(buf.Bytes())
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
			di = ir.known[string(c.Raw)]
		}
		out[i] = absolute(di, c.Line)
	}
	return out, true
}

// itemsOf unwraps a document's objects, their lines counted in the stream
// parsed.
func itemsOf(d stream.Document) (docItems, error) {
	di := docItems{source: d.Source}
	if len(d.Nodes) == 0 {
		return di, nil
	}
	// Node lines count from where the parser started, not always the
	// document: the first node's line is the document's first content line.
	shift := d.Line + contentLine(d.Raw) - d.Nodes[0].Line
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

// contentLine counts the lines of a document before its first line of
// content (separator, comments, blank lines, directives).
func contentLine(raw []byte) int {
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
