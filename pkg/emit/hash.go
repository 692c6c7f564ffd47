package emit

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
)

// WithHash writes the content hash of a generated object's spec into its
// tierwall.io/hash annotation (kept in key order), in the room Encode
// leaves for it.
func WithHash(n *yaml.Node) {
	h := specHash(n)
	ann := manifest.Lookup(n, "metadata", "annotations")
	if h == "" || ann == nil || ann.Kind != yaml.MappingNode {
		return
	}
	i := 0
	for i < len(ann.Content) && ann.Content[i].Value < manifest.HashAnnotation {
		i += 2
	}
	ann.Content = slices.Insert(ann.Content, i, shared[manifest.HashAnnotation], str(h))
}

// canonicalBuffers hold the canonical forms being hashed, reused across
// objects.
var canonicalBuffers = sync.Pool{New: func() any { return new([]byte) }}

// specHash is manifest.SpecHash (the same canonical form and digest),
// written into a reused buffer instead of through a writer string by
// string: generated objects are hashed once each, thousands per run.
func specHash(n *yaml.Node) string {
	spec := manifest.Lookup(n, "spec")
	if spec == nil {
		return ""
	}
	buf := canonicalBuffers.Get().(*[]byte)
	*buf = appendCanonical((*buf)[:0], spec, 0)
	sum := sha256.Sum256(*buf)
	canonicalBuffers.Put(buf)
	return hex.EncodeToString(sum[:8])
}

// appendCanonical appends a node's canonical form, as manifest.SpecHash
// writes it: mappings as {"key":value,...} in key order, sequences as
// [item,...], numbers and booleans with their tag, strings quoted.
func appendCanonical(b []byte, n *yaml.Node, depth int) []byte {
	if depth > 64 {
		return b
	}
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		// Keys in order by insertion sort of the key indexes: generated
		// mappings are small.
		var small [16]int
		order := small[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			j := len(order)
			order = append(order, i)
			for ; j > 0 && n.Content[order[j-1]].Value > n.Content[i].Value; j-- {
				order[j] = order[j-1]
			}
			order[j] = i
		}
		b = append(b, '{')
		for _, i := range order {
			b = strconv.AppendQuote(b, n.Content[i].Value)
			b = append(b, ':')
			b = appendCanonical(b, n.Content[i+1], depth+1)
			b = append(b, ',')
		}
		return append(b, '}')
	case yaml.SequenceNode:
		b = append(b, '[')
		for _, c := range n.Content {
			b = appendCanonical(b, c, depth+1)
			b = append(b, ',')
		}
		return append(b, ']')
	}
	switch tag := n.ShortTag(); tag {
	case "!!int", "!!float", "!!bool":
		return append(append(b, tag...), n.Value...)
	case "!!null":
		return append(b, "null"...)
	}
	return strconv.AppendQuote(b, n.Value)
}
