package emit

import (
	"slices"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
)

// WithHash writes the content hash of a generated object's spec into its
// tierwall.io/hash annotation (kept in key order), in the room Encode
// leaves for it.
func WithHash(n *yaml.Node) {
	h := manifest.SpecHash(n)
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
