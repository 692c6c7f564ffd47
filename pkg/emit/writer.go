package emit

import (
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Write writes a generated node as block YAML: two-space indents, sequences
// compact ("- " at the indent of their key), scalars plain where safe,
// otherwise single-quoted, or double-quoted when they hold control
// characters or were marked so. It handles the shapes tierwall generates
// (mappings, sequences, scalars) and is far cheaper than a general encoder;
// the output reads back to the same node.
func Write(w io.Writer, n *yaml.Node) error {
	b := buffers.Get().(*[]byte)
	*b = appendBlock((*b)[:0], n, indent{}, false)
	_, err := w.Write(*b)
	buffers.Put(b)
	return err
}

// WriteItem writes a node as an item of a block sequence at indent: "- " and
// the node, its lines indented by indent plus two spaces.
func WriteItem(w io.Writer, n *yaml.Node, at string) error {
	b := buffers.Get().(*[]byte)
	*b = append(append((*b)[:0], at...), "- "...)
	*b = appendBlock(*b, n, indent{base: at, levels: 1}, true)
	_, err := w.Write(*b)
	buffers.Put(b)
	return err
}

// String returns Write's output.
func String(n *yaml.Node) string {
	return string(appendBlock(nil, n, indent{}, false))
}

// buffers hold the text of an object being written, reused across objects.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

// indent is a line's indent: base, then two spaces per level.
type indent struct {
	base   string
	levels int
}

func (in indent) more() indent { return indent{in.base, in.levels + 1} }

const spaces = "                                                                "

func (in indent) appendTo(b []byte) []byte {
	b = append(b, in.base...)
	for n := 2 * in.levels; n > 0; n -= len(spaces) {
		b = append(b, spaces[:min(n, len(spaces))]...)
	}
	return b
}

// appendBlock appends n at indent. inline is true when the cursor already
// stands after "- " or "key: " on the first line of n.
func appendBlock(b []byte, n *yaml.Node, at indent, inline bool) []byte {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			b = appendBlock(b, n.Content[0], at, inline)
		}
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			return append(b, "{}\n"...)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 || !inline {
				b = at.appendTo(b)
			}
			b = append(appendScalar(b, n.Content[i]), ':')
			v := n.Content[i+1]
			switch {
			case v.Kind == yaml.MappingNode && len(v.Content) > 0:
				b = appendBlock(append(b, '\n'), v, at.more(), false)
			case v.Kind == yaml.SequenceNode && len(v.Content) > 0:
				b = appendBlock(append(b, '\n'), v, at, false)
			default:
				b = appendBlock(append(b, ' '), v, at.more(), true)
			}
		}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return append(b, "[]\n"...)
		}
		for i, c := range n.Content {
			if i > 0 || !inline {
				b = at.appendTo(b)
			}
			b = appendBlock(append(b, "- "...), c, at.more(), true)
		}
	case yaml.AliasNode:
		b = appendBlock(b, n.Alias, at, inline)
	default:
		b = append(appendScalar(b, n), '\n')
	}
	return b
}

// appendScalar appends a scalar in the first style that keeps its value.
func appendScalar(b []byte, n *yaml.Node) []byte {
	v := n.Value
	if n.Tag == "!!int" || n.Tag == "!!bool" || n.Tag == "!!float" || n.Tag == "!!null" {
		return append(b, v...)
	}
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0 || !printable(v):
		return appendDoubleQuoted(b, v)
	case n.Style&yaml.SingleQuotedStyle == 0 && plainSafe(v):
		return append(b, v...)
	default:
		b = append(b, '\'')
		for {
			i := strings.IndexByte(v, '\'')
			if i < 0 {
				break
			}
			b = append(b, v[:i+1]...)
			b = append(b, '\'')
			v = v[i+1:]
		}
		return append(append(b, v...), '\'')
	}
}

// plainSafe reports whether v can be written unquoted and still read back as
// the same string, in block context.
func plainSafe(v string) bool {
	if v == "" || NeedsQuotes(v) || v[len(v)-1] == ' ' || v[len(v)-1] == ':' {
		return false
	}
	if strings.ContainsAny(v[:1], "-?:,[]{}#&*!|>'\"%@` \t") {
		return v[0] == '-' && len(v) > 1 && v[1] != ' ' && !strings.HasPrefix(v, "---") && plainSafe("x"+v[1:])
	}
	if strings.Contains(v, ": ") || strings.Contains(v, " #") {
		return false
	}
	switch strings.ToLower(v) {
	case "true", "false", "null", "yes", "no", "on", "off", "~":
		return false
	}
	return true
}

// printable reports whether v holds only printable ASCII and no tabs or
// newlines (anything else is double-quoted, escaped).
func printable(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

func appendDoubleQuoted(b []byte, v string) []byte {
	b = append(b, '"')
	for _, r := range v {
		switch {
		case r == '"':
			b = append(b, `\"`...)
		case r == '\\':
			b = append(b, `\\`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r < 0x20 || r == 0x7f:
			b = append(b, `\x`...)
			if r < 0x10 {
				b = append(b, '0')
			}
			b = strconv.AppendInt(b, int64(r), 16)
		case r == 0xfeff || r == 0x85 || r == 0x2028 || r == 0x2029:
			b = append(b, `\u`...)
			b = append(b, strconv.FormatInt(int64(r)+0x10000, 16)[1:]...)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
