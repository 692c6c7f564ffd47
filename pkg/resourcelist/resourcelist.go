// Package resourcelist reads and writes the ResourceList of the KRM
// function specification, the wire format of kustomize and kpt functions.
//
// The items of a ResourceList in the usual block layout are written back as
// the bytes they came in, and parsed once, in place and in parallel, by the
// plain stream's parser (stream.ParseItems): large inputs cost little more
// than reading them. Other layouts (flow style, aliases across items) take the general
// path, which parses the whole document and encodes the items again.
package resourcelist

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/emit"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/stream"
)

// List is a ResourceList read from stdin.
type List struct {
	// FunctionConfig is the functionConfig, nil when there is none.
	FunctionConfig *yaml.Node
	// Objects are the items, once ReadItems has read them.
	Objects []manifest.Object
	// doc is the whole document on the general path, else the document
	// without its items.
	doc    *yaml.Node
	region []byte // the items' lines, on the fast path (nil on the general one)
	indent string
	// items writes the input items, unchanged, as the lines of a block
	// sequence at indent, less the dropped ones.
	items func(w *bufio.Writer, dropped map[int]bool) error
	input []byte
}

// Read reads the ResourceList in input (the whole of stdin) up to its
// items: its layout and its functionConfig. Its error means stdin holds no
// readable ResourceList.
func Read(input []byte) (*List, error) {
	if len(bytes.TrimSpace(input)) == 0 {
		return nil, fmt.Errorf("no ResourceList on stdin (run me from kustomize or kpt, or see 'tierwall help')")
	}
	l := &List{items: func(*bufio.Writer, map[int]bool) error { return nil }}
	head, region, indent, ok := splitItems(input)
	if ok {
		doc, err := parseOne(head)
		if ok = err == nil && manifest.IsResourceList(doc); ok {
			l.doc, l.region, l.indent = doc, region, indent
		}
	}
	if !ok {
		doc, err := parseOne(input)
		if err != nil {
			return nil, fmt.Errorf("reading ResourceList from stdin: %w", err)
		}
		if !manifest.IsResourceList(doc) {
			return nil, fmt.Errorf("stdin is not a %s %s", manifest.ResourceListAPIVersion, manifest.ResourceListKind)
		}
		l.doc = doc
	}
	if n := manifest.Lookup(l.doc, "functionConfig"); n != nil && !(n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		l.FunctionConfig = n
	}
	l.input = input
	return l, nil
}

// ReadItems reads the items into Objects, calling prepare (when set) on
// each. Its error is an *ItemError when an item is no object (the list
// still writes back what it read, for the error result), else the list is
// not readable YAML.
func (l *List) ReadItems(prepare func(*manifest.Object)) error {
	if l.region != nil {
		if objs, ok := stream.ParseItems(l.region, l.indent, stream.Options{Prepare: prepare}); ok {
			l.Objects = objs
			l.items = copyItems(l.region, l.indent)
			return nil
		}
		doc, err := parseOne(l.input)
		if err != nil {
			return fmt.Errorf("reading ResourceList from stdin: %w", err)
		}
		l.doc = doc
	}
	if err := l.slowItems(); err != nil {
		return err
	}
	if prepare != nil {
		for i := range l.Objects {
			prepare(&l.Objects[i])
		}
	}
	return nil
}

// splitItems finds the items of a ResourceList written in block layout:
// a top-level "items:" line followed by a block sequence whose dashes stand
// at column 0 or 2. It returns the document without the items (items: [])
// for the other fields, the items' lines, and the sequence's indent. ok is
// false for any other layout.
func splitItems(input []byte) (head, region []byte, indent string, ok bool) {
	start := -1
	for pos := 0; pos < len(input); {
		end := bytes.IndexByte(input[pos:], '\n')
		if end < 0 {
			break
		}
		line := input[pos : pos+end]
		if string(bytes.TrimRight(line, " \r")) == "items:" {
			start = pos + end + 1
			break
		}
		pos += end + 1
	}
	if start < 0 {
		return nil, nil, "", false
	}
	stop := len(input)
	for pos := start; pos < len(input); {
		end := bytes.IndexByte(input[pos:], '\n')
		next := len(input)
		if end >= 0 {
			next = pos + end + 1
		}
		line := input[pos:next]
		if len(bytes.TrimSpace(line)) > 0 && line[0] != ' ' && line[0] != '-' {
			stop = pos
			break
		}
		if bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("...")) {
			return nil, nil, "", false
		}
		pos = next
	}
	region = input[start:stop]
	switch {
	case len(bytes.TrimSpace(region)) == 0:
		return nil, nil, "", false // "items:" alone is null: the general path handles it
	case bytes.HasPrefix(region, []byte("- ")) || bytes.HasPrefix(region, []byte("-\n")):
		indent = ""
	case bytes.HasPrefix(region, []byte("  - ")) || bytes.HasPrefix(region, []byte("  -\n")):
		indent = "  "
	default:
		return nil, nil, "", false
	}
	head = make([]byte, 0, start+len(input)-stop+16)
	head = append(head, input[:start-1]...)
	head = append(bytes.TrimRight(head, " \r"), " []\n"...)
	head = append(head, input[stop:]...)
	if (len(region) > 0 && region[len(region)-1] != '\n') || stream.LoneCR(region) {
		return nil, nil, "", false // a lone CR breaks lines where this cut does not
	}
	return head, region, indent, true
}

// copyItems writes the items' lines as they came, less the dropped items.
func copyItems(region []byte, indent string) func(w *bufio.Writer, dropped map[int]bool) error {
	return func(w *bufio.Writer, dropped map[int]bool) error {
		if len(dropped) == 0 {
			_, err := w.Write(region)
			return err
		}
		dash := []byte(indent + "- ")
		var starts []int // where each item's lines start in region
		for pos := 0; pos < len(region); {
			end := bytes.IndexByte(region[pos:], '\n')
			if line := region[pos : pos+end+1]; bytes.HasPrefix(line, dash) || string(line) == indent+"-\n" {
				starts = append(starts, pos)
			}
			pos += end + 1
		}
		if len(starts) > 0 {
			if _, err := w.Write(region[:starts[0]]); err != nil {
				return err
			}
		}
		for i, s := range starts {
			end := len(region)
			if i+1 < len(starts) {
				end = starts[i+1]
			}
			if !dropped[i] {
				if _, err := w.Write(region[s:end]); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// ItemError is an item of a readable ResourceList that is no object.
type ItemError struct{ msg string }

func (e *ItemError) Error() string { return "reading ResourceList: " + e.msg }

// slowItems reads the items of a fully parsed ResourceList.
func (l *List) slowItems() error {
	items := manifest.Lookup(l.doc, "items")
	if items != nil && items.Kind != yaml.SequenceNode && !(items.Kind == yaml.ScalarNode && items.Tag == "!!null") {
		return &ItemError{msg: "items must be a list"}
	}
	var nodes []*yaml.Node
	if items != nil && items.Kind == yaml.SequenceNode {
		nodes = items.Content
	}
	l.items = func(w *bufio.Writer, dropped map[int]bool) error {
		for i, n := range nodes {
			if dropped[i] {
				continue
			}
			if err := writeEncoded(w, n, ""); err != nil {
				return err
			}
		}
		return nil
	}
	l.Objects = make([]manifest.Object, len(nodes))
	for i, it := range nodes {
		if manifest.Lookup(it) == nil || manifest.Lookup(it).Kind != yaml.MappingNode {
			return &ItemError{msg: fmt.Sprintf("items[%d] is not an object", i)}
		}
		if err := stream.CheckDuplicateKeys(it); err != nil {
			o := manifest.FromNode(i, it)
			return &ItemError{msg: fmt.Sprintf("items[%d] (%s): %v", i, o.Ref(), err)}
		}
		l.Objects[i] = manifest.FromNode(i, it)
	}
	return nil
}

// encode encodes a node with the YAML encoder kustomize's own tools use.
func encode(n *yaml.Node) (string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(n); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// writeEncoded encodes a node as an item of a block sequence at indent.
func writeEncoded(w *bufio.Writer, n *yaml.Node, indent string) error {
	text, err := encode(n)
	if err != nil {
		return err
	}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		switch {
		case i == 0:
			_, _ = w.WriteString(indent + "- ")
		case line == "":
			_, _ = w.WriteString("\n")
			continue
		default:
			w.WriteString(indent + "  ")
		}
		w.WriteString(line)
		w.WriteString("\n")
	}
	return nil
}

// Output is what a run writes back besides the input items.
type Output struct {
	// Objects are the generated objects, written after the input items.
	Objects []emit.Object
	// FunctionConfig writes the functionConfig back (a run that failed
	// leaves it out).
	FunctionConfig bool
	// Results are the findings.
	Results framework.Results
	// Dropped are the indexes of input items to leave out (tierwall's own
	// unedited earlier output, regenerated).
	Dropped map[int]bool
}

// Write writes the output ResourceList: the input items as they came (less
// those dropped), the generated objects, the functionConfig and the
// results.
func (l *List) Write(w io.Writer, o Output) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("apiVersion: " + manifest.ResourceListAPIVersion + "\nkind: " + manifest.ResourceListKind + "\n")
	kept := len(l.Objects)
	for i := range o.Dropped {
		if i >= 0 && i < len(l.Objects) {
			kept--
		}
	}
	if kept == 0 && len(o.Objects) == 0 {
		bw.WriteString("items: []\n")
	} else {
		bw.WriteString("items:\n")
		if err := l.items(bw, o.Dropped); err != nil {
			return err
		}
		for _, g := range o.Objects {
			if err := emit.WriteItem(bw, g.Node, l.indent); err != nil {
				return err
			}
		}
	}
	if o.FunctionConfig && l.FunctionConfig != nil {
		bw.WriteString("functionConfig:\n")
		if err := writeIndented(bw, explicitNulls(l.FunctionConfig), "  "); err != nil {
			return err
		}
	}
	if len(o.Results) > 0 {
		var n yaml.Node
		if err := n.Encode(o.Results); err != nil {
			return err
		}
		bw.WriteString("results:\n")
		if err := writeIndented(bw, &n, ""); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeIndented encodes a node with the YAML encoder, each line after indent.
func writeIndented(w *bufio.Writer, n *yaml.Node, indent string) error {
	text, err := encode(n)
	if err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		if line != "\n" {
			w.WriteString(indent)
		}
		w.WriteString(line)
	}
	return nil
}

// explicitNulls returns a copy of n whose empty null scalars read "null":
// the encoder writes an empty null of a flow mapping ({spec}) as an empty
// quoted string, which would not read back as the same functionConfig.
func explicitNulls(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	if c.Kind == yaml.ScalarNode && c.Value == "" && c.ShortTag() == "!!null" {
		c.Value = "null"
	}
	if len(n.Content) > 0 {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, k := range n.Content {
			c.Content[i] = explicitNulls(k)
		}
	}
	return &c
}

// parseOne parses the first YAML document of data.
func parseOne(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, err
	}
	return &doc, nil
}
