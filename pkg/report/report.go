// Package report renders an analysis.Model for people and machines: a text
// table, Markdown with a Mermaid flowchart per namespace, JSON, the same
// document as YAML, and DOT. Each shows, per namespace of the input, the
// allowed flows with their ports and the policies that allow them, the
// workloads nothing may reach or that may reach nothing, and the hostNetwork
// pods outside NetworkPolicy. Output is sorted and has no timestamps, so it
// can be kept as a golden file.
package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/tierwall/tierwall/pkg/analysis"
)

// Formats are the output formats Write accepts.
var Formats = []string{"text", "markdown", "json", "yaml", "dot"}

// Write renders the model in format.
func Write(w io.Writer, m *analysis.Model, format string) error {
	r := Build(m)
	switch format {
	case "text", "":
		return Text(w, r)
	case "markdown", "md":
		return Markdown(w, r)
	case "json":
		return JSON(w, r)
	case "yaml":
		return YAML(w, r)
	case "dot":
		return DOT(w, r)
	}
	return fmt.Errorf("unknown report format %q: use one of %s", format, strings.Join(Formats, ", "))
}

// Report is what every format shows.
type Report struct {
	Model      *analysis.Model
	Namespaces []Namespace
	// Flows are all allowed flows, sorted.
	Flows []analysis.Flow
}

// Namespace is the part of the report about one namespace of the input.
type Namespace struct {
	*analysis.Namespace
	// Workloads of the namespace (hostNetwork ones included), sorted.
	Workloads []*analysis.Endpoint
	// Flows from or to the namespace's pods, sorted.
	Flows []analysis.Flow
	// NoIngress are the workloads no source may reach; NoEgress those that
	// may reach nothing.
	NoIngress, NoEgress []*analysis.Endpoint
	// HostNetwork pods are outside NetworkPolicy.
	HostNetwork []*analysis.Endpoint
}

// Build gathers the report of a model.
func Build(m *analysis.Model) Report {
	r := Report{Model: m, Flows: m.Flows()}
	hasIn, hasOut := map[*analysis.Endpoint]bool{}, map[*analysis.Endpoint]bool{}
	for _, f := range r.Flows {
		hasOut[f.From] = true
		hasIn[f.To] = true
	}
	for _, ns := range m.Namespaces {
		if !ns.InStream {
			continue
		}
		n := Namespace{Namespace: ns}
		for _, e := range m.Endpoints {
			if e.Kind != analysis.Workload || e.Namespace != ns.Name {
				continue
			}
			n.Workloads = append(n.Workloads, e)
			switch {
			case e.HostNetwork:
				n.HostNetwork = append(n.HostNetwork, e)
				continue
			case !hasIn[e]:
				n.NoIngress = append(n.NoIngress, e)
			}
			if !hasOut[e] {
				n.NoEgress = append(n.NoEgress, e)
			}
		}
		for _, f := range r.Flows {
			if touches(f.From, ns.Name) || touches(f.To, ns.Name) {
				n.Flows = append(n.Flows, f)
			}
		}
		r.Namespaces = append(r.Namespaces, n)
	}
	return r
}

func touches(e *analysis.Endpoint, ns string) bool {
	return (e.Kind == analysis.Workload || e.Kind == analysis.Virtual) && e.Namespace == ns
}

// status says how tierwall treats a namespace.
func status(n Namespace) string {
	if n.InScope() {
		return "protected by tierwall"
	}
	return "skipped: " + n.Skipped
}

// portsText lists a flow's ports.
func portsText(f analysis.Flow) string {
	parts := f.Ports.Strings()
	if f.Ports.Empty() {
		parts = nil
	}
	for _, n := range f.NamedPorts {
		parts = append(parts, n+" (named, on each destination)")
	}
	return strings.Join(parts, ", ")
}

// via says which policies allow a flow on each side.
func via(m *analysis.Model, f analysis.Flow) string {
	var parts []string
	if f.From.Kind != analysis.External && f.From.Kind != analysis.Any {
		parts = append(parts, sideText(m, "egress", f.From, f.Egress))
	}
	if f.To.Kind != analysis.External && f.To.Kind != analysis.Any {
		parts = append(parts, sideText(m, "ingress", f.To, f.Ingress))
	}
	if f.From.Kind == analysis.Any {
		parts = append(parts, "each source's egress applies")
	}
	if f.To.Kind == analysis.Any {
		parts = append(parts, "each destination's ingress applies")
	}
	return strings.Join(parts, "; ")
}

func sideText(m *analysis.Model, dir string, e *analysis.Endpoint, s analysis.Side) string {
	if !s.Isolated {
		if ns, ok := m.Namespace(e.Namespace); ok && !ns.InStream {
			return dir + " unknown (namespace " + ns.Display() + " is not in the input)"
		}
		return dir + " not isolated (no policy selects it)"
	}
	refs := make([]string, len(s.Policies))
	for i, p := range s.Policies {
		refs[i] = p.Ref()
	}
	return dir + " " + strings.Join(refs, ", ")
}

// endpointText names an endpoint with what it is: "production/api
// (Deployment)".
func endpointText(e *analysis.Endpoint) string {
	if e.Kind == analysis.Any {
		return "any"
	}
	return e.String() + " (" + e.Describe() + ")"
}

func names(es []*analysis.Endpoint) string {
	if len(es) == 0 {
		return "none"
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = endpointText(e)
	}
	return strings.Join(out, ", ")
}
