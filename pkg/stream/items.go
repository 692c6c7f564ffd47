package stream

import (
	"bytes"

	"github.com/tierwall/tierwall/pkg/manifest"
)

// ParseItems parses the items of a block sequence in place: region holds
// its lines, each item starting with indent and "- " and going on with
// lines of indent and two spaces (or blank ones), the layout kustomize and
// kpt write a ResourceList's items in. Each item is read as the document it
// would be dedented, by the same parser as a stream, without a dedented
// copy of the region. ok is false when the lines are not plainly one item
// after another, or an item is not one object; the caller then reads the
// sequence another way. As with ParseWith, region must not change
// afterwards.
func ParseItems(region []byte, indent string, opts Options) (objs []manifest.Object, ok bool) {
	dash, cont := indent+"- ", indent+"  "
	var chunks []Chunk
	line := 1
	for pos := 0; pos < len(region); line++ {
		end := bytes.IndexByte(region[pos:], '\n')
		if end < 0 {
			return nil, false
		}
		l := region[pos : pos+end+1]
		switch {
		case bytes.HasPrefix(l, []byte(dash)) || string(l) == indent+"-\n":
			if len(chunks) > 0 {
				last := &chunks[len(chunks)-1]
				last.Raw = region[last.Offset:pos]
			}
			chunks = append(chunks, Chunk{Offset: pos, Line: line})
		case len(bytes.TrimSpace(l)) == 0:
		case bytes.HasPrefix(l, []byte(cont)) && len(chunks) > 0:
		default:
			return nil, false // "-" alone, text before the first item, another indent
		}
		pos += end + 1
	}
	if len(chunks) == 0 {
		return nil, false
	}
	last := &chunks[len(chunks)-1]
	last.Raw = region[last.Offset:]
	s, err := parseChunks(region, chunks, len(dash), opts)
	if err != nil || len(s.Objects) != len(chunks) {
		return nil, false
	}
	for i, d := range s.DocumentOf {
		if d != i {
			return nil, false // an item that is no object, beside one that holds two
		}
	}
	return s.Objects, true
}

// dedentItem is an item's document for yaml.v3: a separator line, then its
// lines without their prefix (blank lines empty).
func dedentItem(raw []byte, prefix int) []byte {
	out := make([]byte, 0, len(raw)+4)
	out = append(out, "---\n"...)
	for len(raw) > 0 {
		l, rest, _ := bytes.Cut(raw, []byte("\n"))
		switch {
		case len(bytes.TrimSpace(l)) == 0:
		case len(l) > prefix:
			out = append(out, l[prefix:]...)
		}
		out = append(out, '\n')
		raw = rest
	}
	return out
}
