package stream

import (
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// The fast reader builds the node tree of a document written in the plain
// block style that Helm, kustomize and kubectl write (block mappings and
// sequences, plain and simply quoted scalars, literal block scalars, flow
// collections on one line), the same tree yaml.v3 builds: kind, tag, value,
// style, line and column (a differential fuzz test holds it to that). It
// gives up on anything else (anchors, aliases, tags, folded or multi-line
// scalars, escapes, tabs, carriage returns, bytes outside printable ASCII,
// "..." markers, directives, complex keys), and the document is then read
// by yaml.v3, which also words every error: the fast reader never fails a
// document, it only declines it.
//
// It exists for speed: yaml.v3's tokenizer was half of a render's time.

// fastReader reads the documents of one goroutine, one after another,
// reusing its buffers.
type fastReader struct {
	lines []fastLine
	// slab holds the nodes of the last document read; reuse lets the next
	// document build its nodes in it (once nothing holds the last one's).
	slab  []yaml.Node
	reuse bool
}

// readers are fast readers between runs, so that their buffers serve the
// next run.
var readers = sync.Pool{New: func() any { return new(fastReader) }}

// detach copies a tree of the last document read into nodes of its own,
// sized to it, so that the reader's buffers can serve the next document
// while the tree is kept. With prune, the copy leaves out metadata.labels
// and metadata.annotations: the object holds them (Labels, Annotations),
// and once the kind readers have prepared the objects (Options.Prepare) a
// kept tree is one of manifest's node kinds, whose readers never look there.
func detach(n *yaml.Node, prune bool) *yaml.Node {
	if prune {
		n = withoutLabels(n)
	}
	nodes, slots := 0, 0
	var count func(*yaml.Node)
	count = func(n *yaml.Node) {
		nodes++
		slots += len(n.Content)
		for _, c := range n.Content {
			count(c)
		}
	}
	count(n)
	block := make([]yaml.Node, 0, nodes)
	content := make([]*yaml.Node, 0, slots)
	var cp func(*yaml.Node) *yaml.Node
	cp = func(n *yaml.Node) *yaml.Node {
		block = append(block, *n)
		c := &block[len(block)-1]
		if len(n.Content) > 0 {
			at := len(content)
			content = content[:at+len(n.Content)]
			c.Content = content[at : at+len(n.Content) : at+len(n.Content)]
			for i, k := range n.Content {
				c.Content[i] = cp(k)
			}
		}
		return c
	}
	return cp(n)
}

// withoutLabels returns a root without metadata.labels and
// metadata.annotations, sharing the rest of its tree.
func withoutLabels(root *yaml.Node) *yaml.Node {
	if root.Kind != yaml.MappingNode {
		return root
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		meta := root.Content[i+1]
		if root.Content[i].Value != "metadata" || meta.Kind != yaml.MappingNode {
			continue
		}
		kept := make([]*yaml.Node, 0, len(meta.Content))
		for j := 0; j+1 < len(meta.Content); j += 2 {
			if k := meta.Content[j].Value; k != "labels" && k != "annotations" {
				kept = append(kept, meta.Content[j], meta.Content[j+1])
			}
		}
		m, r := *meta, *root
		m.Content = kept
		r.Content = append([]*yaml.Node(nil), root.Content...)
		r.Content[i+1] = &m
		return &r
	}
	return root
}

// release says that nothing holds the nodes of the last document read any
// more: the next document may build its nodes in their place.
func (r *fastReader) release() { r.reuse = true }

// fastDoc is one document being read.
type fastDoc struct {
	*fastReader
	src   string // the document's text, sharing the input's memory; values are substrings of it
	i     int    // the current line
	depth int    // collections open
	// prefix is the width of what stands before each line of an item of a
	// block sequence read in place ("- " on its first line, spaces on the
	// others, after the sequence's indent): the item is read as if
	// dedented by it (see ParseItems).
	prefix int
}

// maxDepth is the deepest nesting the fast reader reads; yaml.v3 has its
// own limits and words their errors.
const maxDepth = 64

// enter counts a collection opened, declining too deep a nesting; leave
// closes it.
func (d *fastDoc) enter() {
	d.depth++
	if d.depth > maxDepth {
		decline()
	}
}

func (d *fastDoc) leave() { d.depth-- }

// fastLine is a line with content: its indent (the column of its first
// character, from 0) and the end of its content (comments and trailing
// spaces cut). start is where the content starts in src; a sequence entry
// ("- a: b") moves start and indent past its dash as it is read.
type fastLine struct {
	start, end, indent int
	line               int // from 1, within the document
	begin              int // where the line begins in src
}

// errDecline stops the fast reader.
type errDecline struct{}

// parseAt reads one document's text (its separator line included) into its
// root node, nil for a document with no content; with a prefix, the
// document is an item of a block sequence read in place, each of its lines
// after prefix bytes. ok is false when the fast reader declines it.
func (r *fastReader) parseAt(raw []byte, prefix int) (root *yaml.Node, ok bool) {
	lines := 0
	for _, c := range raw {
		if c == '\n' {
			lines++
		} else if c < 0x20 || c > 0x7e {
			return nil, false
		}
	}
	// About two nodes a line: a key and its value.
	if want := lines*2 + 4; r.reuse && cap(r.slab) >= want {
		r.slab = r.slab[:0]
	} else {
		r.slab = make([]yaml.Node, 0, want)
	}
	r.reuse = false
	r.lines = r.lines[:0]
	// The values share the input's memory instead of a copy of it (the
	// input is kept for the output anyway): ParseWith's callers never
	// change it afterwards.
	d := &fastDoc{fastReader: r, src: unsafe.String(unsafe.SliceData(raw), len(raw)), prefix: prefix} //nolint:gosec // read-only input, see ParseWith

	if !d.split() {
		return nil, false
	}
	if len(d.lines) == 0 {
		return nil, true
	}
	defer func() {
		if r := recover(); r != nil {
			if _, is := r.(errDecline); !is {
				panic(r)
			}
			root, ok = nil, false
		}
	}()
	first := d.lines[0]
	if d.isEntry(first) {
		return nil, false // a root sequence is no object: yaml.v3 says so
	}
	root = d.mapping(first.indent)
	if d.i != len(d.lines) {
		return nil, false
	}
	return root, true
}

func decline() { panic(errDecline{}) }

// split cuts the document into its lines with content, declining
// separators with content, document end markers and directives.
func (d *fastDoc) split() bool {
	s := d.src
	n := 0
	if d.prefix > 0 {
		n = 1 // as if after a separator line, as the item's own document
	}
	for pos := 0; pos < len(s); {
		n++
		end := len(s)
		if i := strings.IndexByte(s[pos:], '\n'); i >= 0 {
			end = pos + i
		}
		line := s[pos:end]
		begin := pos
		pos = end + 1
		if d.prefix > 0 {
			var ok bool
			if line, ok = d.dedent(line, n == 2); !ok {
				return false
			}
			begin = end - len(line)
		} else if n == 1 && len(line) >= 3 && line[:3] == "---" {
			if trimSpaces(line[3:]) != "" {
				return false
			}
			continue
		}
		if len(line) >= 3 && (line[:3] == "..." || line[:3] == "---") {
			return false
		}
		if len(line) > 0 && line[0] == '%' {
			return false
		}
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		if indent == len(line) || line[indent] == '#' {
			continue // blank or a comment
		}
		d.lines = append(d.lines, fastLine{start: begin + indent, end: begin + len(line), indent: indent, line: n, begin: begin})
	}
	return true
}

// dedent cuts an item's line after its prefix: "- " after the indent on
// its first line, spaces on the others; a blank line is empty. ok is false
// for a line that is neither.
func (d *fastDoc) dedent(line string, first bool) (string, bool) {
	if trimSpaces(line) == "" {
		return line[len(line):], true
	}
	if len(line) <= d.prefix {
		return "", false
	}
	head := line[:d.prefix]
	for i := 0; i < len(head); i++ {
		want := byte(' ')
		if first && i == len(head)-2 {
			want = '-'
		}
		if head[i] != want {
			return "", false
		}
	}
	return line[d.prefix:], true
}

func (d *fastDoc) node() *yaml.Node {
	if len(d.slab) == cap(d.slab) {
		// Nodes already handed out stay where they are: the slab grows
		// into a new block, which a reuse then keeps.
		d.slab = make([]yaml.Node, 0, max(64, 2*cap(d.slab)))
	}
	d.slab = d.slab[:len(d.slab)+1]
	return &d.slab[len(d.slab)-1]
}

// isEntry reports whether a line is a block sequence entry ("- x" or "-").
func (d *fastDoc) isEntry(l fastLine) bool {
	return d.src[l.start] == '-' && (l.start+1 == l.end || d.src[l.start+1] == ' ')
}

// cur is the current line; ok is false past the last.
func (d *fastDoc) cur() (fastLine, bool) {
	if d.i >= len(d.lines) {
		return fastLine{}, false
	}
	return d.lines[d.i], true
}

// mapping reads a block mapping whose keys stand at indent.
func (d *fastDoc) mapping(indent int) *yaml.Node {
	d.enter()
	defer d.leave()
	m := d.node()
	l, _ := d.cur()
	*m = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: l.line, Column: l.indent + 1}
	for {
		l, ok := d.cur()
		if !ok || l.indent < indent {
			return m
		}
		if l.indent > indent || d.isEntry(l) {
			decline()
		}
		key, colon, rest := d.key(l)
		m.Content = append(m.Content, key)
		m.Content = append(m.Content, d.value(l, rest, indent, colon+1))
	}
}

// key reads the key of a mapping entry line and returns where its colon
// stands and where its value starts (after ": ", or the end of the line).
func (d *fastDoc) key(l fastLine) (*yaml.Node, int, int) {
	s := d.src
	k := d.node()
	*k = yaml.Node{Kind: yaml.ScalarNode, Line: l.line, Column: l.start - l.begin + 1}
	pos := l.start
	switch c := s[pos]; c {
	case '"', '\'':
		v, end := d.quoted(pos, l.end)
		k.Value, k.Tag = v, "!!str"
		k.Style = quoteStyle(c)
		pos = end
		for pos < l.end && s[pos] == ' ' {
			pos++
		}
		if pos >= l.end || s[pos] != ':' || (pos+1 < l.end && s[pos+1] != ' ') {
			decline()
		}
	default:
		if !plainStart(s, pos, l.end) {
			decline()
		}
		end := pos
		for {
			i := strings.IndexByte(s[end:l.end], ':')
			if i < 0 {
				decline() // a plain scalar alone on its line
			}
			end += i
			if end+1 == l.end || s[end+1] == ' ' {
				break
			}
			end++
		}
		v := trimRightSpaces(s[pos:end])
		if v == "<<" || hasComment(v) {
			decline()
		}
		k.Value, k.Tag = v, d.tag(v)
		pos = end
	}
	colon := pos
	if colon-l.start > 1000 {
		decline() // YAML allows implicit keys of 1,024 characters at most
	}
	pos++
	for pos < l.end && s[pos] == ' ' {
		pos++
	}
	return k, colon, pos
}

// value reads the value of a mapping entry or a sequence entry whose text
// starts at pos on line l (the end of the line when it is on the next
// lines); parent is the indent of the mapping or sequence holding it, and
// empty where an empty value stands (after a key's colon; -1 for a sequence
// entry).
func (d *fastDoc) value(l fastLine, pos, parent, empty int) *yaml.Node {
	entry := empty < 0
	s := d.src
	end := l.end
	if pos < end && s[pos] == '#' {
		pos = end // "key: # comment"
	}
	if pos >= end {
		d.i++
		next, ok := d.cur()
		switch {
		case ok && next.indent > parent:
			return d.block(next.indent)
		case ok && !entry && next.indent == parent && d.isEntry(next):
			return d.sequence(parent) // "key:" then "- a" at the key's indent
		}
		n := d.node()
		// yaml.v3 places an empty value right after the colon.
		*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: l.line, Column: empty - l.begin + 1}
		if entry {
			decline()
		}
		return n
	}
	switch c := s[pos]; c {
	case '|':
		return d.literal(l, pos, parent)
	case '{', '[':
		n, after := d.flow(l, pos)
		if trimComment(s[after:end]) != "" {
			decline()
		}
		d.i++
		d.noContinuation(parent)
		return n
	case '"', '\'':
		v, after := d.quoted(pos, end)
		if trimComment(s[after:end]) != "" {
			decline()
		}
		n := d.node()
		*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: quoteStyle(c), Value: v, Line: l.line, Column: pos - l.begin + 1}
		d.i++
		d.noContinuation(parent)
		return n
	}
	if !plainStart(s, pos, end) {
		decline()
	}
	v := trimComment(s[pos:end])
	if hasMappingValue(v) {
		decline()
	}
	n := d.node()
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: d.tag(v), Value: v, Line: l.line, Column: pos - l.begin + 1}
	d.i++
	d.noContinuation(parent)
	return n
}

// noContinuation declines a scalar continued on the next lines (a
// multi-line plain scalar, or text where a key should be).
func (d *fastDoc) noContinuation(parent int) {
	if next, ok := d.cur(); ok && next.indent > parent {
		decline()
	}
}

// block reads the node whose first line stands at indent.
func (d *fastDoc) block(indent int) *yaml.Node {
	l, _ := d.cur()
	if d.isEntry(l) {
		return d.sequence(indent)
	}
	return d.mapping(indent)
}

// sequence reads a block sequence whose dashes stand at indent.
func (d *fastDoc) sequence(indent int) *yaml.Node {
	d.enter()
	defer d.leave()
	q := d.node()
	l, _ := d.cur()
	*q = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: l.line, Column: l.indent + 1}
	for {
		l, ok := d.cur()
		if !ok || l.indent < indent || (l.indent == indent && !d.isEntry(l)) {
			return q
		}
		if l.indent > indent {
			decline()
		}
		pos := l.start + 1
		for pos < l.end && d.src[pos] == ' ' {
			pos++
		}
		if pos < l.end && d.src[pos] != '#' && !(d.src[pos] == '-' && (pos+1 == l.end || d.src[pos+1] == ' ')) &&
			d.startsEntry(pos, l.end) {
			// "- key: value": a mapping whose keys stand at pos's column.
			col := pos - l.begin
			d.lines[d.i].start, d.lines[d.i].indent = pos, col
			q.Content = append(q.Content, d.mapping(col))
			continue
		}
		if pos < l.end && d.src[pos] == '-' && (pos+1 == l.end || d.src[pos+1] == ' ') {
			decline() // "- - a"
		}
		q.Content = append(q.Content, d.value(l, pos, indent, -1))
	}
}

// startsEntry reports whether the text from pos is a mapping entry (a key
// and a colon) rather than a scalar or a flow collection.
func (d *fastDoc) startsEntry(pos, end int) bool {
	s := d.src
	switch s[pos] {
	case '{', '[', '|', '>':
		return false
	case '"', '\'':
		_, after := d.quoted(pos, end)
		for after < end && s[after] == ' ' {
			after++
		}
		return after < end && s[after] == ':'
	}
	return hasMappingValue(trimComment(s[pos:end]))
}

// literal reads a literal block scalar ("|", "|-" or "|+") whose indicator
// is at pos, its lines indented deeper than parent.
func (d *fastDoc) literal(l fastLine, pos, parent int) *yaml.Node {
	s := d.src
	chomp := byte(0)
	after := pos + 1
	if after < l.end && (s[after] == '-' || s[after] == '+') {
		chomp = s[after]
		after++
	}
	if trimComment(s[after:l.end]) != "" {
		decline() // an indentation indicator, or text after the indicator
	}
	n := d.node()
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.LiteralStyle, Line: l.line, Column: pos - l.begin + 1}
	d.i++
	// The text runs from the next line of the source to the first line
	// with content at parent's indent or less (past the first, at less
	// than the text's own indent); blank and comment-looking lines inside
	// are text, so the source is read line by line here.
	pos = l.end + 1 // past the indicator line's newline
	if pos > len(s) {
		decline()
	}
	indent := -1
	var text []string // the lines, less the indent; "" for blank ones
	last := -1        // the last line with text
	for pos < len(s) {
		end := len(s)
		if i := strings.IndexByte(s[pos:], '\n'); i >= 0 {
			end = pos + i
		}
		line := s[pos:end]
		if d.prefix > 0 {
			var ok bool
			if line, ok = d.dedent(line, false); !ok {
				decline() // not a line of the item
			}
		}
		sp := 0
		for sp < len(line) && line[sp] == ' ' {
			sp++
		}
		if sp == len(line) {
			if indent < 0 || sp > indent {
				decline() // leading blank lines, or spaces kept on a blank line
			}
			text = append(text, "")
			pos = end + 1
			continue
		}
		if indent < 0 {
			if sp <= parent {
				break
			}
			indent = sp
		} else if sp < indent {
			break
		}
		if end == len(s) {
			decline() // no final line break
		}
		text = append(text, line[indent:])
		last = len(text) - 1
		pos = end + 1
	}
	if last < 0 {
		decline() // an empty block scalar: rare, and its rules are subtle
	}
	value := strings.Join(text[:last+1], "\n")
	switch chomp {
	case '-':
	case '+':
		value += "\n" + strings.Repeat("\n", len(text)-1-last)
	default:
		value += "\n"
	}
	n.Value = value
	// Skip the lines with content the scalar held.
	for d.i < len(d.lines) && d.lines[d.i].begin < pos {
		d.i++
	}
	return n
}

// flow reads a flow mapping or sequence that closes on its line, from pos.
func (d *fastDoc) flow(l fastLine, pos int) (*yaml.Node, int) {
	d.enter()
	defer d.leave()
	s := d.src
	open := s[pos]
	kind, tag, closer := yaml.SequenceNode, "!!seq", byte(']')
	if open == '{' {
		kind, tag, closer = yaml.MappingNode, "!!map", '}'
	}
	n := d.node()
	*n = yaml.Node{Kind: kind, Tag: tag, Style: yaml.FlowStyle, Line: l.line, Column: pos - l.begin + 1}
	pos++
	for {
		pos = skipSpaces(s, pos, l.end)
		if pos >= l.end {
			decline()
		}
		if s[pos] == closer {
			return n, pos + 1
		}
		item, after := d.flowScalar(l, pos)
		if open == '{' {
			if item.Kind != yaml.ScalarNode {
				decline() // a collection as a key
			}
			after = skipSpaces(s, after, l.end)
			if after >= l.end || s[after] != ':' {
				decline() // "{a}": a key without a value
			}
			after = skipSpaces(s, after+1, l.end)
			if after < l.end && (s[after] == ',' || s[after] == '}') {
				decline() // "{a:}"
			}
			var v *yaml.Node
			v, after = d.flowScalar(l, after)
			n.Content = append(n.Content, item, v)
		} else {
			n.Content = append(n.Content, item)
		}
		pos = skipSpaces(s, after, l.end)
		if pos >= l.end {
			decline()
		}
		switch s[pos] {
		case ',':
			pos++
			if p := skipSpaces(s, pos, l.end); p < l.end && s[p] == closer {
				decline() // a trailing comma
			}
		case closer:
		default:
			decline()
		}
	}
}

// flowScalar reads a node inside a flow collection: a nested collection, a
// quoted scalar or a plain one ending before ",", "]", "}" or ": ".
func (d *fastDoc) flowScalar(l fastLine, pos int) (*yaml.Node, int) {
	s := d.src
	if pos >= l.end {
		decline()
	}
	switch c := s[pos]; c {
	case '{', '[':
		return d.flow(l, pos)
	case '"', '\'':
		v, after := d.quoted(pos, l.end)
		n := d.node()
		*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: quoteStyle(c), Value: v, Line: l.line, Column: pos - l.begin + 1}
		return n, after
	}
	if !plainStart(s, pos, l.end) {
		decline()
	}
	// Flow plain scalars keep to a plain alphabet here: libyaml reads
	// indicators inside them in ways other readers do not.
	end := pos
	for end < l.end && (flowSafe(s[end]) || s[end] == ':' && end+1 < l.end && s[end+1] != ' ' && flowSafe(s[end+1])) {
		end++
	}
	if end < l.end && s[end] != ',' && s[end] != ']' && s[end] != '}' &&
		!(s[end] == ':' && (end+1 == l.end || s[end+1] == ' ')) {
		decline()
	}
	v := trimRightSpaces(s[pos:end])
	n := d.node()
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: d.tag(v), Value: v, Line: l.line, Column: pos - l.begin + 1}
	return n, end
}

// quoted reads a quoted scalar that closes on its line, from the quote at
// pos, and returns its value and the position after the closing quote. It
// declines escapes (double quotes) and doubled quotes (single quotes).
func (d *fastDoc) quoted(pos, end int) (string, int) {
	s := d.src
	q := s[pos]
	for i := pos + 1; i < end; i++ {
		switch s[i] {
		case '\\':
			if q == '"' {
				decline()
			}
		case q:
			if q == '\'' && i+1 < end && s[i+1] == '\'' {
				decline()
			}
			return s[pos+1 : i], i + 1
		}
	}
	decline()
	return "", 0
}

// tag resolves the tag of a plain scalar as yaml.v3 does: a value that
// starts with a letter that starts no boolean or null, "/", "_" or "$" is
// a string; the others are resolved by yaml.v3 itself, once per value.
func (d *fastDoc) tag(v string) string {
	if v == "" {
		return "!!null"
	}
	switch c := v[0]; {
	case c == 'y', c == 'Y', c == 'n', c == 'N', c == 't', c == 'T', c == 'f', c == 'F', c == 'o', c == 'O':
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '/', c == '_', c == '$':
		return "!!str"
	}
	switch v {
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return "!!bool"
	case "~", "null", "Null", "NULL":
		return "!!null"
	}
	if decimal(v) {
		return "!!int"
	}
	if t, ok := resolved.Load(v); ok {
		return t.(string)
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(v), &n); err != nil || len(n.Content) != 1 || n.Content[0].Kind != yaml.ScalarNode || n.Content[0].Value != v {
		decline()
	}
	t := n.Content[0].Tag
	if resolvedCount.Add(1) <= maxResolved {
		resolved.Store(strings.Clone(v), t) // v shares the input's memory
	}
	return t
}

// resolved caches the tags yaml.v3 gave plain scalars (versions such as
// "1.11.3", sizes such as "8m"), up to maxResolved values for the life of
// the process.
var (
	resolved      sync.Map
	resolvedCount atomic.Int64
)

const maxResolved = 1 << 14

// decimal reports whether v is "0" or a decimal number without a leading
// zero that fits an int64 (18 digits at most): yaml.v3 reads it as !!int.
func decimal(v string) bool {
	if v == "0" {
		return true
	}
	if len(v) == 0 || len(v) > 18 || v[0] < '1' || v[0] > '9' {
		return false
	}
	for i := 1; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// flowSafe reports whether a plain scalar in a flow collection may hold c.
func flowSafe(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '-' || c == '_' || c == '/' || c == ' ' || c == '+' || c == '='
}

func quoteStyle(c byte) yaml.Style {
	if c == '"' {
		return yaml.DoubleQuotedStyle
	}
	return yaml.SingleQuotedStyle
}

// plainStart reports whether a plain scalar may start at pos: not with an
// indicator, nor with "-", "?" or ":" followed by a space.
func plainStart(s string, pos, end int) bool {
	switch s[pos] {
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	case '?', ':':
		return false // allowed before a non-space, but yaml.v3 does not always agree
	case '-':
		return pos+1 < end && s[pos+1] != ' '
	}
	return true
}

// trimComment cuts a " #" comment and trailing spaces.
func trimComment(v string) string {
	for i := 1; i < len(v); i++ {
		if v[i] == '#' && v[i-1] == ' ' {
			v = v[:i]
			break
		}
	}
	if len(v) > 0 && v[0] == '#' {
		return ""
	}
	return trimRightSpaces(v)
}

// hasComment reports whether v holds a " #" comment.
func hasComment(v string) bool { return trimComment(v) != trimRightSpaces(v) }

// hasMappingValue reports whether plain text holds ": " or ends with ":",
// a mapping entry where a scalar should be.
func hasMappingValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] == ':' && (i+1 == len(v) || v[i+1] == ' ') {
			return true
		}
	}
	return false
}

func trimRightSpaces(v string) string {
	for len(v) > 0 && v[len(v)-1] == ' ' {
		v = v[:len(v)-1]
	}
	return v
}

func trimSpaces(v string) string {
	for len(v) > 0 && v[0] == ' ' {
		v = v[1:]
	}
	return trimRightSpaces(v)
}

func skipSpaces(s string, pos, end int) int {
	for pos < end && s[pos] == ' ' {
		pos++
	}
	return pos
}
