package analysis_test

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// FuzzAnalysis builds namespaces, pods and NetworkPolicies from the fuzz
// bytes (any bytes make a valid-looking set: a small vocabulary of labels,
// ports and selectors, so that rules meet pods) and checks the evaluator:
// no panic; the same objects evaluate the same twice and in reverse order;
// each explicit flow carries what Between says; and for every pair of pods
// and every port of interest, Allowed agrees with a naive evaluator written
// from the NetworkPolicy API reference (isolation per direction, rules
// ORed, peers of one element ANDed, named ports resolved on the
// destination, both sides needed).
func FuzzAnalysis(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x03\x01\x02\x05\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c"))
	f.Add([]byte("tierwall fuzzes the NetworkPolicy evaluator against a naive one"))
	f.Add([]byte{4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
		255, 254, 253, 252, 251, 250, 128, 127, 64, 63, 32, 31, 16, 15, 8, 7, 4, 3, 2, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &gen{data: data}
		docs := g.objects()
		build := func(reverse bool) (*analysis.Model, []manifest.Object) {
			objs := objectsOf(t, docs, reverse)
			m := analysis.New(objs, analysis.Options{})
			return m, objs
		}
		m, _ := build(false)
		want := flowsText(m)
		if again, _ := build(false); flowsText(again) != want {
			t.Fatalf("two evaluations disagree:\n%s\n---\n%s", want, flowsText(again))
		}
		if rev, _ := build(true); flowsText(rev) != want {
			t.Fatalf("the order of the objects changes the flows:\n%s\n---\n%s\ninput:\n%s", want, flowsText(rev), strings.Join(docs, "---\n"))
		}
		for _, fl := range m.Flows() {
			if fl.From.Kind == analysis.Any || fl.To.Kind == analysis.Any {
				continue
			}
			if v := m.Between(fl.From, fl.To); !v.Ports.Equal(fl.Ports) {
				t.Fatalf("flow %s -> %s says %s, Between says %s", fl.From, fl.To, fl.Ports, v.Ports)
			}
		}

		// The naive evaluator, over the pods and the policies the model
		// found valid (invalid ones are findings and left out by both).
		valid := map[string]bool{}
		for _, p := range m.Policies {
			valid[p.Namespace+"/"+p.Name] = true
		}
		var policies []naivePolicy
		for _, p := range g.policies {
			if valid[p.ns+"/"+p.name] {
				policies = append(policies, p)
			}
		}
		for _, src := range g.pods {
			for _, dst := range g.pods {
				s, d := endpointOf(t, m, src), endpointOf(t, m, dst)
				for _, proto := range []string{"TCP", "UDP", "SCTP"} {
					for _, port := range g.interestingPorts() {
						got := m.Allowed(s, d, proto, port)
						want := naiveAllowed(policies, g.nsLabels, src, dst, proto, port)
						if got != want {
							t.Fatalf("%s -> %s %s/%d: the model says %v, the API reference %v\ninput:\n%s",
								s, d, proto, port, got, want, strings.Join(docs, "---\n"))
						}
					}
				}
			}
		}
	})
}

// gen reads choices from the fuzz bytes; past their end every choice is 0.
type gen struct {
	data []byte
	pos  int

	pods     []naivePod
	policies []naivePolicy
	nsLabels map[string]map[string]string
	ports    map[int32]bool
}

func (g *gen) next() int {
	if g.pos >= len(g.data) {
		return 0
	}
	g.pos++
	return int(g.data[g.pos-1])
}

func (g *gen) pick(n int) int { return g.next() % n }

var (
	namespaces  = []string{"a", "b", "c"}
	labelKeys   = []string{"app", "tier", "role"}
	labelValues = []string{"web", "api", "db", "x"}
	portNames   = []string{"http", "metrics", "dns", "grpc"}
	portNumbers = []int32{53, 80, 443, 8080, 9090, 5432}
	protocols   = []string{"TCP", "UDP", "SCTP"}
)

type naivePod struct {
	ns, name    string
	labels      map[string]string
	ports       []namedPort
	hostNetwork bool
}

type namedPort struct {
	name  string
	port  int32
	proto string
}

type naivePolicy struct {
	ns, name        string
	spec            networkingv1.NetworkPolicySpec
	ingress, egress bool // effective policy types
	selector        labels.Selector
}

// objects generates the documents.
func (g *gen) objects() []string {
	g.nsLabels = map[string]map[string]string{}
	g.ports = map[int32]bool{}
	var docs []string
	for _, ns := range namespaces {
		l := map[string]string{"kubernetes.io/metadata.name": ns}
		if g.pick(2) == 1 {
			l["team"] = labelValues[g.pick(len(labelValues))]
			docs = append(docs, toYAML(map[string]any{"apiVersion": "v1", "kind": "Namespace",
				"metadata": map[string]any{"name": ns, "labels": map[string]any{"team": l["team"]}}}))
		}
		g.nsLabels[ns] = l
	}
	for i, n := 0, 1+g.pick(5); i < n; i++ {
		p := naivePod{ns: namespaces[g.pick(len(namespaces))], name: fmt.Sprintf("pod%d", i), labels: g.labels(0), hostNetwork: g.pick(8) == 0}
		var ports []any
		for j, k := 0, g.pick(4); j < k; j++ {
			np := namedPort{name: portNames[g.pick(len(portNames))], port: portNumbers[g.pick(len(portNumbers))], proto: protocols[g.pick(len(protocols))]}
			p.ports = append(p.ports, np)
			g.ports[np.port] = true
			ports = append(ports, map[string]any{"name": np.name, "containerPort": np.port, "protocol": np.proto})
		}
		labelsAny := map[string]any{}
		for k, v := range p.labels {
			labelsAny[k] = v
		}
		spec := map[string]any{"containers": []any{map[string]any{"name": "c", "ports": ports}}}
		if p.hostNetwork {
			spec["hostNetwork"] = true
		}
		docs = append(docs, toYAML(map[string]any{"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": p.name, "namespace": p.ns, "labels": labelsAny}, "spec": spec}))
		g.pods = append(g.pods, p)
	}
	for i, n := 0, g.pick(6); i < n; i++ {
		p := naivePolicy{ns: namespaces[g.pick(len(namespaces))], name: fmt.Sprintf("pol%d", i)}
		p.spec.PodSelector = g.selector()
		switch g.pick(4) {
		case 1:
			p.spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		case 2:
			p.spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
		case 3:
			p.spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
		}
		for j, k := 0, g.pick(3); j < k; j++ {
			peers, ports := g.rule()
			p.spec.Ingress = append(p.spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: peers, Ports: ports})
		}
		for j, k := 0, g.pick(3); j < k; j++ {
			peers, ports := g.rule()
			p.spec.Egress = append(p.spec.Egress, networkingv1.NetworkPolicyEgressRule{To: peers, Ports: ports})
		}
		docs = append(docs, toYAML(map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
			"metadata": map[string]any{"name": p.name, "namespace": p.ns}, "spec": p.spec}))
		g.policies = append(g.policies, p.prepare())
	}
	return docs
}

// labels makes a label set; min keys at least.
func (g *gen) labels(min int) map[string]string {
	l := map[string]string{}
	for _, k := range labelKeys {
		if v := g.pick(len(labelValues) + 1); v > 0 || len(l) < min {
			l[k] = labelValues[v%len(labelValues)]
		}
	}
	return l
}

func (g *gen) selector() metav1.LabelSelector {
	var s metav1.LabelSelector
	switch g.pick(4) {
	case 0: // {}: every pod
	case 1, 2:
		s.MatchLabels = g.labels(1)
	case 3:
		ops := []metav1.LabelSelectorOperator{metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist}
		for j, k := 0, 1+g.pick(2); j < k; j++ {
			r := metav1.LabelSelectorRequirement{Key: labelKeys[g.pick(len(labelKeys))], Operator: ops[g.pick(len(ops))]}
			if r.Operator == metav1.LabelSelectorOpIn || r.Operator == metav1.LabelSelectorOpNotIn {
				r.Values = []string{labelValues[g.pick(len(labelValues))]}
				if g.pick(2) == 1 {
					r.Values = append(r.Values, labelValues[g.pick(len(labelValues))])
				}
			}
			s.MatchExpressions = append(s.MatchExpressions, r)
		}
	}
	return s
}

func (g *gen) rule() ([]networkingv1.NetworkPolicyPeer, []networkingv1.NetworkPolicyPort) {
	var peers []networkingv1.NetworkPolicyPeer
	for j, k := 0, g.pick(3); j < k; j++ {
		var p networkingv1.NetworkPolicyPeer
		switch g.pick(4) {
		case 0:
			s := g.selector()
			p.PodSelector = &s
		case 1:
			s := g.selector()
			p.NamespaceSelector = &s
		case 2:
			s, n := g.selector(), g.selector()
			p.PodSelector, p.NamespaceSelector = &s, &n
		case 3:
			p.IPBlock = &networkingv1.IPBlock{CIDR: []string{"0.0.0.0/0", "10.0.0.0/8", "192.168.1.0/24"}[g.pick(3)]}
		}
		peers = append(peers, p)
	}
	var ports []networkingv1.NetworkPolicyPort
	for j, k := 0, g.pick(3); j < k; j++ {
		var p networkingv1.NetworkPolicyPort
		if c := g.pick(4); c > 0 {
			proto := corev1.Protocol(protocols[c-1])
			p.Protocol = &proto
		}
		switch g.pick(4) {
		case 0: // protocol only: every port
		case 1:
			v := intstr.FromString(portNames[g.pick(len(portNames))])
			p.Port = &v
		case 2:
			v := intstr.FromInt32(portNumbers[g.pick(len(portNumbers))])
			p.Port = &v
			g.ports[v.IntVal] = true
		case 3:
			lo := portNumbers[g.pick(len(portNumbers))]
			hi := lo + int32(g.pick(9000))
			v := intstr.FromInt32(lo)
			p.Port, p.EndPort = &v, &hi
			g.ports[lo], g.ports[hi], g.ports[hi+1] = true, true, true
		}
		ports = append(ports, p)
	}
	return peers, ports
}

// interestingPorts are the ports the objects name, their neighbours, and
// the ends of the range.
func (g *gen) interestingPorts() []int32 {
	set := map[int32]bool{1: true, 65535: true}
	for p := range g.ports {
		for _, q := range []int32{p - 1, p, p + 1} {
			if q >= 1 && q <= 65535 {
				set[q] = true
			}
		}
	}
	out := make([]int32, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (p naivePolicy) prepare() naivePolicy {
	p.selector, _ = metav1.LabelSelectorAsSelector(&p.spec.PodSelector)
	if len(p.spec.PolicyTypes) == 0 {
		p.ingress, p.egress = true, len(p.spec.Egress) > 0
	}
	for _, t := range p.spec.PolicyTypes {
		p.ingress = p.ingress || t == networkingv1.PolicyTypeIngress
		p.egress = p.egress || t == networkingv1.PolicyTypeEgress
	}
	return p
}

// naiveAllowed follows the NetworkPolicy reference literally, pod by pod.
func naiveAllowed(policies []naivePolicy, nsLabels map[string]map[string]string, src, dst naivePod, proto string, port int32) bool {
	if src.hostNetwork || dst.hostNetwork {
		return false // outside NetworkPolicy: the model gives no verdict
	}
	side := func(self naivePod, ingress bool) bool {
		isolated, allowed := false, false
		for _, p := range policies {
			if p.ns != self.ns || !p.selector.Matches(labels.Set(self.labels)) {
				continue
			}
			if ingress && p.ingress {
				isolated = true
				for _, r := range p.spec.Ingress {
					if peersMatch(r.From, p.ns, src, nsLabels) && portsMatch(r.Ports, dst, proto, port) {
						allowed = true
					}
				}
			}
			if !ingress && p.egress {
				isolated = true
				for _, r := range p.spec.Egress {
					if peersMatch(r.To, p.ns, dst, nsLabels) && portsMatch(r.Ports, dst, proto, port) {
						allowed = true
					}
				}
			}
		}
		return !isolated || allowed
	}
	return side(src, false) && side(dst, true)
}

func peersMatch(peers []networkingv1.NetworkPolicyPeer, policyNS string, pod naivePod, nsLabels map[string]map[string]string) bool {
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		if p.IPBlock != nil {
			// Under the default (unknown) CNI, ipBlocks match pod addresses
			// and every pod stands at analysis.DefaultPodAddr; hostNetwork
			// pods are never peers.
			if !pod.hostNetwork && blockHas(p.IPBlock, analysis.DefaultPodAddr) {
				return true
			}
			continue
		}
		nsOK := pod.ns == policyNS
		if p.NamespaceSelector != nil {
			s, _ := metav1.LabelSelectorAsSelector(p.NamespaceSelector)
			nsOK = s.Matches(labels.Set(nsLabels[pod.ns]))
		}
		podOK := true
		if p.PodSelector != nil {
			s, _ := metav1.LabelSelectorAsSelector(p.PodSelector)
			podOK = s.Matches(labels.Set(pod.labels))
		}
		if nsOK && podOK {
			return true
		}
	}
	return false
}

func portsMatch(ports []networkingv1.NetworkPolicyPort, dst naivePod, proto string, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		pp := "TCP"
		if p.Protocol != nil {
			pp = string(*p.Protocol)
		}
		if pp != proto {
			continue
		}
		switch {
		case p.Port == nil:
			return true
		case p.Port.Type == intstr.String:
			for _, c := range dst.ports {
				if c.name == p.Port.StrVal && c.proto == proto && c.port == port {
					return true
				}
			}
		case p.EndPort != nil:
			if port >= p.Port.IntVal && port <= *p.EndPort {
				return true
			}
		case port == p.Port.IntVal:
			return true
		}
	}
	return false
}

func toYAML(v any) string {
	b, err := sigsyaml.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func objectsOf(t *testing.T, docs []string, reverse bool) []manifest.Object {
	t.Helper()
	nodes := testutil.Docs(t, []byte(strings.Join(docs, "---\n")))
	if reverse {
		for i, j := 0, len(nodes)-1; i < j; i, j = i+1, j-1 {
			nodes[i], nodes[j] = nodes[j], nodes[i]
		}
	}
	out := make([]manifest.Object, len(nodes))
	for i, n := range nodes {
		out[i] = manifest.FromNode(i, n)
	}
	return out
}

func endpointOf(t *testing.T, m *analysis.Model, p naivePod) *analysis.Endpoint {
	t.Helper()
	for _, e := range m.Endpoints {
		if e.Kind == analysis.Workload && e.Namespace == p.ns && e.Name == p.name {
			return e
		}
	}
	t.Fatalf("pod %s/%s is no endpoint", p.ns, p.name)
	return nil
}

// flowsText writes every flow, with the policies on each side.
func flowsText(m *analysis.Model) string {
	var b strings.Builder
	refs := func(ps []*analysis.Policy) string {
		var s []string
		for _, p := range ps {
			s = append(s, p.Ref())
		}
		return strings.Join(s, ",")
	}
	for _, f := range m.Flows() {
		fmt.Fprintf(&b, "%s -> %s: %s %v egress %v[%s] ingress %v[%s]\n", f.From.ID, f.To.ID, f.Ports, f.NamedPorts,
			f.Egress.Isolated, refs(f.Egress.Policies), f.Ingress.Isolated, refs(f.Ingress.Policies))
	}
	for _, r := range m.Findings {
		fmt.Fprintf(&b, "finding: %s\n", r.Message)
	}
	return b.String()
}

func blockHas(b *networkingv1.IPBlock, a netip.Addr) bool {
	c, err := netip.ParsePrefix(b.CIDR)
	if err != nil || !c.Contains(a) {
		return false
	}
	for _, e := range b.Except {
		if x, err := netip.ParsePrefix(e); err == nil && x.Contains(a) {
			return false
		}
	}
	return true
}
