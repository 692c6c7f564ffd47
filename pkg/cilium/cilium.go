// Package cilium writes the cilium flavour's CiliumNetworkPolicies
// (cilium.io/v2): L7 HTTP ingress rules, toFQDNs egress together with the
// DNS rule that makes toFQDNs work, and API server egress to the
// kube-apiserver entity. Everything else stays a plain NetworkPolicy.
package cilium

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/emit"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
)

// APIVersion and Kind of the objects written.
const (
	APIVersion = "cilium.io/v2"
	Kind       = "CiliumNetworkPolicy"
	// namespaceLabel is the label Cilium gives every endpoint for its namespace.
	namespaceLabel = "k8s:io.kubernetes.pod.namespace"
	// namespaceLabelsPrefix selects endpoints by their namespace's labels.
	namespaceLabelsPrefix = "k8s:io.cilium.k8s.namespace.labels."
)

// Input is what the Cilium objects are made from.
type Input struct {
	Spec    *v1alpha1.Spec
	Edges   []graph.Edge
	FQDN    []graph.FQDNEgress
	InScope func(ns string) bool
	// Namespaces in scope, for the API server policy.
	Namespaces []string
	// HasPods reports whether namespace ns has pods with the labels.
	HasPods func(ns string, labels map[string]string) bool
}

// Render returns the CiliumNetworkPolicies of the cilium flavour.
func Render(in Input) ([]emit.Object, framework.Results) {
	if in.Spec.Flavor != v1alpha1.FlavorCilium {
		return nil, nil
	}
	var out []emit.Object
	var results framework.Results
	ingressDenied, egressDenied := *in.Spec.DefaultDeny.Ingress, *in.Spec.DefaultDeny.Egress

	// L7 HTTP ingress, one policy per destination.
	type httpSubject struct {
		ep      graph.Endpoint
		rules   map[string]*yaml.Node
		reasons map[string]bool
	}
	subjects := map[string]*httpSubject{}
	for _, e := range in.Edges {
		if e.HTTP == nil || !e.To.Selectable() || !in.InScope(e.To.Namespace) {
			continue
		}
		if !ingressDenied {
			results = append(results, result.New(result.Warning, nil, "spec.defaultDeny.ingress",
				"HTTP rules for %s not written: ingress is not default-denied, so they would only restrict it", e.To.Describe()))
			continue
		}
		key := e.To.Namespace + "/" + e.To.Name + "/" + graph.Labels(e.To.Selector)
		s, ok := subjects[key]
		if !ok {
			s = &httpSubject{ep: e.To, rules: map[string]*yaml.Node{}, reasons: map[string]bool{}}
			subjects[key] = s
		}
		peer, ok := peerField(e.From, e.To.Namespace, "from")
		if !ok {
			results = append(results, result.New(result.Warning, nil, "spec.namespace",
				"cannot write the HTTP rules %s -> %s: the release namespace has no name", e.From.Describe(), e.To.Describe()))
			continue
		}
		var httpRules []*yaml.Node
		for _, r := range e.HTTP {
			var kv []any
			if r.Method != "" {
				kv = append(kv, "method", emit.Str(r.Method))
			}
			if r.Path != "" {
				kv = append(kv, "path", emit.Str(r.Path))
			}
			if r.Host != "" {
				kv = append(kv, "host", emit.Str(r.Host))
			}
			httpRules = append(httpRules, emit.Mapping(kv...))
		}
		toPorts := emit.Seq(emit.Mapping(
			"ports", ports(e.Ports, false),
			"rules", emit.Mapping("http", emit.Seq(httpRules...)),
		))
		rule := emit.Mapping(append(peer, "toPorts", toPorts)...)
		str, _ := yaml.String(rule)
		s.rules[str] = rule
		s.reasons[e.Reason] = true
	}
	for _, s := range subjects {
		out = append(out, object(s.ep.Namespace, s.ep.Name+"-l7-ingress",
			fmt.Sprintf("cilium flavour: L7 HTTP allow-list for %s, in place of a plain L4 allow that would make it moot: %s", s.ep.Describe(), joinSorted(s.reasons)),
			s.ep.Selector, "ingress", sortedValues(s.rules)))
	}

	// FQDN egress with its DNS rule, one policy per source.
	type fqdnSubject struct {
		ep      graph.Endpoint
		rules   []*yaml.Node
		reasons map[string]bool
	}
	fsubjects := map[string]*fqdnSubject{}
	var fkeys []string
	for _, f := range in.FQDN {
		if !f.From.Selectable() || !in.InScope(f.From.Namespace) {
			continue
		}
		if !egressDenied {
			results = append(results, result.New(result.Warning, nil, "spec.defaultDeny.egress",
				"FQDN egress for %s not written: egress is not default-denied, so it would only restrict it", f.From.Describe()))
			continue
		}
		key := f.From.Namespace + "/" + f.From.Name + "/" + graph.Labels(f.From.Selector)
		s, ok := fsubjects[key]
		if !ok {
			s = &fqdnSubject{ep: f.From, reasons: map[string]bool{}}
			fsubjects[key] = s
			fkeys = append(fkeys, key)
		}
		var hosts []*yaml.Node
		for _, h := range f.Hosts {
			if h.MatchName != "" {
				hosts = append(hosts, emit.Mapping("matchName", emit.Str(h.MatchName)))
			} else {
				hosts = append(hosts, emit.Mapping("matchPattern", emit.Str(h.MatchPattern)))
			}
		}
		s.rules = append(s.rules, emit.Mapping("toFQDNs", emit.Seq(hosts...), "toPorts", emit.Seq(emit.Mapping("ports", ports(f.Ports, false)))))
		s.reasons[f.Reason] = true
	}
	sort.Strings(fkeys)
	for _, k := range fkeys {
		s := fsubjects[k]
		rules := append(s.rules, dnsRules(in.Spec.DNS)...)
		out = append(out, object(s.ep.Namespace, s.ep.Name+"-fqdn-egress",
			fmt.Sprintf("cilium flavour: %s may reach host names, with the DNS rule (L7 dns matchPattern \"*\") on the same pods without which toFQDNs never matches: %s (DNS from config spec.dns)",
				s.ep.Describe(), joinSorted(s.reasons)),
			s.ep.Selector, "egress", rules))
	}

	// Workloads that need the API server (plumbing), as the kube-apiserver
	// entity: ipBlocks do not match the API server's node addresses under
	// Cilium's default policy-cidr-match-mode.
	apiSubjects := map[string]bool{}
	// Two workloads of one name (a Deployment and a CronJob) are told apart
	// by kind, as the plain policies are.
	apiSelectors := map[string]map[string]bool{}
	for _, e := range in.Edges {
		if e.APIServer && e.From.Selectable() {
			k := e.From.Namespace + "/" + e.From.Name
			if apiSelectors[k] == nil {
				apiSelectors[k] = map[string]bool{}
			}
			apiSelectors[k][graph.Labels(e.From.Selector)] = true
		}
	}
	for _, e := range in.Edges {
		if !e.APIServer || !egressDenied || !e.From.Selectable() || !in.InScope(e.From.Namespace) {
			continue
		}
		key := e.From.Namespace + "/" + e.From.Name + "/" + graph.Labels(e.From.Selector)
		if apiSubjects[key] {
			continue
		}
		apiSubjects[key] = true
		name := e.From.Name
		if len(apiSelectors[e.From.Namespace+"/"+e.From.Name]) > 1 && e.From.Workload != nil {
			name += "-" + strings.ToLower(e.From.Workload.Kind)
		}
		o := object(e.From.Namespace, name+"-kube-api",
			fmt.Sprintf("cilium flavour: %s reaches the API server as the kube-apiserver entity on %s: %s", e.From.Describe(), graph.PortsString(e.Ports), e.Reason),
			e.From.Selector, "egress", []*yaml.Node{emit.Mapping(
				"toEntities", emit.Seq(emit.Str("kube-apiserver")),
				"toPorts", emit.Seq(emit.Mapping("ports", ports(e.Ports, false))),
			)})
		out = append(out, o)
	}

	// The API server as the kube-apiserver entity.
	k := in.Spec.KubeAPI
	if k.Enabled && egressDenied {
		var ps []networkingv1.NetworkPolicyPort
		for _, p := range in.Spec.Cluster.APIServer.Ports {
			ps = append(ps, policy.Port("TCP", p))
		}
		for _, ns := range in.Namespaces {
			if len(k.PodLabels) > 0 && in.HasPods != nil && !in.HasPods(ns, k.PodLabels) {
				continue // a policy selecting no pod of this namespace
			}
			who := "every pod"
			if len(k.PodLabels) > 0 {
				who = "pods " + graph.Labels(k.PodLabels)
			}
			out = append(out, object(ns, "allow-kube-api",
				fmt.Sprintf("config spec.kubeAPI, cilium flavour: %s may reach the API server as the kube-apiserver entity on TCP %s (no CIDRs to keep up to date)", who, portNumbers(in.Spec.Cluster.APIServer.Ports)),
				k.PodLabels, "egress", []*yaml.Node{emit.Mapping(
					"toEntities", emit.Seq(emit.Str("kube-apiserver")),
					"toPorts", emit.Seq(emit.Mapping("ports", ports(ps, false))),
				)}))
		}
	}
	return out, results
}

func object(ns, name, reason string, selector map[string]string, dir string, rules []*yaml.Node) emit.Object {
	name = policy.Name(name)
	sel := emit.Mapping()
	if len(selector) > 0 {
		sel = emit.Mapping("matchLabels", emit.StringMap(selector))
	}
	node := emit.Mapping(
		"apiVersion", emit.Str(APIVersion),
		"kind", emit.Str(Kind),
		"metadata", emit.Meta(ns, name, reason),
		"spec", emit.Mapping("endpointSelector", sel, dir, emit.Seq(rules...)),
	)
	return emit.Object{Kind: Kind, Namespace: ns, Name: name, Node: node}
}

// peerField expresses an endpoint as the from/to fields of a Cilium rule,
// for a policy in namespace ns.
func peerField(e graph.Endpoint, ns, dir string) ([]any, bool) {
	switch {
	case e.Kind == graph.CIDR:
		b := []any{"cidr", emit.Str(e.CIDR)}
		if len(e.Except) > 0 {
			var ex []*yaml.Node
			for _, x := range e.Except {
				ex = append(ex, emit.Str(x))
			}
			b = append(b, "except", emit.Seq(ex...))
		}
		return []any{dir + "CIDRSet", emit.Seq(emit.Mapping(b...))}, true
	case e.NamespaceLabels != nil:
		m := map[string]string{}
		for k, v := range e.Selector {
			m[k] = v
		}
		for k, v := range e.NamespaceLabels {
			m[namespaceLabelsPrefix+k] = v
		}
		if len(e.NamespaceLabels) == 0 {
			// every namespace: Cilium selectors are namespace-scoped unless
			// they name the namespace label, so match its presence.
			return []any{dir + "Endpoints", emit.Seq(emit.Mapping("matchLabels", emit.StringMap(e.Selector),
				"matchExpressions", emit.Seq(emit.Mapping("key", emit.Str(namespaceLabel), "operator", emit.Str("Exists")))))}, true
		}
		return []any{dir + "Endpoints", emit.Seq(emit.Mapping("matchLabels", emit.StringMap(m)))}, true
	case e.Namespace == ns:
		if len(e.Selector) == 0 {
			return []any{dir + "Endpoints", emit.Seq(emit.Mapping())}, true
		}
		return []any{dir + "Endpoints", emit.Seq(emit.Mapping("matchLabels", emit.StringMap(e.Selector)))}, true
	case e.Namespace == "":
		return nil, false
	default:
		m := map[string]string{namespaceLabel: e.Namespace}
		for k, v := range e.Selector {
			m[k] = v
		}
		return []any{dir + "Endpoints", emit.Seq(emit.Mapping("matchLabels", emit.StringMap(m)))}, true
	}
}

// ports writes Cilium port entries ("8080" as a string, protocol TCP, UDP,
// SCTP or ANY).
func ports(ps []networkingv1.NetworkPolicyPort, anyProto bool) *yaml.Node {
	var items []*yaml.Node
	for _, p := range ps {
		proto := "TCP"
		if p.Protocol != nil {
			proto = string(*p.Protocol)
		}
		if anyProto {
			proto = "ANY"
		}
		port := "0"
		if p.Port != nil {
			if p.Port.Type == intstr.Int {
				port = strconv.Itoa(int(p.Port.IntVal))
			} else {
				port = p.Port.StrVal
			}
		}
		kv := []any{"port", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: port, Style: yaml.DoubleQuotedStyle}, "protocol", emit.Str(proto)}
		if p.EndPort != nil {
			kv = append(kv, "endPort", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(int(*p.EndPort))})
		}
		items = append(items, emit.Mapping(kv...))
	}
	return emit.Seq(items...)
}

// dnsRules are the egress rules to the cluster DNS with the L7 dns rule
// that lets Cilium's DNS proxy learn the addresses toFQDNs matches: one for
// the DNS pods, one for node-local or metadata resolver addresses.
func dnsRules(d v1alpha1.DNS) []*yaml.Node {
	var ps []networkingv1.NetworkPolicyPort
	for _, p := range d.Ports {
		ps = append(ps, policy.Port("TCP", p))
	}
	toPorts := func() *yaml.Node {
		return emit.Seq(emit.Mapping(
			"ports", ports(ps, true),
			"rules", emit.Mapping("dns", emit.Seq(emit.Mapping("matchPattern", emit.Str("*")))),
		))
	}
	var out []*yaml.Node
	if d.Namespace != "" {
		m := map[string]string{namespaceLabel: d.Namespace}
		for k, v := range d.PodLabels {
			m["k8s:"+k] = v
		}
		out = append(out, emit.Mapping("toEndpoints", emit.Seq(emit.Mapping("matchLabels", emit.StringMap(m))), "toPorts", toPorts()))
	}
	if len(d.CIDRs) > 0 {
		var cs []*yaml.Node
		for _, c := range d.CIDRs {
			cs = append(cs, emit.Str(c))
		}
		out = append(out, emit.Mapping("toCIDR", emit.Seq(cs...), "toPorts", toPorts()))
	}
	return out
}

func joinSorted(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, "; ")
}

func sortedValues(m map[string]*yaml.Node) []*yaml.Node {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*yaml.Node, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

func portNumbers(ps []int32) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = strconv.Itoa(int(p))
	}
	return strings.Join(parts, ", ")
}
