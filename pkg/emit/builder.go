package emit

import (
	"sort"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
)

// Object is a generated object of any kind, ready to write. Its Node is to
// be read, not edited: the trees Encode builds share their keys and
// recurring values.
type Object struct {
	Kind, Namespace, Name string
	Node                  *yaml.Node
}

// SortObjects orders generated objects by namespace, name, then kind.
func SortObjects(objs []Object) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Kind < b.Kind
	})
}

// Mapping builds a mapping node from alternating string keys and value
// nodes, in the given order.
func Mapping(kv ...any) *yaml.Node { return mapping(kv...) }

// Seq builds a sequence node.
func Seq(items ...*yaml.Node) *yaml.Node {
	n := seq()
	n.Content = items
	return n
}

// Str is a string scalar, quoted where YAML 1.1 readers would misread it.
func Str(s string) *yaml.Node { return str(s) }

// StringMap is a mapping of strings in key order.
func StringMap(m map[string]string) *yaml.Node { return stringMap(m) }

// Meta is the metadata of a generated object: name, namespace when set,
// tierwall's label and the reason annotation.
func Meta(ns, name, reason string) *yaml.Node {
	kv := []any{"name", str(name)}
	if ns != "" {
		kv = append(kv, "namespace", str(ns))
	}
	kv = append(kv,
		"labels", stringMap(map[string]string{manifest.ManagedByLabel: manifest.ManagedByValue}),
		"annotations", stringMap(map[string]string{manifest.ReasonAnnotation: reason}))
	return mapping(kv...)
}
