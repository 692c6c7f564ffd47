package manifest

import (
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Lookup follows mapping keys from n and returns the node found, or nil.
// Document nodes and aliases are looked through.
func Lookup(n *yaml.Node, path ...string) *yaml.Node {
	n = resolve(n)
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = resolve(n.Content[i+1])
				break
			}
		}
		n = next
	}
	return n
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

// StringMap returns the mapping at path as strings (scalars as written), or nil.
func StringMap(n *yaml.Node, path ...string) map[string]string {
	v := Lookup(n, path...)
	if v == nil || v.Kind != yaml.MappingNode {
		return nil
	}
	out := make(map[string]string, len(v.Content)/2)
	for i := 0; i+1 < len(v.Content); i += 2 {
		val := resolve(v.Content[i+1])
		if val != nil && val.Kind == yaml.ScalarNode && val.Tag != "!!null" {
			out[v.Content[i].Value] = val.Value
		} else {
			out[v.Content[i].Value] = ""
		}
	}
	return out
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
