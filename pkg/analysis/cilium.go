package analysis

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
)

// Cilium label keys with a meaning of their own.
const (
	ciliumNamespaceLabel       = "io.kubernetes.pod.namespace"
	ciliumNamespaceLabelPrefix = "io.cilium.k8s.namespace.labels."
)

// IsCilium reports whether an object is a CiliumNetworkPolicy.
func IsCilium(o manifest.Object) bool {
	return o.Kind == "CiliumNetworkPolicy" && o.Group() == "cilium.io"
}

// parseCiliumPolicy reads a CiliumNetworkPolicy at L3/L4 as the
// NetworkPolicy it amounts to: endpoint selectors become pod and namespace
// selectors, toPorts become ports (ANY is TCP, UDP and SCTP), toEntities
// kube-apiserver the API server's addresses, toFQDNs "the internet", and L7
// rules are left aside (the flow is shown as allowed on its port).
func (m *Model) parseCiliumPolicy(o manifest.Object, ns string) (*Policy, framework.Results) {
	ref := result.RefOf(o)
	var rs framework.Results
	bad := func(field, format string, args ...any) {
		rs = append(rs, result.New(result.Error, ref, field, "CiliumNetworkPolicy %s/%s cannot be read: %s", ns, o.Name, fmt.Sprintf(format, args...)))
	}
	spec := manifest.Lookup(o.Node, "spec")
	if spec == nil {
		bad("spec", "no spec (specs lists are not supported)")
		return nil, rs
	}
	var np networkingv1.NetworkPolicySpec
	np.PodSelector = ciliumSelector(manifest.Lookup(spec, "endpointSelector"), nil)
	if manifest.Lookup(spec, "ingress") != nil {
		np.PolicyTypes = append(np.PolicyTypes, networkingv1.PolicyTypeIngress)
	}
	if manifest.Lookup(spec, "egress") != nil {
		np.PolicyTypes = append(np.PolicyTypes, networkingv1.PolicyTypeEgress)
	}
	for i, r := range manifest.Items(spec, "ingress") {
		peers := m.ciliumPeers(r, "from", bad, fmt.Sprintf("spec.ingress[%d]", i))
		np.Ingress = append(np.Ingress, networkingv1.NetworkPolicyIngressRule{From: peers, Ports: ciliumPorts(r, bad, fmt.Sprintf("spec.ingress[%d]", i))})
	}
	for i, r := range manifest.Items(spec, "egress") {
		peers := m.ciliumPeers(r, "to", bad, fmt.Sprintf("spec.egress[%d]", i))
		np.Egress = append(np.Egress, networkingv1.NetworkPolicyEgressRule{To: peers, Ports: ciliumPorts(r, bad, fmt.Sprintf("spec.egress[%d]", i))})
	}
	if len(rs) > 0 {
		return nil, rs
	}
	p, prs := policyFromSpec(o, ns, np, m.selectors)
	if p != nil {
		p.Cilium = true
	}
	return p, append(rs, prs...)
}

// ciliumSelector turns a Cilium endpoint selector into a pod selector; the
// namespace keys it holds are returned through nsSel when asked for.
func ciliumSelector(n *yaml.Node, nsSel **metav1.LabelSelector) metav1.LabelSelector {
	var sel metav1.LabelSelector
	for k, v := range manifest.StringMap(n, "matchLabels") {
		key := stripSource(k)
		switch {
		case key == ciliumNamespaceLabel && nsSel != nil:
			ensure(nsSel).MatchLabels[NamespaceNameLabel] = v
		case strings.HasPrefix(key, ciliumNamespaceLabelPrefix) && nsSel != nil:
			ensure(nsSel).MatchLabels[strings.TrimPrefix(key, ciliumNamespaceLabelPrefix)] = v
		default:
			if sel.MatchLabels == nil {
				sel.MatchLabels = map[string]string{}
			}
			sel.MatchLabels[key] = v
		}
	}
	for _, e := range manifest.Items(n, "matchExpressions") {
		key := stripSource(manifest.String(e, "key"))
		op := metav1.LabelSelectorOperator(manifest.String(e, "operator"))
		var vals []string
		for _, v := range manifest.Items(e, "values") {
			vals = append(vals, v.Value)
		}
		if key == ciliumNamespaceLabel && nsSel != nil {
			if op == metav1.LabelSelectorOpExists {
				ensure(nsSel)
				continue
			}
			ensure(nsSel).MatchExpressions = append((*nsSel).MatchExpressions, metav1.LabelSelectorRequirement{Key: NamespaceNameLabel, Operator: op, Values: vals})
			continue
		}
		sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{Key: key, Operator: op, Values: vals})
	}
	return sel
}

func ensure(s **metav1.LabelSelector) *metav1.LabelSelector {
	if *s == nil {
		*s = &metav1.LabelSelector{MatchLabels: map[string]string{}}
	}
	if (*s).MatchLabels == nil {
		(*s).MatchLabels = map[string]string{}
	}
	return *s
}

// stripSource drops Cilium's label source prefix (k8s:, any:).
func stripSource(k string) string {
	for _, p := range []string{"k8s:", "any:"} {
		k = strings.TrimPrefix(k, p)
	}
	return k
}

func (m *Model) ciliumPeers(r *yaml.Node, dir string, bad func(string, string, ...any), field string) []networkingv1.NetworkPolicyPeer {
	var peers []networkingv1.NetworkPolicyPeer
	for _, e := range manifest.Items(r, dir+"Endpoints") {
		var nsSel *metav1.LabelSelector
		podSel := ciliumSelector(e, &nsSel)
		peers = append(peers, networkingv1.NetworkPolicyPeer{PodSelector: &podSel, NamespaceSelector: nsSel})
	}
	for _, c := range manifest.Items(r, dir+"CIDR") {
		peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: c.Value}})
	}
	for _, c := range manifest.Items(r, dir+"CIDRSet") {
		b := &networkingv1.IPBlock{CIDR: manifest.String(c, "cidr")}
		for _, x := range manifest.Items(c, "except") {
			b.Except = append(b.Except, x.Value)
		}
		peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: b})
	}
	for _, e := range manifest.Items(r, dir+"Entities") {
		switch e.Value {
		case "kube-apiserver":
			apis := parsePrefixes(m.Spec.Cluster.APIServer.CIDRs)
			if len(apis) == 0 {
				apis = []netip.Prefix{DefaultAPIServerAddr}
			}
			for _, p := range apis {
				peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: p.String()}})
			}
		case "world":
			peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}})
		case "cluster", "all":
			all := metav1.LabelSelector{}
			peers = append(peers, networkingv1.NetworkPolicyPeer{NamespaceSelector: &all, PodSelector: &metav1.LabelSelector{}})
		default:
			bad(field, "entity %q is not understood by the analysis", e.Value)
		}
	}
	if dir == "to" && len(manifest.Items(r, "toFQDNs")) > 0 {
		// Host names resolve outside the cluster: "the internet".
		peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: netip.PrefixFrom(InternetAddr, 32).String()}})
	}
	return peers
}

func ciliumPorts(r *yaml.Node, bad func(string, string, ...any), field string) []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for i, tp := range manifest.Items(r, "toPorts") {
		for j, p := range manifest.Items(tp, "ports") {
			n, err := strconv.Atoi(manifest.String(p, "port"))
			if err != nil || n < 0 || n > 65535 {
				bad(fmt.Sprintf("%s.toPorts[%d].ports[%d].port", field, i, j), "%q is not a port number", manifest.String(p, "port"))
				continue
			}
			protos := []string{strings.ToUpper(manifest.String(p, "protocol"))}
			if protos[0] == "" || protos[0] == "ANY" {
				protos = []string{"TCP", "UDP", "SCTP"}
			}
			for _, proto := range protos {
				pr := corev1.Protocol(proto)
				np := networkingv1.NetworkPolicyPort{Protocol: &pr}
				if n > 0 {
					v := intstr.FromInt32(int32(n)) //nolint:gosec // a port number, checked by the caller
					np.Port = &v
				}
				if e, err := strconv.Atoi(manifest.String(p, "endPort")); err == nil && e > 0 {
					end := int32(e)
					np.EndPort = &end
				}
				out = append(out, np)
			}
		}
	}
	return out
}
