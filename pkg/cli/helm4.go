package cli

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// helmFilenameAnnotation is the annotation Helm 4 puts on every document it sends
// a post-renderer, naming the template file the document came from. Helm
// reads it back to rebuild its files and to name them in its errors.
const helmFilenameAnnotation = "postrenderer.helm.sh/postrender-filename"

// errorDocumentNote is the value under kind.error in the error document.
const errorDocumentNote = "tierwall-postrender failed: the reason is in this document's " +
	helmFilenameAnnotation + " annotation, which Helm 4 prints in its error"

// errorDocument is how a failure reaches a Helm 4 user. Helm 4.3 discards the
// stderr of a postrenderer/v1 plugin (even with --debug) and, when it exits
// non-zero, reports only `plugin "tierwall" exited with error`. So, as a
// plugin, tierwall exits 0 and writes this one document instead of the
// manifests. Helm splits the output into files by the filename annotation,
// then parses each document's head; "kind" is a mapping here, so parsing
// fails and Helm stops with
//
//	Error: YAML parse error on <the annotation's value>: error unmarshaling JSON: ...
//
// which shows the message. No release is made, and should a future Helm let
// the document through, the API server rejects it (kind is not a string).
// The annotation's value ends with a fixed sentence whose last "/" is
// followed by no underscore: Helm skips files whose base name starts with
// "_" (template partials), and a message path such as "x/_helpers.tpl" must
// not make Helm skip the document and succeed with no manifests.
func errorDocument(msg string) []byte {
	filename := strings.TrimSpace(msg) + "\n(tierwall-postrender reports its failure through this YAML error: Helm 4 hides plugin stderr; see docs/helm-and-container.md)"
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	mapping := func(kv ...*yaml.Node) *yaml.Node {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: kv}
	}
	doc := mapping(
		str("apiVersion"), str("tierwall.io/v1alpha1"),
		str("kind"), mapping(str("error"), str(errorDocumentNote)),
		str("metadata"), mapping(
			str("name"), str("tierwall-postrender-error"),
			str("annotations"), mapping(str(helmFilenameAnnotation), str(filename)),
		),
	)
	text, err := yaml.String(doc)
	if err != nil {
		// Cannot happen with string nodes; keep a valid fallback anyway.
		return []byte("apiVersion: tierwall.io/v1alpha1\nkind:\n  error: tierwall-postrender failed\n")
	}
	return []byte(text)
}
