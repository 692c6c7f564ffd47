package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/tierwall/tierwall/pkg/analysis"
)

// Markdown writes the report as Markdown: per namespace, a table of the
// allowed flows and a Mermaid flowchart with the namespace's workloads in a
// box, their peers around it and the allowed flows as arrows labelled with
// their ports.
func Markdown(w io.Writer, r Report) error {
	ew := &errWriter{w: w}
	ew.printf("# Connectivity\n\n")
	ew.printf("Who may talk to whom once the NetworkPolicies apply, computed offline by `tierwall report`.\n")
	if len(r.Namespaces) == 0 {
		ew.printf("\nNo namespaced objects in the input.\n")
	}
	for _, n := range r.Namespaces {
		ew.printf("\n## Namespace `%s`\n\n", n.Display())
		ew.printf("%s. Workloads: %s.\n\n", capitalize(status(n)), mdNames(n.Workloads))
		if len(n.Flows) == 0 {
			ew.printf("No allowed flows.\n")
		} else {
			ew.printf("| From | To | Ports | Allowed by |\n|---|---|---|---|\n")
			for _, f := range n.Flows {
				ew.printf("| %s | %s | %s | %s |\n", mdCell(endpointText(f.From)), mdCell(endpointText(f.To)), mdCell(portsText(f)), mdCell(via(r.Model, f)))
			}
		}
		ew.printf("\n- No ingress allowed: %s\n- No egress allowed: %s\n", mdNames(n.NoIngress), mdNames(n.NoEgress))
		if len(n.HostNetwork) > 0 {
			ew.printf("- hostNetwork, outside NetworkPolicy: %s\n", mdNames(n.HostNetwork))
		}
		if len(n.Workloads) > 0 || len(n.Flows) > 0 {
			ew.printf("\n```mermaid\n")
			mermaid(ew, n)
			ew.printf("```\n")
		}
	}
	return ew.err
}

// mermaid writes one flowchart: the namespace's workloads in a subgraph,
// the peers outside it, the flows as labelled arrows.
func mermaid(ew *errWriter, n Namespace) {
	ids := map[*analysis.Endpoint]string{}
	used := map[string]bool{}
	id := func(e *analysis.Endpoint) string {
		if s, ok := ids[e]; ok {
			return s
		}
		base := mermaidID(e)
		s := base
		for i := 2; used[s]; i++ {
			s = fmt.Sprintf("%s_%d", base, i)
		}
		used[s] = true
		ids[e] = s
		return s
	}
	ew.printf("flowchart LR\n")
	ew.printf("  subgraph %s[\"namespace %s\"]\n", "ns_"+sanitize(n.Display()), n.Display())
	inside := map[*analysis.Endpoint]bool{}
	for _, e := range n.Workloads {
		inside[e] = true
		ew.printf("    %s\n", node(id(e), e, e.Name))
	}
	for _, f := range n.Flows {
		for _, e := range []*analysis.Endpoint{f.From, f.To} {
			if e.Kind == analysis.Virtual && e.Namespace == n.Name && !inside[e] {
				inside[e] = true
				ew.printf("    %s\n", node(id(e), e, e.Name))
			}
		}
	}
	ew.printf("  end\n")
	outside := map[*analysis.Endpoint]bool{}
	for _, f := range n.Flows {
		for _, e := range []*analysis.Endpoint{f.From, f.To} {
			if !inside[e] && !outside[e] {
				outside[e] = true
				ew.printf("  %s\n", node(id(e), e, e.String()))
			}
		}
	}
	for _, f := range n.Flows {
		ew.printf("  %s -->|\"%s\"| %s\n", id(f.From), mermaidText(portsText(f)), id(f.To))
	}
}

// node writes a Mermaid node: workloads as boxes, pods the input lacks as
// subroutines, addresses as stadiums, "any" as a circle.
func node(id string, e *analysis.Endpoint, name string) string {
	label := mermaidText(name + "<br/>" + e.Describe())
	switch e.Kind {
	case analysis.Virtual:
		return fmt.Sprintf("%s[[\"%s\"]]", id, label)
	case analysis.External:
		return fmt.Sprintf("%s([\"%s\"])", id, label)
	case analysis.Any:
		return fmt.Sprintf("%s((\"any\"))", id)
	}
	return fmt.Sprintf("%s[\"%s\"]", id, label)
}

func mermaidID(e *analysis.Endpoint) string {
	switch e.Kind {
	case analysis.Any:
		return "any"
	case analysis.External:
		return "ext_" + sanitize(e.Name)
	}
	return sanitize(e.Namespace) + "__" + sanitize(e.Name)
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "release"
	}
	return b.String()
}

// mermaidText escapes a label for a quoted Mermaid string.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;").Replace(s)
}

func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func mdNames(es []*analysis.Endpoint) string {
	if len(es) == 0 {
		return "none"
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = "`" + e.String() + "` (" + e.Describe() + ")"
	}
	return strings.Join(out, ", ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
