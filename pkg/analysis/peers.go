package analysis

import (
	"sort"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// Roles of the virtual endpoints that stand for the peers of policies
// (Options.SelectorPeers).
const (
	// RoleSelector stands for the pods a peer selector names that no
	// endpoint of the input matches: "pods app=grafana in namespaces
	// name=monitoring".
	RoleSelector = "selector"
	// RoleNamespace stands for every pod of the namespaces a
	// namespaceSelector-only peer names: "every pod in namespace
	// kube-system", "every pod in every namespace".
	RoleNamespace = "namespace"
)

// PeerSelector is the peer of a policy rule that a selector or namespace
// endpoint stands for, as the rule wrote it.
type PeerSelector struct {
	// Pod is the podSelector as text ("app=grafana"); "" when the peer
	// sets none or an empty one (every pod).
	Pod string
	// Namespace is the namespaceSelector as text; "" with InNamespace set
	// when the peer has no namespaceSelector (the policy's own namespace),
	// "" with InNamespace empty for an empty one (every namespace).
	Namespace string
	// InNamespace is the one namespace the peer is limited to: the policy's
	// own when the peer has no namespaceSelector, or the name a
	// namespaceSelector pins with kubernetes.io/metadata.name alone.
	InNamespace string

	pod, ns labels.Selector // ns nil: the policy's namespace only
}

// Text names the peer for people: "pods app=grafana in namespaces
// name=monitoring", "every pod in namespace kube-system".
func (p *PeerSelector) Text() string {
	pods := "every pod"
	if p.Pod != "" {
		pods = "pods " + p.Pod
	}
	switch {
	case p.InNamespace != "":
		return pods + " in namespace " + p.InNamespace
	case p.Namespace == "":
		return pods + " in every namespace"
	}
	return pods + " in namespaces " + p.Namespace
}

// Matches reports whether the peer matches pods with podLabels in a
// namespace with nsLabels (kubernetes.io/metadata.name included).
func (p *PeerSelector) Matches(podLabels, nsLabels map[string]string) bool {
	if p.ns == nil {
		if nsLabels[NamespaceNameLabel] != p.InNamespace {
			return false
		}
	} else if !p.ns.Matches(labels.Set(nsLabels)) {
		return false
	}
	return p.pod == nil || p.pod.Matches(labels.Set(podLabels))
}

// addSelectorPeers adds a virtual endpoint for each distinct peer selector
// of the policies that no endpoint matches, and for each peer that names
// whole namespaces beyond the input (a namespaceSelector alone, matching a
// namespace the input does not hold or none at all), so that every allowed
// flow has its two ends. Each stands in a namespace whose labels the
// selector matches: the policy's own, the one it pins by name, or a
// namespace of its own named by the selector. Endpoints and namespaces are
// only added, never changed, so what the policies allow between the other
// endpoints stays the same.
func (m *Model) addSelectorPeers() {
	byNS := map[string][]*Endpoint{}
	for _, e := range m.Endpoints {
		if (e.Kind == Workload || e.Kind == Virtual) && !e.HostNetwork {
			byNS[e.Namespace] = append(byNS[e.Namespace], e)
		}
	}
	// Coverage is judged against what was there before, so that the peers
	// added do not depend on the order of the policies.
	namespaces := append([]*Namespace{}, m.Namespaces...)
	seen := map[string]bool{}
	for _, p := range m.Policies {
		for _, rules := range [][]*Rule{p.IngressRules, p.EgressRules} {
			for _, r := range rules {
				for _, pm := range r.peers {
					if pm.isBlock {
						continue
					}
					ps := peerSelector(p.Namespace, pm)
					key := ps.Text()
					if seen[key] {
						continue
					}
					seen[key] = true
					if peerCovered(ps, namespaces, byNS) {
						continue
					}
					if e := m.selectorEndpoint(ps); e != nil {
						m.Endpoints = append(m.Endpoints, e)
					}
				}
			}
		}
	}
}

// peerSelector describes one selector peer of a policy of namespace ns.
func peerSelector(ns string, pm peerMatcher) *PeerSelector {
	ps := &PeerSelector{ns: pm.ns, pod: pm.pod}
	if pm.pod != nil && !pm.pod.Empty() {
		ps.Pod = pm.pod.String()
	} else {
		ps.pod = nil
	}
	switch {
	case pm.ns == nil:
		ps.InNamespace = ns
	case pm.ns.Empty():
	default:
		ps.Namespace = pm.ns.String()
		if name, ok := pinnedName(pm.ns); ok {
			ps.InNamespace = name
		}
	}
	return ps
}

// pinnedName returns the namespace a selector names by
// kubernetes.io/metadata.name alone.
func pinnedName(sel labels.Selector) (string, bool) {
	reqs, _ := sel.Requirements()
	if len(reqs) != 1 || reqs[0].Key() != NamespaceNameLabel {
		return "", false
	}
	switch reqs[0].Operator() {
	case selection.Equals, selection.DoubleEquals, selection.In:
		if vals := reqs[0].Values().List(); len(vals) == 1 {
			return vals[0], true
		}
	}
	return "", false
}

// peerCovered reports whether an endpoint already stands for the peer: one
// it matches, unless the peer names whole namespaces (no podSelector) and
// reaches one that the input does not hold.
func peerCovered(ps *PeerSelector, namespaces []*Namespace, byNS map[string][]*Endpoint) bool {
	covered := false
	for _, n := range namespaces {
		if ps.ns == nil && n.Name != ps.InNamespace {
			continue
		}
		if ps.ns != nil && !ps.ns.Matches(labels.Set(n.Labels)) {
			continue
		}
		if ps.pod == nil && !n.InStream {
			return false
		}
		for _, e := range byNS[n.Name] {
			if ps.pod == nil || ps.pod.Matches(labels.Set(e.Labels)) {
				covered = true
				break
			}
		}
	}
	return covered
}

// selectorEndpoint builds the virtual endpoint of a peer: pods with labels
// the pod selector matches, in a namespace whose labels the namespace
// selector matches. nil when no labels satisfy the selectors.
func (m *Model) selectorEndpoint(ps *PeerSelector) *Endpoint {
	podLabels := map[string]string{}
	if ps.pod != nil {
		var ok bool
		if podLabels, ok = satisfying(ps.pod); !ok {
			return nil
		}
	}
	var ns *Namespace
	switch {
	case ps.ns == nil:
		ns = m.nsByName[ps.InNamespace]
	case ps.InNamespace != "":
		ns = m.ensureNamespace(ps.InNamespace)
	default:
		nsLabels, ok := satisfying(ps.ns)
		if !ok {
			return nil
		}
		name := "{" + ps.Namespace + "}"
		if ps.Namespace == "" {
			name = "{every namespace}"
		}
		if ns = m.nsByName[name]; ns == nil {
			ns = &Namespace{Name: name, Labels: nsLabels, Skipped: "not in the input"}
			m.addNamespace(ns)
		}
	}
	if ns == nil || !ps.Matches(podLabels, ns.Labels) {
		return nil
	}
	role, name := RoleSelector, "pods "+ps.Pod
	if ps.pod == nil {
		role, name = RoleNamespace, "every pod"
	}
	return &Endpoint{ID: "peer/" + ps.Text(), Kind: Virtual, Role: role, Namespace: ns.Name, Name: name, Labels: podLabels, Peer: ps}
}

// satisfying returns labels that the selector matches, if any.
func satisfying(sel labels.Selector) (map[string]string, bool) {
	out := map[string]string{}
	reqs, _ := sel.Requirements()
	for _, r := range reqs {
		vals := r.Values().List()
		sort.Strings(vals)
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
			if v, ok := out[r.Key()]; ok {
				if !r.Values().Has(v) {
					return nil, false
				}
				continue
			}
			if len(vals) > 0 {
				out[r.Key()] = vals[0]
			}
		case selection.Exists:
			if _, ok := out[r.Key()]; !ok {
				out[r.Key()] = "any"
			}
		}
	}
	if !sel.Matches(labels.Set(out)) {
		return nil, false
	}
	return out, true
}
