// Package stream reads and writes the plain multi-document YAML stream
// (what Helm hands a post-renderer, what kubectl applies) without losing a
// byte. Reading splits the stream on "---" lines, keeps each document's
// bytes as read, and parses each document once, on every core, into a node
// from which manifest.Objects are built: by the fast reader of the block
// style Helm and kustomize write (fast.go), else by yaml.v3. Empty and
// comment-only documents keep their bytes but hold no object. The same
// parser reads a ResourceList's items in place (ParseItems), and Reader
// reads the files, folders and stdin the commands are given. Nothing is
// re-encoded: Output writes the input through verbatim, then the generated
// objects.
package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
)

// Document is one document of a stream.
type Document struct {
	// Position of the document in the stream, from 0, counting every
	// document, empty ones included.
	Position int
	// Line is the line of the stream, from 1, where the document starts (its
	// "---" separator line, if it has one).
	Line int
	// Raw is the document's bytes exactly as read, its leading separator line
	// included.
	Raw []byte
	// Source is the template path of a Helm "# Source: path" comment in the
	// document, or "".
	Source string
	// Nodes are the parsed objects of the document: none for an empty or
	// comment-only document, one in the usual case (more only when the
	// document uses "..." end markers to hold several).
	Nodes []*yaml.Node
}

// Describe names the document for messages: "document 3 (line 40, # Source:
// chart/templates/api.yaml)".
func (d Document) Describe() string {
	s := fmt.Sprintf("document %d (line %d", d.Position, d.Line)
	if d.Source != "" {
		s += ", # Source: " + d.Source
	}
	return s + ")"
}

// Stream is a parsed multi-document stream.
type Stream struct {
	// Raw is the whole input as read.
	Raw []byte
	// Documents in input order.
	Documents []Document
	// Objects are the objects of the stream in input order; Object.Index is
	// the object's position among them, from 0.
	Objects []manifest.Object
	// DocumentOf maps each object's Index to its document's Position.
	DocumentOf []int
}

// Parse splits data into documents and parses each of them once. A document
// that is not valid YAML, whose content is not a mapping, or that holds a
// key twice is an error that names the document, its line and its Helm
// source file. As with ParseWith, data must not change afterwards.
func Parse(data []byte) (*Stream, error) {
	return ParseWith(data, Options{KeepNodes: true})
}

// Options tune ParseWith for large inputs.
type Options struct {
	// Prepare, when set, is called on each object as it is built (to read
	// what the engine needs and drop its node).
	Prepare func(*manifest.Object)
	// KeepNodes keeps each document's nodes in Document.Nodes.
	KeepNodes bool
}

// ParseWith is Parse with options. Documents are parsed on every core. The
// strings of the objects and nodes may share data's memory: data must not
// change afterwards.
func ParseWith(data []byte, opts Options) (*Stream, error) {
	return parseChunks(data, Split(data), 0, opts)
}

// parseChunks parses each chunk of data as a document, on every core. With
// a prefix, a chunk is an item of a block sequence, each of its lines
// after prefix bytes (see ParseItems).
func parseChunks(data []byte, chunks []Chunk, prefix int, opts Options) (*Stream, error) {
	s := &Stream{Raw: data}
	nodes := make([][]*yaml.Node, len(chunks))
	objs := make([][]manifest.Object, len(chunks))
	errs := make([]error, len(chunks))
	// One parser reads a run of documents (a parser per document costs as
	// much as the parsing); each document becomes its objects on the core
	// that parsed it, so that a large stream is never held as node trees all
	// at once. A run with an error is read again document by document, for
	// a message that names the document.
	one := func(i int, ns []*yaml.Node, shift int) {
		for _, n := range ns {
			if n.Kind != yaml.MappingNode {
				errs[i] = fmt.Errorf("is not a Kubernetes object: it holds %s, not a mapping", kindName(n))
				return
			}
			if err := CheckDuplicateKeys(n); err != nil {
				errs[i] = fmt.Errorf("is not valid YAML: %v", shiftLines(err, shift))
				return
			}
		}
		for _, n := range ns {
			o := manifest.FromNode(0, n)
			if opts.Prepare != nil {
				opts.Prepare(&o)
			}
			objs[i] = append(objs[i], o)
		}
		if opts.KeepNodes {
			nodes[i] = ns
		}
	}
	single := func(i int) {
		raw := chunks[i].Raw
		if prefix > 0 {
			raw = dedentItem(raw, prefix)
		}
		ns, err := parseDocument(raw)
		if err != nil {
			errs[i] = fmt.Errorf("is not valid YAML: %v", shiftLines(err, chunks[i].Line))
			return
		}
		one(i, ns, chunks[i].Line)
	}
	runs := runsOf(len(chunks), 64)
	ForEach(len(runs), func(r int) {
		a, b := runs[r][0], runs[r][1]
		// The fast reader first (see fast.go), each document made its
		// objects as soon as it is read, so that the reader can build the
		// next one in the nodes of the last when no object kept them.
		var declined []int
		together := false // a directive: its document is the next chunk
		fr := readers.Get().(*fastReader)
		defer readers.Put(fr)
		for i := a; i < b; i++ {
			n, ok := fr.parseAt(chunks[i].Raw, prefix)
			if !ok {
				declined = append(declined, i)
				together = together || directive(chunks[i].Raw)
				continue
			}
			if n == nil {
				fr.release()
				continue
			}
			one(i, []*yaml.Node{n}, chunks[i].Line)
			if opts.KeepNodes || errs[i] != nil {
				continue
			}
			// An object that keeps its node (a kind read again later)
			// gets a copy of its own; the reader's nodes serve the next.
			for k := range objs[i] {
				if objs[i][k].Node != nil {
					objs[i][k].Node = detach(objs[i][k].Node, opts.Prepare != nil)
				}
			}
			fr.release()
		}
		if len(declined) == 0 {
			return
		}
		// The documents it declines are read by yaml.v3: one by one when
		// they are few, else the run as one stream.
		// (An item of a sequence read in place is always read on its own:
		// the run's text is not a stream.)
		if prefix > 0 || !together && len(declined) <= (b-a)/4 {
			for _, i := range declined {
				single(i)
			}
			return
		}
		for i := a; i < b; i++ {
			objs[i], nodes[i], errs[i] = nil, nil, nil
		}
		first := chunks[a]
		last := chunks[b-1]
		data := data[first.Offset : last.Offset+len(last.Raw)]
		if bytes.IndexByte(data, '*') >= 0 || LoneCR(data) {
			// An alias could reach an anchor of an earlier document of the
			// run, and a lone CR breaks lines where Split does not: read
			// such runs document by document, as YAML means them.
			for i := a; i < b; i++ {
				single(i)
			}
			return
		}
		byChunk := make([][]*yaml.Node, b-a)
		dec := yaml.NewDecoder(bytes.NewReader(data))
		j := a
		for {
			var n yaml.Node
			err := dec.Decode(&n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				for i := a; i < b; i++ {
					single(i)
				}
				return
			}
			if len(n.Content) == 0 {
				continue
			}
			root := n.Content[0]
			if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
				continue
			}
			line := first.Line + root.Line - 1
			for j+1 < b && chunks[j+1].Line <= line {
				j++
			}
			byChunk[j-a] = append(byChunk[j-a], root)
		}
		for i := a; i < b; i++ {
			one(i, byChunk[i-a], first.Line)
		}
	})
	// Usually one object a document: sized once.
	s.Objects = make([]manifest.Object, 0, len(chunks))
	s.DocumentOf = make([]int, 0, len(chunks))
	s.Documents = make([]Document, 0, len(chunks))
	for i, chunk := range chunks {
		doc := Document{Position: i, Line: chunk.Line, Raw: chunk.Raw, Source: sourceOf(chunk.Raw)}
		if errs[i] != nil {
			return nil, fmt.Errorf("%s %w", doc.Describe(), errs[i])
		}
		for _, o := range objs[i] {
			o.Index = len(s.Objects)
			s.Objects = append(s.Objects, o)
			s.DocumentOf = append(s.DocumentOf, i)
		}
		objs[i] = nil
		doc.Nodes = nodes[i]
		s.Documents = append(s.Documents, doc)
	}
	return s, nil
}

// Blank reports whether the stream holds no object and nothing but
// whitespace (comments count as content, separators do not).
func (s *Stream) Blank() bool {
	return len(bytes.TrimSpace(s.Raw)) == 0
}

// EndsWithSeparator reports whether the last line with content is a bare
// "---" separator, so that a writer appending documents needs none of its own.
func (s *Stream) EndsWithSeparator() bool {
	if len(s.Documents) == 0 {
		return false
	}
	last := s.Documents[len(s.Documents)-1].Raw
	line, rest, _ := bytes.Cut(last, []byte("\n"))
	return isSeparator(line) && len(bytes.TrimSpace(bytes.TrimPrefix(line, []byte("---")))) == 0 &&
		len(bytes.TrimSpace(rest)) == 0
}

// Chunk is the raw text of one document and the line it starts on.
type Chunk struct {
	Raw  []byte
	Line int
	// Offset is the position of Raw in the data split.
	Offset int
}

// Split cuts data before every document separator line: a line that starts
// with "---" followed by the end of the line, a space or a tab. Each chunk
// keeps its separator line; concatenating the chunks gives data back. Text
// before the first separator is a chunk of its own (the first document of a
// stream needs no separator), unless it is empty.
func Split(data []byte) []Chunk {
	var chunks []Chunk
	start, startLine, line := 0, 1, 1
	for pos := 0; pos < len(data); {
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data)
		if end >= 0 {
			next = pos + end + 1
		}
		if pos > start && isSeparator(data[pos:next]) {
			chunks = append(chunks, Chunk{Raw: data[start:pos], Line: startLine, Offset: start})
			start, startLine = pos, line
		}
		pos = next
		line++
	}
	if start < len(data) {
		chunks = append(chunks, Chunk{Raw: data[start:], Line: startLine, Offset: start})
	}
	return chunks
}

// isSeparator reports whether line (with or without its newline) is a YAML
// document start marker: "---" alone or followed by a blank.
func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	if len(line) == 3 {
		return true
	}
	switch line[3] {
	case ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// parseDocument decodes the YAML documents of one chunk (usually one, none
// when the chunk is empty or holds only comments).
func parseDocument(raw []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var out []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(n.Content) == 0 {
			continue
		}
		root := n.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue // "~" or "null" alone: nothing to apply
		}
		out = append(out, root)
	}
}

// directive reports whether a chunk holds a line that starts with "%".
func directive(raw []byte) bool {
	return len(raw) > 0 && raw[0] == '%' || bytes.Contains(raw, []byte("\n%"))
}

// sourceOf returns the path of the first "# Source: path" comment line.
func sourceOf(raw []byte) string {
	const prefix = "# Source: "
	for len(raw) > 0 {
		line, rest, _ := bytes.Cut(raw, []byte("\n"))
		t := bytes.TrimSpace(line)
		if bytes.HasPrefix(t, []byte(prefix)) {
			return string(bytes.TrimSpace(t[len(prefix):]))
		}
		if len(t) > 0 && t[0] != '#' && !isSeparator(t) {
			return "" // Helm writes the comment before the object
		}
		raw = rest
	}
	return ""
}

// shiftLines rewrites the "line N" of a YAML error, counted within a
// document, into a line of the whole stream.
func shiftLines(err error, first int) string {
	msg := err.Error()
	const marker = "line "
	var b strings.Builder
	for {
		i := strings.Index(msg, marker)
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		b.WriteString(msg[:i+len(marker)])
		msg = msg[i+len(marker):]
		n := 0
		digits := 0
		for digits < len(msg) && msg[digits] >= '0' && msg[digits] <= '9' {
			n = n*10 + int(msg[digits]-'0')
			digits++
		}
		if digits == 0 {
			continue
		}
		fmt.Fprintf(&b, "%d", n+first-1)
		msg = msg[digits:]
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the scalar %q", n.Value)
	default:
		return "an alias"
	}
}

// runsOf cuts [0, n) into runs of at most size consecutive indexes.
func runsOf(n, size int) [][2]int {
	var out [][2]int
	for a := 0; a < n; a += size {
		b := a + size
		if b > n {
			b = n
		}
		out = append(out, [2]int{a, b})
	}
	return out
}

// LoneCR reports whether data holds a carriage return not followed by a
// line feed.
func LoneCR(data []byte) bool {
	for i := bytes.IndexByte(data, '\r'); i >= 0; {
		if i+1 >= len(data) || data[i+1] != '\n' {
			return true
		}
		j := bytes.IndexByte(data[i+1:], '\r')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}
