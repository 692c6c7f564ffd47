package emit

import (
	"encoding/binary"
	"slices"
	"sort"
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/policy"
)

// Encode returns the YAML node of a generated policy, its reason written to
// the tierwall.io/reason annotation.
func Encode(g policy.Generated) *yaml.Node { return NewEncoder().Encode(g) }

// Encoder encodes the policies of one run. A scalar value that recurs
// (namespaces, labels, addresses, ports) is one node for every tree it
// encodes, and so is a subtree that recurs (a rule, peer, selector or port,
// the labels, the policy types), as are the keys and the fixed values
// (kinds, protocols, policy types) for every tree: the trees are read, never
// edited. Only a policy's name, annotations and reason are its own. The
// nodes and content slots of the trees are taken from blocks, a few
// allocations for thousands of nodes.
type Encoder struct {
	values map[string]*yaml.Node
	ints   map[int32]*yaml.Node
	// trees are the shared subtrees (rules, peers, selectors, ports, labels,
	// policy types) by their key.
	trees map[string]*yaml.Node
	// keys holds the keys of the subtrees being looked up.
	keys []byte
	// nodes and slots are what is left of the current blocks.
	nodes []yaml.Node
	slots []*yaml.Node
	// block is the size of the next block of nodes (doubled up to
	// maxBlock).
	block int
}

// The first and the largest block of nodes; blocks of content slots hold
// four times as many.
const (
	minBlock = 32
	maxBlock = 4096
)

// NewEncoder returns an encoder with no values yet.
func NewEncoder() *Encoder {
	return &Encoder{values: map[string]*yaml.Node{}, ints: map[int32]*yaml.Node{}, trees: map[string]*yaml.Node{}, block: minBlock}
}

// Encode returns the YAML node of a generated policy, as Encode does.
func (e *Encoder) Encode(g policy.Generated) *yaml.Node {
	return e.policy(&g.Policy)
}

// node is a fresh node of the block.
func (e *Encoder) node(kind yaml.Kind, tag, value string) *yaml.Node {
	if len(e.nodes) == 0 {
		e.nodes = make([]yaml.Node, e.block)
		e.block = min(2*e.block, maxBlock)
	}
	n := &e.nodes[0]
	e.nodes = e.nodes[1:]
	n.Kind, n.Tag, n.Value = kind, tag, value
	return n
}

// collection is a mapping or sequence node with room for size children,
// and none more (an append to it never writes into another's slots); add
// fills it.
func (e *Encoder) collection(kind yaml.Kind, tag string, size int) *yaml.Node {
	n := e.node(kind, tag, "")
	if size == 0 {
		return n
	}
	if len(e.slots) < size {
		e.slots = make([]*yaml.Node, max(size, 4*e.block))
	}
	n.Content = e.slots[:0:size]
	e.slots = e.slots[size:]
	return n
}

func (e *Encoder) mapping(pairs int) *yaml.Node {
	return e.collection(yaml.MappingNode, "!!map", 2*pairs)
}

func (e *Encoder) seq(items int) *yaml.Node {
	return e.collection(yaml.SequenceNode, "!!seq", items)
}

// add appends children to a collection.
func (e *Encoder) add(n *yaml.Node, children ...*yaml.Node) {
	n.Content = append(n.Content, children...)
}

// str is a string scalar as str makes it, the shared one for a recurring
// string.
func (e *Encoder) str(s string) *yaml.Node {
	if n := shared[s]; n != nil {
		return n
	}
	n := e.node(yaml.ScalarNode, "!!str", s)
	if NeedsQuotes(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// once returns the encoder's subtree of the key written to keys from start
// on, built by build the first time the key is met (keys is cut back to
// start).
func (e *Encoder) once(start int, build func() *yaml.Node) *yaml.Node {
	if n := e.trees[string(e.keys[start:])]; n != nil {
		e.keys = e.keys[:start]
		return n
	}
	key := string(e.keys[start:])
	e.keys = e.keys[:start]
	n := build()
	e.trees[key] = n
	return n
}

// appendString appends s with its length, so that keys are unambiguous.
func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendLabelsKey appends labels in key order.
func appendLabelsKey(b []byte, m map[string]string) []byte {
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(appendString(b, k), m[k])
	}
	return b
}

func appendSelectorKey(b []byte, s *metav1.LabelSelector) []byte {
	b = appendLabelsKey(append(b, 'S'), s.MatchLabels)
	b = binary.AppendUvarint(b, uint64(len(s.MatchExpressions)))
	for _, e := range s.MatchExpressions {
		b = appendString(appendString(b, e.Key), string(e.Operator))
		b = binary.AppendUvarint(b, uint64(len(e.Values)))
		for _, v := range e.Values {
			b = appendString(b, v)
		}
	}
	return b
}

func appendPeerKey(b []byte, p *networkingv1.NetworkPolicyPeer) []byte {
	b = append(b, 'P')
	for _, s := range []*metav1.LabelSelector{p.NamespaceSelector, p.PodSelector} {
		if s == nil {
			b = append(b, '-')
		} else {
			b = appendSelectorKey(b, s)
		}
	}
	if p.IPBlock == nil {
		return append(b, '-')
	}
	b = appendString(append(b, 'B'), p.IPBlock.CIDR)
	b = binary.AppendUvarint(b, uint64(len(p.IPBlock.Except)))
	for _, e := range p.IPBlock.Except {
		b = appendString(b, e)
	}
	return b
}

func appendPortKey(b []byte, p *networkingv1.NetworkPolicyPort) []byte {
	b = append(b, 'p')
	if p.Protocol == nil {
		b = append(b, '-')
	} else {
		b = appendString(append(b, '+'), string(*p.Protocol))
	}
	switch {
	case p.Port == nil:
		b = append(b, '-')
	case p.Port.Type == intstr.Int:
		b = binary.AppendVarint(append(b, 'i'), int64(p.Port.IntVal))
	default:
		b = appendString(append(b, 's'), p.Port.StrVal)
	}
	if p.EndPort == nil {
		return append(b, '-')
	}
	return binary.AppendVarint(append(b, '+'), int64(*p.EndPort))
}

// value is a string scalar shared by every tree of the encoder.
func (e *Encoder) value(s string) *yaml.Node {
	if n := shared[s]; n != nil {
		return n
	}
	if n := e.values[s]; n != nil {
		return n
	}
	n := e.str(s)
	e.values[s] = n
	return n
}

// integer is an integer scalar shared by every tree of the encoder.
func (e *Encoder) integer(v int32) *yaml.Node {
	if n := e.ints[v]; n != nil {
		return n
	}
	n := e.node(yaml.ScalarNode, "!!int", strconv.Itoa(int(v)))
	e.ints[v] = n
	return n
}

// shared are the nodes of the keys and recurring values of generated
// policies, one node each for every tree.
var shared = map[string]*yaml.Node{}

func init() {
	for _, s := range []string{
		"apiVersion", "kind", "metadata", "name", "namespace", "labels", "annotations", "spec",
		"podSelector", "namespaceSelector", "ipBlock", "cidr", "except", "policyTypes", "ingress", "egress",
		"from", "to", "ports", "protocol", "port", "endPort", "matchLabels", "matchExpressions", "key", "operator", "values",
		"networking.k8s.io/v1", "NetworkPolicy", string(policy.Ingress), string(policy.Egress), "TCP", "UDP", "SCTP",
		manifest.ManagedByLabel, manifest.ManagedByValue, manifest.ReasonAnnotation, manifest.HashAnnotation,
		manifest.SourceAnnotation, manifest.WideAnnotation,
		"kubernetes.io/metadata.name", "app", "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
	} {
		shared[s] = str(s)
	}
}

func (e *Encoder) policy(p *networkingv1.NetworkPolicy) *yaml.Node {
	n := e.mapping(4)
	e.add(n, e.str("apiVersion"), e.str("networking.k8s.io/v1"), e.str("kind"), e.str("NetworkPolicy"),
		e.str("metadata"), e.objectMeta(&p.ObjectMeta), e.str("spec"), e.spec(&p.Spec))
	return n
}

func (e *Encoder) objectMeta(m *metav1.ObjectMeta) *yaml.Node {
	pairs := 1
	for _, set := range []bool{m.Namespace != "", len(m.Labels) > 0, len(m.Annotations) > 0} {
		if set {
			pairs++
		}
	}
	n := e.mapping(pairs)
	e.add(n, e.str("name"), e.str(m.Name))
	if m.Namespace != "" {
		e.add(n, e.str("namespace"), e.value(m.Namespace))
	}
	if len(m.Labels) > 0 {
		start := len(e.keys)
		e.keys = appendLabelsKey(append(e.keys, 'L'), m.Labels)
		e.add(n, e.str("labels"), e.once(start, func() *yaml.Node { return e.stringMap(m.Labels, 0) }))
	}
	if len(m.Annotations) > 0 {
		// Room for WithHash's annotation.
		e.add(n, e.str("annotations"), e.stringMap(m.Annotations, 1))
	}
	return n
}

func (e *Encoder) spec(s *networkingv1.NetworkPolicySpec) *yaml.Node {
	pairs := 1
	for _, set := range []bool{len(s.PolicyTypes) > 0, len(s.Ingress) > 0, len(s.Egress) > 0} {
		if set {
			pairs++
		}
	}
	n := e.mapping(pairs)
	e.add(n, e.str("podSelector"), e.selector(&s.PodSelector))
	if len(s.PolicyTypes) > 0 {
		start := len(e.keys)
		k := binary.AppendUvarint(append(e.keys, 'T'), uint64(len(s.PolicyTypes)))
		for _, t := range s.PolicyTypes {
			k = appendString(k, string(t))
		}
		e.keys = k
		e.add(n, e.str("policyTypes"), e.once(start, func() *yaml.Node {
			types := e.seq(len(s.PolicyTypes))
			for _, t := range s.PolicyTypes {
				e.add(types, e.str(string(t)))
			}
			return types
		}))
	}
	if len(s.Ingress) > 0 {
		rules := e.seq(len(s.Ingress))
		for i := range s.Ingress {
			e.add(rules, e.rule("from", s.Ingress[i].From, s.Ingress[i].Ports))
		}
		e.add(n, e.str("ingress"), rules)
	}
	if len(s.Egress) > 0 {
		rules := e.seq(len(s.Egress))
		for i := range s.Egress {
			e.add(rules, e.rule("to", s.Egress[i].To, s.Egress[i].Ports))
		}
		e.add(n, e.str("egress"), rules)
	}
	return n
}

// rule is a rule's tree, shared with the equal rules of other policies.
func (e *Encoder) rule(peerKey string, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) *yaml.Node {
	start := len(e.keys)
	k := appendString(append(e.keys, 'R'), peerKey)
	k = binary.AppendUvarint(k, uint64(len(peers)))
	for i := range peers {
		k = appendPeerKey(k, &peers[i])
	}
	k = binary.AppendUvarint(k, uint64(len(ports)))
	for i := range ports {
		k = appendPortKey(k, &ports[i])
	}
	e.keys = k
	return e.once(start, func() *yaml.Node { return e.ruleTree(peerKey, peers, ports) })
}

func (e *Encoder) ruleTree(peerKey string, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) *yaml.Node {
	pairs := 0
	if len(peers) > 0 {
		pairs++
	}
	if len(ports) > 0 {
		pairs++
	}
	n := e.mapping(pairs)
	if len(peers) > 0 {
		ps := e.seq(len(peers))
		for i := range peers {
			e.add(ps, e.peer(&peers[i]))
		}
		e.add(n, e.str(peerKey), ps)
	}
	if len(ports) > 0 {
		ps := e.seq(len(ports))
		for i := range ports {
			e.add(ps, e.port(&ports[i]))
		}
		e.add(n, e.str("ports"), ps)
	}
	return n
}

// peer is a peer's tree, shared with the equal peers of other rules.
func (e *Encoder) peer(p *networkingv1.NetworkPolicyPeer) *yaml.Node {
	start := len(e.keys)
	e.keys = appendPeerKey(e.keys, p)
	return e.once(start, func() *yaml.Node { return e.peerTree(p) })
}

func (e *Encoder) peerTree(p *networkingv1.NetworkPolicyPeer) *yaml.Node {
	pairs := 0
	for _, set := range []bool{p.NamespaceSelector != nil, p.PodSelector != nil, p.IPBlock != nil} {
		if set {
			pairs++
		}
	}
	n := e.mapping(pairs)
	if p.NamespaceSelector != nil {
		e.add(n, e.str("namespaceSelector"), e.selector(p.NamespaceSelector))
	}
	if p.PodSelector != nil {
		e.add(n, e.str("podSelector"), e.selector(p.PodSelector))
	}
	if p.IPBlock != nil {
		block := e.mapping(1 + min(len(p.IPBlock.Except), 1))
		e.add(block, e.str("cidr"), e.value(p.IPBlock.CIDR))
		if len(p.IPBlock.Except) > 0 {
			ex := e.seq(len(p.IPBlock.Except))
			for _, cidr := range p.IPBlock.Except {
				e.add(ex, e.value(cidr))
			}
			e.add(block, e.str("except"), ex)
		}
		e.add(n, e.str("ipBlock"), block)
	}
	return n
}

// port is a port's tree, shared with the equal ports of other rules.
func (e *Encoder) port(p *networkingv1.NetworkPolicyPort) *yaml.Node {
	start := len(e.keys)
	e.keys = appendPortKey(e.keys, p)
	return e.once(start, func() *yaml.Node { return e.portTree(p) })
}

func (e *Encoder) portTree(p *networkingv1.NetworkPolicyPort) *yaml.Node {
	pairs := 0
	for _, set := range []bool{p.Protocol != nil, p.Port != nil, p.EndPort != nil} {
		if set {
			pairs++
		}
	}
	n := e.mapping(pairs)
	if p.Protocol != nil {
		e.add(n, e.str("protocol"), e.str(string(*p.Protocol)))
	}
	if p.Port != nil {
		if p.Port.Type == intstr.Int {
			e.add(n, e.str("port"), e.integer(p.Port.IntVal))
		} else {
			e.add(n, e.str("port"), e.value(p.Port.StrVal))
		}
	}
	if p.EndPort != nil {
		e.add(n, e.str("endPort"), e.integer(*p.EndPort))
	}
	return n
}

// selector is a label selector's tree, shared with the equal selectors of
// other policies and peers.
func (e *Encoder) selector(s *metav1.LabelSelector) *yaml.Node {
	start := len(e.keys)
	e.keys = appendSelectorKey(e.keys, s)
	return e.once(start, func() *yaml.Node { return e.selectorTree(s) })
}

func (e *Encoder) selectorTree(s *metav1.LabelSelector) *yaml.Node {
	pairs := 0
	if len(s.MatchLabels) > 0 {
		pairs++
	}
	if len(s.MatchExpressions) > 0 {
		pairs++
	}
	n := e.mapping(pairs)
	if len(s.MatchLabels) > 0 {
		e.add(n, e.str("matchLabels"), e.stringMap(s.MatchLabels, 0))
	}
	if len(s.MatchExpressions) > 0 {
		exprs := e.seq(len(s.MatchExpressions))
		for _, r := range s.MatchExpressions {
			expr := e.mapping(2 + min(len(r.Values), 1))
			e.add(expr, e.str("key"), e.value(r.Key), e.str("operator"), e.value(string(r.Operator)))
			if len(r.Values) > 0 {
				vals := e.seq(len(r.Values))
				for _, v := range r.Values {
					e.add(vals, e.value(v))
				}
				e.add(expr, e.str("values"), vals)
			}
			e.add(exprs, expr)
		}
		e.add(n, e.str("matchExpressions"), exprs)
	}
	return n
}

// stringMap is a mapping of strings in key order, with room for spare more
// pairs.
func (e *Encoder) stringMap(m map[string]string, spare int) *yaml.Node {
	n := e.mapping(len(m) + spare)
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == manifest.ReasonAnnotation {
			e.add(n, e.str(k), e.str(m[k])) // a policy's own
		} else {
			e.add(n, e.value(k), e.value(m[k]))
		}
	}
	return n
}

// mapping builds a mapping from alternating keys (string) and value nodes.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: kv[i].(string)}, kv[i+1].(*yaml.Node))
	}
	return n
}

func seq() *yaml.Node { return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"} }

func stringMap(m map[string]string) *yaml.Node {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, k := range keys {
		n.Content = append(n.Content, str(k), str(m[k]))
	}
	return n
}

// str is a string scalar, double-quoted when a YAML 1.1 or 1.2 reader could
// take it for something else (yes, no, on, off, y, n, numbers, null, ...).
func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if NeedsQuotes(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

var (
	yaml11Special = map[string]bool{}
)

func init() {
	for _, s := range []string{"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
		"null", "Null", "NULL", "~", "", "<<", "="} {
		yaml11Special[s] = true
	}
}

// NeedsQuotes reports whether a string must be quoted to stay a string for
// YAML 1.1 readers (booleans such as yes/no/on/off/y/n, numbers, null).
func NeedsQuotes(s string) bool {
	return yaml11Special[s] || numberLike(s)
}

// numberLike reports whether s starts like a YAML 1.1 or 1.2 number
// (optional sign, then a digit or a dot and a digit) or is an infinity or
// not-a-number: 1, -1, +1.5, .5, 0x1f, 1:30, 1e3, .inf, -.Inf, .NaN.
func numberLike(s string) bool {
	t := s
	if len(t) > 0 && (t[0] == '-' || t[0] == '+') {
		t = t[1:]
	}
	switch t {
	case ".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN":
		return true
	}
	if len(t) > 0 && t[0] >= '0' && t[0] <= '9' {
		return true
	}
	return len(t) > 1 && t[0] == '.' && t[1] >= '0' && t[1] <= '9'
}
