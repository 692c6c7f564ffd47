// Package check finds what is wrong with a final object set's network
// policies: pods left open, rules that allow more than anyone asked for,
// pods that cannot resolve names, policies that select nothing, rules that
// cannot work, and the app breakage they would cause: a Service port no
// caller may reach, a workload bound by RBAC cut from the API server, a
// webhook the control plane cannot call; and the deliberately wide defaults
// and fallbacks tierwall wrote, under their own ids. Findings are KRM function results (kyaml
// framework.Result) with a severity, the object, the field and why; each
// carries the tag "check" naming the check, so that tools can filter them.
package check

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/fallback"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/plumbing"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/service"
	"github.com/tierwall/tierwall/pkg/workload"
)

// Check names, the "check" tag of each finding.
const (
	InvalidPolicy    = "invalid-policy"
	NotDefaultDenied = "not-default-denied"
	HostNetwork      = "host-network"
	OpenRule         = "open-rule"
	WholeInternet    = "whole-internet"
	AllNamespaces    = "all-namespaces"
	SplitPeer        = "split-peer"
	NoDNS            = "no-dns"
	SelectsNoPod     = "selects-no-pod"
	UnknownNamedPort = "unknown-named-port"
	ServicePort      = "service-port"
	InClusterIPBlock = "in-cluster-ipblock"
	// NeedsAPI: a workload bound by RBAC with a token mounted cannot reach
	// the API server.
	NeedsAPI = "needs-api"
	// WebhookUnreachable: the control plane cannot call a webhook's pods.
	WebhookUnreachable = "webhook-unreachable"
	// The deliberately wide defaults of the plumbing (warnings, errors under
	// strict): see package plumbing.
	APIEgressUnscoped  = plumbing.WideAPIEgress
	OpenWebhookPort    = plumbing.WideWebhook
	ProxyEgressAllPods = plumbing.WideProxyEgress
	NodeEgressUnscoped = plumbing.WideNodeEgress
	// FallbackCallers: a port opened to its namespace for callers the
	// manifests do not name (package fallback).
	FallbackCallers = fallback.Check
	// UnreachablePort: a Service port of a protected workload that nothing
	// may reach.
	UnreachablePort = fallback.UnreachableCheck
	// IPBlockAdmitsPods: a generated rule from an address range also admits
	// the cluster's pods, on enforcers that match ipBlocks against pods.
	IPBlockAdmitsPods = "ipblock-admits-pods"
	// DuplicateObject: two objects of one identity.
	DuplicateObject = "duplicate-object"
	// UnknownPodTemplate: a kind in no table read as a workload by its pod
	// template's shape.
	UnknownPodTemplate = "unknown-pod-template"
	// IgnoreChecksAnnotation on an object suppresses the findings it names
	// (comma-separated check ids) on that object; they are counted.
	IgnoreChecksAnnotation = "tierwall.io/ignore-checks"
)

// DefaultClusterCIDRs are the usual pod and Service ranges, used when the
// cluster's are not given: kubeadm's Services (10.96.0.0/12) and pods with
// flannel (10.244.0.0/16), k3s's pods (10.42.0.0/16) and Services
// (10.43.0.0/16). Findings against them are warnings, since they are guesses.
var DefaultClusterCIDRs = []string{"10.96.0.0/12", "10.244.0.0/16", "10.42.0.0/16", "10.43.0.0/16"}

// Options tune the checks.
type Options struct {
	// ClusterCIDRs are the cluster's pod and Service ranges. An ipBlock
	// inside one is an error. Defaults to DefaultClusterCIDRs, and then a
	// warning.
	ClusterCIDRs []netip.Prefix
	// Needs are the plumbing needs of the input (package plumbing), each
	// verified through the analysis. Objects reads them itself.
	Needs []plumbing.Need
	// Strict makes the deliberately wide defaults errors.
	Strict bool
	// Skip lists check ids whose findings are suppressed (and counted).
	Skip []string
	// Typed are the specs of the policies tierwall just generated, by
	// object index (analysis.Options.Typed).
	Typed map[int]*networkingv1.NetworkPolicySpec
	// Input are findings on the objects themselves (ReadInput), reported
	// with the others.
	Input framework.Results
	// Reachability checks that every Service port of a protected workload
	// has a caller (unreachable-port): tierwall check does, the engine's
	// own run needs not, since its fallback or its errors cover them.
	Reachability bool
}

// Objects builds the model of a final object set and checks it: the entry
// point for front ends that hold objects (the KRM function after adding its
// policies).
func Objects(objs []manifest.Object, spec *v1alpha1.Spec, opts Options) framework.Results {
	m := analysis.New(objs, analysis.Options{Spec: spec, Typed: opts.Typed})
	if opts.Needs == nil {
		opts.Needs, opts.Input = ReadInput(objs, m.Spec)
	}
	return Run(m, opts)
}

// ReadInput reads what the checks need of the objects themselves: the
// plumbing needs (API access through RBAC, webhooks) for Options.Needs,
// and the findings on the objects (two objects of one identity, pod
// templates of unknown kinds) for Options.Input.
func ReadInput(objs []manifest.Object, spec *v1alpha1.Spec) ([]plumbing.Need, framework.Results) {
	in, _ := plumbing.Read(spec, objs)
	out := plumbing.Derive(in)
	var rs framework.Results
	for _, r := range out.Results {
		if r.Tags["check"] == UnknownPodTemplate {
			rs = append(rs, r)
		}
	}
	seen := map[string]manifest.Object{}
	for _, o := range objs {
		if o.LocalConfig() || o.Kind == "" || o.Name == "" { // generateName: each is its own
			continue
		}
		ns, namespaced := in.Set.Of[o.Index]
		key := o.Group() + "/" + o.Kind + "/" + ns + "/" + o.Name
		if !namespaced {
			key = o.Group() + "/" + o.Kind + "//" + o.Name
		}
		if first, dup := seen[key]; dup {
			r := result.New(result.Error, result.RefOf(o), "metadata.name",
				"%s is in the input twice (documents %d and %d) once namespaces are applied: kubectl and Helm keep only one of them, or refuse both", o.Ref(), first.Index, o.Index)
			r.Tags = map[string]string{"check": DuplicateObject}
			rs = append(rs, r)
			continue
		}
		seen[key] = o
	}
	return out.Needs, rs
}

// Run checks a model and returns the findings, sorted (errors first).
func Run(m *analysis.Model, opts Options) framework.Results {
	c := &checker{m: m, clusterSev: result.Error, cluster: opts.ClusterCIDRs, wideSev: result.Warning}
	if opts.Strict || m.Spec.Check.Strict {
		c.wideSev = result.Error
	}
	if len(c.cluster) == 0 {
		c.clusterSev = result.Warning
		for _, s := range DefaultClusterCIDRs {
			c.cluster = append(c.cluster, netip.MustParsePrefix(s))
		}
	}
	for _, f := range m.Findings {
		r := *f
		r.Tags = map[string]string{"check": InvalidPolicy}
		c.out = append(c.out, &r)
	}
	c.workloads()
	c.needs(opts.Needs)
	if opts.Reachability {
		c.reachability()
	}
	for _, p := range m.Policies {
		if wideIDs(p)[FallbackCallers] {
			c.add(FallbackCallers, c.wideSev, policyRef(p), "spec",
				"NetworkPolicy %s is a fallback: it opens a port to every pod of its namespace because no allow names its callers; replace it with an exact allow (tierwall.io/allow-from, spec.allows)", p.Ref())
		}
		c.selectsNoPod(p)
		for _, r := range append(append([]*analysis.Rule{}, p.IngressRules...), p.EgressRules...) {
			c.openRule(r)
			c.peers(r)
			c.ports(r)
		}
	}
	c.out = append(c.out, opts.Input...)
	c.suppress(opts.Skip)
	result.Sort(c.out)
	return c.out
}

// suppress drops the findings an object's tierwall.io/ignore-checks
// annotation or --skip names, and says how many were dropped.
func (c *checker) suppress(skip []string) {
	skipped := map[string]bool{}
	for _, id := range skip {
		skipped[id] = true
	}
	ignore := map[string]map[string]bool{}
	addObj := func(o manifest.Object) {
		v := o.Annotations[IgnoreChecksAnnotation]
		if v == "" {
			return
		}
		ids := map[string]bool{}
		for _, id := range strings.Split(v, ",") {
			ids[strings.TrimSpace(id)] = true
		}
		ignore[o.Kind+"/"+o.Namespace+"/"+o.Name] = ids
	}
	for _, p := range c.m.Policies {
		addObj(p.Object)
	}
	for _, e := range c.m.Endpoints {
		if e.Workload != nil {
			addObj(e.Workload.Object)
		}
	}
	for _, s := range c.m.Services {
		addObj(s.Object)
	}
	if len(skipped) == 0 && len(ignore) == 0 {
		return
	}
	kept := c.out[:0]
	n := map[string]int{}
	for _, r := range c.out {
		id := r.Tags["check"]
		if ref := r.ResourceRef; id != "" && (skipped[id] || (ref != nil && ignore[ref.Kind+"/"+ref.Namespace+"/"+ref.Name][id])) {
			n[id]++
			continue
		}
		kept = append(kept, r)
	}
	c.out = kept
	var parts []string
	total := 0
	for id, k := range n {
		parts = append(parts, fmt.Sprintf("%s: %d", id, k))
		total += k
	}
	if total > 0 {
		sort.Strings(parts)
		c.out = append(c.out, result.New(result.Info, nil, "",
			"%d finding(s) suppressed (%s annotations or --skip): %s", total, IgnoreChecksAnnotation, strings.Join(parts, ", ")))
	}
}

type checker struct {
	m          *analysis.Model
	cluster    []netip.Prefix
	clusterSev framework.Severity
	out        framework.Results
	wideSev    framework.Severity
	// hostNetByNS indexes the hostNetwork pods, which the analysis leaves
	// out, by namespace.
	hostNetByNS map[string][]*analysis.Endpoint
	// named holds, by port name and protocol (and by name alone, proto
	// ""), the pods that declare the port; numbered, by number and
	// protocol, the workloads a rule on that number would miss (misdirected);
	// services, the Services that select each workload. Each is built at its
	// first use, so that a rule's destinations are tested against them class
	// by class rather than listed.
	named, numbered map[portKey]*analysis.EndpointSet
	services        map[*analysis.Endpoint][]*service.Service
	// exposedNot holds the pods that no LoadBalancer or NodePort Service
	// exposes (exposed).
	exposedNot *analysis.EndpointSet
}

func (c *checker) add(check string, sev framework.Severity, ref *result.Ref, field, format string, args ...any) {
	r := result.New(sev, ref, field, format, args...)
	r.Tags = map[string]string{"check": check}
	c.out = append(c.out, r)
}

func policyRef(p *analysis.Policy) *result.Ref { return result.RefOf(p.Object) }

func workloadRef(e *analysis.Endpoint) *result.Ref { return result.RefOf(e.Workload.Object) }

func labelsField(e *analysis.Endpoint) string { return e.Workload.TemplateField("metadata", "labels") }

// workloads checks each workload of a protected namespace: default-denied
// in both directions, inside NetworkPolicy, able to resolve names.
func (c *checker) workloads() {
	spec := c.m.Spec
	dns := c.dnsEndpoints()
	for _, e := range c.m.Endpoints {
		if e.Kind != analysis.Workload {
			continue
		}
		ns, ok := c.m.Namespace(e.Namespace)
		if !ok || !ns.InScope() {
			continue
		}
		what := e.WorkloadKind + " " + e.String()
		if e.HostNetwork {
			c.add(HostNetwork, result.Warning, workloadRef(e), e.Workload.TemplateField("spec", "hostNetwork"),
				"%s runs with hostNetwork: its pods use the node's network, which no NetworkPolicy can isolate or select", what)
			continue
		}
		in, eg := c.m.Isolation(e)
		var open []string
		if !in && (spec.DefaultDeny.Ingress == nil || *spec.DefaultDeny.Ingress) {
			open = append(open, "ingress")
		}
		if !eg && (spec.DefaultDeny.Egress == nil || *spec.DefaultDeny.Egress) {
			open = append(open, "egress")
		}
		if len(open) > 0 && spec.Baseline.Enabled != nil && !*spec.Baseline.Enabled {
			c.add(NotDefaultDenied, result.Warning, workloadRef(e), labelsField(e),
				"%s is not default-denied for %s by this render (spec.baseline.enabled is false): another render or the platform must deny it",
				what, strings.Join(open, " and "))
		} else if len(open) > 0 {
			c.add(NotDefaultDenied, result.Error, workloadRef(e), labelsField(e),
				"%s is not default-denied for %s: no NetworkPolicy selects its pods for it, so all its %s is allowed",
				what, strings.Join(open, " and "), strings.Join(open, " and "))
		}
		if eg && len(dns) > 0 {
			c.resolves(e, what, dns)
		}
	}
}

// dnsEndpoints are the cluster DNS: the DNS pods of the input or the
// virtual ones standing for them, and the DNS addresses of the profile.
func (c *checker) dnsEndpoints() []*analysis.Endpoint {
	spec := c.m.Spec.DNS
	var out []*analysis.Endpoint
	for _, e := range c.m.Endpoints {
		switch {
		case e.Role == analysis.RoleDNS:
			out = append(out, e)
		case e.Kind == analysis.Workload && spec.Namespace != "" && e.Namespace == spec.Namespace && len(spec.PodLabels) > 0 && hasLabels(e.Labels, spec.PodLabels):
			out = append(out, e)
		}
	}
	return out
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// resolves checks that an egress-isolated workload reaches the cluster DNS
// over UDP and TCP on a DNS port.
func (c *checker) resolves(e *analysis.Endpoint, what string, dns []*analysis.Endpoint) {
	udp, tcp := false, false
	for _, d := range dns {
		v := c.m.Between(e, d)
		for _, p := range c.m.Spec.DNS.Ports {
			udp = udp || v.Ports.Contains("UDP", p)
			tcp = tcp || v.Ports.Contains("TCP", p)
		}
	}
	target := dnsTarget(c.m.Spec.DNS)
	switch {
	case !udp:
		c.add(NoDNS, result.Error, workloadRef(e), labelsField(e),
			"%s cannot resolve names: its egress is denied and no policy allows UDP port %s to %s", what, ports(c.m.Spec.DNS.Ports), target)
	case !tcp:
		c.add(NoDNS, result.Warning, workloadRef(e), labelsField(e),
			"%s reaches %s over UDP only: answers too long for UDP are retried over TCP port %s and will fail", what, target, ports(c.m.Spec.DNS.Ports))
	}
}

func dnsTarget(d v1alpha1.DNS) string {
	var parts []string
	if d.Namespace != "" {
		parts = append(parts, fmt.Sprintf("the cluster DNS (pods %s in namespace %s)", manifest.FormatLabels(d.PodLabels), d.Namespace))
	}
	if len(d.CIDRs) > 0 {
		parts = append(parts, strings.Join(d.CIDRs, ", "))
	}
	return strings.Join(parts, " or ")
}

func ports(ps []int32) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ", ")
}

// selectsNoPod flags a policy whose pod selector matches no pod of the
// input (nor a pod the configuration names). An empty selector is meant for
// every pod, present and future, and is not flagged.
func (c *checker) selectsNoPod(p *analysis.Policy) {
	if p.SelectsAll() {
		return
	}
	if hasSource(p, plumbing.SourceGateway) {
		return // a Gateway's pods are deployed by its implementation, never in the input
	}
	if !c.m.SelectedPods(p).Empty() {
		return
	}
	// It selects no pod the analysis holds; hostNetwork ones, maybe.
	hostNet := 0
	if c.hostNetByNS == nil {
		c.hostNetByNS = map[string][]*analysis.Endpoint{}
		for _, e := range c.m.Endpoints {
			if e.HostNetwork && (e.Kind == analysis.Workload || e.Kind == analysis.Virtual) {
				c.hostNetByNS[e.Namespace] = append(c.hostNetByNS[e.Namespace], e)
			}
		}
	}
	for _, e := range c.hostNetByNS[p.Namespace] {
		if p.Selects(e.Labels) {
			hostNet++
		}
	}
	switch {
	case hostNet > 0:
		c.add(SelectsNoPod, result.Warning, policyRef(p), "spec.podSelector",
			"NetworkPolicy %s selects only hostNetwork pods, which NetworkPolicy cannot isolate: it has no effect", p.Ref())
	default:
		c.add(SelectsNoPod, result.Warning, policyRef(p), "spec.podSelector",
			"NetworkPolicy %s selects no pod: its podSelector matches no workload of namespace %s in the input", p.Ref(), manifest.DisplayNamespace(p.Namespace))
	}
}

// openRule flags rules that allow more than anyone could have meant: no
// peers at all.
func (c *checker) openRule(r *analysis.Rule) {
	if !r.AllPeers() {
		return
	}
	p := r.Policy
	on := "on every port"
	if !r.AllPorts() {
		on = "on " + rulePorts(r)
	}
	wide := wideIDs(p)
	switch {
	case r.Direction == analysis.Egress && wide[APIEgressUnscoped]:
		c.add(APIEgressUnscoped, c.wideSev, policyRef(p), r.Field(),
			"NetworkPolicy %s: %s lets its pods reach the API server at any address %s, since the API server's addresses are not configured: set spec.cluster.apiServer.cidrs to narrow it", p.Ref(), r.Field(), on)
		return
	case r.Direction == analysis.Egress && wide[NodeEgressUnscoped]:
		c.add(NodeEgressUnscoped, c.wideSev, policyRef(p), r.Field(),
			"NetworkPolicy %s: %s lets its pods reach a node-local agent at any address %s, since the nodes' addresses are not configured: set spec.cluster.nodeCIDRs to narrow it", p.Ref(), r.Field(), on)
		return
	case r.Direction == analysis.Ingress && wide[OpenWebhookPort]:
		c.add(OpenWebhookPort, c.wideSev, policyRef(p), r.Field(),
			"NetworkPolicy %s: %s admits every source %s so that the control plane can call the webhook, since its addresses are not configured: any pod or host that reaches it may call the webhook directly; set spec.cluster.controlPlane.cidrs", p.Ref(), r.Field(), on)
		return
	}
	if r.Direction == analysis.Ingress {
		c.add(OpenRule, result.Error, policyRef(p), r.Field(),
			"NetworkPolicy %s: %s has no from, so it admits every source, in the cluster and outside it, %s; name the peers", p.Ref(), r.Field(), on)
	} else {
		c.add(OpenRule, result.Error, policyRef(p), r.Field(),
			"NetworkPolicy %s: %s has no to, so it allows every destination, in the cluster and outside it, %s; name the peers", p.Ref(), r.Field(), on)
	}
}

func rulePorts(r *analysis.Rule) string {
	var out []string
	for _, p := range r.Ports {
		proto := "TCP"
		if p.Protocol != nil {
			proto = string(*p.Protocol)
		}
		switch {
		case p.Port == nil:
			out = append(out, proto+"/any")
		case p.EndPort != nil:
			out = append(out, fmt.Sprintf("%s/%s-%d", proto, p.Port.String(), *p.EndPort))
		default:
			out = append(out, proto+"/"+p.Port.String())
		}
	}
	return strings.Join(out, ", ")
}

// peers checks each peer of a rule: the whole internet, every namespace,
// a namespaceSelector and a podSelector split over two entries, and
// ipBlocks aimed at cluster addresses.
func (c *checker) peers(r *analysis.Rule) {
	p := r.Policy
	nsOnly, podOnly := -1, -1
	for i, peer := range r.Peers {
		if cidr, except, ok := r.Block(i); ok {
			field := peerField(r, i)
			if cidr.Bits() == 0 && len(except) == 0 && wideIDs(p)[APIEgressUnscoped] {
				c.add(APIEgressUnscoped, c.wideSev, policyRef(p), field+".ipBlock",
					"NetworkPolicy %s: ipBlock %s lets its pods reach the API server at any address on %s, since the API server's addresses are not configured: set spec.cluster.apiServer.cidrs to narrow it", p.Ref(), peer.IPBlock.CIDR, rulePorts(r))
			} else if cidr.Bits() == 0 && len(except) == 0 && !c.exposed(r) {
				c.add(WholeInternet, result.Error, policyRef(p), field+".ipBlock",
					"NetworkPolicy %s: ipBlock %s without except is every address: the internet, private networks, the cloud metadata endpoint 169.254.169.254 and, on many CNIs, every pod and node; except the private and link-local ranges or name the ranges needed",
					p.Ref(), peer.IPBlock.CIDR)
			}
			c.inCluster(r, field, cidr)
			c.admitsPods(r, field, cidr, except)
			continue
		}
		switch {
		case peer.PodSelector == nil && peer.NamespaceSelector != nil:
			if empty(peer.NamespaceSelector.MatchLabels, len(peer.NamespaceSelector.MatchExpressions)) && r.AllPorts() && wideIDs(p)[ProxyEgressAllPods] {
				c.add(ProxyEgressAllPods, c.wideSev, policyRef(p), peerField(r, i)+".namespaceSelector",
					"NetworkPolicy %s: an ingress controller may reach every pod of every namespace on every port, since its backends belong to other releases (their own policies narrow it)", p.Ref())
			} else if empty(peer.NamespaceSelector.MatchLabels, len(peer.NamespaceSelector.MatchExpressions)) && r.AllPorts() {
				c.add(AllNamespaces, result.Warning, policyRef(p), peerField(r, i)+".namespaceSelector",
					"NetworkPolicy %s: namespaceSelector {} alone is every pod of every namespace, on every port; add a podSelector in the same entry or ports", p.Ref())
			} else if nsOnly < 0 {
				nsOnly = i
			}
		case peer.PodSelector != nil && peer.NamespaceSelector == nil:
			if podOnly < 0 {
				podOnly = i
			}
		}
	}
	if nsOnly >= 0 && podOnly >= 0 {
		c.add(SplitPeer, result.Warning, policyRef(p), r.PeersField(),
			"NetworkPolicy %s: %s has a namespaceSelector (entry %d) and a podSelector (entry %d) in separate entries, which are ORed: every pod of the selected namespaces is admitted, not only the selected pods; put both selectors in one entry (no \"-\" before podSelector) to require both",
			p.Ref(), r.PeersField(), nsOnly, podOnly)
	}
}

// peerField is the path of peer i of a rule: "spec.ingress[0].from[1]".
func peerField(r *analysis.Rule, i int) string { return fmt.Sprintf("%s[%d]", r.PeersField(), i) }

// portField is the path of the port of entry i of a rule's ports.
func portField(r *analysis.Rule, i int) string { return fmt.Sprintf("%s.ports[%d].port", r.Field(), i) }

func empty(m map[string]string, exprs int) bool { return len(m) == 0 && exprs == 0 }

// inCluster flags an ipBlock inside the cluster's pod or Service ranges,
// unless the configuration names it (the API server, a DNS address).
func (c *checker) inCluster(r *analysis.Rule, field string, cidr netip.Prefix) {
	if cidr.Bits() == 0 || r.Policy.Cilium {
		return // Cilium's entities stand for cluster addresses on purpose
	}
	for _, s := range append(append([]string{}, c.m.Spec.Cluster.APIServer.CIDRs...), c.m.Spec.DNS.CIDRs...) {
		if q, err := netip.ParsePrefix(s); err == nil && q.Masked() == cidr {
			return
		}
	}
	for _, cc := range c.cluster {
		if cc.Addr().Is4() == cidr.Addr().Is4() && cc.Bits() <= cidr.Bits() && cc.Contains(cidr.Addr()) {
			guess := ""
			if c.clusterSev == result.Warning {
				guess = " (a usual default; give the cluster's ranges with --cluster-cidr)"
			}
			c.add(InClusterIPBlock, c.clusterSev, policyRef(r.Policy), field+".ipBlock.cidr",
				"NetworkPolicy %s: ipBlock %s is inside the cluster range %s%s: pod and Service addresses change, Service addresses are rewritten before most CNIs apply policies, and Cilium never matches pods by ipBlock; select the pods with podSelector and namespaceSelector",
				r.Policy.Ref(), cidr, cc, guess)
			return
		}
	}
}

// destinations are the pods a rule's ports apply to: the policy's pods for
// an ingress rule, the pods its peers match for an egress rule. addrsOnly
// is true when an egress rule reaches addresses only.
func (c *checker) destinations(r *analysis.Rule) (pods analysis.PodSet, addrsOnly bool) {
	if r.Direction == analysis.Ingress {
		pods = c.m.SelectedPods(r.Policy)
	} else {
		pods = c.m.PeerPods(r)
	}
	if r.Direction == analysis.Egress && !r.AllPeers() && pods.Empty() {
		addrsOnly = true
		for _, peer := range r.Peers {
			if peer.IPBlock == nil {
				addrsOnly = false
			}
		}
	}
	return pods, addrsOnly
}

// ports checks that each port of a rule can match: named ports declared by
// a destination pod, numbers that are pod ports rather than Service ports.
func (c *checker) ports(r *analysis.Rule) {
	if r.AllPorts() {
		return
	}
	dsts, addrsOnly := c.destinations(r)
	for i, port := range r.Ports {
		if port.Port == nil {
			continue
		}
		proto := "TCP"
		if port.Protocol != nil {
			proto = string(*port.Protocol)
		}
		if port.Port.Type == intstr.String {
			c.namedPort(r, i, port.Port.StrVal, proto, dsts, addrsOnly)
			continue
		}
		// A rule to every destination (no peers) reaches pods and addresses
		// alike: a Service port among them is no sign of a mistake.
		if port.EndPort == nil && !r.AllPeers() {
			c.servicePort(r, i, port.Port.IntVal, proto, dsts)
		}
	}
}

// portKey is a port of pods, by name (number 0) or by number (name "").
// proto "" in an index of names stands for any protocol.
type portKey struct {
	proto, name string
	number      int32
}

// declaring returns the pods that declare a port named name over proto
// (any protocol when proto is ""), built for every name at the first call;
// nil when none does.
func (c *checker) declaring(name, proto string) *analysis.EndpointSet {
	if c.named == nil {
		c.named = map[portKey]*analysis.EndpointSet{}
		for _, e := range c.m.Endpoints {
			for _, dp := range e.Ports {
				if dp.Name == "" {
					continue
				}
				for _, k := range []portKey{{proto: dp.Protocol, name: dp.Name}, {name: dp.Name}} {
					if c.named[k] == nil {
						c.named[k] = c.m.NewEndpointSet()
					}
					c.named[k].Add(e)
				}
			}
		}
	}
	return c.named[portKey{proto: proto, name: name}]
}

func (c *checker) namedPort(r *analysis.Rule, i int, name, proto string, dsts analysis.PodSet, addrsOnly bool) {
	p := r.Policy
	if addrsOnly {
		c.add(UnknownNamedPort, result.Error, policyRef(p), portField(r, i),
			"NetworkPolicy %s: named port %q cannot resolve on ipBlock destinations (addresses declare no container ports): the rule allows nothing; use the port number", p.Ref(), name)
		return
	}
	if dsts.Empty() || dsts.First(c.declaring(name, proto)) != nil {
		return // the rule reaches no pod (selects-no-pod or an empty peer match says more), or one declares the port
	}
	// The first destination that declares the name over another protocol.
	otherProto, other := "", false
	if d := dsts.First(c.declaring(name, "")); d != nil {
		for _, dp := range d.Ports {
			if dp.Name == name {
				otherProto, other = dp.Protocol, true
				break
			}
		}
	}
	whose := "the pods this rule protects"
	if r.Direction == analysis.Egress {
		whose = "the pods this rule reaches"
	}
	if other {
		c.add(UnknownNamedPort, result.Error, policyRef(p), portField(r, i),
			"NetworkPolicy %s: port %q is declared over %s, not %s, by %s (%s): the rule allows nothing", p.Ref(), name, otherProto, proto, whose, endpointList(dsts.List()))
		return
	}
	c.add(UnknownNamedPort, result.Error, policyRef(p), portField(r, i),
		"NetworkPolicy %s: no container port named %q is declared by %s (%s): the rule allows nothing", p.Ref(), name, whose, endpointList(dsts.List()))
}

// servicesOf returns the Services that select a workload, in the model's
// order, read for every workload at the first call.
func (c *checker) servicesOf(e *analysis.Endpoint) []*service.Service {
	if c.services == nil {
		c.services = map[*analysis.Endpoint][]*service.Service{}
		// The workloads by namespace and label: a Service selects pods of its
		// own namespace that carry each label of its selector, so it looks
		// only at those with the rarest of them (a release's label is on
		// every pod of the namespace, an app's on a few).
		type nsLabel struct{ ns, key, value string }
		byLabel := map[nsLabel][]*analysis.Endpoint{}
		for _, w := range c.m.Endpoints {
			if w.Workload == nil {
				continue
			}
			for k, v := range w.Workload.PodLabels {
				l := nsLabel{w.Namespace, k, v}
				byLabel[l] = append(byLabel[l], w)
			}
		}
		for i := range c.m.Services {
			s := &c.m.Services[i]
			if len(s.Selector) == 0 {
				continue // selects nothing
			}
			var cands []*analysis.Endpoint
			first := true
			for k, v := range s.Selector {
				if ws := byLabel[nsLabel{s.Namespace, k, v}]; first || len(ws) < len(cands) {
					cands, first = ws, false
				}
			}
			for _, w := range cands {
				if s.Selects(*w.Workload) {
					c.services[w] = append(c.services[w], s)
				}
			}
		}
	}
	return c.services[e]
}

// misdirected returns the workloads that do not declare port of proto and
// sit behind a Service whose port it is, with another target: a rule on
// that number aimed at them names the Service's port, not the pods'. The
// sets of every port are built at the first call, in one pass over the
// workloads' Services; serviceTarget says the same of one workload. nil
// when there are none.
func (c *checker) misdirected(port int32, proto string) *analysis.EndpointSet {
	if c.numbered == nil {
		c.numbered = map[portKey]*analysis.EndpointSet{}
		for _, d := range c.m.Endpoints {
			if d.Kind != analysis.Workload {
				continue
			}
			for _, svc := range c.servicesOf(d) {
				for _, sp := range svc.Ports {
					k := portKey{proto: sp.Protocol, number: sp.Port}
					if declares(d, sp.Port, sp.Protocol) {
						continue
					}
					if target, _, ok := svc.Target(sp, *d.Workload); !ok || target.Port == sp.Port {
						continue
					}
					if c.numbered[k] == nil {
						c.numbered[k] = c.m.NewEndpointSet()
					}
					c.numbered[k].Add(d)
				}
			}
		}
	}
	return c.numbered[portKey{proto: proto, number: port}]
}

// declares reports whether a pod declares port of proto.
func declares(d *analysis.Endpoint, port int32, proto string) bool {
	for _, dp := range d.Ports {
		if dp.Port == port && dp.Protocol == proto {
			return true
		}
	}
	return false
}

// serviceTarget returns the first Service of workload d whose port is port
// of proto with another target, when d does not declare that port.
func (c *checker) serviceTarget(d *analysis.Endpoint, port int32, proto string) (*service.Service, workload.Port, bool) {
	if declares(d, port, proto) {
		return nil, workload.Port{}, false
	}
	for _, svc := range c.servicesOf(d) {
		for _, sp := range svc.Ports {
			if sp.Port != port || sp.Protocol != proto {
				continue
			}
			target, _, ok := svc.Target(sp, *d.Workload)
			if !ok || target.Port == port {
				continue
			}
			return svc, target, true
		}
	}
	return nil, workload.Port{}, false
}

// servicePort flags a number that no destination declares but that a
// Service in front of a destination uses as its port with another target.
func (c *checker) servicePort(r *analysis.Rule, i int, port int32, proto string, dsts analysis.PodSet) {
	p := r.Policy
	d := dsts.First(c.misdirected(port, proto))
	if d == nil {
		return
	}
	svc, target, _ := c.serviceTarget(d, port, proto)
	via := strconv.Itoa(int(target.Port))
	if target.Name != "" {
		via += " (" + target.Name + ")"
	}
	c.add(ServicePort, result.Error, policyRef(p), portField(r, i),
		"NetworkPolicy %s: port %d/%s is the port of %s, whose pods (%s) listen on %s: policies match pod ports, after the Service's translation, so this rule does not admit that traffic; write %s",
		p.Ref(), port, proto, svc.Ref(), d, via, strconv.Itoa(int(target.Port)))
}

func endpointList(es []*analysis.Endpoint) string {
	const most = 3
	var names []string
	for i, e := range es {
		if i == most {
			names = append(names, fmt.Sprintf("and %d more", len(es)-most))
			break
		}
		names = append(names, e.String())
	}
	return strings.Join(names, ", ")
}

// exposed reports whether an ingress rule protects only pods that a
// LoadBalancer or NodePort Service of the input exposes outside the cluster:
// admitting every address there is the Service's stated intent, not a rule
// wider than asked for.
func (c *checker) exposed(r *analysis.Rule) bool {
	if r.Direction != analysis.Ingress {
		return false
	}
	// The pods of a proxy (an ingress controller, a Gateway's pods) are
	// exposed by what they are.
	if hasSource(r.Policy, plumbing.SourceGateway) || hasSource(r.Policy, plumbing.SourceController) {
		return true
	}
	selected := c.m.SelectedPods(r.Policy)
	if selected.Empty() {
		return false
	}
	if c.exposedNot == nil {
		c.exposedNot = c.m.NewEndpointSet()
		for _, e := range c.m.Endpoints {
			if e.Kind != analysis.Workload && e.Kind != analysis.Virtual {
				continue
			}
			found := false
			if e.Workload != nil {
				for _, svc := range c.servicesOf(e) {
					if svc.Type == "LoadBalancer" || svc.Type == "NodePort" {
						found = true
						break
					}
				}
			}
			if !found {
				c.exposedNot.Add(e)
			}
		}
	}
	return selected.First(c.exposedNot) == nil
}

// wideIDs returns the deliberately wide defaults a generated policy holds.
func wideIDs(p *analysis.Policy) map[string]bool {
	if !p.Object.ManagedByTierwall() {
		return nil
	}
	out := map[string]bool{}
	for _, id := range strings.Split(p.Object.Annotations[manifest.WideAnnotation], ",") {
		if id != "" {
			out[id] = true
		}
	}
	return out
}

// needs verifies each plumbing need through the analysis: a workload bound
// by RBAC reaches the API server, the control plane reaches each webhook.
func (c *checker) needs(needs []plumbing.Need) {
	if len(needs) == 0 {
		return
	}
	byKey := map[string]*analysis.Endpoint{}
	var apis, cps []*analysis.Endpoint
	for _, e := range c.m.Endpoints {
		switch {
		case e.Kind == analysis.Workload:
			byKey[e.Namespace+"/"+e.WorkloadKind+"/"+e.Name] = e
		case e.Role == analysis.RoleAPIServer:
			apis = append(apis, e)
		case e.Role == analysis.RoleControlPlane:
			cps = append(cps, e)
		}
	}
	for _, n := range needs {
		e := byKey[n.Workload.Namespace+"/"+n.Workload.Kind+"/"+n.Workload.Name]
		if e == nil || e.HostNetwork {
			continue
		}
		what := e.WorkloadKind + " " + e.String()
		switch n.Kind {
		case plumbing.NeedAPI:
			ok := false
			for _, a := range apis {
				v := c.m.Between(e, a)
				for _, p := range c.m.Spec.Cluster.APIServer.Ports {
					ok = ok || v.Ports.Contains("TCP", p)
				}
			}
			if !ok && e.Workload.Object.Annotations["helm.sh/hook"] != "" {
				c.add(NeedsAPI, result.Error, workloadRef(e), labelsField(e),
					"%s is a Helm hook that needs the API server (%s) but no policy lets it reach the API server on TCP %s: Helm 3 never shows hooks to a post-renderer, so tierwall could not allow it; render with Helm 4, or allow its pods by label (spec.externalEgress, see docs/plumbing.md)",
					what, n.Why, ports(c.m.Spec.Cluster.APIServer.Ports))
			} else if !ok {
				c.add(NeedsAPI, result.Error, workloadRef(e), labelsField(e),
					"%s needs the API server (%s) but no policy lets it reach the API server on TCP %s: its controllers and clients will fail; turn spec.inference.rbac on, or allow it (spec.kubeAPI with podLabels, or annotation %s: \"true\")",
					what, n.Why, ports(c.m.Spec.Cluster.APIServer.Ports), plumbing.NeedsAPIAnnot)
			}
		case plumbing.NeedWebhook:
			for _, p := range n.Ports {
				ok := false
				for _, cp := range cps {
					ok = ok || c.m.Between(cp, e).Ports.Contains(p.Protocol, p.Port)
				}
				if !ok {
					c.add(WebhookUnreachable, result.Error, workloadRef(e), labelsField(e),
						"%s serves a webhook (%s) but no policy admits the control plane to %s/%d: every API request the webhook intercepts will fail or skip it; turn spec.inference.webhooks on or set spec.cluster.controlPlane.cidrs",
						what, n.Why, p.Protocol, p.Port)
				}
			}
		}
	}
}

// hasSource reports whether a generated policy's rules come from a source.
func hasSource(p *analysis.Policy, source string) bool {
	return p.Object.ManagedByTierwall() && strings.Contains(","+p.Object.Annotations[manifest.SourceAnnotation]+",", ","+source+",")
}

// notCallers are the roles whose reach does not make a port called:
// Prometheus scrapes, DNS pods, the API server.
var notCallers = map[string]bool{analysis.RoleMonitoring: true, analysis.RoleDNS: true, analysis.RoleAPIServer: true}

// reachability flags every Service port of a workload in a protected
// namespace that no caller may reach: the app would break there.
func (c *checker) reachability() {
	reached := map[*analysis.Endpoint]analysis.PortSet{}
	open := map[*analysis.Endpoint]bool{}
	for _, f := range c.m.Flows() {
		if f.From.Kind == analysis.Any {
			open[f.To] = true
			continue
		}
		if notCallers[f.From.Role] {
			continue
		}
		reached[f.To] = reached[f.To].Union(f.Ports)
	}
	for _, e := range c.m.Endpoints {
		if e.Kind != analysis.Workload || e.HostNetwork || e.Workload == nil || open[e] {
			continue
		}
		ns, ok := c.m.Namespace(e.Namespace)
		if !ok || !ns.InScope() {
			continue
		}
		w := e.Workload
		if w.Object.Annotations[fallback.CallersAnnotation] == "none" || w.PodAnnotations[fallback.CallersAnnotation] == "none" {
			continue
		}
		for _, s := range c.m.Services {
			if s.Object.Annotations[fallback.CallersAnnotation] == "none" || !s.Selects(*w) {
				continue
			}
			for _, sp := range s.Ports {
				wp, _, ok := s.Target(sp, *w)
				if !ok || reached[e].Contains(wp.Protocol, wp.Port) || fallback.NoCallers(s.Object.Annotations, sp.Name, sp.Port) || w.MetricsPort(wp) {
					continue
				}
				c.add(UnreachablePort, result.Error, result.RefOf(s.Object), "spec.ports",
					"%s port %d -> pod port %d of %s %s: no policy lets any caller reach it, so whatever calls it will fail; name its callers (tierwall.io/allow-from, spec.allows), let tierwall's fallback open it to its namespace, or annotate %s: none if nothing calls it",
					s.Ref(), sp.Port, wp.Port, e.WorkloadKind, e.String(), fallback.CallersAnnotation)
			}
		}
	}
}

// ReadNeeds is ReadInput's needs alone.
func ReadNeeds(objs []manifest.Object, spec *v1alpha1.Spec) []plumbing.Need {
	needs, _ := ReadInput(objs, spec)
	return needs
}

// admitsPods reports a generated ingress rule whose address range also
// holds the cluster's pods, where the enforcer matches ipBlocks against pod
// addresses: every pod whose egress is open gets in, which the intent
// (outside clients) did not name.
func (c *checker) admitsPods(r *analysis.Rule, field string, cidr netip.Prefix, except []netip.Prefix) {
	p := r.Policy
	if r.Direction != analysis.Ingress || !p.Object.ManagedByTierwall() || p.Cilium || !c.m.Spec.Cluster.IPBlocksMatchPods() {
		return
	}
	pod := analysis.PodAddr(c.m.Spec)
	if !cidr.Contains(pod) {
		return
	}
	for _, e := range except {
		if e.Contains(pod) {
			return
		}
	}
	c.add(IPBlockAdmitsPods, result.Warning, policyRef(p), field+".ipBlock",
		"NetworkPolicy %s: ipBlock %s also admits every pod of the cluster whose egress is open, on CNI %q (kube-router, Calico and kube-network-policies match ipBlocks against pod addresses; Cilium does not): set spec.cluster.narrowIPBlocks with cluster.podCIDRs to leave the pod and Service ranges out, where pods and nodes do not share a range",
		p.Ref(), cidr, c.m.Spec.Cluster.CNI)
}
