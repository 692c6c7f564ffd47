// Package baseline derives the zero-trust baseline of every namespace in
// scope: default-deny, DNS, Prometheus scraping and, when asked for, the API
// server. Pure functions: namespaces and workloads in, typed policies and
// findings out.
package baseline

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/scope"
	"github.com/tierwall/tierwall/pkg/workload"
)

// Policy names of the baseline.
const (
	DefaultDenyName      = "default-deny-all"
	DNSName              = "allow-dns"
	DNSIngressName       = "allow-dns-ingress"
	MonitoringName       = "allow-monitoring"
	MonitoringEgressName = "allow-monitoring-egress"
	KubeAPIName          = "allow-kube-api"
	prometheusPortAnno   = "prometheus.io/port"
	prometheusScrapeAnno = "prometheus.io/scrape"
)

// Derive returns the baseline policies of every namespace in scope, with
// findings about what it did not generate and why.
func Derive(spec *v1alpha1.Spec, set scope.Set, workloads []workload.Workload) ([]policy.Generated, framework.Results) {
	d := deriver{spec: spec, set: set, byNS: map[string][]workload.Workload{}}
	for _, w := range workloads {
		d.byNS[w.Namespace] = append(d.byNS[w.Namespace], w)
	}
	for _, ns := range set.List {
		if !ns.InScope() {
			continue
		}
		d.defaultDeny(ns)
		d.dns(ns)
		d.monitoring(ns)
		d.kubeAPI(ns)
	}
	d.dnsIngress()
	d.monitoringEgress()
	return d.out, d.results
}

type deriver struct {
	spec    *v1alpha1.Spec
	set     scope.Set
	byNS    map[string][]workload.Workload
	out     []policy.Generated
	results framework.Results
	// scrapes records, per scraped namespace, what Prometheus needs egress to.
	scrapes []scrape
}

type scrape struct {
	ns       string
	selector map[string]string // nil: every pod of ns
	ports    []networkingv1.NetworkPolicyPort
}

func (d *deriver) ingressDenied() bool { return *d.spec.DefaultDeny.Ingress }
func (d *deriver) egressDenied() bool  { return *d.spec.DefaultDeny.Egress }

func (d *deriver) add(g policy.Generated) {
	g.Policy.Annotations[manifest.SourceAnnotation] = "baseline"
	d.out = append(d.out, g)
}

func (d *deriver) defaultDeny(ns scope.Namespace) {
	var types []networkingv1.PolicyType
	var dirs []string
	if d.ingressDenied() {
		types = append(types, policy.Ingress)
		dirs = append(dirs, "ingress")
	}
	if d.egressDenied() {
		types = append(types, policy.Egress)
		dirs = append(dirs, "egress")
	}
	if len(types) == 0 {
		d.results = append(d.results, result.New(result.Warning, nsRef(ns), "spec.defaultDeny",
			"namespace %s: default-deny is off in both directions (spec.defaultDeny): its pods stay open", ns.Display()))
		return
	}
	g := policy.New(ns.Name, DefaultDenyName, nil, fmt.Sprintf(
		"zero-trust baseline: deny all %s of every pod in this namespace that no other policy allows (config spec.defaultDeny)",
		strings.Join(dirs, " and ")))
	g.Policy.Spec.PolicyTypes = types
	d.add(g)
}

func (d *deriver) dns(ns scope.Namespace) {
	if !d.egressDenied() {
		return // an egress policy would isolate pods whose egress is meant to stay open
	}
	c := d.spec.DNS
	var peers []networkingv1.NetworkPolicyPeer
	var to []string
	if c.Namespace != "" {
		peers = append(peers, policy.PodsInNamespace(c.Namespace, c.PodLabels))
		to = append(to, fmt.Sprintf("pods %s in namespace %s", manifest.FormatLabels(c.PodLabels), c.Namespace))
	}
	for _, cidr := range c.CIDRs {
		peers = append(peers, policy.CIDR(cidr))
		to = append(to, cidr)
	}
	g := policy.New(ns.Name, DNSName, nil, fmt.Sprintf(
		"zero-trust baseline: every pod may resolve names over UDP and TCP port %s to %s (config spec.dns, profile %s)",
		portList(c.Ports), strings.Join(to, " and "), c.Profile))
	g.Policy.Spec.PolicyTypes = []networkingv1.PolicyType{policy.Egress}
	g.Policy.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: peers, Ports: dnsPorts(c.Ports)}}
	d.add(g)
}

func dnsPorts(ports []int32) []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for _, p := range ports {
		out = append(out, policy.Port("UDP", p), policy.Port("TCP", p))
	}
	return out
}

// dnsIngress admits every pod's DNS queries when the DNS namespace itself is
// in scope (and so default-denied), and warns that the DNS pods' own egress
// is denied there.
func (d *deriver) dnsIngress() {
	c := d.spec.DNS
	if c.Namespace == "" {
		return
	}
	ns, ok := d.set.Get(c.Namespace)
	if !ok || !ns.InScope() {
		return
	}
	if d.egressDenied() {
		// The resolvers' own egress (upstream servers, the API server their
		// kubernetes plugin watches) is not something tierwall can know.
		d.results = append(d.results, result.New(result.Warning, nsRef(ns), "spec.dns.namespace",
			"namespace %s holds the DNS pods (config spec.dns) and is default-denied: their egress to upstream resolvers and the API server is not allowed, which breaks name resolution for the whole cluster; skip the namespace or allow that egress",
			ns.Display()))
	}
	if !d.ingressDenied() {
		return
	}
	g := policy.New(ns.Name, DNSIngressName, c.PodLabels, fmt.Sprintf(
		"both ends in scope: the DNS pods %s of this namespace answer every pod of the cluster on UDP and TCP port %s (config spec.dns)",
		manifest.FormatLabels(c.PodLabels), portList(c.Ports)))
	g.Policy.Spec.PolicyTypes = []networkingv1.PolicyType{policy.Ingress}
	all := policy.Selector(nil)
	g.Policy.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &all}},
		Ports: dnsPorts(c.Ports),
	}}
	d.add(g)
}

// prometheusEgressDenied reports whether Prometheus's own namespace is in
// scope with egress default-denied, so that it needs egress to what it scrapes.
func (d *deriver) prometheusEgressDenied() bool {
	ns, ok := d.set.Get(d.spec.Monitoring.Namespace)
	return d.egressDenied() && ok && ns.InScope()
}

func (d *deriver) monitoring(ns scope.Namespace) {
	m := d.spec.Monitoring
	// The metrics ports are needed for the scraped pods' ingress, and also
	// for Prometheus's egress when only egress is default-denied.
	if !*m.Enabled || !(d.ingressDenied() || d.prometheusEgressDenied()) {
		return
	}
	prom := policy.PodsInNamespace(m.Namespace, m.PodLabels)
	promDesc := fmt.Sprintf("Prometheus (pods %s in namespace %s, config spec.monitoring)", manifest.FormatLabels(m.PodLabels), m.Namespace)
	if len(m.Ports) > 0 {
		var ports []networkingv1.NetworkPolicyPort
		for _, p := range m.Ports {
			if n, err := strconv.Atoi(p.String()); err == nil {
				ports = append(ports, policy.Port("TCP", int32(n)))
			} else if d.declared(ns.Name, p.String()) {
				// A name no pod here declares would allow nothing.
				ports = append(ports, policy.NamedPort("TCP", p.String()))
			}
		}
		if len(ports) == 0 {
			if len(d.byNS[ns.Name]) > 0 {
				d.results = append(d.results, result.New(result.Info, nsRef(ns), "spec.monitoring.ports",
					"namespace %s: no workload declares the port names of spec.monitoring.ports: no %s policy", ns.Display(), MonitoringName))
			}
			return
		}
		ports = policy.SortPorts(ports)
		g := policy.New(ns.Name, MonitoringName, nil, fmt.Sprintf(
			"zero-trust baseline: %s may scrape every pod of this namespace on the ports of config spec.monitoring.ports", promDesc))
		d.monitoringPolicy(g, prom, ports)
		d.scrapes = append(d.scrapes, scrape{ns: ns.Name, ports: ports})
		return
	}
	// Named metrics ports, resolved by Kubernetes on each destination pod,
	// admit exactly the pods that declare them.
	named := map[string]bool{}
	var namedPorts []networkingv1.NetworkPolicyPort
	var namedFrom []string
	type annotated struct {
		w     workload.Workload
		ports []networkingv1.NetworkPolicyPort
	}
	var numbered []annotated
	for _, w := range d.byNS[ns.Name] {
		if w.HostNetwork {
			continue
		}
		var own []string
		for _, p := range w.Ports {
			if workload.IsMetricsPortName(p.Name) {
				own = append(own, p.Name)
				key := p.Protocol + "/" + p.Name
				if !named[key] {
					named[key] = true
					namedPorts = append(namedPorts, policy.NamedPort(p.Protocol, p.Name))
				}
			}
		}
		if len(own) > 0 {
			namedFrom = append(namedFrom, fmt.Sprintf("%s %s (container port %s)", w.Kind, w.Name, strings.Join(own, ", ")))
		}
		ann, ok := w.PodAnnotations[prometheusPortAnno]
		if !ok || w.PodAnnotations[prometheusScrapeAnno] == "false" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(ann))
		if err != nil || n < 1 || n > 65535 {
			d.results = append(d.results, result.New(result.Warning, result.RefOf(w.Object),
				w.TemplateField("metadata", "annotations", prometheusPortAnno),
				"%s %q is not a port number: no monitoring allow for it", prometheusPortAnno, ann))
			continue
		}
		if p, ok := portNumbered(w, int32(n)); ok && workload.IsMetricsPortName(p.Name) {
			continue // already admitted by its name
		}
		if len(w.Selector) == 0 {
			d.results = append(d.results, result.New(result.Warning, result.RefOf(w.Object), "",
				"%s %s has no labels to select its pods: no monitoring allow for port %d", w.Kind, w.Name, n))
			continue
		}
		numbered = append(numbered, annotated{w: w, ports: []networkingv1.NetworkPolicyPort{policy.Port("TCP", int32(n))}})
	}
	if len(namedPorts) == 0 && len(numbered) == 0 && d.ingressDenied() && len(d.byNS[ns.Name]) > 0 {
		d.results = append(d.results, result.New(result.Info, nsRef(ns), "",
			"namespace %s: no workload declares a metrics port (a container port named metrics, http-metrics or *-metrics, or a %s annotation): no %s policy",
			ns.Display(), prometheusPortAnno, MonitoringName))
		return
	}
	if len(namedPorts) > 0 {
		namedPorts = policy.SortPorts(namedPorts)
		sort.Strings(namedFrom)
		g := policy.New(ns.Name, MonitoringName, nil, fmt.Sprintf(
			"zero-trust baseline: %s may scrape the metrics ports declared here, by name, so only pods declaring them are reached: %s",
			promDesc, strings.Join(namedFrom, "; ")))
		d.monitoringPolicy(g, prom, namedPorts)
		d.scrapes = append(d.scrapes, scrape{ns: ns.Name, ports: namedPorts})
	}
	sort.Slice(numbered, func(i, j int) bool {
		return numbered[i].w.Name < numbered[j].w.Name || (numbered[i].w.Name == numbered[j].w.Name && numbered[i].w.Kind < numbered[j].w.Kind)
	})
	for i, a := range numbered {
		name := MonitoringName + "-" + a.w.Name
		if (i > 0 && numbered[i-1].w.Name == a.w.Name) || (i+1 < len(numbered) && numbered[i+1].w.Name == a.w.Name) {
			name = MonitoringName + "-" + strings.ToLower(a.w.Kind) + "-" + a.w.Name
		}
		g := policy.New(ns.Name, name, a.w.Selector, fmt.Sprintf(
			"zero-trust baseline: %s may scrape %s %s on port %s (pod annotation %s)",
			promDesc, a.w.Kind, a.w.Name, portString(a.ports[0]), prometheusPortAnno))
		d.monitoringPolicy(g, prom, a.ports)
		d.scrapes = append(d.scrapes, scrape{ns: ns.Name, selector: a.w.Selector, ports: a.ports})
	}
}

// monitoringPolicy adds the ingress allow g, when ingress is default-denied
// (otherwise an ingress policy would isolate the pods it selects).
func (d *deriver) monitoringPolicy(g policy.Generated, prom networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) {
	if !d.ingressDenied() {
		return
	}
	g.Policy.Spec.PolicyTypes = []networkingv1.PolicyType{policy.Ingress}
	g.Policy.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{prom},
		Ports: ports,
	}}
	d.add(g)
}

func portNumbered(w workload.Workload, n int32) (workload.Port, bool) {
	for _, p := range w.Ports {
		if p.Port == n {
			return p, true
		}
	}
	return workload.Port{}, false
}

// monitoringEgress gives Prometheus the egress matching every scrape allow
// when its own namespace is in scope, or scraping silently stops.
func (d *deriver) monitoringEgress() {
	m := d.spec.Monitoring
	if len(d.scrapes) == 0 || !d.egressDenied() {
		return
	}
	ns, ok := d.set.Get(m.Namespace)
	if !ok || !ns.InScope() {
		return
	}
	var rules []networkingv1.NetworkPolicyEgressRule
	var targets []string
	for _, s := range d.scrapes {
		if s.ns == "" {
			d.results = append(d.results, result.New(result.Warning, nil, "spec.namespace",
				"Prometheus's namespace %s is default-denied but the release namespace has no name: no egress to scrape it; set spec.namespace (post-renderer: --namespace)", m.Namespace))
			continue
		}
		var peer networkingv1.NetworkPolicyPeer
		if s.ns == m.Namespace && s.selector == nil {
			peer = policy.Pods(nil)
		} else if s.ns == m.Namespace {
			peer = policy.Pods(s.selector)
		} else if s.selector == nil {
			peer = policy.Namespace(s.ns)
		} else {
			peer = policy.PodsInNamespace(s.ns, s.selector)
		}
		rules = append(rules, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{peer}, Ports: s.ports})
		if s.selector == nil {
			targets = append(targets, s.ns)
		} else {
			targets = append(targets, s.ns+" ("+manifest.FormatLabels(s.selector)+")")
		}
	}
	if len(rules) == 0 {
		return
	}
	g := policy.New(ns.Name, MonitoringEgressName, m.PodLabels, fmt.Sprintf(
		"both ends in scope: Prometheus (config spec.monitoring) is default-denied here, so it gets egress to exactly the metrics ports it may scrape in: %s",
		strings.Join(targets, ", ")))
	g.Policy.Spec.PolicyTypes = []networkingv1.PolicyType{policy.Egress}
	g.Policy.Spec.Egress = rules
	d.add(g)
}

func (d *deriver) kubeAPI(ns scope.Namespace) {
	k := d.spec.KubeAPI
	if !k.Enabled || !d.egressDenied() || d.spec.Flavor == v1alpha1.FlavorCilium {
		return // the cilium flavour writes the kube-apiserver entity instead
	}
	if len(k.PodLabels) > 0 && !HasPods(d.byNS[ns.Name], k.PodLabels) {
		return // a policy selecting no pod of this namespace
	}
	var peers []networkingv1.NetworkPolicyPeer
	for _, c := range d.spec.Cluster.APIServer.CIDRs {
		peers = append(peers, policy.CIDR(c))
	}
	var ports []networkingv1.NetworkPolicyPort
	for _, p := range d.spec.Cluster.APIServer.Ports {
		ports = append(ports, policy.Port("TCP", p))
	}
	who := "every pod"
	if len(k.PodLabels) > 0 {
		who = "pods " + manifest.FormatLabels(k.PodLabels)
	}
	g := policy.New(ns.Name, KubeAPIName, k.PodLabels, fmt.Sprintf(
		"config spec.kubeAPI: %s may reach the API server at %s on TCP port %s (endpoint addresses for CNIs that enforce after DNAT, the Service ClusterIP for those that enforce before)",
		who, strings.Join(d.spec.Cluster.APIServer.CIDRs, ", "), portList(d.spec.Cluster.APIServer.Ports)))
	g.Policy.Spec.PolicyTypes = []networkingv1.PolicyType{policy.Egress}
	g.Policy.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: peers, Ports: ports}}
	d.add(g)
}

func nsRef(ns scope.Namespace) *result.Ref {
	if ns.Name == "" {
		return nil
	}
	return &result.Ref{APIVersion: "v1", Kind: "Namespace", Name: ns.Name}
}

func portList(ports []int32) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		parts[i] = strconv.Itoa(int(p))
	}
	return strings.Join(parts, ", ")
}

func portString(p networkingv1.NetworkPolicyPort) string {
	proto := "TCP"
	if p.Protocol != nil {
		proto = string(*p.Protocol)
	}
	return fmt.Sprintf("%s/%s", proto, p.Port.String())
}

// declared reports whether a workload of namespace ns declares a container
// port with this name.
func (d *deriver) declared(ns, name string) bool {
	for _, w := range d.byNS[ns] {
		if _, ok := w.PortByName(name); ok && !w.HostNetwork {
			return true
		}
	}
	return false
}

// HasPods reports whether some workload's pods carry all the labels.
func HasPods(ws []workload.Workload, labels map[string]string) bool {
	for _, w := range ws {
		ok := true
		for k, v := range labels {
			if w.PodLabels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// DNSEdges gives DNS to the source of every egress edge, for renders that
// write no allow-dns (spec.baseline.enabled: false): a pod with an egress
// policy from this render must resolve names through it.
func DNSEdges(spec *v1alpha1.Spec, edges []graph.Edge) []graph.Edge {
	c := spec.DNS
	var tos []graph.Endpoint
	if c.Namespace != "" {
		tos = append(tos, graph.Endpoint{Kind: graph.Pods, Namespace: c.Namespace, Selector: c.PodLabels, Name: "dns"})
	}
	for _, cidr := range c.CIDRs {
		tos = append(tos, graph.Endpoint{Kind: graph.CIDR, CIDR: cidr, Name: "dns"})
	}
	seen := map[string]bool{}
	var out []graph.Edge
	for _, e := range edges {
		if e.SkipEgress || !e.From.Selectable() {
			continue
		}
		key := e.From.Namespace + "/" + e.From.Name + "/" + graph.Labels(e.From.Selector) + "/" + e.Policy
		if seen[key] {
			continue
		}
		seen[key] = true
		for _, to := range tos {
			out = append(out, graph.Edge{From: e.From, To: to, Ports: dnsPorts(c.Ports), Source: "dns", Policy: e.Policy, SkipIngress: true,
				Reason: fmt.Sprintf("dns: this render writes no allow-dns (spec.baseline.enabled: false), so %s resolves names through its own egress policy: UDP and TCP port %s to %s (config spec.dns, profile %s)",
					e.From.Describe(), portList(c.Ports), to.Describe(), c.Profile)})
		}
	}
	return out
}
