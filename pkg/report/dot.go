package report

import (
	"io"
	"strconv"

	"github.com/tierwall/tierwall/pkg/analysis"
)

// DOT writes the allowed flows as a Graphviz digraph: one cluster per
// namespace of the input, its workloads inside, peers outside, edges
// labelled with ports.
func DOT(w io.Writer, r Report) error {
	ew := &errWriter{w: w}
	ew.printf("digraph connectivity {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n")
	placed := map[*analysis.Endpoint]bool{}
	for i, n := range r.Namespaces {
		ew.printf("  subgraph cluster_%d {\n    label=%s;\n", i, strconv.Quote("namespace "+n.Display()))
		for _, e := range n.Workloads {
			placed[e] = true
			ew.printf("    %s;\n", dotNode(e, e.Name))
		}
		for _, f := range n.Flows {
			for _, e := range []*analysis.Endpoint{f.From, f.To} {
				if e.Kind == analysis.Virtual && e.Namespace == n.Name && !placed[e] {
					placed[e] = true
					ew.printf("    %s;\n", dotNode(e, e.Name))
				}
			}
		}
		ew.printf("  }\n")
	}
	for _, f := range r.Flows {
		for _, e := range []*analysis.Endpoint{f.From, f.To} {
			if !placed[e] {
				placed[e] = true
				ew.printf("  %s;\n", dotNode(e, e.String()))
			}
		}
	}
	for _, f := range r.Flows {
		ew.printf("  %s -> %s [label=%s];\n", strconv.Quote(f.From.ID), strconv.Quote(f.To.ID), strconv.Quote(portsText(f)))
	}
	ew.printf("}\n")
	return ew.err
}

func dotNode(e *analysis.Endpoint, name string) string {
	attrs := "label=" + strconv.Quote(name+"\n"+e.Describe())
	switch e.Kind {
	case analysis.Virtual:
		attrs += ", style=dashed"
	case analysis.External:
		attrs += ", shape=ellipse"
	case analysis.Any:
		attrs = "label=\"any\", shape=circle"
	}
	if e.HostNetwork {
		attrs += ", style=dotted"
	}
	return strconv.Quote(e.ID) + " [" + attrs + "]"
}
