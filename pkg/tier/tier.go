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
	FQDN    []graph.FQDNEgress
	Results framework.Results
}

type deriver struct {
	in   Input
	out  Output
	byNS map[string][]*workload.Workload
	// allByNS holds every workload of the input by namespace, hostNetwork and
	// unlabelled ones included: a group's label must match none of theirs.
	allByNS    map[string][]*workload.Workload
	noGrouping bool
	// services finds the Services selecting a workload.
	services service.Index
	serving  map[*workload.Workload][]served
}

// served is a port a workload's clients reach, with how it was found.
type served struct {
	port workload.Port
	via  string
}

// Derive computes every edge of the configuration for the input.
func Derive(in Input) Output {
	d := &deriver{in: in, byNS: map[string][]*workload.Workload{}, allByNS: map[string][]*workload.Workload{}, serving: map[*workload.Workload][]served{}}
	d.noGrouping = len(in.Spec.Cilium.HTTP) > 0
	d.services = service.NewIndex(in.Services)
	for i := range in.Workloads {
		w := &in.Workloads[i]
		d.allByNS[w.Namespace] = append(d.allByNS[w.Namespace], w)
		if _, ok := w.Object.Annotations[HTTPRulesAnnotation]; ok {
			d.noGrouping = true
		}
	}
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
	for _, s := range d.services.Selecting(*w) {
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
		if workload.IsMetricsPortName(p.Name) {
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
		for i := range byTier {
			dsts := d.tierDestinations(ns.Name, byTier[i], chain[i].Name, labels)
			if i == 0 {
				for _, dst := range dsts {
					for _, p := range d.in.Spec.Tiers.Entry {
						for _, from := range d.resolve(p, ns.Name, "tier-entry", nil) {
							d.out.Edges = append(d.out.Edges, graph.Edge{From: from, To: dst.ep, Ports: dst.ports, Source: "tiers", Reason: fmt.Sprintf(
								"first tier %s (%s): entry from %s (config spec.tiers.entry) on %s",
								chain[0].Name, dst.label, from.Describe(), dst.via)})
						}
					}
				}
				continue
			}
			if len(byTier[i-1]) == 0 {
				for _, w := range byTier[i] {
					d.out.Results = append(d.out.Results, result.New(result.Info, result.RefOf(w.Object), "",
						"%s %s is in tier %s but namespace %s has no workload of tier %s before it: it gets no ingress from a tier",
						w.Kind, w.Name, chain[i].Name, ns.Display(), chain[i-1].Name))
				}
				continue
			}
			srcs := d.tierEnds(ns.Name, byTier[i-1], chain[i-1].Name, labels)
			for _, dst := range dsts {
				for _, src := range srcs {
					d.out.Edges = append(d.out.Edges, graph.Edge{From: src.ep, To: dst.ep, Ports: dst.ports, Source: "tiers", Reason: fmt.Sprintf(
						"tier chain %s -> %s: %s (%s) may reach %s (%s) on %s",
						chain[i-1].Name, chain[i].Name, src.ep.Describe(), src.label, dst.ep.Describe(), dst.label, dst.via)})
				}
			}
		}
	}
}

// GroupAbove is the number of workloads of one tier above which tier
// policies select the tier's pods by a label they alone share (e.g.
// tier=frontend) instead of one selector per workload, so that the output
// grows with the workloads, not with their square.
const GroupAbove = 4

// tierEnd is one side of tier edges: a workload, or a group of workloads
// selected by a label common to exactly them.
type tierEnd struct {
	ep    graph.Endpoint
	ports []networkingv1.NetworkPolicyPort
	via   string
	label string
}

// tierDestinations returns the destinations of a tier, with their ports:
// workloads with the same ports are grouped when there are more than
// GroupAbove of them and a label selects exactly them.
func (d *deriver) tierDestinations(ns string, ws []*workload.Workload, tier string, labels map[*workload.Workload]string) []tierEnd {
	byPorts := map[string][]*workload.Workload{}
	var keys []string
	portsOf := map[string][]networkingv1.NetworkPolicyPort{}
	for _, w := range ws {
		ports, _ := d.ports(w)
		if len(ports) == 0 {
			d.warn(w, w.TemplateField("spec", "containers[].ports"),
				"%s %s is in tier %s but declares no port: it gets no ingress (declare its container ports)", w.Kind, w.Name, tier)
			continue
		}
		k := graph.PortsString(ports) + "|" + w.PodLabels[d.in.Spec.Zones.Key]
		if _, ok := byPorts[k]; !ok {
			keys = append(keys, k)
			portsOf[k] = ports
		}
		byPorts[k] = append(byPorts[k], w)
	}
	var out []tierEnd
	for _, k := range keys {
		group := byPorts[k]
		if sel, ok := d.groupSelector(ns, group); ok {
			out = append(out, tierEnd{ep: d.groupEndpoint(ns, sel, tier), ports: portsOf[k], label: groupLabel(group, tier),
				via: fmt.Sprintf("%s, the ports of each", graph.PortsString(portsOf[k]))})
			continue
		}
		for _, w := range group {
			ports, via := d.ports(w)
			out = append(out, tierEnd{ep: graph.FromWorkload(w, d.in.Spec.Zones.Key), ports: ports, via: via, label: "label " + labels[w]})
		}
	}
	return out
}

// tierEnds returns the sources of tier edges: the tier's workloads, grouped
// as tierDestinations does (ports do not matter for sources).
func (d *deriver) tierEnds(ns string, ws []*workload.Workload, tier string, labels map[*workload.Workload]string) []tierEnd {
	byZone := map[string][]*workload.Workload{}
	var zones []string
	for _, w := range ws {
		z := w.PodLabels[d.in.Spec.Zones.Key]
		if _, ok := byZone[z]; !ok {
			zones = append(zones, z)
		}
		byZone[z] = append(byZone[z], w)
	}
	var out []tierEnd
	for _, z := range zones {
		group := byZone[z]
		if sel, ok := d.groupSelector(ns, group); ok {
			out = append(out, tierEnd{ep: d.groupEndpoint(ns, sel, tier), label: groupLabel(group, tier)})
			continue
		}
		for _, w := range group {
			out = append(out, tierEnd{ep: graph.FromWorkload(w, d.in.Spec.Zones.Key), label: "label " + labels[w]})
		}
	}
	return out
}

func (d *deriver) groupEndpoint(ns string, sel map[string]string, tier string) graph.Endpoint {
	return graph.Endpoint{Kind: graph.Pods, Namespace: ns, Selector: sel, Name: tier + "-tier", Zone: sel[d.in.Spec.Zones.Key]}
}

func groupLabel(group []*workload.Workload, tier string) string {
	names := make([]string, 0, len(group))
	for _, w := range group {
		names = append(names, w.Name)
	}
	sort.Strings(names)
	more := ""
	if len(names) > 5 {
		more = fmt.Sprintf(" and %d more", len(names)-5)
		names = names[:5]
	}
	return fmt.Sprintf("the %d workloads of tier %s: %s%s", len(group), tier, strings.Join(names, ", "), more)
}

// groupSelector finds labels that the pods of every workload of group carry
// and the pods of no other workload of namespace ns do, preferring one tier
// label. It declines for groups of GroupAbove workloads or fewer, and when
// L7 HTTP rules are configured (they need each peer on its own).
func (d *deriver) groupSelector(ns string, group []*workload.Workload) (map[string]string, bool) {
	if len(group) <= GroupAbove || d.noGrouping {
		return nil, false
	}
	common := map[string]string{}
	for k, v := range group[0].PodLabels {
		common[k] = v
	}
	for _, w := range group[1:] {
		for k, v := range common {
			if w.PodLabels[k] != v {
				delete(common, k)
			}
		}
	}
	if len(common) == 0 {
		return nil, false
	}
	in := map[*workload.Workload]bool{}
	for _, w := range group {
		in[w] = true
	}
	exact := func(sel map[string]string) bool {
		for _, w := range d.allByNS[ns] {
			if in[w] {
				continue
			}
			if matchesLabels(sel, w.PodLabels) {
				return false
			}
		}
		return true
	}
	var keys []string
	for _, k := range d.in.Spec.Tiers.Labels {
		if _, ok := common[k]; ok {
			keys = append(keys, k)
		}
	}
	var rest []string
	for k := range common {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	keys = append(keys, rest...)
	for _, k := range keys {
		if sel := map[string]string{k: common[k]}; exact(sel) {
			return sel, true
		}
	}
	if exact(common) {
		return common, true
	}
	return nil, false
}

func matchesLabels(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
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
