package report

import (
	"encoding/json"
	"io"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// APIVersion versions the JSON and YAML documents of report and diff
// (docs/report-schema.md, docs/report-schema.json). A field's meaning
// never changes within a version; fields may be added.
const APIVersion = "report.tierwall.io/v1"

// Kinds of the documents.
const (
	ReportKind = "ConnectivityReport"
	DiffKind   = "ConnectivityDiff"
)

// document is the report's JSON and YAML form: endpoints by ID, flows
// referring to them.
type document struct {
	APIVersion string              `json:"apiVersion"`
	Kind       string              `json:"kind"`
	Filters    *jsonFilters        `json:"filters,omitempty"`
	Namespaces []jsonNamespace     `json:"namespaces"`
	Endpoints  []Endpoint          `json:"endpoints"`
	Policies   []PolicyRef         `json:"policies"`
	Flows      []jsonFlow          `json:"flows"`
	Hidden     int                 `json:"hiddenFlows,omitempty"`
	Findings   []*framework.Result `json:"findings,omitempty"`
}

type jsonFilters struct {
	In           []string `json:"in,omitempty"`
	From         []string `json:"from,omitempty"`
	To           []string `json:"to,omitempty"`
	HideBaseline bool     `json:"hideBaseline,omitempty"`
}

type jsonNamespace struct {
	Name        string   `json:"name"`
	InScope     bool     `json:"inScope"`
	Skipped     string   `json:"skipped,omitempty"`
	Workloads   []string `json:"workloads"`
	NoIngress   []string `json:"noIngress"`
	NoEgress    []string `json:"noEgress"`
	HostNetwork []string `json:"hostNetwork"`
}

// Endpoint is an endpoint in the JSON documents of report and diff.
type Endpoint struct {
	ID string `json:"id"`
	// Display is the endpoint's name as the other formats show it.
	Display      string            `json:"display"`
	Kind         analysis.Kind     `json:"kind"`
	Role         string            `json:"role,omitempty"`
	Namespace    string            `json:"namespace,omitempty"`
	Name         string            `json:"name"`
	WorkloadKind string            `json:"workloadKind,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Ports        []Port            `json:"ports,omitempty"`
	CIDR         string            `json:"cidr,omitempty"`
	Selector     *Selector         `json:"selector,omitempty"`
	HostNetwork  bool              `json:"hostNetwork,omitempty"`
	// InInput is false for peers: pods the configuration or a policy
	// names that the input lacks, and addresses.
	InInput         bool `json:"inInput"`
	IngressIsolated bool `json:"ingressIsolated"`
	EgressIsolated  bool `json:"egressIsolated"`
}

// Selector is the policy peer a selector endpoint stands for.
type Selector struct {
	Pods        string `json:"pods,omitempty"`
	Namespaces  string `json:"namespaces,omitempty"`
	InNamespace string `json:"inNamespace,omitempty"`
}

// Port is one port, or a range, or every port of a protocol, with the same
// shape everywhere (a NetworkPolicy port's): a protocol, and a number (with
// endPort for a range), a name (a named port), or neither (every port of
// the protocol).
type Port struct {
	Protocol string `json:"protocol"`
	Port     int32  `json:"port,omitempty"`
	EndPort  int32  `json:"endPort,omitempty"`
	Name     string `json:"name,omitempty"`
}

// PolicyRef is a policy that allows a flow, with why it exists. Flows name
// it by ID.
type PolicyRef struct {
	// ID is "NAMESPACE/KIND/NAME".
	ID string `json:"id"`
	// Ref names the policy as the other formats do: "NAMESPACE/NAME".
	Ref       string `json:"ref"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	// Reason is the policy's tierwall.io/reason annotation.
	Reason string `json:"reason,omitempty"`
	// Generated is true for the policies tierwall wrote.
	Generated bool `json:"generated"`
}

// Side is one direction of a flow: the source's egress or the
// destination's ingress.
type Side struct {
	// Isolated is false when no policy selects the pods for the direction.
	Isolated bool `json:"isolated"`
	// Known is false for pods outside the input, whose own policies are
	// unknown.
	Known bool `json:"known"`
	// Policies are the IDs of the policies that allow the flow on this
	// side, sorted.
	Policies []string `json:"policies"`
}

type jsonFlow struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Ports   []Port `json:"ports"`
	Egress  *Side  `json:"egress,omitempty"`
	Ingress *Side  `json:"ingress,omitempty"`
}

// JSON writes the report as one JSON document; it is never cut.
func JSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.document())
}

// YAML writes the report as one YAML document, the same fields as JSON.
func YAML(w io.Writer, r Report) error {
	out, err := sigsyaml.Marshal(r.document())
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

func (r Report) document() document {
	out := document{APIVersion: APIVersion, Kind: ReportKind, Namespaces: []jsonNamespace{}, Endpoints: []Endpoint{},
		Flows: []jsonFlow{}, Hidden: r.Hidden, Findings: r.Model.Findings}
	policies := PolicySet{}
	if o := r.Options; o.Filtered() {
		out.Filters = &jsonFilters{In: o.In, From: o.From, To: o.To, HideBaseline: o.HideBaseline}
	}
	ids := func(es []*analysis.Endpoint) []string {
		s := []string{}
		for _, e := range es {
			s = append(s, e.ID)
		}
		return s
	}
	for _, n := range r.Namespaces {
		out.Namespaces = append(out.Namespaces, jsonNamespace{
			Name: n.Name, InScope: n.InScope(), Skipped: n.Skipped, Workloads: ids(n.Workloads),
			NoIngress: ids(n.NoIngress), NoEgress: ids(n.NoEgress), HostNetwork: ids(n.HostNetwork),
		})
	}
	used := map[*analysis.Endpoint]bool{}
	shown := map[string]bool{}
	for _, n := range r.Namespaces {
		shown[n.Name] = true
	}
	for _, f := range r.Flows {
		used[f.From], used[f.To] = true, true
		jf := jsonFlow{From: f.From.ID, To: f.To.ID, Ports: Ports(f.Ports, f.NamedPorts)}
		if f.From.Kind != analysis.External && f.From.Kind != analysis.Any {
			jf.Egress = policies.Side(r.Model, f.From, f.Egress)
		}
		if f.To.Kind != analysis.External && f.To.Kind != analysis.Any {
			jf.Ingress = policies.Side(r.Model, f.To, f.Ingress)
		}
		out.Flows = append(out.Flows, jf)
	}
	out.Policies = policies.List()
	for _, e := range r.Model.Endpoints {
		if !used[e] && (e.Kind != analysis.Workload || !shown[e.Namespace]) {
			continue
		}
		out.Endpoints = append(out.Endpoints, EndpointOf(r.Model, e))
	}
	if used[analysis.AnyEndpoint] {
		out.Endpoints = append(out.Endpoints, EndpointOf(r.Model, analysis.AnyEndpoint))
	}
	return out
}

// EndpointOf is an endpoint's JSON form.
func EndpointOf(m *analysis.Model, e *analysis.Endpoint) Endpoint {
	in, eg := m.Isolation(e)
	je := Endpoint{ID: e.ID, Display: e.String(), Kind: e.Kind, Role: e.Role, Namespace: e.Namespace, Name: e.Name,
		WorkloadKind: e.WorkloadKind, Labels: e.Labels, CIDR: e.CIDR, HostNetwork: e.HostNetwork,
		InInput: e.Kind == analysis.Workload, IngressIsolated: in, EgressIsolated: eg}
	if e.Kind == analysis.Any {
		je.Display = "any"
	}
	if e.Peer != nil {
		je.Selector = &Selector{Pods: e.Peer.Pod, Namespaces: e.Peer.Namespace, InNamespace: e.Peer.InNamespace}
		je.Labels = nil // made up to match the selector: not what pods carry
	}
	for _, p := range e.Ports {
		je.Ports = append(je.Ports, Port{Protocol: p.Protocol, Port: p.Port, Name: p.Name})
	}
	return je
}

// Ports is a port set (and named ports, "TCP/http") in the JSON shape.
func Ports(s analysis.PortSet, named []string) []Port {
	out := []Port{}
	for i, ranges := range s {
		proto := analysis.Protocols[i]
		for _, r := range ranges {
			switch {
			case r.Lo <= 1 && r.Hi >= 65535:
				out = append(out, Port{Protocol: proto})
			case r.Lo == r.Hi:
				out = append(out, Port{Protocol: proto, Port: r.Lo})
			default:
				out = append(out, Port{Protocol: proto, Port: r.Lo, EndPort: r.Hi})
			}
		}
	}
	for _, n := range named {
		proto, name, _ := strings.Cut(n, "/")
		out = append(out, Port{Protocol: proto, Name: name})
	}
	return out
}

// PolicySet gathers the policies the flows of a document name, by ID.
type PolicySet map[string]PolicyRef

// Side is one side of a flow at endpoint e in the JSON shape; its
// policies join the set.
func (ps PolicySet) Side(m *analysis.Model, e *analysis.Endpoint, s analysis.Side) *Side {
	js := &Side{Isolated: s.Isolated, Known: true, Policies: ps.Add(s.Policies)}
	if ns, ok := m.Namespace(e.Namespace); ok && !ns.InStream {
		js.Known = false
	}
	return js
}

// Add adds policies to the set and returns their IDs.
func (ps PolicySet) Add(policies []*analysis.Policy) []string {
	ids := []string{}
	for _, p := range policies {
		id := p.Namespace + "/" + p.Object.Kind + "/" + p.Name
		if _, ok := ps[id]; !ok {
			ps[id] = PolicyRef{ID: id, Ref: p.Ref(), Namespace: p.Namespace, Name: p.Name, Kind: p.Object.Kind,
				Reason: p.Object.Annotations[manifest.ReasonAnnotation], Generated: p.Generated()}
		}
		ids = append(ids, id)
	}
	return ids
}

// List is the set, sorted by ID.
func (ps PolicySet) List() []PolicyRef {
	out := []PolicyRef{}
	for _, id := range sortedKeys(ps) {
		out = append(out, ps[id])
	}
	return out
}
