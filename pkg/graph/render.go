package graph

import (
	"fmt"
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
	peers map[string]networkingv1.NetworkPolicyPeer
}

// Render writes the policies that let every edge through: an ingress policy
// "<name>-ingress" for each destination and an egress policy "<name>-egress"
// for each source, wherever that side is default-denied and in scope.
func Render(edges []Edge, opt Options) ([]policy.Generated, framework.Results) {
	var results framework.Results
	subjects := map[subjectKey]*[2]*subject{}
	var order []subjectKey
	get := func(ep Endpoint, dir direction, pol string) *subject {
		k := subjectKey{ns: ep.Namespace, name: ep.Name, selector: Labels(ep.Selector), policy: pol}
		pair, ok := subjects[k]
		if !ok {
			pair = &[2]*subject{}
			subjects[k] = pair
			order = append(order, k)
		}
		if pair[dir] == nil {
			pair[dir] = &subject{ep: ep, dir: dir, rules: map[string]*ruleAcc{}, reasons: map[string]bool{}, sources: map[string]bool{}, wide: map[string]bool{}}
		}
		return pair[dir]
	}
	add := func(s *subject, peer networkingv1.NetworkPolicyPeer, e Edge) {
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
		pk := PortsString(ports) + "|" + peerShape(peer)
		r, ok := s.rules[pk]
		if !ok {
			r = &ruleAcc{ports: ports, peers: map[string]networkingv1.NetworkPolicyPeer{}}
			s.rules[pk] = r
		}
		r.peers[peerKey(peer)] = peer
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
	var out []policy.Generated
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
		pks := make([]string, 0, len(r.peers))
		for pk := range r.peers {
			pks = append(pks, pk)
		}
		sort.Strings(pks)
		var peers []networkingv1.NetworkPolicyPeer
		if _, any := r.peers[""]; !any {
			peers = make([]networkingv1.NetworkPolicyPeer, len(pks))
			for i, pk := range pks {
				peers[i] = r.peers[pk]
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

// peerFor expresses an endpoint as a peer of a policy in namespace ns. It
// fails only for pods of the unnamed release namespace seen from another
// namespace.
func peerFor(e Endpoint, ns string) (networkingv1.NetworkPolicyPeer, bool) {
	switch {
	case e.Kind == Anywhere:
		return networkingv1.NetworkPolicyPeer{}, true // no peer: every source or destination
	case e.Kind == CIDR:
		return policy.CIDR(e.CIDR, e.Except...), true
	case e.NamespaceLabels != nil:
		nsSel := policy.Selector(e.NamespaceLabels)
		p := networkingv1.NetworkPolicyPeer{NamespaceSelector: &nsSel}
		if len(e.Selector) > 0 {
			podSel := policy.Selector(e.Selector)
			p.PodSelector = &podSel
		}
		return p, true
	case e.Namespace == ns:
		return policy.Pods(e.Selector), true
	case e.Namespace == "":
		return networkingv1.NetworkPolicyPeer{}, false
	case len(e.Selector) == 0:
		return policy.Namespace(e.Namespace), true
	default:
		return policy.PodsInNamespace(e.Namespace, e.Selector), true
	}
}

func peerKey(p networkingv1.NetworkPolicyPeer) string {
	var b strings.Builder
	if p.NamespaceSelector != nil {
		b.WriteString("ns:" + Labels(p.NamespaceSelector.MatchLabels) + ";")
	}
	if p.PodSelector != nil {
		b.WriteString("pod:" + Labels(p.PodSelector.MatchLabels) + ";")
	}
	if p.IPBlock != nil {
		b.WriteString("ip:" + p.IPBlock.CIDR + "-" + strings.Join(p.IPBlock.Except, ","))
	}
	return b.String()
}

// peerShape names which selectors a peer uses.
func peerShape(p networkingv1.NetworkPolicyPeer) string {
	switch {
	case p.IPBlock != nil:
		return "ip"
	case p.NamespaceSelector != nil && p.PodSelector != nil:
		return "ns+pod"
	case p.NamespaceSelector != nil:
		return "ns"
	case p.PodSelector == nil:
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
