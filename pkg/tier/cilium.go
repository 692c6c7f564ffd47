package tier

import (
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/workload"
)

// Annotations for the Cilium rules a team writes on its own workloads.
const (
	// HTTPRulesAnnotation holds a YAML list of {from: [peers], ports:
	// [ports], rules: [{method, path}]} for the workload's ingress.
	HTTPRulesAnnotation = "tierwall.io/http-rules"
	// EgressFQDNsAnnotation lists host:port pairs the workload may reach,
	// "api.github.com:443,*.githubusercontent.com:443".
	EgressFQDNsAnnotation = "tierwall.io/egress-fqdns"
)

type annotatedHTTP struct {
	From  []v1alpha1.Peer     `json:"from"`
	Ports []v1alpha1.PortSpec `json:"ports,omitempty"`
	Rules []v1alpha1.HTTPRule `json:"rules"`
}

// httpRules adds the L7 HTTP edges of config and annotations.
func (d *deriver) httpRules() {
	for i, h := range d.in.Spec.Cilium.HTTP {
		name := h.Name
		if name == "" {
			name = fmt.Sprintf("http-%d", i)
		}
		for _, to := range d.resolve(h.To, h.Namespace, name, nil) {
			d.httpEdges(to, h.From, h.Ports, h.Rules, h.Namespace, fmt.Sprintf("HTTP rules %s (config spec.cilium.http[%d])", name, i), nil)
		}
	}
	for _, ns := range d.in.Set.List {
		for _, w := range d.byNS[ns.Name] {
			raw, ok := w.Object.Annotations[HTTPRulesAnnotation]
			if !ok {
				continue
			}
			field := "metadata.annotations." + HTTPRulesAnnotation
			var list []annotatedHTTP
			if err := sigsyaml.UnmarshalStrict([]byte(raw), &list); err != nil || len(list) == 0 {
				d.out.Results = append(d.out.Results, result.New(result.Error, result.RefOf(w.Object), field,
					"%s must be a YAML list of {from: [peers], ports: [ports], rules: [{method, path}]}: %v", HTTPRulesAnnotation, err))
				continue
			}
			var errs []string
			for j, a := range list {
				for k, p := range a.From {
					errs = append(errs, v1alpha1.ValidatePeer(p, fmt.Sprintf("[%d].from[%d]", j, k), d.in.Spec)...)
				}
				if len(a.From) == 0 || len(a.Rules) == 0 {
					errs = append(errs, fmt.Sprintf("[%d]: from and rules are required", j))
				}
				errs = append(errs, v1alpha1.ValidatePorts(a.Ports, fmt.Sprintf("[%d].ports", j))...)
			}
			if len(errs) > 0 {
				d.out.Results = append(d.out.Results, result.New(result.Error, result.RefOf(w.Object), field,
					"invalid %s: %s", HTTPRulesAnnotation, strings.Join(errs, "; ")))
				continue
			}
			to := graph.FromWorkload(w, d.in.Spec.Zones.Key)
			for _, a := range list {
				d.httpEdges(to, a.From, a.Ports, a.Rules, w.Namespace, fmt.Sprintf("annotation %s on %s", HTTPRulesAnnotation, to.Describe()), w)
			}
		}
	}
}

func (d *deriver) httpEdges(to graph.Endpoint, from []v1alpha1.Peer, ports []v1alpha1.PortSpec, rules []v1alpha1.HTTPRule, ns, origin string, owner *workload.Workload) {
	dports, via, ok := d.destPorts(ports, to)
	if !ok {
		d.warn(owner, "", "%s: %s declares no port and none is configured: nothing allowed", origin, to.Describe())
		return
	}
	var hr []graph.HTTPRule
	var desc []string
	for _, r := range rules {
		hr = append(hr, graph.HTTPRule{Method: r.Method, Path: r.Path, Host: r.Host})
		desc = append(desc, strings.TrimSpace(r.Method+" "+r.Path))
	}
	for _, p := range from {
		for _, f := range d.resolve(p, ns, to.Name+"-http", owner) {
			d.out.Edges = append(d.out.Edges, graph.Edge{From: f, To: to, Ports: dports, HTTP: hr, Reason: fmt.Sprintf(
				"%s: %s may reach %s on %s only with %s", origin, f.Describe(), to.Describe(), via, strings.Join(desc, ", "))})
		}
	}
}

// fqdnEgress collects the host-name egress of config and annotations.
func (d *deriver) fqdnEgress() []graph.FQDNEgress {
	var out []graph.FQDNEgress
	for i, f := range d.in.Spec.Cilium.FQDN {
		name := f.Name
		if name == "" {
			name = fmt.Sprintf("fqdn-%d", i)
		}
		for _, from := range d.resolve(f.Pods, f.Namespace, name, nil) {
			out = append(out, graph.FQDNEgress{From: from, Hosts: f.Hosts, Ports: portsOf(f.Ports), Reason: fmt.Sprintf(
				"FQDN egress %s (config spec.cilium.fqdn[%d]): %s may reach %s", name, i, from.Describe(), hostList(f.Hosts))})
		}
	}
	for _, ns := range d.in.Set.List {
		for _, w := range d.byNS[ns.Name] {
			raw, ok := w.Object.Annotations[EgressFQDNsAnnotation]
			if !ok {
				continue
			}
			field := "metadata.annotations." + EgressFQDNsAnnotation
			byPort := map[string][]v1alpha1.FQDN{}
			var order []string
			bad := false
			for _, entry := range strings.Split(raw, ",") {
				entry = strings.TrimSpace(entry)
				if entry == "" {
					continue
				}
				host, port, ok := strings.Cut(entry, ":")
				h := v1alpha1.FQDN{MatchName: host}
				if strings.Contains(host, "*") {
					h = v1alpha1.FQDN{MatchPattern: host}
				}
				errs := v1alpha1.ValidatePorts([]v1alpha1.PortSpec{{Port: intstrOf(port)}}, "port")
				if !ok || len(errs) > 0 || v1alpha1.ValidateFQDN(h) != "" || intstrOf(port).StrVal != "" {
					d.out.Results = append(d.out.Results, result.New(result.Error, result.RefOf(w.Object), field,
						"invalid %s entry %q: write host:port, e.g. api.github.com:443 or *.github.com:443", EgressFQDNsAnnotation, entry))
					bad = true
					continue
				}
				if _, seen := byPort[port]; !seen {
					order = append(order, port)
				}
				byPort[port] = append(byPort[port], h)
			}
			if bad {
				continue
			}
			from := graph.FromWorkload(w, d.in.Spec.Zones.Key)
			for _, port := range order {
				ports := portsOf([]v1alpha1.PortSpec{{Port: intstrOf(port)}})
				out = append(out, graph.FQDNEgress{From: from, Hosts: byPort[port], Ports: ports, Reason: fmt.Sprintf(
					"annotation %s on %s: it may reach %s on %s", EgressFQDNsAnnotation, from.Describe(), hostList(byPort[port]), graph.PortsString(ports))})
			}
		}
	}
	return out
}

func hostList(hs []v1alpha1.FQDN) string {
	var parts []string
	for _, h := range hs {
		if h.MatchName != "" {
			parts = append(parts, h.MatchName)
		} else {
			parts = append(parts, h.MatchPattern)
		}
	}
	return strings.Join(parts, ", ")
}

// l7 applies the flavour to the HTTP edges and FQDN egress: the cilium
// flavour removes the plain L4 ingress that would make L7 rules moot; the
// kubernetes flavour drops or widens them, as configured.
func (d *deriver) l7(edges []graph.Edge, fqdn []graph.FQDNEgress) ([]graph.Edge, []graph.FQDNEgress) {
	kubernetes := d.in.Spec.Flavor == v1alpha1.FlavorKubernetes
	if !slices.ContainsFunc(edges, func(e graph.Edge) bool { return e.HTTP != nil }) && (!kubernetes || len(fqdn) == 0) {
		// No HTTP rules, and no host names the flavour cannot write: the
		// edges stay as they are.
		if kubernetes {
			fqdn = nil
		}
		return edges, fqdn
	}
	if kubernetes {
		widen := d.in.Spec.Cilium.KubernetesFallback == v1alpha1.FallbackWiden
		out := make([]graph.Edge, 0, len(edges)+2*len(fqdn))
		for _, e := range edges {
			if e.HTTP == nil {
				out = append(out, e)
				continue
			}
			if widen {
				e.HTTP = nil
				e.Reason += " (widened to a plain L4 allow: the kubernetes flavour cannot express HTTP rules, config spec.cilium.kubernetesFallback: widen)"
				out = append(out, e)
				d.out.Results = append(d.out.Results, result.New(result.Warning, refOf(e.To), "spec.cilium.kubernetesFallback",
					"HTTP rules for %s from %s widened to a plain L4 allow on %s (flavor kubernetes)", e.To.Describe(), e.From.Describe(), graph.PortsString(e.Ports)))
			} else {
				d.out.Results = append(d.out.Results, result.New(result.Warning, refOf(e.To), "spec.cilium.kubernetesFallback",
					"HTTP rules for %s from %s left out: flavor kubernetes cannot express them (they allow nothing; other allows stay as they are)", e.To.Describe(), e.From.Describe()))
			}
		}
		for _, f := range fqdn {
			if !widen {
				d.out.Results = append(d.out.Results, result.New(result.Warning, refOf(f.From), "spec.cilium.kubernetesFallback",
					"FQDN egress of %s to %s left out: flavor kubernetes cannot express host names (nothing is allowed for them)", f.From.Describe(), hostList(f.Hosts)))
				continue
			}
			for _, c := range []string{"0.0.0.0/0", "::/0"} {
				to := graph.Endpoint{Kind: graph.CIDR, CIDR: c, Except: within(c, DefaultExcept), Name: f.From.Name}
				out = append(out, graph.Edge{From: f.From, To: to, Ports: f.Ports, Reason: f.Reason +
					" (widened to every public address: the kubernetes flavour cannot express host names, config spec.cilium.kubernetesFallback: widen)"})
			}
			d.out.Results = append(d.out.Results, result.New(result.Warning, refOf(f.From), "spec.cilium.kubernetesFallback",
				"FQDN egress of %s to %s widened to 0.0.0.0/0 and ::/0 without private ranges on %s (flavor kubernetes)", f.From.Describe(), hostList(f.Hosts), graph.PortsString(f.Ports)))
		}
		return out, nil
	}
	// cilium: an L4 allow from the same peer to the same port would make the
	// L7 rules moot; move its ingress side to the L7 rule. Only the HTTP
	// edges are compared with each port, not every edge.
	var http []*graph.Edge
	for i := range edges {
		if edges[i].HTTP != nil {
			http = append(http, &edges[i])
		}
	}
	out := make([]graph.Edge, 0, len(edges))
	for _, e := range edges {
		if e.HTTP != nil {
			out = append(out, e)
			continue
		}
		var shadowed, rest []networkingv1.NetworkPolicyPort
		for _, p := range e.Ports {
			if d.l7Covers(http, e, p) {
				shadowed = append(shadowed, p)
			} else {
				rest = append(rest, p)
			}
		}
		if len(shadowed) == 0 {
			out = append(out, e)
			continue
		}
		if len(rest) > 0 || len(e.Ports) == 0 {
			keep := e
			keep.Ports = rest
			out = append(out, keep)
		}
		moved := e
		moved.Ports = shadowed
		moved.SkipIngress = true
		out = append(out, moved)
	}
	return out, fqdn
}

// l7Covers reports whether one of the HTTP edges has the same peer,
// destination and port as e on port p; a wider L4 edge on that port is
// reported as making the L7 rules moot.
func (d *deriver) l7Covers(http []*graph.Edge, e graph.Edge, p networkingv1.NetworkPolicyPort) bool {
	for _, h := range http {
		if !graph.Same(h.To, e.To) || !hasPort(h.Ports, p) {
			continue
		}
		if graph.Same(h.From, e.From) {
			return true
		}
		if graph.Covers(e.From, h.From) {
			d.out.Results = append(d.out.Results, result.New(result.Warning, refOf(e.To), "",
				"the L7 HTTP rules for %s from %s are moot on %s: %s allows a wider peer at L4 (%s)",
				e.To.Describe(), h.From.Describe(), graph.PortsString([]networkingv1.NetworkPolicyPort{p}), e.From.Describe(), e.Reason))
		}
	}
	return false
}

func hasPort(ps []networkingv1.NetworkPolicyPort, p networkingv1.NetworkPolicyPort) bool {
	for _, q := range ps {
		if graph.PortsString([]networkingv1.NetworkPolicyPort{q}) == graph.PortsString([]networkingv1.NetworkPolicyPort{p}) {
			return true
		}
	}
	return false
}

func refOf(e graph.Endpoint) *result.Ref {
	if e.Workload != nil {
		return result.RefOf(e.Workload.Object)
	}
	return nil
}

func intstrOf(s string) intstr.IntOrString { return intstr.Parse(strings.TrimSpace(s)) }
