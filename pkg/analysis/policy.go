package analysis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
)

// Direction is the side of a flow a rule governs.
type Direction string

// Directions.
const (
	Ingress Direction = "ingress"
	Egress  Direction = "egress"
)

// Policy is one NetworkPolicy of the input, parsed and checked.
type Policy struct {
	Object manifest.Object
	// Namespace is the effective namespace (the object's, or the release
	// namespace's for objects without one).
	Namespace string
	Name      string
	Spec      networkingv1.NetworkPolicySpec
	// Ingress and Egress are the effective policyTypes: when the field is
	// empty, Ingress always and Egress when the policy has egress rules.
	Ingress, Egress bool
	// IngressRules and EgressRules are the rules, in order.
	IngressRules, EgressRules []*Rule
	// Cilium is true for a CiliumNetworkPolicy read at L3/L4.
	Cilium bool

	selector labels.Selector
	selects  bitset // classes the podSelector selects
}

// Ref names the policy for people: "production/allow-dns".
func (p *Policy) Ref() string {
	if p.Namespace == "" {
		return p.Name
	}
	return p.Namespace + "/" + p.Name
}

// Selects reports whether the policy's podSelector matches pod labels.
func (p *Policy) Selects(podLabels map[string]string) bool {
	return p.selector.Matches(labels.Set(podLabels))
}

// SelectsAll reports whether the podSelector is empty: every pod of the
// namespace, present and future.
func (p *Policy) SelectsAll() bool {
	return len(p.Spec.PodSelector.MatchLabels) == 0 && len(p.Spec.PodSelector.MatchExpressions) == 0
}

// Generated reports whether tierwall wrote the policy.
func (p *Policy) Generated() bool { return p.Object.ManagedByTierwall() }

// Rule is one ingress or egress rule of a policy.
type Rule struct {
	Policy    *Policy
	Direction Direction
	// Index is the rule's position in spec.ingress or spec.egress.
	Index int
	// Peers are the rule's from (ingress) or to (egress) entries, as written.
	Peers []networkingv1.NetworkPolicyPeer
	// Ports are the rule's ports, as written.
	Ports []networkingv1.NetworkPolicyPort

	allPeers bool // no peers: every source or destination
	allPorts bool // no ports: every port
	peers    []peerMatcher
	ports    []portSpec
	matched  bitset // classes the peers match, unless allPeers
}

// Field is the rule's path in its policy: "spec.ingress[0]".
func (r *Rule) Field() string { return fmt.Sprintf("spec.%s[%d]", r.Direction, r.Index) }

// PeersField is the path of the rule's peers: "spec.ingress[0].from".
func (r *Rule) PeersField() string {
	if r.Direction == Ingress {
		return r.Field() + ".from"
	}
	return r.Field() + ".to"
}

// AllPeers reports whether the rule has no peers, so it admits every source
// (ingress) or destination (egress), inside and outside the cluster.
func (r *Rule) AllPeers() bool { return r.allPeers }

// AllPorts reports whether the rule has no ports, so it admits every port.
func (r *Rule) AllPorts() bool { return r.allPorts }

// Block returns the address block of peer i of the rule, if it is one.
func (r *Rule) Block(i int) (cidr netip.Prefix, except []netip.Prefix, ok bool) {
	if i < 0 || i >= len(r.peers) || !r.peers[i].isBlock {
		return netip.Prefix{}, nil, false
	}
	return r.peers[i].cidr, r.peers[i].except, true
}

// peerMatcher is one peer: selectors (nil when not set) or an address block.
type peerMatcher struct {
	pod, ns labels.Selector
	cidr    netip.Prefix
	except  []netip.Prefix
	isBlock bool
}

func (pm peerMatcher) matchesAddr(a netip.Addr) bool {
	if !a.IsValid() || !pm.cidr.Contains(a) {
		return false
	}
	for _, e := range pm.except {
		if e.Contains(a) {
			return false
		}
	}
	return true
}

// parsePolicy reads a NetworkPolicy. An invalid policy, one the API server
// would refuse, is reported as an error result naming the object and field,
// and left out (nil).
func parsePolicy(o manifest.Object, ns string, typed *networkingv1.NetworkPolicySpec, sc *selectorCache) (*Policy, framework.Results) {
	if typed != nil {
		return policyFromSpec(o, ns, *typed, sc) // a policy tierwall just generated
	}
	p := &Policy{Object: o, Namespace: ns, Name: o.Name}
	ref := result.RefOf(o)
	var rs framework.Results
	bad := func(field, format string, args ...any) {
		rs = append(rs, result.New(result.Error, ref, field, "NetworkPolicy %s is invalid, the API server would refuse it: %s",
			p.Ref(), fmt.Sprintf(format, args...)))
	}
	var b []byte
	if specNode := manifest.Lookup(o.Node, "spec"); specNode != nil {
		var err error
		if b, err = specJSON(specNode); err != nil {
			bad("spec", "%v", err)
			return nil, rs
		}
	}
	var spec networkingv1.NetworkPolicySpec
	if b != nil {
		var err error
		{
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			err = dec.Decode(&spec)
		}
		if err != nil {
			bad("spec", "%s", strings.TrimPrefix(err.Error(), "json: "))
			return nil, rs
		}
	}
	return policyFromSpec(o, ns, spec, sc)
}

// policyFromSpec checks and prepares a policy from its typed spec.
func policyFromSpec(o manifest.Object, ns string, spec networkingv1.NetworkPolicySpec, sc *selectorCache) (*Policy, framework.Results) {
	p := &Policy{Object: o, Namespace: ns, Name: o.Name, Spec: spec}
	ref := result.RefOf(o)
	var rs framework.Results
	bad := func(field, format string, args ...any) {
		rs = append(rs, result.New(result.Error, ref, field, "%s %s is invalid, the API server would refuse it: %s",
			o.Kind, p.Ref(), fmt.Sprintf(format, args...)))
	}
	sel, err := sc.get(&p.Spec.PodSelector)
	if err != nil {
		bad("spec.podSelector", "%v", err)
	}
	p.selector = sel
	if len(p.Spec.PolicyTypes) == 0 {
		p.Ingress = true
		p.Egress = len(p.Spec.Egress) > 0
	}
	for i, t := range p.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			p.Ingress = true
		case networkingv1.PolicyTypeEgress:
			p.Egress = true
		default:
			bad(fmt.Sprintf("spec.policyTypes[%d]", i), "%q is not a policy type (Ingress or Egress)", t)
		}
	}
	for i, r := range p.Spec.Ingress {
		rule := &Rule{Policy: p, Direction: Ingress, Index: i, Peers: r.From, Ports: r.Ports}
		rule.parse(sc, bad)
		p.IngressRules = append(p.IngressRules, rule)
	}
	for i, r := range p.Spec.Egress {
		rule := &Rule{Policy: p, Direction: Egress, Index: i, Peers: r.To, Ports: r.Ports}
		rule.parse(sc, bad)
		p.EgressRules = append(p.EgressRules, rule)
	}
	if len(rs) > 0 {
		return nil, rs
	}
	return p, nil
}

func (r *Rule) parse(sc *selectorCache, bad func(field, format string, args ...any)) {
	r.allPeers = len(r.Peers) == 0
	r.allPorts = len(r.Ports) == 0
	if len(r.Peers) > 0 {
		r.peers = make([]peerMatcher, 0, len(r.Peers))
	}
	for i, peer := range r.Peers {
		// The field is named only for a problem, a rare event: it is not
		// worth a string per peer.
		peerBad := func(suffix, format string, args ...any) {
			bad(fmt.Sprintf("%s[%d]%s", r.PeersField(), i, suffix), format, args...)
		}
		var pm peerMatcher
		if peer.IPBlock != nil {
			if peer.PodSelector != nil || peer.NamespaceSelector != nil {
				peerBad("", "ipBlock cannot be combined with podSelector or namespaceSelector in one peer")
				continue
			}
			pm.isBlock = true
			cidr, err := netip.ParsePrefix(peer.IPBlock.CIDR)
			if err != nil {
				peerBad(".ipBlock.cidr", "%q is not a CIDR", peer.IPBlock.CIDR)
				continue
			}
			pm.cidr = cidr.Masked()
			for j, e := range peer.IPBlock.Except {
				ep, err := netip.ParsePrefix(e)
				switch {
				case err != nil:
					peerBad(fmt.Sprintf(".ipBlock.except[%d]", j), "%q is not a CIDR", e)
				case ep.Addr().Is4() != cidr.Addr().Is4() || ep.Bits() <= cidr.Bits() || !pm.cidr.Contains(ep.Addr()):
					peerBad(fmt.Sprintf(".ipBlock.except[%d]", j), "%s must be a strict subset of cidr %s", e, peer.IPBlock.CIDR)
				default:
					pm.except = append(pm.except, ep.Masked())
				}
			}
			r.peers = append(r.peers, pm)
			continue
		}
		if peer.PodSelector == nil && peer.NamespaceSelector == nil {
			peerBad("", "a peer must set podSelector, namespaceSelector or ipBlock")
			continue
		}
		if peer.PodSelector != nil {
			s, err := sc.get(peer.PodSelector)
			if err != nil {
				peerBad(".podSelector", "%v", err)
				continue
			}
			pm.pod = s
		}
		if peer.NamespaceSelector != nil {
			s, err := sc.get(peer.NamespaceSelector)
			if err != nil {
				peerBad(".namespaceSelector", "%v", err)
				continue
			}
			pm.ns = s
		}
		r.peers = append(r.peers, pm)
	}
	for i, port := range r.Ports {
		portBad := func(suffix, format string, args ...any) {
			bad(fmt.Sprintf("%s.ports[%d]%s", r.Field(), i, suffix), format, args...)
		}
		if port.Protocol != nil && protoIndex(string(*port.Protocol)) < 0 {
			portBad(".protocol", "%q is not a protocol (TCP, UDP or SCTP)", *port.Protocol)
		}
		if port.Port != nil {
			if port.Port.Type == intstr.String {
				for _, msg := range validation.IsValidPortName(port.Port.StrVal) {
					portBad(".port", "%q is not a valid port name: %s", port.Port.StrVal, msg)
				}
				if port.EndPort != nil {
					portBad(".endPort", "endPort cannot be used with a named port")
				}
			} else if port.Port.IntVal < 1 || port.Port.IntVal > 65535 {
				portBad(".port", "port %d is out of range 1-65535", port.Port.IntVal)
			}
		}
		if port.EndPort != nil {
			switch {
			case port.Port == nil:
				portBad(".endPort", "endPort needs port")
			case port.Port.Type == intstr.Int && (*port.EndPort < port.Port.IntVal || *port.EndPort > 65535):
				portBad(".endPort", "endPort %d must be between port %d and 65535", *port.EndPort, port.Port.IntVal)
			}
		}
	}
	r.ports = portSpecs(r.Ports)
}

// selectorCache converts label selectors once per model: tierwall's own
// policies repeat a few selectors (a workload's labels, the cluster DNS, a
// namespace's name) over many rules, and each conversion validates every
// key and value. The selectors it returns are shared and never changed.
type selectorCache struct {
	m   map[string]cachedSelector
	key []byte // scratch for the key of the selector looked up
}

type cachedSelector struct {
	sel labels.Selector
	err error
}

// get is metav1.LabelSelectorAsSelector, remembered by the selector's
// content.
func (sc *selectorCache) get(ls *metav1.LabelSelector) (labels.Selector, error) {
	sc.key = appendSelectorKey(sc.key[:0], ls)
	if c, ok := sc.m[string(sc.key)]; ok {
		return c.sel, c.err
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	sc.m[string(sc.key)] = cachedSelector{sel, err}
	return sel, err
}

// appendSelectorKey writes a selector's content unambiguously: each string
// with its length, matchLabels in key order, the expressions as written.
func appendSelectorKey(b []byte, ls *metav1.LabelSelector) []byte {
	str := func(s string) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	keys := make([]string, 0, len(ls.MatchLabels))
	for k := range ls.MatchLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		str(k)
		str(ls.MatchLabels[k])
	}
	for _, e := range ls.MatchExpressions {
		b = append(b, ';')
		str(e.Key)
		str(string(e.Operator))
		b = strconv.AppendInt(b, int64(len(e.Values)), 10)
		b = append(b, ':')
		for _, v := range e.Values {
			str(v)
		}
	}
	return b
}
