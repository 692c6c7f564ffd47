package graph

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
)

// Options say which directions are default-denied and which namespaces are
// in scope, so that only the sides that need an allow get one.
type Options struct {
	IngressDenied, EgressDenied bool
	// InScope reports whether tierwall writes policies in a namespace.
	InScope func(ns string) bool
	// SkipAPIServer leaves out the egress of edges to the API server (the
	// cilium flavour writes them as the kube-apiserver entity).
	SkipAPIServer bool
	// Hooks makes the policies of Helm hook pods hooks themselves.
	Hooks bool
}

type direction int

const (
	ingress direction = iota
	egress
)

type subjectKey struct {
	ns, name, selector, policy string
}

type subject struct {
	ep    Endpoint
	dir   direction
	rules map[string]*ruleAcc
	// reasons, sources and wide check ids, deduplicated.
	reasons, sources, wide map[string]bool
}

type ruleAcc struct {
	ports []networkingv1.NetworkPolicyPort
	// peers are the peers met, maybe more than once, sorted and made
	// distinct when the rule is written.
	peers []keyedPeer
}

// keyedPeer is a peer with the key that tells it from the other peers of a
// rule ("" for every source or destination).
type keyedPeer struct {
	key  string
	peer networkingv1.NetworkPolicyPeer
}

// Render writes the policies that let every edge through: an ingress policy
// "<name>-ingress" for each destination and an egress policy "<name>-egress"
// for each source, wherever that side is default-denied and in scope.
func Render(edges []Edge, opt Options) ([]policy.Generated, framework.Results) {
	var results framework.Results
	subjects := map[subjectKey]*[2]*subject{}
	var order []subjectKey
	// The subjects of a namespace, name and policy, by their selector: an
	// edge finds its subject by comparing selectors, without writing them.
	type known struct {
		selector map[string]string
		pair     *[2]*subject
	}
	byName := map[[3]string][]known{}
	get := func(ep Endpoint, dir direction, pol string) *subject {
		name := [3]string{ep.Namespace, ep.Name, pol}
		var pair *[2]*subject
		for _, c := range byName[name] {
			if maps.Equal(c.selector, ep.Selector) {
				pair = c.pair
				break
			}
		}
		if pair == nil {
			k := subjectKey{ns: ep.Namespace, name: ep.Name, selector: Labels(ep.Selector), policy: pol}
			var ok bool
			if pair, ok = subjects[k]; !ok {
				pair = &[2]*subject{}
				subjects[k] = pair
				order = append(order, k)
			}
			byName[name] = append(byName[name], known{ep.Selector, pair})
		}
		if pair[dir] == nil {
			pair[dir] = &subject{ep: ep, dir: dir, rules: map[string]*ruleAcc{}, reasons: map[string]bool{}, sources: map[string]bool{}, wide: map[string]bool{}}
		}
		return pair[dir]
	}
	var key []byte // the key of a peer, reused
	// Equal peers are built once: the rules of every policy that hold one
	// share its selectors (the policies are read, not edited).
	built := map[string]keyedPeer{}
	add := func(s *subject, peer peerSpec, e Edge) {
		ports, reason := e.Ports, e.Reason
		if e.Source != "" {
			s.sources[e.Source] = true
		}
		if e.Wide != "" {
			s.wide[e.Wide] = true
		}
		ports = policy.SortPorts(append([]networkingv1.NetworkPolicyPort{}, ports...))
		// Peers of different shapes never share a rule: a namespace-only peer
		// beside a pod-only peer reads like the classic split-selector bug.
		pk := PortsString(ports) + "|" + peer.shape()
		r, ok := s.rules[pk]
		if !ok {
			r = &ruleAcc{ports: ports}
			s.rules[pk] = r
		}
		key = peer.appendKey(key[:0])
		p, ok := built[string(key)]
		if !ok {
			p = keyedPeer{string(key), peer.build()}
			built[p.key] = p
		}
		r.peers = append(r.peers, p)
		s.reasons[reason] = true
	}
	for _, e := range edges {
		if opt.IngressDenied && e.To.Selectable() && opt.InScope(e.To.Namespace) && e.HTTP == nil && !e.SkipIngress {
			if peer, ok := peerFor(e.From, e.To.Namespace); ok {
				add(get(e.To, ingress, e.Policy), peer, e)
			} else {
				results = append(results, unnamedWarning(e))
			}
		}
		if opt.EgressDenied && e.From.Selectable() && opt.InScope(e.From.Namespace) && !e.SkipEgress && !(e.APIServer && opt.SkipAPIServer) {
			if peer, ok := peerFor(e.To, e.From.Namespace); ok {
				add(get(e.From, egress, e.Policy), peer, e)
			} else {
				results = append(results, unnamedWarning(e))
			}
		}
	}
	names := policyNames(subjects)
	n := 0
	for _, pair := range subjects {
		for _, s := range pair {
			if s != nil {
				n++
			}
		}
	}
	out := make([]policy.Generated, 0, n)
	for _, k := range order {
		for dir, s := range subjects[k] {
			if s == nil {
				continue
			}
			out = append(out, s.policy(names[k], k.policy, direction(dir), opt.Hooks))
		}
	}
	return out, results
}

func unnamedWarning(e Edge) *framework.Result {
	return result.New(result.Warning, nil, "spec.namespace",
		"cannot write the allow %s -> %s across namespaces: the release namespace has no name (set spec.namespace, or --namespace for the post-renderer)",
		e.From.Describe(), e.To.Describe())
}

// policyNames gives each subject its name, adding the kind when two
// workloads of one namespace share a name.
func policyNames(subjects map[subjectKey]*[2]*subject) map[subjectKey]string {
	// Subjects of one namespace and name with different selectors (two
	// workloads of one name and different kinds) are told apart by kind,
	// whatever policies they hold.
	selectors := map[string]map[string]bool{}
	for k := range subjects {
		key := k.ns + "/" + k.name
		if selectors[key] == nil {
			selectors[key] = map[string]bool{}
		}
		selectors[key][k.selector] = true
	}
	names := map[subjectKey]string{}
	for k, pair := range subjects {
		name := k.name
		if len(selectors[k.ns+"/"+k.name]) > 1 {
			ep := pair[0]
			if ep == nil {
				ep = pair[1]
			}
			if ep.ep.Workload != nil {
				name = k.name + "-" + strings.ToLower(ep.ep.Workload.Kind)
			} else {
				name = k.name + "-" + shortHash(k.selector)
			}
		}
		names[k] = name
	}
	return names
}

func shortHash(s string) string {
	return strings.TrimPrefix(policy.Name(strings.Repeat("x", 64)+s), strings.Repeat("x", 54)+"-")
}

func (s *subject) policy(name, pol string, dir direction, hooks bool) policy.Generated {
	suffix, verb := "-ingress", "may be reached by"
	if dir == egress {
		suffix, verb = "-egress", "may reach"
	}
	if pol != "" {
		suffix = "-" + pol
	}
	reasons := make([]string, 0, len(s.reasons))
	for r := range s.reasons {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	g := policy.New(s.ep.Namespace, name+suffix, s.ep.Selector, fmt.Sprintf(
		"least privilege for %s: it %s only what these allow: %s", s.ep.Describe(), verb, strings.Join(reasons, "; ")))
	if len(s.sources) > 0 {
		g.Policy.Annotations[manifest.SourceAnnotation] = joinKeys(s.sources)
	}
	if len(s.wide) > 0 {
		g.Policy.Annotations[manifest.WideAnnotation] = joinKeys(s.wide)
	}
	if w := s.ep.Workload; w != nil && hooks {
		hookAnnotations(g.Policy.Annotations, w.Object.Annotations)
	}
	keys := make([]string, 0, len(s.rules))
	for k := range s.rules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r := s.rules[k]
		slices.SortFunc(r.peers, func(a, b keyedPeer) int { return strings.Compare(a.key, b.key) })
		r.peers = slices.CompactFunc(r.peers, func(a, b keyedPeer) bool { return a.key == b.key })
		var peers []networkingv1.NetworkPolicyPeer
		if r.peers[0].key != "" { // "" (any peer) sorts first
			peers = make([]networkingv1.NetworkPolicyPeer, len(r.peers))
			for i, p := range r.peers {
				peers[i] = p.peer
			}
		}
		if dir == ingress {
			g.Policy.Spec.Ingress = append(g.Policy.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: peers, Ports: r.ports})
		} else {
			g.Policy.Spec.Egress = append(g.Policy.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: peers, Ports: r.ports})
		}
	}
	if dir == ingress {
		g.Policy.Spec.PolicyTypes = []networkingv1.PolicyType{policy.Ingress}
	} else {
		g.Policy.Spec.PolicyTypes = []networkingv1.PolicyType{policy.Egress}
	}
	return g
}

// peerSpec is a peer of a policy before it is built: its selectors are
// still the endpoint's maps, copied when the peer is kept.
type peerSpec struct {
	// ip is an ipBlock of cidr and except.
	ip     bool
	cidr   string
	except []string
	// namespace selects the namespace of that name; namespaceLabels, when
	// namespace is "", the namespaces with those labels.
	hasNamespace    bool
	namespace       string
	namespaceLabels map[string]string
	hasPods         bool
	pods            map[string]string
}

// peerFor expresses an endpoint as a peer of a policy in namespace ns. It
// fails only for pods of the unnamed release namespace seen from another
// namespace.
func peerFor(e Endpoint, ns string) (peerSpec, bool) {
	switch {
	case e.Kind == Anywhere:
		return peerSpec{}, true // no peer: every source or destination
	case e.Kind == CIDR:
		return peerSpec{ip: true, cidr: e.CIDR, except: e.Except}, true
	case e.NamespaceLabels != nil:
		return peerSpec{hasNamespace: true, namespaceLabels: e.NamespaceLabels, hasPods: len(e.Selector) > 0, pods: e.Selector}, true
	case e.Namespace == ns:
		return peerSpec{hasPods: true, pods: e.Selector}, true
	case e.Namespace == "":
		return peerSpec{}, false
	case len(e.Selector) == 0:
		return peerSpec{hasNamespace: true, namespace: e.Namespace}, true
	default:
		return peerSpec{hasNamespace: true, namespace: e.Namespace, hasPods: true, pods: e.Selector}, true
	}
}

// build writes the peer, with selectors of its own.
func (p peerSpec) build() networkingv1.NetworkPolicyPeer {
	var out networkingv1.NetworkPolicyPeer
	switch {
	case p.ip:
		return policy.CIDR(p.cidr, p.except...)
	case p.hasNamespace && p.namespace != "":
		out = policy.Namespace(p.namespace)
	case p.hasNamespace:
		nsSel := policy.Selector(p.namespaceLabels)
		out.NamespaceSelector = &nsSel
	}
	if p.hasPods {
		podSel := policy.Selector(p.pods)
		out.PodSelector = &podSel
	}
	return out
}

// appendKey appends what tells the peer from the others of its rule: its
// selectors and addresses.
func (p peerSpec) appendKey(b []byte) []byte {
	if p.hasNamespace {
		b = append(b, "ns:"...)
		if p.namespace != "" {
			b = append(append(append(b, policy.NamespaceNameLabel...), '='), p.namespace...)
		} else {
			b = appendLabels(b, p.namespaceLabels)
		}
		b = append(b, ';')
	}
	if p.hasPods {
		b = append(appendLabels(append(b, "pod:"...), p.pods), ';')
	}
	if p.ip {
		b = append(append(append(b, "ip:"...), p.cidr...), '-')
		for i, e := range p.except {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, e...)
		}
	}
	return b
}

// appendLabels appends labels as Labels writes them.
func appendLabels(b []byte, m map[string]string) []byte {
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(append(b, k...), '='), m[k]...)
	}
	return b
}

// shape names which selectors the peer uses.
func (p peerSpec) shape() string {
	switch {
	case p.ip:
		return "ip"
	case p.hasNamespace && p.hasPods:
		return "ns+pod"
	case p.hasNamespace:
		return "ns"
	case !p.hasPods:
		return "any"
	}
	return "pod"
}

func joinKeys(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// Helm hook annotations, read on hook workloads and written on their policies.
const (
	HookAnnotation             = "helm.sh/hook"
	HookWeightAnnotation       = "helm.sh/hook-weight"
	HookDeletePolicyAnnotation = "helm.sh/hook-delete-policy"
)

// hookAnnotations makes the policies of a Helm hook's pods hooks of the same
// events, one weight lower, so that Helm creates them before the hook runs
// (on install and on upgrade alike) and replaces them on the next run.
func hookAnnotations(dst, workloadAnnotations map[string]string) {
	events := workloadAnnotations[HookAnnotation]
	if events == "" {
		return
	}
	weight, _ := strconv.Atoi(strings.TrimSpace(workloadAnnotations[HookWeightAnnotation]))
	dst[HookAnnotation] = events
	dst[HookWeightAnnotation] = strconv.Itoa(weight - 1)
	dst[HookDeletePolicyAnnotation] = "before-hook-creation"
}
