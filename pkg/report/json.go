package report

import (
	"encoding/json"
	"io"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
)

// jsonReport is the JSON form: endpoints by ID, flows referring to them.
type jsonReport struct {
	Namespaces []jsonNamespace     `json:"namespaces"`
	Endpoints  []jsonEndpoint      `json:"endpoints"`
	Flows      []jsonFlow          `json:"flows"`
	Findings   []*framework.Result `json:"findings,omitempty"`
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

type jsonEndpoint struct {
	ID              string            `json:"id"`
	Kind            analysis.Kind     `json:"kind"`
	Role            string            `json:"role,omitempty"`
	Namespace       string            `json:"namespace,omitempty"`
	Name            string            `json:"name"`
	WorkloadKind    string            `json:"workloadKind,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	Ports           []jsonPort        `json:"ports,omitempty"`
	CIDR            string            `json:"cidr,omitempty"`
	HostNetwork     bool              `json:"hostNetwork,omitempty"`
	IngressIsolated bool              `json:"ingressIsolated"`
	EgressIsolated  bool              `json:"egressIsolated"`
}

type jsonPort struct {
	Name     string `json:"name,omitempty"`
	Port     int32  `json:"port"`
	Protocol string `json:"protocol"`
}

type jsonFlow struct {
	From       string    `json:"from"`
	To         string    `json:"to"`
	Ports      []string  `json:"ports"`
	NamedPorts []string  `json:"namedPorts,omitempty"`
	Egress     *jsonSide `json:"egress,omitempty"`
	Ingress    *jsonSide `json:"ingress,omitempty"`
}

type jsonSide struct {
	Isolated bool     `json:"isolated"`
	Policies []string `json:"policies"`
}

// JSON writes the report as one JSON document.
func JSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(document(r))
}

// YAML writes the report as one YAML document, the same fields as JSON.
func YAML(w io.Writer, r Report) error {
	out, err := sigsyaml.Marshal(document(r))
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// document is the report's JSON and YAML form.
func document(r Report) jsonReport {
	out := jsonReport{Namespaces: []jsonNamespace{}, Endpoints: []jsonEndpoint{}, Flows: []jsonFlow{}, Findings: r.Model.Findings}
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
	for _, f := range r.Flows {
		used[f.From], used[f.To] = true, true
		jf := jsonFlow{From: f.From.ID, To: f.To.ID, Ports: f.Ports.Strings(), NamedPorts: f.NamedPorts}
		if f.Ports.Empty() {
			jf.Ports = []string{}
		}
		if f.From.Kind != analysis.External && f.From.Kind != analysis.Any {
			jf.Egress = side(f.Egress)
		}
		if f.To.Kind != analysis.External && f.To.Kind != analysis.Any {
			jf.Ingress = side(f.Ingress)
		}
		out.Flows = append(out.Flows, jf)
	}
	for _, e := range r.Model.Endpoints {
		if e.Kind != analysis.Workload && !used[e] {
			continue
		}
		in, eg := r.Model.Isolation(e)
		je := jsonEndpoint{ID: e.ID, Kind: e.Kind, Role: e.Role, Namespace: e.Namespace, Name: e.Name, WorkloadKind: e.WorkloadKind,
			Labels: e.Labels, CIDR: e.CIDR, HostNetwork: e.HostNetwork, IngressIsolated: in, EgressIsolated: eg}
		for _, p := range e.Ports {
			je.Ports = append(je.Ports, jsonPort{Name: p.Name, Port: p.Port, Protocol: p.Protocol})
		}
		out.Endpoints = append(out.Endpoints, je)
	}
	return out
}

func side(s analysis.Side) *jsonSide {
	js := &jsonSide{Isolated: s.Isolated, Policies: []string{}}
	for _, p := range s.Policies {
		js.Policies = append(js.Policies, p.Ref())
	}
	return js
}
