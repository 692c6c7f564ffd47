package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/tierwall/tierwall/pkg/analysis"
)

// Limits of the Mermaid blocks, under what GitHub renders: a flowchart of
// more edges or text is aggregated, or left out with a note.
const (
	MermaidMaxEdges = 500
	MermaidMaxChars = 50000
)

// Markdown writes the report as Markdown that fits where it is read: a
// summary first, then per namespace a folded <details> section with the
// allowed flows and a Mermaid flowchart (its workloads in a box, their
// peers around it, the flows as arrows labelled with their ports). The
// whole stays within Options.MaxBytes: over it, flows are aggregated by
// namespace pair and ports, then sections are left out, and the Markdown
// says so and where the complete JSON is.
func Markdown(w io.Writer, r Report) error {
	limit := maxOf(r.Options)
	out := markdownFull(r)
	if limit > 0 && len(out) > limit {
		out = Fit(limit, markdownHead(r, true), markdownSections(r, true), r.fullJSONText(), "namespace")
	}
	_, err := io.WriteString(w, out)
	return err
}

// fullJSONText says where the complete report is.
func (r Report) fullJSONText() string {
	if r.Options.FullJSON != "" {
		return r.Options.FullJSON
	}
	return "`tierwall report -o json` on the same input"
}

func markdownFull(r Report) string {
	var b strings.Builder
	b.WriteString(markdownHead(r, false))
	for _, s := range markdownSections(r, false) {
		b.WriteString(s)
	}
	return b.String()
}

// markdownHead is the title and the summary.
func markdownHead(r Report, aggregated bool) string {
	var b strings.Builder
	b.WriteString("# Connectivity\n\n")
	b.WriteString("Who may talk to whom once the NetworkPolicies apply, computed offline by `tierwall report`.\n\n")
	workloads, protected, peers := 0, 0, map[*analysis.Endpoint]bool{}
	for _, n := range r.Namespaces {
		workloads += len(n.Workloads)
		if n.InScope() {
			protected++
		}
	}
	for _, f := range r.Flows {
		for _, e := range []*analysis.Endpoint{f.From, f.To} {
			if outside(e) {
				peers[e] = true
			}
		}
	}
	fmt.Fprintf(&b, "**Summary:** %s (%d protected by tierwall), %s, %s, %s outside the input.\n",
		plural(len(r.Namespaces), "namespace"), protected, plural(workloads, "workload"), plural(len(r.Flows), "allowed flow"), plural(len(peers), "peer"))
	if f := FiltersText(r.Options); f != "" {
		fmt.Fprintf(&b, "Shown: %s (%s left out).\n", f, plural(r.Hidden, "flow"))
	}
	if aggregated {
		fmt.Fprintf(&b, "\n> [!NOTE]\n> The complete report is larger than this comment's budget of %d bytes: flows are aggregated by namespace pair and ports. Every flow, with the policies that allow it, is in %s.\n", maxOf(r.Options), r.fullJSONText())
	}
	if len(r.Namespaces) == 0 {
		b.WriteString("\nNo namespaced objects in the input.\n")
		return b.String()
	}
	b.WriteString("\n| Namespace | Status | Workloads | Flows | No ingress allowed | No egress allowed |\n|---|---|---|---|---|---|\n")
	for i, n := range r.Namespaces {
		if aggregated && i == summaryRows {
			fmt.Fprintf(&b, "| and %d more | | | | | |\n", len(r.Namespaces)-i)
			break
		}
		fmt.Fprintf(&b, "| `%s` | %s | %d | %d | %d | %d |\n", n.Display(), mdCell(status(n)), len(n.Workloads), len(n.Flows), len(n.NoIngress), len(n.NoEgress))
	}
	return b.String()
}

func maxOf(o Options) int {
	if o.MaxBytes == 0 {
		return DefaultMaxBytes
	}
	return o.MaxBytes
}

// summaryRows bounds the summary table of an aggregated report.
const summaryRows = 100

// markdownSections are the namespaces' folded sections.
func markdownSections(r Report, aggregated bool) []string {
	var out []string
	for _, n := range r.Namespaces {
		var b strings.Builder
		fmt.Fprintf(&b, "\n<details><summary>Namespace <code>%s</code>: %s, %s, %s</summary>\n\n", n.Display(), status(n),
			plural(len(n.Workloads), "workload"), plural(len(n.Flows), "flow"))
		fmt.Fprintf(&b, "Workloads: %s.\n\n", mdList(n.Workloads, aggregated))
		rows := flowRows(r.Model, n.Flows, aggregated)
		if len(rows) == 0 {
			b.WriteString("No allowed flows.\n")
		} else if aggregated {
			b.WriteString("| From | To | Ports | Flows | Allowed by |\n|---|---|---|---|---|\n")
			for _, row := range rows {
				fmt.Fprintf(&b, "| %s | %s | %s | %d | %s |\n", mdCell(row.from), mdCell(row.to), mdCell(row.ports), row.count, mdCell(row.via))
			}
		} else {
			b.WriteString("| From | To | Ports | Allowed by |\n|---|---|---|---|\n")
			for _, row := range rows {
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdCell(row.from), mdCell(row.to), mdCell(row.ports), mdCell(row.via))
			}
		}
		fmt.Fprintf(&b, "\n- No ingress allowed: %s\n- No egress allowed: %s\n", mdList(n.NoIngress, aggregated), mdList(n.NoEgress, aggregated))
		if len(n.HostNetwork) > 0 {
			fmt.Fprintf(&b, "- hostNetwork, outside NetworkPolicy: %s\n", mdList(n.HostNetwork, aggregated))
		}
		if len(n.Workloads) > 0 || len(n.Flows) > 0 {
			b.WriteString(mermaidBlock(n, aggregated))
		}
		b.WriteString("\n</details>\n")
		out = append(out, b.String())
	}
	return out
}

// flowRow is one row of a flow table: a flow, or flows aggregated by
// namespace pair and ports.
type flowRow struct {
	from, to, ports, via string
	count                int
}

func flowRows(m *analysis.Model, flows []analysis.Flow, aggregated bool) []flowRow {
	if !aggregated {
		rows := make([]flowRow, len(flows))
		for i, f := range flows {
			rows[i] = flowRow{from: endpointText(f.From), to: endpointText(f.To), ports: portsText(f), via: via(m, f), count: 1}
		}
		return rows
	}
	var rows []flowRow
	index := map[string]int{}
	policies := map[string]map[string]bool{}
	for _, f := range flows {
		from, to, ports := groupOf(f.From), groupOf(f.To), portsText(f)
		key := from + "\x00" + to + "\x00" + ports
		i, ok := index[key]
		if !ok {
			i = len(rows)
			index[key] = i
			rows = append(rows, flowRow{from: from, to: to, ports: ports})
			policies[key] = map[string]bool{}
		}
		rows[i].count++
		for _, p := range append(append([]*analysis.Policy{}, f.Egress.Policies...), f.Ingress.Policies...) {
			policies[key][p.Ref()] = true
		}
	}
	for key, i := range index {
		refs := sortedKeys(policies[key])
		if len(refs) > 3 {
			refs = append(refs[:3], fmt.Sprintf("and %d more", len(refs)-3))
		}
		if len(refs) == 0 {
			refs = []string{"no policy on either side"}
		}
		rows[i].via = strings.Join(refs, ", ")
	}
	return rows
}

// groupOf is what aggregated rows name an endpoint by: its namespace for
// pods, its name for addresses and "any".
func groupOf(e *analysis.Endpoint) string {
	switch e.Kind {
	case analysis.Workload:
		return "namespace " + e.Namespace
	case analysis.Virtual:
		if e.Peer != nil && e.Peer.InNamespace == "" {
			return e.String()
		}
		return "namespace " + e.Namespace + " (not in the input)"
	case analysis.Any:
		return "any"
	}
	return e.String()
}

// mermaidBlock is a namespace's flowchart: one arrow per flow, or, when
// that would exceed MermaidMaxEdges or MermaidMaxChars (or the report is
// aggregated), the flows aggregated by peer group and ports with the
// namespace's workloads apart, then with them together; left out with a
// note when even that is too large.
func mermaidBlock(n Namespace, aggregated bool) string {
	fits := func(g string, edges int) bool { return edges <= MermaidMaxEdges && len(g) <= MermaidMaxChars }
	if !aggregated {
		if g, edges := mermaid(n); fits(g, edges) {
			return "\n```mermaid\n" + g + "```\n"
		}
	}
	var g string
	var edges int
	for _, apart := range []bool{true, false} {
		if g, edges = mermaidAggregated(n, apart); fits(g, edges) {
			how := "by peer namespace and ports"
			if !apart {
				how = "by namespace and ports"
			}
			return fmt.Sprintf("\nThe graph aggregates the %s %s (one arrow per flow would exceed %d arrows or %d characters).\n\n```mermaid\n%s```\n",
				plural(len(n.Flows), "flow"), how, MermaidMaxEdges, MermaidMaxChars, g)
		}
	}
	return fmt.Sprintf("\nNo graph: even aggregated by namespace and ports, the flows would need %d arrows or %d characters (the limits are %d and %d).\n", edges, len(g), MermaidMaxEdges, MermaidMaxChars)
}

// mermaid writes one flowchart: the namespace's workloads in a subgraph,
// the peers outside it, the flows as labelled arrows. It returns the
// flowchart and its number of arrows.
func mermaid(n Namespace) (string, int) {
	var b strings.Builder
	ids := newMermaidIDs()
	b.WriteString("flowchart LR\n")
	fmt.Fprintf(&b, "  subgraph %s[\"namespace %s\"]\n", "ns_"+sanitize(n.Display()), n.Display())
	inside := map[*analysis.Endpoint]bool{}
	for _, e := range n.Workloads {
		inside[e] = true
		fmt.Fprintf(&b, "    %s\n", node(ids.of(e), e, e.Name))
	}
	for _, f := range n.Flows {
		for _, e := range []*analysis.Endpoint{f.From, f.To} {
			if e.Kind == analysis.Virtual && e.Namespace == n.Name && !inside[e] {
				inside[e] = true
				name := e.Name
				if e.Peer != nil {
					name = e.String()
				}
				fmt.Fprintf(&b, "    %s\n", node(ids.of(e), e, name))
			}
		}
	}
	b.WriteString("  end\n")
	outsideNS := map[*analysis.Endpoint]bool{}
	for _, f := range n.Flows {
		for _, e := range []*analysis.Endpoint{f.From, f.To} {
			if !inside[e] && !outsideNS[e] {
				outsideNS[e] = true
				fmt.Fprintf(&b, "  %s\n", node(ids.of(e), e, e.String()))
			}
		}
	}
	for _, f := range n.Flows {
		fmt.Fprintf(&b, "  %s -->|\"%s\"| %s\n", ids.of(f.From), mermaidText(portsText(f)), ids.of(f.To))
	}
	return b.String(), len(n.Flows)
}

// mermaidAggregated is the flowchart of the flows aggregated by group and
// ports; apart keeps the namespace's workloads apart.
func mermaidAggregated(n Namespace, apart bool) (string, int) {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	group := func(e *analysis.Endpoint) string {
		if apart && e.Kind == analysis.Workload && e.Namespace == n.Name {
			return e.Name
		}
		return groupOf(e)
	}
	ids := map[string]string{}
	var order []string
	id := func(g string) string {
		if s, ok := ids[g]; ok {
			return s
		}
		s := fmt.Sprintf("g%d", len(ids))
		ids[g] = s
		order = append(order, g)
		return s
	}
	type edge struct{ from, to, ports string }
	seen := map[edge]bool{}
	var edges []edge
	for _, f := range n.Flows {
		e := edge{id(group(f.From)), id(group(f.To)), portsText(f)}
		if !seen[e] {
			seen[e] = true
			edges = append(edges, e)
		}
	}
	for _, g := range order {
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", ids[g], mermaidText(g))
	}
	for _, e := range edges {
		fmt.Fprintf(&b, "  %s -->|\"%s\"| %s\n", e.from, mermaidText(e.ports), e.to)
	}
	return b.String(), len(edges)
}

type mermaidIDs struct {
	ids  map[*analysis.Endpoint]string
	used map[string]bool
}

func newMermaidIDs() *mermaidIDs {
	return &mermaidIDs{ids: map[*analysis.Endpoint]string{}, used: map[string]bool{}}
}

func (m *mermaidIDs) of(e *analysis.Endpoint) string {
	if s, ok := m.ids[e]; ok {
		return s
	}
	base := mermaidID(e)
	s := base
	for i := 2; m.used[s]; i++ {
		s = fmt.Sprintf("%s_%d", base, i)
	}
	m.used[s] = true
	m.ids[e] = s
	return s
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
	if e.Peer != nil {
		return "peer_" + sanitize(e.Peer.Text())
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
func mermaidText(s string) string { return mermaidEscaper.Replace(s) }

func mdCell(s string) string { return cellEscaper.Replace(s) }

var (
	mermaidEscaper = strings.NewReplacer(`"`, "#quot;")
	cellEscaper    = strings.NewReplacer("|", `\|`, "\n", " ")
)

// mdList names endpoints; short lists the first ten of a long one.
func mdList(es []*analysis.Endpoint, short bool) string {
	if !short || len(es) <= 10 {
		return mdNames(es)
	}
	return mdNames(es[:10]) + fmt.Sprintf(" and %d more", len(es)-10)
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

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Fit joins head and as many sections as fit in max bytes, in order, then
// a line saying how many sections (of what, e.g. "namespace") were left out
// and where everything is (full). The result never exceeds max: should
// the head alone not fit, it is cut at a line.
func Fit(limit int, head string, sections []string, full, what string) string {
	var b strings.Builder
	tail := func(left int) string {
		return fmt.Sprintf("\n%s left out to stay within %d bytes: everything is in %s.\n", capitalize(plural(left, what)), limit, full)
	}
	reserve := len(tail(len(sections)))
	if len(head)+reserve > limit {
		cut := head[:max(0, limit-reserve)]
		if i := strings.LastIndexByte(cut, '\n'); i >= 0 {
			cut = cut[:i+1]
		}
		b.WriteString(cut)
	} else {
		b.WriteString(head)
	}
	i := 0
	for ; i < len(sections); i++ {
		if b.Len()+len(sections[i])+reserve > limit {
			break
		}
		b.WriteString(sections[i])
	}
	if i < len(sections) || b.Len() < len(head) {
		b.WriteString(tail(len(sections) - i))
	}
	return b.String()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
