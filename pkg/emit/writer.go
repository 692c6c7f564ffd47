package emit

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Write writes a generated node as block YAML: two-space indents, sequences
// compact ("- " at the indent of their key), scalars plain where safe,
// otherwise single-quoted, or double-quoted when they hold control
// characters or were marked so. It handles the shapes tierwall generates
// (mappings, sequences, scalars) and is far cheaper than a general encoder;
// the output reads back to the same node.
func Write(w io.Writer, n *yaml.Node) error {
	var b strings.Builder
	writeBlock(&b, n, "", false)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteItem writes a node as an item of a block sequence at indent: "- " and
// the node, its lines indented by indent plus two spaces.
func WriteItem(w io.Writer, n *yaml.Node, indent string) error {
	var b strings.Builder
	b.WriteString(indent)
	b.WriteString("- ")
	writeBlock(&b, n, indent+"  ", true)
	_, err := io.WriteString(w, b.String())
	return err
}

// String returns Write's output.
func String(n *yaml.Node) string {
	var b strings.Builder
	writeBlock(&b, n, "", false)
	return b.String()
}

// writeBlock writes n at indent. inline is true when the cursor already
// stands after "- " or "key: " on the first line of n.
func writeBlock(b *strings.Builder, n *yaml.Node, indent string, inline bool) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			writeBlock(b, n.Content[0], indent, inline)
		}
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			b.WriteString("{}\n")
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 || !inline {
				b.WriteString(indent)
			}
			b.WriteString(scalar(n.Content[i]))
			b.WriteString(":")
			v := n.Content[i+1]
			switch {
			case v.Kind == yaml.MappingNode && len(v.Content) > 0:
				b.WriteString("\n")
				writeBlock(b, v, indent+"  ", false)
			case v.Kind == yaml.SequenceNode && len(v.Content) > 0:
				b.WriteString("\n")
				writeBlock(b, v, indent, false)
			default:
				b.WriteString(" ")
				writeBlock(b, v, indent+"  ", true)
			}
		}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			b.WriteString("[]\n")
			return
		}
		for i, c := range n.Content {
			if i > 0 || !inline {
				b.WriteString(indent)
			}
			b.WriteString("- ")
			writeBlock(b, c, indent+"  ", true)
		}
	case yaml.AliasNode:
		writeBlock(b, n.Alias, indent, inline)
	default:
		b.WriteString(scalar(n))
		b.WriteString("\n")
	}
}

// scalar writes a scalar in the first style that keeps its value.
func scalar(n *yaml.Node) string {
	v := n.Value
	if n.Tag == "!!int" || n.Tag == "!!bool" || n.Tag == "!!float" || n.Tag == "!!null" {
		return v
	}
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0 || !printable(v):
		return doubleQuoted(v)
	case n.Style&yaml.SingleQuotedStyle == 0 && plainSafe(v):
		return v
	default:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
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

func doubleQuoted(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == 0xfeff || r == 0x85 || r == 0x2028 || r == 0x2029:
			b.WriteString(`\u` + strconv.FormatInt(int64(r)+0x10000, 16)[1:])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
