package manifest

import "sigs.k8s.io/kustomize/kyaml/yaml"

// The ResourceList of the KRM function specification: what kustomize and
// kpt send a function and read back.
const (
	ResourceListAPIVersion = "config.kubernetes.io/v1"
	ResourceListKind       = "ResourceList"
)

// IsResourceList reports whether a parsed document is a ResourceList (v1,
// or the v1alpha1 older tools send).
func IsResourceList(doc *yaml.Node) bool {
	return String(doc, "kind") == ResourceListKind &&
		(String(doc, "apiVersion") == ResourceListAPIVersion || String(doc, "apiVersion") == "config.kubernetes.io/v1alpha1")
}
