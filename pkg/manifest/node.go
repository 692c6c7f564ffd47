package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Lookup follows mapping keys from n and returns the node found, or nil.
// Document nodes and aliases are looked through, and YAML 1.1 merge keys
// ("<<: *common") are followed as Kubernetes reads them (see lookupKey).
func Lookup(n *yaml.Node, path ...string) *yaml.Node {
	n = resolve(n)
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		n = lookupKey(n, key, map[*yaml.Node]bool{})
	}
	return n
}

// lookupKey returns the value of key in mapping m. The mapping's own keys
// win; then the mappings its merge keys ("<<: *a" or "<<: [*a, *b]") name,
// earlier ones first, as YAML 1.1 and the Kubernetes readers (go-yaml v2)
// resolve them. seen visits each merged mapping once, so that aliases
// merging the same mapping many times cost nothing.
func lookupKey(m *yaml.Node, key string, seen map[*yaml.Node]bool) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Value == key && !isMergeKey(k) {
			return resolve(m.Content[i+1])
		}
	}
	seen[m] = true
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !isMergeKey(m.Content[i]) {
			continue
		}
		for _, src := range mergeSources(m.Content[i+1]) {
			if seen[src] {
				continue
			}
			if v := lookupKey(src, key, seen); v != nil {
				return v
			}
		}
	}
	return nil
}

// isMergeKey reports whether k is a YAML 1.1 merge key: a plain "<<" (a
// quoted "<<" is a string key).
func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Tag == "!!merge"
}

// mergeSources returns the mappings a merge key's value names: one mapping
// or a list of them.
func mergeSources(v *yaml.Node) []*yaml.Node {
	v = resolve(v)
	if v == nil {
		return nil
	}
	switch v.Kind {
	case yaml.MappingNode:
		return []*yaml.Node{v}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, c := range v.Content {
			if c = resolve(c); c != nil && c.Kind == yaml.MappingNode {
				out = append(out, c)
			}
		}
		return out
	}
	return nil
}

// resolve looks through document and alias nodes.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch n.Kind {
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return nil
}

// String returns the scalar value at path, or "".
func String(n *yaml.Node, path ...string) string {
	v := Lookup(n, path...)
	if v == nil || v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return ""
	}
	return v.Value
}

// StringMap returns the mapping at path as strings (scalars as written), or
// nil. Merge keys are followed: the mapping's own keys win over merged ones,
// and earlier merged mappings over later ones.
func StringMap(n *yaml.Node, path ...string) map[string]string {
	v := Lookup(n, path...)
	if v == nil || v.Kind != yaml.MappingNode {
		return nil
	}
	out := make(map[string]string, len(v.Content)/2)
	stringMap(out, v, map[*yaml.Node]bool{})
	return out
}

// stringMap adds the entries of m that out does not hold yet.
func stringMap(out map[string]string, m *yaml.Node, seen map[*yaml.Node]bool) {
	seen[m] = true
	own := map[string]string{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if isMergeKey(m.Content[i]) {
			continue
		}
		val := resolve(m.Content[i+1])
		if val != nil && val.Kind == yaml.ScalarNode && val.Tag != "!!null" {
			own[m.Content[i].Value] = val.Value
		} else {
			own[m.Content[i].Value] = ""
		}
	}
	for k, v := range own {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !isMergeKey(m.Content[i]) {
			continue
		}
		for _, src := range mergeSources(m.Content[i+1]) {
			if !seen[src] {
				stringMap(out, src, seen)
			}
		}
	}
}

// Items returns the elements of the sequence at path, or nil.
func Items(n *yaml.Node, path ...string) []*yaml.Node {
	v := Lookup(n, path...)
	if v == nil || v.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(v.Content))
	for _, c := range v.Content {
		out = append(out, resolve(c))
	}
	return out
}

// FormatLabels writes labels as k=v,k2=v2 in key order, for messages,
// reasons and stable keys.
func FormatLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(m[k])
	}
	return b.String()
}

// HashAnnotation carries the content hash of a generated object's spec, so
// that a later run tells tierwall's unedited output (regenerated) from an
// edited one (kept as the user's).
const HashAnnotation = "tierwall.io/hash"

// SpecHash is the content hash of an object's spec: the first 16 hex digits
// of the SHA-256 of a canonical form (mapping keys sorted, scalars by their
// resolved type), so that formatting, quoting style and key order do not
// change it. "" when the object has no spec. Generated objects are hashed
// once each, thousands per run: the form is built in a reused buffer.
func SpecHash(n *yaml.Node) string {
	spec := Lookup(n, "spec")
	if spec == nil {
		return ""
	}
	buf := canonicalBuffers.Get().(*[]byte)
	*buf = appendCanonical((*buf)[:0], spec, 0)
	sum := sha256.Sum256(*buf)
	canonicalBuffers.Put(buf)
	return hex.EncodeToString(sum[:8])
}

// canonicalBuffers hold the canonical forms being hashed, reused across
// objects.
var canonicalBuffers = sync.Pool{New: func() any { return new([]byte) }}

// appendCanonical appends a node's canonical form: mappings as
// {"key":value,...} in key order, sequences as [item,...], numbers and
// booleans with their tag, strings quoted.
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
		// Keys in order by insertion sort of the key indexes: mappings
		// are small.
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
