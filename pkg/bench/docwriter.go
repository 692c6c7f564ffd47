package bench

import "bytes"

// docWriter writes manifests one document at a time in either layout
// tierwall reads: a plain multi-document stream (what Helm hands a
// post-renderer) or the items of a ResourceList in kyaml's layout ("- "
// before an item's first line, two spaces before the others).
type docWriter struct {
	buf          bytes.Buffer
	resourceList bool
}

func newDocWriter(resourceList bool, size int) *docWriter {
	w := &docWriter{resourceList: resourceList}
	w.buf.Grow(size)
	if resourceList {
		w.buf.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n")
	}
	return w
}

// doc writes one object. source, when set, is written before it as Helm's
// "# Source: chart/templates/x.yaml" comment, in the plain stream only (a
// ResourceList comes from kustomize or kpt, which carry no such comment).
// Empty lines are dropped: the templates hold none.
func (w *docWriter) doc(source, s string) {
	if !w.resourceList {
		w.buf.WriteString("---\n")
		if source != "" {
			w.buf.WriteString("# Source: ")
			w.buf.WriteString(source)
			w.buf.WriteByte('\n')
		}
		w.buf.WriteString(s)
		return
	}
	first := true
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '\n' {
			if i > start {
				if first {
					w.buf.WriteString("- ")
					first = false
				} else {
					w.buf.WriteString("  ")
				}
				w.buf.WriteString(s[start:i])
				w.buf.WriteByte('\n')
			}
			start = i + 1
		}
	}
}

func (w *docWriter) bytes() []byte { return w.buf.Bytes() }
