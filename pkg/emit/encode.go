package emit

import (
	"sort"
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/policy"
)

// Encode returns the YAML node of a generated policy, its reason written to
// the tierwall.io/reason annotation.
func Encode(g policy.Generated) *yaml.Node {
	p := g.Policy
	return mapping(
		"apiVersion", str("networking.k8s.io/v1"),
		"kind", str("NetworkPolicy"),
		"metadata", objectMeta(p.ObjectMeta),
		"spec", spec(p.Spec),
	)
}

// EncodeMeta returns the metadata node of any generated object.
func objectMeta(m metav1.ObjectMeta) *yaml.Node {
	kv := []any{"name", str(m.Name)}
	if m.Namespace != "" {
		kv = append(kv, "namespace", str(m.Namespace))
	}
	if len(m.Labels) > 0 {
		kv = append(kv, "labels", stringMap(m.Labels))
	}
	if len(m.Annotations) > 0 {
		kv = append(kv, "annotations", stringMap(m.Annotations))
	}
	return mapping(kv...)
}

func spec(s networkingv1.NetworkPolicySpec) *yaml.Node {
	kv := []any{"podSelector", selector(s.PodSelector)}
	if len(s.PolicyTypes) > 0 {
		types := seq()
		for _, t := range s.PolicyTypes {
			types.Content = append(types.Content, str(string(t)))
		}
		kv = append(kv, "policyTypes", types)
	}
	if len(s.Ingress) > 0 {
		rules := seq()
		for _, r := range s.Ingress {
			rules.Content = append(rules.Content, rule("from", r.From, r.Ports))
		}
		kv = append(kv, "ingress", rules)
	}
	if len(s.Egress) > 0 {
		rules := seq()
		for _, r := range s.Egress {
			rules.Content = append(rules.Content, rule("to", r.To, r.Ports))
		}
		kv = append(kv, "egress", rules)
	}
	return mapping(kv...)
}

func rule(peerKey string, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) *yaml.Node {
	var kv []any
	if len(peers) > 0 {
		ps := seq()
		for _, p := range peers {
			ps.Content = append(ps.Content, peer(p))
		}
		kv = append(kv, peerKey, ps)
	}
	if len(ports) > 0 {
		ps := seq()
		for _, p := range ports {
			ps.Content = append(ps.Content, port(p))
		}
		kv = append(kv, "ports", ps)
	}
	return mapping(kv...)
}

func peer(p networkingv1.NetworkPolicyPeer) *yaml.Node {
	var kv []any
	if p.NamespaceSelector != nil {
		kv = append(kv, "namespaceSelector", selector(*p.NamespaceSelector))
	}
	if p.PodSelector != nil {
		kv = append(kv, "podSelector", selector(*p.PodSelector))
	}
	if p.IPBlock != nil {
		b := []any{"cidr", str(p.IPBlock.CIDR)}
		if len(p.IPBlock.Except) > 0 {
			ex := seq()
			for _, e := range p.IPBlock.Except {
				ex.Content = append(ex.Content, str(e))
			}
			b = append(b, "except", ex)
		}
		kv = append(kv, "ipBlock", mapping(b...))
	}
	return mapping(kv...)
}

func port(p networkingv1.NetworkPolicyPort) *yaml.Node {
	var kv []any
	if p.Protocol != nil {
		kv = append(kv, "protocol", str(string(*p.Protocol)))
	}
	if p.Port != nil {
		if p.Port.Type == intstr.Int {
			kv = append(kv, "port", integer(p.Port.IntVal))
		} else {
			kv = append(kv, "port", str(p.Port.StrVal))
		}
	}
	if p.EndPort != nil {
		kv = append(kv, "endPort", integer(*p.EndPort))
	}
	return mapping(kv...)
}

func selector(s metav1.LabelSelector) *yaml.Node {
	var kv []any
	if len(s.MatchLabels) > 0 {
		kv = append(kv, "matchLabels", stringMap(s.MatchLabels))
	}
	if len(s.MatchExpressions) > 0 {
		exprs := seq()
		for _, e := range s.MatchExpressions {
			ekv := []any{"key", str(e.Key), "operator", str(string(e.Operator))}
			if len(e.Values) > 0 {
				vals := seq()
				for _, v := range e.Values {
					vals.Content = append(vals.Content, str(v))
				}
				ekv = append(ekv, "values", vals)
			}
			exprs.Content = append(exprs.Content, mapping(ekv...))
		}
		kv = append(kv, "matchExpressions", exprs)
	}
	return mapping(kv...)
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

func integer(v int32) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(int(v))}
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
