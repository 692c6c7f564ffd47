package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tierwall/tierwall/pkg/manifest"
)

// NamespaceNameLabel is set by Kubernetes on every namespace (1.21+); it is
// the one label a namespaceSelector can rely on.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// MaxNameLength is the longest name tierwall gives a policy: a DNS-1123 label.
const MaxNameLength = 63

// Generated is a policy tierwall adds, with the reason it exists.
type Generated struct {
	Policy networkingv1.NetworkPolicy
	// Reason says why the policy exists and where its rules came from; it is
	// written to the tierwall.io/reason annotation.
	Reason string
}

// New returns a policy named name in namespace ns ("" for the release
// namespace) selecting the pods podSelector matches (all when empty), with
// tierwall's label and reason.
func New(ns, name string, podSelector map[string]string, reason string) Generated {
	return Generated{
		Reason: reason,
		Policy: networkingv1.NetworkPolicy{
			TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{
				Name:        Name(name),
				Namespace:   ns,
				Labels:      map[string]string{manifest.ManagedByLabel: manifest.ManagedByValue},
				Annotations: map[string]string{manifest.ReasonAnnotation: reason},
			},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: Selector(podSelector)},
		},
	}
}

// Name returns name, or when it is longer than 63 characters a prefix of it
// with a stable hash suffix, so that distinct long names stay distinct.
func Name(name string) string {
	if len(name) <= MaxNameLength {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := hex.EncodeToString(sum[:])[:8]
	prefix := name[:MaxNameLength-len(suffix)-1]
	for len(prefix) > 0 && (prefix[len(prefix)-1] == '-' || prefix[len(prefix)-1] == '.') {
		prefix = prefix[:len(prefix)-1]
	}
	return prefix + "-" + suffix
}

// Selector returns a LabelSelector with matchLabels (empty selects all).
func Selector(labels map[string]string) metav1.LabelSelector {
	if len(labels) == 0 {
		return metav1.LabelSelector{}
	}
	m := make(map[string]string, len(labels))
	for k, v := range labels {
		m[k] = v
	}
	return metav1.LabelSelector{MatchLabels: m}
}

// PodsInNamespace is ONE peer selecting pods with podLabels in the namespace
// named ns: both selectors in the same element, so they are ANDed.
func PodsInNamespace(ns string, podLabels map[string]string) networkingv1.NetworkPolicyPeer {
	nsSel := Selector(map[string]string{NamespaceNameLabel: ns})
	podSel := Selector(podLabels)
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: &nsSel, PodSelector: &podSel}
}

// Namespace is a peer selecting every pod of the namespace named ns.
func Namespace(ns string) networkingv1.NetworkPolicyPeer {
	nsSel := Selector(map[string]string{NamespaceNameLabel: ns})
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: &nsSel}
}

// Pods is a peer selecting pods with labels in the policy's own namespace.
func Pods(labels map[string]string) networkingv1.NetworkPolicyPeer {
	sel := Selector(labels)
	return networkingv1.NetworkPolicyPeer{PodSelector: &sel}
}

// CIDR is an ipBlock peer.
func CIDR(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
}

// Port is a numbered port with a protocol.
func Port(protocol string, port int32) networkingv1.NetworkPolicyPort {
	p := corev1.Protocol(protocol)
	v := intstr.FromInt32(port)
	return networkingv1.NetworkPolicyPort{Protocol: &p, Port: &v}
}

// NamedPort is a port named on the destination pod's containers.
func NamedPort(protocol, name string) networkingv1.NetworkPolicyPort {
	p := corev1.Protocol(protocol)
	v := intstr.FromString(name)
	return networkingv1.NetworkPolicyPort{Protocol: &p, Port: &v}
}

// SortPorts orders ports by number or name, then protocol, and drops duplicates.
func SortPorts(ports []networkingv1.NetworkPolicyPort) []networkingv1.NetworkPolicyPort {
	key := func(p networkingv1.NetworkPolicyPort) (int, int32, string, string) {
		proto := ""
		if p.Protocol != nil {
			proto = string(*p.Protocol)
		}
		if p.Port == nil {
			return 0, 0, "", proto
		}
		if p.Port.Type == intstr.Int {
			return 1, p.Port.IntVal, "", proto
		}
		return 2, 0, p.Port.StrVal, proto
	}
	sort.SliceStable(ports, func(i, j int) bool {
		ai, an, as, ap := key(ports[i])
		bi, bn, bs, bp := key(ports[j])
		if ai != bi {
			return ai < bi
		}
		if an != bn {
			return an < bn
		}
		if as != bs {
			return as < bs
		}
		return ap < bp
	})
	out := ports[:0]
	for i, p := range ports {
		if i > 0 {
			ai, an, as, ap := key(out[len(out)-1])
			bi, bn, bs, bp := key(p)
			if ai == bi && an == bn && as == bs && ap == bp {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// Ingress and Egress policy types.
var (
	Ingress = networkingv1.PolicyTypeIngress
	Egress  = networkingv1.PolicyTypeEgress
)
