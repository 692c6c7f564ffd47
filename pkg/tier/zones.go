package tier

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/scope"
)

func (d *deriver) isolated(zone string) bool {
	for _, z := range d.in.Spec.Zones.Isolated {
		if z == zone {
			return true
		}
	}
	return false
}

// crossingAllowed reports whether config allows traffic from zone a to b.
func (d *deriver) crossingAllowed(a, b string) bool {
	match := func(pattern, zone string) bool {
		return pattern == zone || (pattern == "*" && !d.isolated(zone))
	}
	for _, c := range d.in.Spec.Zones.AllowCrossing {
		from, to, _ := strings.Cut(c, "->")
		if match(strings.TrimSpace(from), a) && match(strings.TrimSpace(to), b) {
			return true
		}
	}
	return false
}

// zonesOf returns the zones an endpoint's pods may be in. A label selector
// without the zone key may match pods of several zones: those of the
// workloads of the input it matches.
func (d *deriver) zonesOf(e graph.Endpoint) []string {
	key := d.in.Spec.Zones.Key
	switch e.Kind {
	case graph.Workload:
		return []string{e.Zone}
	case graph.CIDR:
		return []string{""}
	}
	if z, ok := e.Selector[key]; ok {
		return []string{z}
	}
	zones := map[string]bool{"": true}
	for _, ns := range d.in.Set.List {
		if e.NamespaceLabels == nil && ns.Name != e.Namespace {
			continue
		}
		if e.NamespaceLabels != nil && !matches(e.NamespaceLabels, nsLabels(ns)) {
			continue
		}
		for _, w := range d.byNS[ns.Name] {
			if matches(e.Selector, w.PodLabels) {
				zones[w.PodLabels[key]] = true
			}
		}
	}
	out := make([]string, 0, len(zones))
	for z := range zones {
		out = append(out, z)
	}
	sort.Strings(out)
	return out
}

func nsLabels(ns scope.Namespace) map[string]string {
	m := map[string]string{policy.NamespaceNameLabel: ns.Name}
	for k, v := range ns.Labels {
		m[k] = v
	}
	return m
}

func matches(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// zoneFilter drops every edge that crosses an isolated zone without an
// explicit spec.zones.allowCrossing, and reports it: NetworkPolicies only
// add, so an allow generated across a zone could never be taken back.
func (d *deriver) zoneFilter(edges []graph.Edge) []graph.Edge {
	if len(d.in.Spec.Zones.Isolated) == 0 {
		return edges
	}
	var out []graph.Edge
	reported := map[string]bool{}
	for _, e := range edges {
		if a, b, crosses := d.crosses(e); crosses {
			msg := fmt.Sprintf("zone conflict: %s (zone %q) -> %s (zone %q) crosses isolated zone %s; not allowed (add \"%s->%s\" to spec.zones.allowCrossing to allow it). Wanted by: %s",
				e.From.Describe(), a, e.To.Describe(), b, isolatedOne(d, a, b), zoneName(a), zoneName(b), e.Reason)
			if !reported[msg] {
				reported[msg] = true
				var ref *result.Ref
				if e.To.Workload != nil {
					ref = result.RefOf(e.To.Workload.Object)
				} else if e.From.Workload != nil {
					ref = result.RefOf(e.From.Workload.Object)
				}
				d.out.Results = append(d.out.Results, result.New(result.Warning, ref, "spec.zones", "%s", msg))
			}
			continue
		}
		out = append(out, e)
	}
	return out
}

func (d *deriver) crosses(e graph.Edge) (string, string, bool) {
	for _, a := range d.zonesOf(e.From) {
		for _, b := range d.zonesOf(e.To) {
			if a != b && (d.isolated(a) || d.isolated(b)) && !d.crossingAllowed(a, b) {
				return a, b, true
			}
		}
	}
	return "", "", false
}

func isolatedOne(d *deriver, a, b string) string {
	if d.isolated(a) {
		return a
	}
	return b
}

func zoneName(z string) string {
	if z == "" {
		return "*"
	}
	return z
}

// zoneExclusion returns a selector that leaves out pods of isolated zones,
// for namespace-wide allows, or nil when the namespace has no such pods.
func (d *deriver) zoneExclusion(ns string) *metav1.LabelSelector {
	if len(d.in.Spec.Zones.Isolated) == 0 {
		return nil
	}
	found := false
	for _, w := range d.byNS[ns] {
		if d.isolated(w.PodLabels[d.in.Spec.Zones.Key]) {
			found = true
		}
	}
	if !found {
		return nil
	}
	vals := append([]string{}, d.in.Spec.Zones.Isolated...)
	sort.Strings(vals)
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: d.in.Spec.Zones.Key, Operator: metav1.LabelSelectorOpNotIn, Values: vals,
	}}}
}

// isolation lets the pods of each listed namespace talk to each other.
func (d *deriver) isolation() {
	for i, name := range d.in.Spec.IsolateNamespaces {
		ns, ok := d.in.Set.Get(name)
		if !ok || !ns.InScope() {
			d.out.Results = append(d.out.Results, result.New(result.Info, nil, fmt.Sprintf("spec.isolateNamespaces[%d]", i),
				"namespace %s is not in scope of this input: no isolation policy", name))
			continue
		}
		sel := metav1.LabelSelector{}
		note := ""
		if ex := d.zoneExclusion(name); ex != nil {
			sel = *ex
			note = fmt.Sprintf("; pods of isolated zones (%s) are left out", strings.Join(ex.MatchExpressions[0].Values, ", "))
			d.out.Results = append(d.out.Results, result.New(result.Info, nil, fmt.Sprintf("spec.isolateNamespaces[%d]", i),
				"namespace %s has pods of an isolated zone: its isolation policy leaves them out", name))
		}
		var types []networkingv1.PolicyType
		g := policy.New(name, "allow-same-namespace", nil, fmt.Sprintf(
			"namespace isolation (config spec.isolateNamespaces[%d]): the pods of this namespace may all talk to each other, and to nothing outside it unless another policy allows it%s", i, note))
		g.Policy.Spec.PodSelector = sel
		peerSel := sel
		peer := networkingv1.NetworkPolicyPeer{PodSelector: &peerSel}
		if *d.in.Spec.DefaultDeny.Ingress {
			types = append(types, policy.Ingress)
			g.Policy.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{peer}}}
		}
		if *d.in.Spec.DefaultDeny.Egress {
			types = append(types, policy.Egress)
			g.Policy.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{peer}}}
		}
		if len(types) == 0 {
			continue
		}
		g.Policy.Spec.PolicyTypes = types
		d.out.Policies = append(d.out.Policies, g)
	}
}
