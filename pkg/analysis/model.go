package analysis

import (
	"fmt"
	networkingv1 "k8s.io/api/networking/v1"
	"net/netip"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/scope"
	"github.com/tierwall/tierwall/pkg/service"
	"github.com/tierwall/tierwall/pkg/workload"
)

// NamespaceNameLabel is set by Kubernetes on every namespace.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// InternetAddr stands for "the internet": a public address no private,
// link-local or cluster range contains.
var InternetAddr = netip.MustParseAddr("8.8.8.8")

// DefaultAPIServerAddr stands for the API server when spec.kubeAPI.cidrs is
// not set: the kubernetes Service ClusterIP of a kubeadm cluster.
var DefaultAPIServerAddr = netip.MustParsePrefix("10.96.0.1/32")

// DefaultPodAddr stands for every pod's address when spec.cluster.podCIDRs
// is not set: an address of the usual kubeadm (flannel) pod range.
var DefaultPodAddr = netip.MustParseAddr("10.244.0.10")

// DefaultControlPlaneAddr stands for the control plane calling webhooks when
// spec.cluster.controlPlane.cidrs is not set: a private node address.
var DefaultControlPlaneAddr = netip.MustParsePrefix("10.0.0.2/32")

// Kind says what an endpoint is.
type Kind string

// Endpoint kinds.
const (
	// Workload is an object of the input that runs pods.
	Workload Kind = "workload"
	// Virtual stands for pods the configuration names but the input lacks
	// (cluster DNS, Prometheus, the ingress controller), placed in their
	// namespace with their labels so that rules aimed at them are evaluated.
	Virtual Kind = "virtual"
	// External is an address range outside the pods: the internet, the API
	// server, named CIDRs.
	External Kind = "external"
	// Any stands for every source or destination in wildcard flows.
	Any Kind = "any"
)

// Roles of virtual and external endpoints.
const (
	RoleDNS        = "dns"
	RoleMonitoring = "monitoring"
	RoleEntry      = "entry"
	RoleAPIServer  = "kube-apiserver"
	// RoleControlPlane is where the API server calls webhooks from.
	RoleControlPlane = "control-plane"
	RoleInternet     = "internet"
	RoleCIDR         = "cidr"
)

// Namespace is a namespace of the input, or one that a virtual endpoint
// lives in.
type Namespace struct {
	Name string
	// Labels include kubernetes.io/metadata.name.
	Labels map[string]string
	// InStream is true when objects of the input live in the namespace.
	InStream bool
	// Skipped says why tierwall does not protect the namespace ("" when in
	// scope); namespaces outside the input are skipped too.
	Skipped string
}

// InScope reports whether tierwall protects the namespace.
func (n *Namespace) InScope() bool { return n.Skipped == "" }

// Display names the namespace for people.
func (n *Namespace) Display() string { return manifest.DisplayNamespace(n.Name) }

// Endpoint is one end of a flow.
type Endpoint struct {
	// ID is unique and stable: "production/Deployment/api",
	// "virtual/kube-system/kube-dns", "external/internet".
	ID   string
	Kind Kind
	// Role of a virtual or external endpoint (RoleDNS ...).
	Role string
	// Namespace of a pod endpoint.
	Namespace string
	// Name of the workload, or of the virtual or external endpoint.
	Name string
	// WorkloadKind is the object's kind (Deployment ...), for workloads.
	WorkloadKind string
	// Labels of the pods.
	Labels map[string]string
	// Ports the pods declare.
	Ports []workload.Port
	// HostNetwork pods are outside NetworkPolicy: no policy selects them and
	// no pod selector matches them.
	HostNetwork bool
	// Addrs are the known addresses: an external range's first address, a
	// Pod object's status.podIPs. ipBlock peers match only these.
	Addrs []netip.Addr
	// CIDR is the range an external endpoint stands for.
	CIDR string
	// Workload is what the input object says, for workloads.
	Workload *workload.Workload
	// Peer is the policy peer a RoleSelector or RoleNamespace endpoint
	// stands for.
	Peer *PeerSelector

	class int // -1: not analysed (hostNetwork, any)
	order int // position in Model.Endpoints, which is sorted
	// rank is the order of the first endpoint that endpointLess does not
	// tell apart from this one (same kind, namespace, name and ID: objects
	// of the input given twice): sorting by rank, stably, is sorting with
	// endpointLess, in integers.
	rank int
}

// AnyEndpoint is the wildcard end of a flow.
var AnyEndpoint = &Endpoint{ID: "any", Kind: Any, Name: "any", class: -1}

// String names the endpoint for people: "production/api", "internet".
func (e *Endpoint) String() string {
	switch e.Kind {
	case External, Any:
		return e.Name
	}
	if e.Peer != nil {
		return e.Peer.Text()
	}
	if e.Namespace == "" {
		return e.Name
	}
	return e.Namespace + "/" + e.Name
}

// Describe says what the endpoint is: "Deployment", "cluster DNS (virtual)".
func (e *Endpoint) Describe() string {
	switch e.Kind {
	case Workload:
		if e.HostNetwork {
			return e.WorkloadKind + ", hostNetwork"
		}
		return e.WorkloadKind
	case Virtual:
		return roleText[e.Role] + ", not in the input"
	case External:
		if e.CIDR != "" && e.Role != RoleInternet && e.Name != e.CIDR {
			return roleText[e.Role] + " " + e.CIDR
		}
		return roleText[e.Role]
	}
	return "any source or destination"
}

var roleText = map[string]string{
	RoleDNS:          "cluster DNS",
	RoleControlPlane: "the control plane (webhook calls)",
	RoleMonitoring:   "Prometheus",
	RoleEntry:        "tier entry",
	RoleAPIServer:    "API server",
	RoleInternet:     "public addresses",
	RoleCIDR:         "address range",
	RoleSelector:     "pods a policy names",
	RoleNamespace:    "a whole namespace",
}

// NamedCIDR is an address range with a name, shown as a peer.
type NamedCIDR struct {
	Name string
	CIDR netip.Prefix
}

// Options tune the analysis.
type Options struct {
	// Spec is tierwall's configuration, defaulted. Nil means the defaults.
	Spec *v1alpha1.Spec
	// External names more address ranges to show as peers.
	External []NamedCIDR
	// SelectorPeers adds an endpoint for each peer selector of the policies
	// that no endpoint matches, and for peers naming whole namespaces
	// beyond the input (RoleSelector, RoleNamespace), so that every allowed
	// flow has both its ends. What the policies allow between the other
	// endpoints is the same either way.
	SelectorPeers bool
	// Typed are the specs of policies tierwall just generated, by object
	// index: read as they are, never decoded again from their YAML.
	Typed map[int]*networkingv1.NetworkPolicySpec
}

// Model is the final object set seen as a network: namespaces, endpoints,
// policies, and what the policies allow between the endpoints.
type Model struct {
	Spec       *v1alpha1.Spec
	Namespaces []*Namespace
	// Endpoints are sorted: workloads, then virtual, then external
	// endpoints, each by namespace and name.
	Endpoints []*Endpoint
	// Policies are the valid NetworkPolicies, sorted by namespace and name.
	Policies []*Policy
	// Services of the input, for checks on ports.
	Services []service.Service
	// Findings are the problems met reading the input, such as invalid
	// policies (left out of the analysis).
	Findings framework.Results

	nsByName    map[string]*Namespace
	classes     []*class
	classesByNS map[string][]int
	// addrGroups are the classes with addresses, grouped by their address
	// list: every pod without a known address shares one assumed address, so
	// an ipBlock is tested once per distinct list, not once per class.
	addrGroups []*addrGroup
	// classesByLabel are the classes of each namespace by one label they
	// carry, in increasing order: a selector asking for a value looks only
	// at the classes that hold it (candidates).
	classesByLabel map[classLabel][]int
	selectors      *selectorCache
}

// classLabel is a namespace and one label of the pods of a class.
type classLabel struct{ ns, key, value string }

// addrGroup is the classes that share one address list.
type addrGroup struct {
	addrs   []netip.Addr
	classes []int
}

// class is an equivalence class of endpoints: same namespace, same labels,
// same addresses. Policies select classes and peers match classes, so the
// cost grows with the number of classes and rules, not endpoints squared.
type class struct {
	index     int
	ns        *Namespace // nil for external endpoints
	labels    labels.Set
	addrs     []netip.Addr
	endpoints []*Endpoint // in model order (Endpoint.order)

	// pods is true for a class of workloads or virtual pods: the key of a
	// class holds the endpoints' kind, so that no class mixes pods and
	// addresses.
	pods bool

	ingressIsolated, egressIsolated bool
	ingress, egress                 []*Rule
}

// Namespace returns the namespace named name.
func (m *Model) Namespace(name string) (*Namespace, bool) {
	n, ok := m.nsByName[name]
	return n, ok
}

// New builds the model of objs, the final object set (the input's own
// policies included), and evaluates every policy; the problems met reading
// it (invalid policies, left out) are in Model.Findings.
func New(objs []manifest.Object, opts Options) *Model {
	spec := opts.Spec
	if spec == nil {
		spec = &v1alpha1.Spec{}
		spec.Default()
	}
	m := &Model{Spec: spec, nsByName: map[string]*Namespace{}, classesByNS: map[string][]int{}, classesByLabel: map[classLabel][]int{}, selectors: &selectorCache{m: map[string]cachedSelector{}}}
	set, _ := scope.Namespaces(spec, objs)
	for _, ns := range set.List {
		n := &Namespace{Name: ns.Name, Labels: map[string]string{}, InStream: true, Skipped: ns.Skipped}
		for k, v := range ns.Labels {
			n.Labels[k] = v
		}
		if ns.Name != "" {
			n.Labels[NamespaceNameLabel] = ns.Name
		}
		m.addNamespace(n)
	}
	extra := workload.ConfigKinds(spec.WorkloadKinds)
	var cilium []*manifest.Object
	for i := range objs {
		o := &objs[i]
		if o.LocalConfig() {
			continue
		}
		ns, namespaced := set.Of[o.Index]
		switch {
		case o.IsNetworkPolicy() && namespaced:
			p, rs := parsePolicy(*o, ns, opts.Typed[o.Index], m.selectors)
			m.Findings = append(m.Findings, rs...)
			if p != nil {
				m.Policies = append(m.Policies, p)
			}
		case IsCilium(*o) && namespaced:
			cilium = append(cilium, o)
		case o.Kind == "Service" && o.APIVersion == "v1" && namespaced:
			if svc, ok := service.Extract(*o, ns); ok {
				m.Services = append(m.Services, svc)
			}
		case namespaced && !o.ManagedByTierwall():
			if w, ok := workload.Extract(*o, ns, extra); ok {
				m.Endpoints = append(m.Endpoints, workloadEndpoint(w))
			}
		}
	}
	for _, o := range cilium {
		p, rs := m.parseCiliumPolicy(*o, set.Of[o.Index])
		m.Findings = append(m.Findings, rs...)
		if p != nil {
			m.Policies = append(m.Policies, p)
		}
	}
	m.addVirtual()
	if opts.SelectorPeers {
		m.addSelectorPeers()
	}
	m.assumePodAddresses()
	m.addExternal(opts.External)
	sort.SliceStable(m.Endpoints, func(i, j int) bool { return endpointLess(m.Endpoints[i], m.Endpoints[j]) })
	sort.SliceStable(m.Policies, func(i, j int) bool {
		a, b := m.Policies[i], m.Policies[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	sort.Slice(m.Namespaces, func(i, j int) bool { return m.Namespaces[i].Name < m.Namespaces[j].Name })
	m.buildClasses()
	m.evaluate()
	result.Sort(m.Findings)
	return m
}

func (m *Model) addNamespace(n *Namespace) {
	m.Namespaces = append(m.Namespaces, n)
	m.nsByName[n.Name] = n
}

// ensureNamespace returns the namespace named name, adding one outside the
// input (known by its kubernetes.io/metadata.name label only) when needed.
func (m *Model) ensureNamespace(name string) *Namespace {
	if n, ok := m.nsByName[name]; ok {
		return n
	}
	n := &Namespace{Name: name, Labels: map[string]string{NamespaceNameLabel: name}, Skipped: "not in the input"}
	m.addNamespace(n)
	return n
}

func workloadEndpoint(w workload.Workload) *Endpoint {
	e := &Endpoint{
		ID:           w.Namespace + "/" + w.Kind + "/" + w.Name,
		Kind:         Workload,
		Namespace:    w.Namespace,
		Name:         w.Name,
		WorkloadKind: w.Kind,
		Labels:       w.PodLabels,
		Ports:        w.Ports,
		HostNetwork:  w.HostNetwork,
		Workload:     &w,
	}
	e.Addrs = podIPs(w.PodIPs)
	return e
}

// podIPs reads status.podIPs (or status.podIP) of a Pod object, as kubectl
// get -o yaml shows them.
func podIPs(ips []string) []netip.Addr {
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, s := range ips {
		if a, err := netip.ParseAddr(s); err == nil && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// addVirtual adds the pods the configuration names that the input lacks.
func (m *Model) addVirtual() {
	spec := m.Spec
	if spec.DNS.Namespace != "" && len(spec.DNS.PodLabels) > 0 {
		var ports []workload.Port
		for _, p := range spec.DNS.Ports {
			ports = append(ports, workload.Port{Name: "dns", Port: p, Protocol: "UDP"}, workload.Port{Name: "dns-tcp", Port: p, Protocol: "TCP"})
		}
		name := "kube-dns"
		if spec.DNS.Profile == v1alpha1.DNSProfileOpenShift {
			name = "dns-default"
		}
		m.addVirtualPod(RoleDNS, spec.DNS.Namespace, name, spec.DNS.PodLabels, ports)
	}
	if spec.Monitoring.Enabled != nil && *spec.Monitoring.Enabled {
		m.addVirtualPod(RoleMonitoring, spec.Monitoring.Namespace, "prometheus", spec.Monitoring.PodLabels, nil)
	}
	if spec.Tiers.Enabled != nil && *spec.Tiers.Enabled {
		for _, p := range spec.Tiers.Entry {
			if p.Namespace != "" && p.CIDR == "" {
				l := p.PodLabels
				if len(l) == 0 && p.Namespace == "ingress-nginx" {
					// The controller's pods carry its chart's labels, which the
					// class-based Ingress allows select.
					l = map[string]string{"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}
				}
				m.addVirtualPod(RoleEntry, p.Namespace, "ingress-controller", l, nil)
			}
		}
	}
	for _, c := range spec.Inference.IngressClasses {
		m.addVirtualPod(RoleEntry, c.Namespace, "ingress-"+c.Name, c.PodLabels, nil)
	}
}

// addVirtualPod adds a virtual endpoint unless a workload of the input (or a
// virtual endpoint already added) is in namespace ns with the labels.
func (m *Model) addVirtualPod(role, ns, name string, podLabels map[string]string, ports []workload.Port) {
	for _, e := range m.Endpoints {
		if (e.Kind == Workload || e.Kind == Virtual) && e.Namespace == ns && labels.SelectorFromSet(podLabels).Matches(labels.Set(e.Labels)) {
			return
		}
	}
	m.ensureNamespace(ns)
	l := map[string]string{}
	for k, v := range podLabels {
		l[k] = v
	}
	m.Endpoints = append(m.Endpoints, &Endpoint{
		ID: "virtual/" + ns + "/" + name, Kind: Virtual, Role: role, Namespace: ns, Name: name, Labels: l, Ports: ports,
	})
}

// addExternal adds the address endpoints: the internet, the API server,
// DNS addresses, the configuration's and the caller's named ranges, and every
// range an ipBlock of the input names.
func (m *Model) addExternal(named []NamedCIDR) {
	seen := map[netip.Prefix]bool{}
	add := func(role, name string, p netip.Prefix) {
		p = p.Masked()
		if seen[p] {
			return
		}
		seen[p] = true
		m.Endpoints = append(m.Endpoints, &Endpoint{
			ID: "external/" + name, Kind: External, Role: role, Name: name, CIDR: p.String(), Addrs: []netip.Addr{p.Addr()},
		})
	}
	add(RoleInternet, "internet", netip.PrefixFrom(InternetAddr, 32))
	spec := m.Spec
	// The API server and the control plane: the configured ranges, else a
	// stand-in address; named by role, and by range when there are several.
	for _, r := range []struct {
		role  string
		cidrs []string
		def   netip.Prefix
	}{
		{RoleAPIServer, spec.Cluster.APIServer.CIDRs, DefaultAPIServerAddr},
		{RoleControlPlane, spec.Cluster.ControlPlane.CIDRs, DefaultControlPlaneAddr},
	} {
		ps := parsePrefixes(r.cidrs)
		if len(ps) == 0 {
			ps = []netip.Prefix{r.def}
		}
		for _, p := range ps {
			name := r.role
			if len(ps) > 1 {
				name += " " + p.String()
			}
			add(r.role, name, p)
		}
	}
	for _, p := range parsePrefixes(spec.DNS.CIDRs) {
		add(RoleDNS, "dns "+p.String(), p)
	}
	for i, ee := range spec.ExternalEgress {
		name := ee.Name
		if name == "" {
			name = fmt.Sprintf("external-%d", i)
		}
		for _, p := range parsePrefixes(ee.CIDRs) {
			if p.Bits() > 0 {
				add(RoleCIDR, name+" "+p.String(), p)
			}
		}
	}
	for _, n := range named {
		add(RoleCIDR, n.Name, n.CIDR)
	}
	for _, p := range m.Policies {
		for _, rules := range [][]*Rule{p.IngressRules, p.EgressRules} {
			for _, r := range rules {
				for _, pm := range r.peers {
					if pm.isBlock && pm.cidr.Bits() > 0 {
						add(RoleCIDR, pm.cidr.String(), pm.cidr)
					}
				}
			}
		}
	}
}

func parsePrefixes(cidrs []string) []netip.Prefix {
	var out []netip.Prefix
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil {
			out = append(out, p)
		}
	}
	return out
}

var kindRank = map[Kind]int{Workload: 0, Virtual: 1, External: 2, Any: 3}

func endpointLess(a, b *Endpoint) bool {
	if kindRank[a.Kind] != kindRank[b.Kind] {
		return kindRank[a.Kind] < kindRank[b.Kind]
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.ID < b.ID
}

// buildClasses groups the endpoints into equivalence classes.
func (m *Model) buildClasses() {
	byKey := map[string]*class{}
	groups := map[string]*addrGroup{}
	for i, e := range m.Endpoints {
		e.class, e.order, e.rank = -1, i, i
		if i > 0 && !endpointLess(m.Endpoints[i-1], e) {
			e.rank = m.Endpoints[i-1].rank
		}
		if e.HostNetwork {
			continue
		}
		var b strings.Builder
		b.WriteString(string(e.Kind))
		b.WriteByte(0)
		if e.Kind != External {
			b.WriteString(e.Namespace)
		}
		b.WriteByte(0)
		b.WriteString(labels.Set(e.Labels).String())
		n := b.Len()
		for _, a := range e.Addrs {
			b.WriteByte(0)
			b.WriteString(a.String())
		}
		key := b.String()
		c, ok := byKey[key]
		if !ok {
			c = &class{index: len(m.classes), labels: labels.Set(e.Labels), addrs: e.Addrs, pods: e.Kind == Workload || e.Kind == Virtual}
			if e.Kind != External {
				c.ns = m.nsByName[e.Namespace]
				m.classesByNS[e.Namespace] = append(m.classesByNS[e.Namespace], c.index)
				for k, v := range e.Labels {
					l := classLabel{e.Namespace, k, v}
					m.classesByLabel[l] = append(m.classesByLabel[l], c.index)
				}
			}
			if len(e.Addrs) > 0 {
				g := groups[key[n:]]
				if g == nil {
					g = &addrGroup{addrs: e.Addrs}
					groups[key[n:]] = g
					m.addrGroups = append(m.addrGroups, g)
				}
				g.classes = append(g.classes, c.index)
			}
			byKey[key] = c
			m.classes = append(m.classes, c)
		}
		e.class = c.index
		c.endpoints = append(c.endpoints, e)
	}
}

// evaluate computes, once per policy and rule, the classes selected and the
// classes matched, and records on each class the rules that govern it.
func (m *Model) evaluate() {
	bb := newBitsetBuilder(len(m.classes))
	for _, p := range m.Policies {
		for _, ci := range m.candidates(p.Namespace, p.selector) {
			c := m.classes[ci]
			if !p.selector.Matches(c.labels) {
				continue
			}
			bb.set(ci)
			if p.Ingress {
				c.ingressIsolated = true
				c.ingress = append(c.ingress, p.IngressRules...)
			}
			if p.Egress {
				c.egressIsolated = true
				c.egress = append(c.egress, p.EgressRules...)
			}
		}
		p.selects = bb.take()
		for _, rules := range [][]*Rule{p.IngressRules, p.EgressRules} {
			for _, r := range rules {
				if !r.allPeers {
					m.match(bb, p, r.peers)
					r.matched = bb.take()
				}
			}
		}
	}
}

// match adds to b the classes any of the peers matches.
func (m *Model) match(b *bitsetBuilder, p *Policy, peers []peerMatcher) {
	for _, pm := range peers {
		switch {
		case pm.isBlock:
			for _, g := range m.addrGroups {
				for _, a := range g.addrs {
					if pm.matchesAddr(a) {
						for _, ci := range g.classes {
							b.set(ci)
						}
						break
					}
				}
			}
		case pm.ns == nil:
			for _, ci := range m.candidates(p.Namespace, pm.pod) {
				if pm.pod.Matches(m.classes[ci].labels) {
					b.set(ci)
				}
			}
		default:
			for _, ns := range m.Namespaces {
				if !pm.ns.Matches(labels.Set(ns.Labels)) {
					continue
				}
				for _, ci := range m.candidates(ns.Name, pm.pod) {
					if pm.pod == nil || pm.pod.Matches(m.classes[ci].labels) {
						b.set(ci)
					}
				}
			}
		}
	}
}

// candidates returns the classes of namespace ns that sel may match: when
// sel requires labels to equal one of some values, the classes holding one
// of them for the rarest such label (classesByLabel: a release's label is
// on every pod of a namespace, an app's on a few), else every class of the
// namespace. Callers still test each with sel.
func (m *Model) candidates(ns string, sel labels.Selector) []int {
	out := m.classesByNS[ns]
	if sel == nil {
		return out
	}
	reqs, _ := sel.Requirements()
	for _, r := range reqs {
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
		default:
			continue
		}
		if vals := r.ValuesUnsorted(); len(vals) == 1 {
			if l := m.classesByLabel[classLabel{ns, r.Key(), vals[0]}]; len(l) < len(out) {
				out = l
			}
			continue
		}
		var some []int
		for v := range r.Values() { // a set: the values written may repeat
			// A class holds one value per key: the lists are disjoint.
			some = append(some, m.classesByLabel[classLabel{ns, r.Key(), v}]...)
		}
		if len(some) < len(out) {
			out = some
		}
	}
	return out
}

// assumePodAddresses gives the pods of the input (and the virtual ones) an
// address when the enforcer matches ipBlocks against pod addresses
// (kube-router, Calico, kube-network-policies, and unknown, read as the
// widest): a rule from 0.0.0.0/0 then admits every pod whose egress is
// open, as those enforcers do. Cilium (by default) does not, and pods keep
// no address. Pods with known addresses (Pod objects' status) keep theirs.
func (m *Model) assumePodAddresses() {
	if !m.Spec.Cluster.IPBlocksMatchPods() {
		return
	}
	addr := PodAddr(m.Spec)
	for _, e := range m.Endpoints {
		if (e.Kind == Workload || e.Kind == Virtual) && !e.HostNetwork && len(e.Addrs) == 0 {
			e.Addrs = []netip.Addr{addr}
		}
	}
}

// PodAddr is the address that stands for every pod without a known one: in
// spec.cluster.podCIDRs, else DefaultPodAddr.
func PodAddr(spec *v1alpha1.Spec) netip.Addr {
	for _, c := range spec.Cluster.PodCIDRs {
		if p, err := netip.ParsePrefix(c); err == nil {
			return p.Masked().Addr().Next().Next()
		}
	}
	return DefaultPodAddr
}
