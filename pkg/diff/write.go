package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/report"
)

// Formats are the output formats Write accepts.
var Formats = []string{"text", "markdown", "json"}

// Write renders the diff in format.
func Write(w io.Writer, d Diff, format string) error {
	switch format {
	case "text", "":
		return Text(w, d)
	case "markdown", "md":
		return Markdown(w, d)
	case "json":
		return JSON(w, d)
	}
	return fmt.Errorf("unknown diff format %q: use one of %s", format, strings.Join(Formats, ", "))
}

var signs = map[Change]string{Added: "+", Widened: "~", Narrowed: "~", Removed: "-"}

// Summary is the one-line count: "1 added, 2 widened, 0 narrowed, 1
// removed", or "no change in connectivity".
func (d Diff) Summary() string {
	if len(d.Entries) == 0 {
		return "no change in connectivity"
	}
	parts := make([]string, len(Changes))
	for i, c := range Changes {
		parts[i] = fmt.Sprintf("%d %s", d.Count(c), c)
	}
	return strings.Join(parts, ", ")
}

// Text writes one line per change and its policies below it.
func Text(w io.Writer, d Diff) error {
	var b strings.Builder
	fmt.Fprintf(&b, "tierwall diff: %s\n", d.Summary())
	if f := report.FiltersText(d.Options); f != "" {
		fmt.Fprintf(&b, "Shown: %s (%d changes left out).\n", f, d.Hidden)
	}
	for _, c := range Changes {
		if d.Count(c) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s:\n", capitalize(string(c)))
		for _, e := range d.Entries {
			if e.Change != c {
				continue
			}
			fmt.Fprintf(&b, "  %s %s -> %s  %s\n", signs[c], endText(e.From), endText(e.To), e.portsText())
			fmt.Fprintf(&b, "      %s\n", e.why(d))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// portsText says which ports changed, and how the flow was and is.
func (e Entry) portsText() string {
	ports := portsOf(e.Ports, e.NamedPorts)
	switch {
	case len(e.Peers) > 0:
		was := make([]string, len(e.Peers))
		for i, p := range e.Peers {
			was[i] = p.String()
		}
		verb := map[Change]string{Widened: "was", Narrowed: "now"}[e.Change]
		return fmt.Sprintf("%s (%s %s %s)", ports, verb, e.PeerSide, strings.Join(was, ", "))
	case e.Change == Widened:
		return fmt.Sprintf("+%s (was %s)", ports, e.Before.String())
	case e.Change == Narrowed:
		return fmt.Sprintf("-%s (now %s)", ports, e.After.String())
	}
	return ports
}

func portsOf(s analysis.PortSet, named []string) string {
	parts := s.Strings()
	if s.Empty() {
		parts = nil
	}
	for _, n := range named {
		parts = append(parts, n+" (named)")
	}
	return strings.Join(parts, ", ")
}

// why names the policies that cause a change.
func (e Entry) why(d Diff) string {
	m := d.New
	verb := "allowed by"
	if e.Change == Removed || e.Change == Narrowed {
		m, verb = d.Old, "was allowed by"
	}
	parts := []string{verb + " " + sides(m, e.From, e.To, e.AllowedBy)}
	if len(e.Gone) > 0 {
		gone := make([]string, len(e.Gone))
		for i, g := range e.Gone {
			gone[i] = g.String()
		}
		parts = append(parts, "gone from the new render: "+strings.Join(gone, ", "))
	}
	if len(e.DeniedEgress) > 0 {
		parts = append(parts, "now refused by the egress policies of "+e.From.String()+": "+refs(e.DeniedEgress))
	}
	if len(e.DeniedIngress) > 0 {
		parts = append(parts, "now refused by the ingress policies of "+e.To.String()+": "+refs(e.DeniedIngress))
	}
	return strings.Join(parts, "; ")
}

func sides(m *analysis.Model, from, to *analysis.Endpoint, v analysis.Verdict) string {
	var parts []string
	side := func(dir string, e *analysis.Endpoint, s analysis.Side) {
		switch {
		case e.Kind == analysis.External || e.Kind == analysis.Any:
		case !s.Isolated:
			if ns, ok := m.Namespace(e.Namespace); ok && !ns.InStream {
				parts = append(parts, dir+" unknown (not in the input)")
			} else {
				parts = append(parts, dir+" not isolated")
			}
		default:
			parts = append(parts, dir+" "+refs(s.Policies))
		}
	}
	side("egress", from, v.Egress)
	side("ingress", to, v.Ingress)
	if len(parts) == 0 {
		return "no policy of the input"
	}
	return strings.Join(parts, "; ")
}

func refs(ps []*analysis.Policy) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Ref()
	}
	return strings.Join(out, ", ")
}

func endText(e *analysis.Endpoint) string {
	if e.Kind == analysis.Any {
		return "any"
	}
	if e.Kind == analysis.Workload {
		return e.String() + " (" + e.WorkloadKind + ")"
	}
	return e.String() + " (" + e.Describe() + ")"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Markdown writes the diff as Markdown for a pull-request comment: the
// counts, then a table per kind of change. Over Options.MaxBytes, changes
// are aggregated by namespace pair and ports, then tables are cut, saying
// where the complete JSON is.
func Markdown(w io.Writer, d Diff) error {
	limit := d.Options.MaxBytes
	if limit == 0 {
		limit = report.DefaultMaxBytes
	}
	out := d.markdownHead(false)
	for _, s := range d.markdownSections(false) {
		out += s
	}
	if limit > 0 && len(out) > limit {
		out = report.Fit(limit, d.markdownHead(true), d.markdownSections(true), d.fullJSON(), "table")
	}
	_, err := io.WriteString(w, out)
	return err
}

func (d Diff) fullJSON() string {
	if d.Options.FullJSON != "" {
		return d.Options.FullJSON
	}
	return "`tierwall diff -o json` on the same renders"
}

func (d Diff) markdownHead(aggregated bool) string {
	var b strings.Builder
	b.WriteString("## Connectivity changes\n\n")
	if len(d.Entries) == 0 {
		b.WriteString("No change in who may talk to whom, computed offline by `tierwall diff`.\n")
	} else {
		b.WriteString("Who may talk to whom, before and after this change, computed offline by `tierwall diff`.\n\n")
		b.WriteString("| Added | Widened | Narrowed | Removed |\n|---|---|---|---|\n")
		fmt.Fprintf(&b, "| %d | %d | %d | %d |\n", d.Count(Added), d.Count(Widened), d.Count(Narrowed), d.Count(Removed))
	}
	if f := report.FiltersText(d.Options); f != "" {
		fmt.Fprintf(&b, "\nShown: %s (%d changes left out).\n", f, d.Hidden)
	}
	if aggregated {
		limit := d.Options.MaxBytes
		if limit == 0 {
			limit = report.DefaultMaxBytes
		}
		fmt.Fprintf(&b, "\n> [!NOTE]\n> The complete diff is larger than this comment's budget of %d bytes: changes are aggregated by namespace pair and ports. Every change, with the policies that cause it, is in %s.\n", limit, d.fullJSON())
	}
	return b.String()
}

func (d Diff) markdownSections(aggregated bool) []string {
	var out []string
	for _, c := range Changes {
		n := d.Count(c)
		if n == 0 {
			continue
		}
		var b strings.Builder
		open := ""
		if c == Added || c == Widened {
			open = " open"
		}
		fmt.Fprintf(&b, "\n<details%s><summary>%s: %d</summary>\n\n", open, capitalize(string(c)), n)
		if aggregated {
			b.WriteString("| From | To | Ports | Flows |\n|---|---|---|---|\n")
			type key struct{ from, to, ports string }
			counts := map[key]int{}
			var order []key
			for _, e := range d.Entries {
				if e.Change != c {
					continue
				}
				k := key{group(e.From), group(e.To), portsOf(e.Ports, e.NamedPorts)}
				if counts[k] == 0 {
					order = append(order, k)
				}
				counts[k]++
			}
			for _, k := range order {
				fmt.Fprintf(&b, "| %s | %s | %s | %d |\n", cell(k.from), cell(k.to), cell(k.ports), counts[k])
			}
		} else {
			b.WriteString("| From | To | Ports | Why |\n|---|---|---|---|\n")
			for _, e := range d.Entries {
				if e.Change == c {
					fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(endText(e.From)), cell(endText(e.To)), cell(e.portsText()), cell(e.why(d)))
				}
			}
		}
		b.WriteString("\n</details>\n")
		out = append(out, b.String())
	}
	return out
}

func group(e *analysis.Endpoint) string {
	switch e.Kind {
	case analysis.Workload:
		return "namespace " + e.Namespace
	case analysis.Any:
		return "any"
	}
	return e.String()
}

var cellEscaper = strings.NewReplacer("|", `\|`, "\n", " ")

func cell(s string) string { return cellEscaper.Replace(s) }

// document is the diff's JSON form.
type document struct {
	APIVersion  string             `json:"apiVersion"`
	Kind        string             `json:"kind"`
	Summary     map[Change]int     `json:"summary"`
	Filters     *report.Options    `json:"filters,omitempty"`
	Hidden      int                `json:"hiddenChanges,omitempty"`
	Endpoints   []report.Endpoint  `json:"endpoints"`
	OldPolicies []report.PolicyRef `json:"oldPolicies"`
	NewPolicies []report.PolicyRef `json:"newPolicies"`
	Changes     []jsonEntry        `json:"changes"`
}

type jsonEntry struct {
	Change Change        `json:"change"`
	From   string        `json:"from"`
	To     string        `json:"to"`
	Ports  []report.Port `json:"ports"`
	Before []report.Port `json:"before"`
	After  []report.Port `json:"after"`
	// PeerSide and Peers: the end that changed, and what it was (widened)
	// or is now (narrowed).
	PeerSide string   `json:"peerSide,omitempty"`
	Peers    []string `json:"peers,omitempty"`
	// AllowedBy: policies of the new render (added, widened) or of the old
	// one (removed, narrowed, as wasAllowedBy).
	AllowedBy    *jsonSides `json:"allowedBy,omitempty"`
	WasAllowedBy *jsonSides `json:"wasAllowedBy,omitempty"`
	// DeniedBy: policies of the new render that refuse what was lost.
	DeniedBy *jsonSides `json:"deniedBy,omitempty"`
	Gone     []string   `json:"gone,omitempty"`
}

type jsonSides struct {
	Egress  *report.Side `json:"egress,omitempty"`
	Ingress *report.Side `json:"ingress,omitempty"`
}

// JSON writes the diff as one JSON document; it is never cut.
func JSON(w io.Writer, d Diff) error {
	doc := document{APIVersion: report.APIVersion, Kind: report.DiffKind, Summary: map[Change]int{},
		Hidden: d.Hidden, Endpoints: []report.Endpoint{}, Changes: []jsonEntry{}}
	if d.Options.Filtered() {
		doc.Filters = &report.Options{In: d.Options.In, From: d.Options.From, To: d.Options.To, HideBaseline: d.Options.HideBaseline}
	}
	for _, c := range Changes {
		doc.Summary[c] = d.Count(c)
	}
	oldPolicies, newPolicies := report.PolicySet{}, report.PolicySet{}
	seen := map[string]bool{}
	var endpoints []report.Endpoint
	addEndpoint := func(m *analysis.Model, e *analysis.Endpoint) string {
		if !seen[Key(e)] {
			seen[Key(e)] = true
			endpoints = append(endpoints, report.EndpointOf(m, e))
		}
		return Key(e)
	}
	for _, e := range d.Entries {
		m, ps := d.New, newPolicies
		if e.Change == Removed || e.Change == Narrowed {
			m, ps = d.Old, oldPolicies
		}
		je := jsonEntry{Change: e.Change, From: addEndpoint(m, e.From), To: addEndpoint(m, e.To),
			Ports: report.Ports(e.Ports, e.NamedPorts), Before: report.Ports(e.Before, nil), After: report.Ports(e.After, nil), PeerSide: e.PeerSide}
		for _, p := range e.Peers {
			pm := d.Old
			if e.Change == Narrowed {
				pm = d.New
			}
			je.Peers = append(je.Peers, addEndpoint(pm, p))
		}
		sides := &jsonSides{}
		if e.From.Kind != analysis.External && e.From.Kind != analysis.Any {
			sides.Egress = ps.Side(m, e.From, e.AllowedBy.Egress)
		}
		if e.To.Kind != analysis.External && e.To.Kind != analysis.Any {
			sides.Ingress = ps.Side(m, e.To, e.AllowedBy.Ingress)
		}
		if m == d.New {
			je.AllowedBy = sides
		} else {
			je.WasAllowedBy = sides
		}
		if len(e.DeniedEgress) > 0 || len(e.DeniedIngress) > 0 {
			je.DeniedBy = &jsonSides{}
			if len(e.DeniedEgress) > 0 {
				je.DeniedBy.Egress = &report.Side{Isolated: true, Known: true, Policies: newPolicies.Add(e.DeniedEgress)}
			}
			if len(e.DeniedIngress) > 0 {
				je.DeniedBy.Ingress = &report.Side{Isolated: true, Known: true, Policies: newPolicies.Add(e.DeniedIngress)}
			}
		}
		for _, g := range e.Gone {
			je.Gone = append(je.Gone, Key(g))
		}
		doc.Changes = append(doc.Changes, je)
	}
	if endpoints != nil {
		doc.Endpoints = endpoints
	}
	doc.OldPolicies, doc.NewPolicies = oldPolicies.List(), newPolicies.List()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
