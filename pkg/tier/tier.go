package tier

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/scope"
	"github.com/tierwall/tierwall/pkg/service"
	"github.com/tierwall/tierwall/pkg/workload"
)

// Input is what the derivation reads.
type Input struct {
	Spec      *v1alpha1.Spec
	Set       scope.Set
	Workloads []workload.Workload
	Services  []service.Service
	// More, when set, adds edges from other sources (inference) before the
	// zone filter, resolving configured peers the same way tiers do.
	More func(resolve Resolver) ([]graph.Edge, framework.Results)
}

// Resolver turns a configured peer into endpoints: ns is the namespace the
// peer means when it names none, name names label-selected pods in policy
// names.
type Resolver func(p v1alpha1.Peer, ns, name string) []graph.Endpoint

// Output is what it derives.
type Output struct {
	Edges []graph.Edge
	// Policies that are not edges (namespace isolation).
	Policies []policy.Generated
	// FQDN are egress allows to host names (cilium flavour only).
	FQDN    []FQDNEgress
	Results framework.Results
}

type deriver struct {
	in      Input
	out     Output
	byNS    map[string][]*workload.Workload
	serving map[*workload.Workload][]served
}

// served is a port a workload's clients reach, with how it was found.
type served struct {
	port workload.Port
	via  string
}

// Derive computes every edge of the configuration for the input.
func Derive(in Input) Output {
	d := &deriver{in: in, byNS: map[string][]*workload.Workload{}, serving: map[*workload.Workload][]served{}}
	for i := range in.Workloads {
		w := &in.Workloads[i]
		if ns, ok := in.Set.Get(w.Namespace); !ok || !ns.InScope() {
			continue
		}
		if w.HostNetwork {
			d.out.Results = append(d.out.Results, result.New(result.Info, result.RefOf(w.Object), w.TemplateField("spec", "hostNetwork"),
				"%s %s uses the host network: NetworkPolicy does not apply to its pods and they cannot be selected as peers", w.Kind, w.Name))
			continue
		}
		if len(w.Selector) == 0 {
			// podSelector: {} would select every pod of the namespace.
			d.warn(w, w.TemplateField("metadata", "labels"),
				"%s %s has no pod labels to select its pods by: it gets the baseline only, no tier or allow (label its pod template)", w.Kind, w.Name)
			continue
		}
		d.byNS[w.Namespace] = append(d.byNS[w.Namespace], w)
		d.serving[w] = d.servingPorts(w)
	}
	if *in.Spec.Tiers.Enabled {
		d.tiers()
	}
	d.allows()
	d.annotations()
	d.externalEgress()
	d.isolation()
	if in.More != nil {
		edges, rs := in.More(func(p v1alpha1.Peer, ns, name string) []graph.Endpoint {
			return d.resolve(p, ns, name, nil)
		})
		d.out.Edges = append(d.out.Edges, edges...)
		d.out.Results = append(d.out.Results, rs...)
	}
	d.entryReachable()
	d.httpRules()
	d.out.Edges, d.out.FQDN = d.l7(d.out.Edges, d.fqdnEgress())
	d.out.Edges = d.zoneFilter(d.out.Edges)
	return d.out
}

func (d *deriver) warn(w *workload.Workload, field, format string, args ...any) {
	var ref *result.Ref
	if w != nil {
		ref = result.RefOf(w.Object)
	}
	d.out.Results = append(d.out.Results, result.New(result.Warning, ref, field, format, args...))
}

// servingPorts are the ports clients reach: the pod ports behind the
// Services that select the workload, or else its declared ports other than
// metrics ports (Prometheus has its own allow).
func (d *deriver) servingPorts(w *workload.Workload) []served {
	var out []served
	seen := map[workload.Port]bool{}
	for _, s := range d.in.Services {
		if !s.Selects(*w) {
			continue
		}
		for _, p := range s.Ports {
			wp, declared, ok := s.Target(p, *w)
			if !ok {
				d.out.Results = append(d.out.Results, result.New(result.Warning, result.RefOf(s.Object), "spec.ports", "%s port %d targets %q, which no container of %s %s declares: no allow for it",
					s.Ref(), p.Port, p.TargetPort, w.Kind, w.Name))
				continue
			}
			key := workload.Port{Port: wp.Port, Protocol: wp.Protocol}
			if seen[key] {
				continue
			}
			seen[key] = true
			via := fmt.Sprintf("%s port %d -> pod port %d", s.Ref(), p.Port, wp.Port)
			if wp.Name != "" {
				via = fmt.Sprintf("%s port %d -> pod port %s (%d)", s.Ref(), p.Port, wp.Name, wp.Port)
			}
			if !declared {
				via += ", not declared by the pod"
			}
			out = append(out, served{port: key, via: via})
		}
	}
	if len(out) > 0 {
		sortServed(out)
		return out
	}
	for _, p := range w.Ports {
		if isMetrics(p.Name) {
			continue
		}
		key := workload.Port{Port: p.Port, Protocol: p.Protocol}
		if seen[key] {
			continue
		}
		seen[key] = true
		via := fmt.Sprintf("declared container port %d", p.Port)
		if p.Name != "" {
			via = fmt.Sprintf("declared container port %s (%d)", p.Name, p.Port)
		}
		out = append(out, served{port: key, via: via})
	}
	sortServed(out)
	return out
}

func sortServed(s []served) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].port.Port != s[j].port.Port {
			return s[i].port.Port < s[j].port.Port
		}
		return s[i].port.Protocol < s[j].port.Protocol
	})
}

func isMetrics(name string) bool {
	return name == "metrics" || name == "http-metrics" || strings.HasSuffix(name, "-metrics")
}

// ports returns the policy ports of a workload's serving ports.
func (d *deriver) ports(w *workload.Workload) ([]networkingv1.NetworkPolicyPort, string) {
	var ports []networkingv1.NetworkPolicyPort
	var vias []string
	for _, s := range d.serving[w] {
		ports = append(ports, policy.Port(s.port.Protocol, s.port.Port))
		vias = append(vias, s.via)
	}
	return ports, strings.Join(vias, ", ")
}

// tierOf returns the index in the chain of the workload's tier.
func (d *deriver) tierOf(w *workload.Workload) (int, string, bool) {
	for _, key := range d.in.Spec.Tiers.Labels {
		v, ok := w.PodLabels[key]
		if !ok {
			v, ok = w.Object.Labels[key]
		}
		if !ok {
			continue
		}
		if i, ok := d.chainIndex(v); ok {
			return i, key + "=" + v, true
		}
		return -1, key + "=" + v, false
	}
	return -1, "", false
}

func (d *deriver) chainIndex(value string) (int, bool) {
	v := strings.ToLower(value)
	for i, t := range d.in.Spec.Tiers.Chain {
		if strings.ToLower(t.Name) == v {
			return i, true
		}
		for _, a := range t.Aliases {
			if strings.ToLower(a) == v {
				return i, true
			}
		}
	}
	return -1, false
}

func (d *deriver) tiers() {
	chain := d.in.Spec.Tiers.Chain
	for _, ns := range d.in.Set.List {
		if !ns.InScope() {
			continue
		}
		byTier := make([][]*workload.Workload, len(chain))
		labels := map[*workload.Workload]string{}
		for _, w := range d.byNS[ns.Name] {
			i, label, ok := d.tierOf(w)
			if !ok {
				if label != "" {
					d.out.Results = append(d.out.Results, result.New(result.Info, result.RefOf(w.Object), "",
						"%s %s has label %s, which is no tier of spec.tiers.chain: baseline only", w.Kind, w.Name, label))
				}
				continue
			}
			byTier[i] = append(byTier[i], w)
			labels[w] = label
		}
		for i, ws := range byTier {
			for _, w := range ws {
				ports, via := d.ports(w)
				if len(ports) == 0 {
					d.warn(w, "spec.template.spec.containers[].ports",
						"%s %s is in tier %s but declares no port: it gets no ingress (declare its container ports)", w.Kind, w.Name, chain[i].Name)
					continue
				}
				to := graph.FromWorkload(w, d.in.Spec.Zones.Key)
				if i == 0 {
					for _, p := range d.in.Spec.Tiers.Entry {
						for _, from := range d.resolve(p, ns.Name, "tier-entry", nil) {
							d.out.Edges = append(d.out.Edges, graph.Edge{From: from, To: to, Ports: ports, Reason: fmt.Sprintf(
								"first tier %s (label %s): entry from %s (config spec.tiers.entry) on %s",
								chain[0].Name, labels[w], from.Describe(), via)})
						}
					}
					continue
				}
				if len(byTier[i-1]) == 0 {
					d.out.Results = append(d.out.Results, result.New(result.Info, result.RefOf(w.Object), "",
						"%s %s is in tier %s but namespace %s has no workload of tier %s before it: it gets no ingress from a tier",
						w.Kind, w.Name, chain[i].Name, ns.Display(), chain[i-1].Name))
				}
				for _, v := range byTier[i-1] {
					from := graph.FromWorkload(v, d.in.Spec.Zones.Key)
					d.out.Edges = append(d.out.Edges, graph.Edge{From: from, To: to, Ports: ports, Reason: fmt.Sprintf(
						"tier chain %s -> %s: %s (label %s) may reach %s (label %s) on %s",
						chain[i-1].Name, chain[i].Name, from.Describe(), labels[v], to.Describe(), labels[w], via)})
				}
			}
		}
	}
}

// entryReachable warns when the tier entry's pods are in a namespace
// tierwall default-denies and nothing admits traffic from outside the
// cluster to them (no LoadBalancer or NodePort Service in the input, no
// allow): the whole chain would then be unreachable.
func (d *deriver) entryReachable() {
	if !*d.in.Spec.Tiers.Enabled || !*d.in.Spec.DefaultDeny.Ingress {
		return
	}
	for i, p := range d.in.Spec.Tiers.Entry {
		if p.Namespace == "" || p.CIDR != "" {
			continue
		}
		ns, ok := d.in.Set.Get(p.Namespace)
		if !ok || !ns.InScope() || len(d.byNS[p.Namespace]) == 0 {
			continue
		}
		reached := false
		for _, e := range d.out.Edges {
			if e.To.Namespace == p.Namespace && e.From.Kind == graph.CIDR {
				reached = true
				break
			}
		}
		if !reached {
			d.out.Results = append(d.out.Results, result.New(result.Warning, &result.Ref{APIVersion: "v1", Kind: "Namespace", Name: p.Namespace},
				fmt.Sprintf("spec.tiers.entry[%d]", i),
				"namespace %s holds the tier entry pods and is default-denied, but nothing admits traffic from outside the cluster to them: include their LoadBalancer or NodePort Service in the input, add an allow, or skip the namespace", p.Namespace))
		}
	}
}
