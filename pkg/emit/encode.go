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
// edited. Only a policy's name, annotations and reason are its own.
type Encoder struct {
	values map[string]*yaml.Node
	ints   map[int32]*yaml.Node
	// trees are the shared subtrees (rules, peers, selectors, ports, labels,
	// policy types) by their key.
	trees map[string]*yaml.Node
	// The values and subtrees the counting pass of the policy being encoded
	// met first.
	newValues map[string]bool
	newInts   map[int32]bool
	newTrees  map[string]bool
	// keys holds the keys of the subtrees being looked up.
	keys []byte
}

// NewEncoder returns an encoder with no values yet.
func NewEncoder() *Encoder {
	return &Encoder{values: map[string]*yaml.Node{}, ints: map[int32]*yaml.Node{}, trees: map[string]*yaml.Node{},
		newValues: map[string]bool{}, newInts: map[int32]bool{}, newTrees: map[string]bool{}}
}

// Encode returns the YAML node of a generated policy, as Encode does.
//
// The tree is built twice by the same code: a first pass counts its new
// nodes and its content slots, the second takes them from one block of
// each, so that a policy's hundred nodes cost two allocations.
func (e *Encoder) Encode(g policy.Generated) *yaml.Node {
	clear(e.newValues)
	clear(e.newInts)
	clear(e.newTrees)
	count := builder{enc: e, counting: true}
	count.policy(&g.Policy)
	b := builder{enc: e, nodes: make([]yaml.Node, count.n), ptrs: make([]*yaml.Node, count.p)}
	return b.policy(&g.Policy)
}

// builder builds one policy's tree from preallocated blocks of nodes and of
// content slots, or, counting, only counts them.
type builder struct {
	enc      *Encoder
	counting bool
	n, p     int
	scratch  yaml.Node
	nodes    []yaml.Node
	ptrs     []*yaml.Node
}

// node is a fresh node of the block (a throwaway one when counting).
func (b *builder) node(kind yaml.Kind, tag, value string) *yaml.Node {
	if b.counting {
		b.n++
		return &b.scratch
	}
	if len(b.nodes) == 0 {
		b.nodes = make([]yaml.Node, 1)
	}
	n := &b.nodes[0]
	b.nodes = b.nodes[1:]
	n.Kind, n.Tag, n.Value = kind, tag, value
	return n
}

// collection is a mapping or sequence node with room for size children;
// add fills it.
func (b *builder) collection(kind yaml.Kind, tag string, size int) *yaml.Node {
	n := b.node(kind, tag, "")
	if b.counting {
		b.p += size
		return n
	}
	if size == 0 {
		return n
	}
	if len(b.ptrs) < size {
		b.ptrs = make([]*yaml.Node, size)
	}
	n.Content = b.ptrs[:0:size]
	b.ptrs = b.ptrs[size:]
	return n
}

func (b *builder) mapping(pairs int) *yaml.Node {
	return b.collection(yaml.MappingNode, "!!map", 2*pairs)
}

func (b *builder) seq(items int) *yaml.Node {
	return b.collection(yaml.SequenceNode, "!!seq", items)
}

// add appends children to a collection.
func (b *builder) add(n *yaml.Node, children ...*yaml.Node) {
	if !b.counting {
		n.Content = append(n.Content, children...)
	}
}

// str is a string scalar as str makes it, the shared one for a recurring
// string.
func (b *builder) str(s string) *yaml.Node {
	if n := shared[s]; n != nil {
		return n
	}
	n := b.node(yaml.ScalarNode, "!!str", s)
	if NeedsQuotes(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// once returns the encoder's subtree of the key written to keys from start
// on, built by build the first time the key is met (keys is cut back to
// start).
func (b *builder) once(start int, build func() *yaml.Node) *yaml.Node {
	if n := b.enc.trees[string(b.enc.keys[start:])]; n != nil {
		b.enc.keys = b.enc.keys[:start]
		return n
	}
	key := string(b.enc.keys[start:])
	b.enc.keys = b.enc.keys[:start]
	if b.counting {
		if b.enc.newTrees[key] {
			return &b.scratch
		}
		b.enc.newTrees[key] = true
		return build()
	}
	n := build()
	b.enc.trees[key] = n
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
func (b *builder) value(s string) *yaml.Node {
	if n := shared[s]; n != nil {
		return n
	}
	if n := b.enc.values[s]; n != nil {
		return n
	}
	if b.counting {
		if !b.enc.newValues[s] {
			b.enc.newValues[s] = true
			b.n++
		}
		return &b.scratch
	}
	n := b.str(s)
	b.enc.values[s] = n
	return n
}

// integer is an integer scalar shared by every tree of the encoder.
func (b *builder) integer(v int32) *yaml.Node {
	if n := b.enc.ints[v]; n != nil {
		return n
	}
	if b.counting {
		if !b.enc.newInts[v] {
			b.enc.newInts[v] = true
			b.n++
		}
		return &b.scratch
	}
	n := b.node(yaml.ScalarNode, "!!int", strconv.Itoa(int(v)))
	b.enc.ints[v] = n
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

func (b *builder) policy(p *networkingv1.NetworkPolicy) *yaml.Node {
	n := b.mapping(4)
	b.add(n, b.str("apiVersion"), b.str("networking.k8s.io/v1"), b.str("kind"), b.str("NetworkPolicy"),
		b.str("metadata"), b.objectMeta(&p.ObjectMeta), b.str("spec"), b.spec(&p.Spec))
	return n
}

func (b *builder) objectMeta(m *metav1.ObjectMeta) *yaml.Node {
	pairs := 1
	for _, set := range []bool{m.Namespace != "", len(m.Labels) > 0, len(m.Annotations) > 0} {
		if set {
			pairs++
		}
	}
	n := b.mapping(pairs)
	b.add(n, b.str("name"), b.str(m.Name))
	if m.Namespace != "" {
		b.add(n, b.str("namespace"), b.value(m.Namespace))
	}
	if len(m.Labels) > 0 {
		start := len(b.enc.keys)
		b.enc.keys = appendLabelsKey(append(b.enc.keys, 'L'), m.Labels)
		b.add(n, b.str("labels"), b.once(start, func() *yaml.Node { return b.stringMap(m.Labels, 0) }))
	}
	if len(m.Annotations) > 0 {
		// Room for WithHash's annotation.
		b.add(n, b.str("annotations"), b.stringMap(m.Annotations, 1))
	}
	return n
}

func (b *builder) spec(s *networkingv1.NetworkPolicySpec) *yaml.Node {
	pairs := 1
	for _, set := range []bool{len(s.PolicyTypes) > 0, len(s.Ingress) > 0, len(s.Egress) > 0} {
		if set {
			pairs++
		}
	}
	n := b.mapping(pairs)
	b.add(n, b.str("podSelector"), b.selector(&s.PodSelector))
	if len(s.PolicyTypes) > 0 {
		start := len(b.enc.keys)
		k := binary.AppendUvarint(append(b.enc.keys, 'T'), uint64(len(s.PolicyTypes)))
		for _, t := range s.PolicyTypes {
			k = appendString(k, string(t))
		}
		b.enc.keys = k
		b.add(n, b.str("policyTypes"), b.once(start, func() *yaml.Node {
			types := b.seq(len(s.PolicyTypes))
			for _, t := range s.PolicyTypes {
				b.add(types, b.str(string(t)))
			}
			return types
		}))
	}
	if len(s.Ingress) > 0 {
		rules := b.seq(len(s.Ingress))
		for i := range s.Ingress {
			b.add(rules, b.rule("from", s.Ingress[i].From, s.Ingress[i].Ports))
		}
		b.add(n, b.str("ingress"), rules)
	}
	if len(s.Egress) > 0 {
		rules := b.seq(len(s.Egress))
		for i := range s.Egress {
			b.add(rules, b.rule("to", s.Egress[i].To, s.Egress[i].Ports))
		}
		b.add(n, b.str("egress"), rules)
	}
	return n
}

// rule is a rule's tree, shared with the equal rules of other policies.
func (b *builder) rule(peerKey string, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) *yaml.Node {
	start := len(b.enc.keys)
	k := appendString(append(b.enc.keys, 'R'), peerKey)
	k = binary.AppendUvarint(k, uint64(len(peers)))
	for i := range peers {
		k = appendPeerKey(k, &peers[i])
	}
	k = binary.AppendUvarint(k, uint64(len(ports)))
	for i := range ports {
		k = appendPortKey(k, &ports[i])
	}
	b.enc.keys = k
	return b.once(start, func() *yaml.Node { return b.ruleTree(peerKey, peers, ports) })
}

func (b *builder) ruleTree(peerKey string, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) *yaml.Node {
	pairs := 0
	if len(peers) > 0 {
		pairs++
	}
	if len(ports) > 0 {
		pairs++
	}
	n := b.mapping(pairs)
	if len(peers) > 0 {
		ps := b.seq(len(peers))
		for i := range peers {
			b.add(ps, b.peer(&peers[i]))
		}
		b.add(n, b.str(peerKey), ps)
	}
	if len(ports) > 0 {
		ps := b.seq(len(ports))
		for i := range ports {
			b.add(ps, b.port(&ports[i]))
		}
		b.add(n, b.str("ports"), ps)
	}
	return n
}

// peer is a peer's tree, shared with the equal peers of other rules.
func (b *builder) peer(p *networkingv1.NetworkPolicyPeer) *yaml.Node {
	start := len(b.enc.keys)
	b.enc.keys = appendPeerKey(b.enc.keys, p)
	return b.once(start, func() *yaml.Node { return b.peerTree(p) })
}

func (b *builder) peerTree(p *networkingv1.NetworkPolicyPeer) *yaml.Node {
	pairs := 0
	for _, set := range []bool{p.NamespaceSelector != nil, p.PodSelector != nil, p.IPBlock != nil} {
		if set {
			pairs++
		}
	}
	n := b.mapping(pairs)
	if p.NamespaceSelector != nil {
		b.add(n, b.str("namespaceSelector"), b.selector(p.NamespaceSelector))
	}
	if p.PodSelector != nil {
		b.add(n, b.str("podSelector"), b.selector(p.PodSelector))
	}
	if p.IPBlock != nil {
		block := b.mapping(1 + min(len(p.IPBlock.Except), 1))
		b.add(block, b.str("cidr"), b.value(p.IPBlock.CIDR))
		if len(p.IPBlock.Except) > 0 {
			ex := b.seq(len(p.IPBlock.Except))
			for _, e := range p.IPBlock.Except {
				b.add(ex, b.value(e))
			}
			b.add(block, b.str("except"), ex)
		}
		b.add(n, b.str("ipBlock"), block)
	}
	return n
}

// port is a port's tree, shared with the equal ports of other rules.
func (b *builder) port(p *networkingv1.NetworkPolicyPort) *yaml.Node {
	start := len(b.enc.keys)
	b.enc.keys = appendPortKey(b.enc.keys, p)
	return b.once(start, func() *yaml.Node { return b.portTree(p) })
}

func (b *builder) portTree(p *networkingv1.NetworkPolicyPort) *yaml.Node {
	pairs := 0
	for _, set := range []bool{p.Protocol != nil, p.Port != nil, p.EndPort != nil} {
		if set {
			pairs++
		}
	}
	n := b.mapping(pairs)
	if p.Protocol != nil {
		b.add(n, b.str("protocol"), b.str(string(*p.Protocol)))
	}
	if p.Port != nil {
		if p.Port.Type == intstr.Int {
			b.add(n, b.str("port"), b.integer(p.Port.IntVal))
		} else {
			b.add(n, b.str("port"), b.value(p.Port.StrVal))
		}
	}
	if p.EndPort != nil {
		b.add(n, b.str("endPort"), b.integer(*p.EndPort))
	}
	return n
}

// selector is a label selector's tree, shared with the equal selectors of
// other policies and peers.
func (b *builder) selector(s *metav1.LabelSelector) *yaml.Node {
	start := len(b.enc.keys)
	b.enc.keys = appendSelectorKey(b.enc.keys, s)
	return b.once(start, func() *yaml.Node { return b.selectorTree(s) })
}

func (b *builder) selectorTree(s *metav1.LabelSelector) *yaml.Node {
	pairs := 0
	if len(s.MatchLabels) > 0 {
		pairs++
	}
	if len(s.MatchExpressions) > 0 {
		pairs++
	}
	n := b.mapping(pairs)
	if len(s.MatchLabels) > 0 {
		b.add(n, b.str("matchLabels"), b.stringMap(s.MatchLabels, 0))
	}
	if len(s.MatchExpressions) > 0 {
		exprs := b.seq(len(s.MatchExpressions))
		for _, e := range s.MatchExpressions {
			expr := b.mapping(2 + min(len(e.Values), 1))
			b.add(expr, b.str("key"), b.value(e.Key), b.str("operator"), b.value(string(e.Operator)))
			if len(e.Values) > 0 {
				vals := b.seq(len(e.Values))
				for _, v := range e.Values {
					b.add(vals, b.value(v))
				}
				b.add(expr, b.str("values"), vals)
			}
			b.add(exprs, expr)
		}
		b.add(n, b.str("matchExpressions"), exprs)
	}
	return n
}

// stringMap is a mapping of strings in key order, with room for spare more
// pairs.
func (b *builder) stringMap(m map[string]string, spare int) *yaml.Node {
	n := b.mapping(len(m) + spare)
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	if !b.counting {
		slices.Sort(keys)
	}
	for _, k := range keys {
		if k == manifest.ReasonAnnotation {
			b.add(n, b.str(k), b.str(m[k])) // a policy's own
		} else {
			b.add(n, b.value(k), b.value(m[k]))
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
