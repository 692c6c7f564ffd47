package enforce

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// Addresses of the sandbox. Pods get private addresses, as in a real cluster,
// so that the usual "0.0.0.0/0 except private ranges" does not admit them.
var (
	// PodRange holds the pods' addresses, one /32 each.
	PodRange = netip.MustParsePrefix("10.244.0.0/16")
	// NodeAddr is the node's InternalIP, every pod's hostIP.
	NodeAddr = netip.MustParseAddr("10.255.255.254")
	// InternetAddr stands for the internet: an address of TEST-NET-1
	// (192.0.2.0/24, RFC 5737), never a real host. The analysis' own internet
	// endpoint (8.8.8.8) is not probed.
	InternetAddr = netip.MustParseAddr("192.0.2.10")
)

// podAddr is the address of the i-th pod of a plan.
func podAddr(i int) netip.Addr {
	b := PodRange.Addr().As4()
	n := i + 10
	b[2], b[3] = byte(n/250), byte(n%250)+2
	return netip.AddrFrom4(b)
}

// Port is a protocol and port a pod or host listens on.
type Port struct {
	Proto string // TCP or UDP
	Port  int32
}

func (p Port) String() string { return fmt.Sprintf("%s/%d", p.Proto, p.Port) }

// Namespace is a namespace the sandbox creates or relabels.
type Namespace struct {
	Name string
	// Labels without kubernetes.io/metadata.name, which the API server sets.
	Labels map[string]string
}

// Pod is a pod the sandbox runs for one endpoint of the analysis: a workload
// of the input or a peer the configuration names that the input lacks.
type Pod struct {
	// Endpoint is the analysis' endpoint ID ("shop/Deployment/web").
	Endpoint string
	Object   corev1.Pod
	Addr     netip.Addr
	// Listen are the ports the pod listens on: every declared TCP and UDP port.
	Listen []Port
}

// Host is an address outside the pods: the internet, the API server, the
// control plane, a range an ipBlock or one of its excepts names.
type Host struct {
	Name   string
	Addr   netip.Addr
	Listen []Port
}

// Policy is a NetworkPolicy to apply, as JSON with its namespace set.
type Policy struct {
	Namespace, Name string
	JSON            []byte
}

// Probe is one connection attempt: from a pod or host to a pod or host (its
// Pod.Endpoint or Host.Name) on a port.
type Probe struct {
	From, To string
	Port
}

func (p Probe) String() string { return fmt.Sprintf("%s -> %s %s", p.From, p.To, p.Port) }

// Plan is what one case deploys and probes, and what the analysis expects of
// each probe.
type Plan struct {
	Namespaces []Namespace
	Pods       []Pod
	Hosts      []Host
	Policies   []Policy
	Probes     []Probe
	// Left lists what the sandbox leaves out, and why.
	Left []string

	// manifest is the analysis of the rendered objects, as tierwall report
	// sees them: pods without addresses.
	manifest *analysis.Model
	// live is the analysis of the objects the sandbox runs: Pod objects with
	// their addresses, the namespaces and the plain NetworkPolicies.
	live               *analysis.Model
	manifestEP, liveEP map[string]*analysis.Endpoint
	addrOf             map[string]netip.Addr
}

// NewPlan reads a rendered object set (the input and tierwall's policies) and
// its configuration (nil: the defaults) into pods, hosts, policies and probes.
func NewPlan(objs []manifest.Object, spec *v1alpha1.Spec) (*Plan, error) {
	if spec == nil {
		spec = &v1alpha1.Spec{}
		spec.Default()
	}
	p := &Plan{addrOf: map[string]netip.Addr{}}
	// Neither enforcer reads CiliumNetworkPolicies: both models go without.
	var plain []manifest.Object
	for _, o := range objs {
		if analysis.IsCilium(o) {
			p.Left = append(p.Left, o.Ref()+": neither enforcer reads it")
			continue
		}
		plain = append(plain, o)
	}
	objs = plain
	first := analysis.New(objs, analysis.Options{Spec: spec})

	for _, n := range first.Namespaces {
		if n.Name == "" {
			return nil, fmt.Errorf("objects without a namespace: the sandbox needs the release namespace named (spec.namespace)")
		}
		l := map[string]string{}
		for k, v := range n.Labels {
			if k != analysis.NamespaceNameLabel {
				l[k] = v
			}
		}
		p.Namespaces = append(p.Namespaces, Namespace{Name: n.Name, Labels: l})
	}

	for _, e := range first.Endpoints {
		switch {
		case e.Kind == analysis.Workload && e.HostNetwork:
			p.Left = append(p.Left, fmt.Sprintf("%s: hostNetwork pods are outside NetworkPolicy", e.ID))
		case e.Kind == analysis.Workload || e.Kind == analysis.Virtual:
			pod, left := p.pod(e, podAddr(len(p.Pods)))
			p.Left = append(p.Left, left...)
			p.Pods = append(p.Pods, pod)
		}
	}

	for _, pol := range first.Policies {
		data, err := policyJSON(pol)
		if err != nil {
			return nil, err
		}
		p.Policies = append(p.Policies, Policy{Namespace: pol.Namespace, Name: pol.Name, JSON: data})
	}

	p.Hosts, p.Left = hosts(first, p.Left)
	var named []analysis.NamedCIDR
	for _, h := range p.Hosts {
		p.addrOf[h.Name] = h.Addr
		named = append(named, analysis.NamedCIDR{Name: h.Name, CIDR: netip.PrefixFrom(h.Addr, 32)})
	}
	// Both models know every host as a named address, so that each host is an
	// endpoint of its own whatever the policies name.
	p.manifest = analysis.New(objs, analysis.Options{Spec: spec, External: named})
	live, err := p.liveObjects()
	if err != nil {
		return nil, err
	}
	p.live = analysis.New(live, analysis.Options{Spec: spec, External: named})
	if err := p.index(); err != nil {
		return nil, err
	}
	p.probes()
	return p, nil
}

// pod builds the Pod object of an endpoint: its labels, one container
// declaring its ports (named ports keep their names), the node, and a status
// that says it runs at addr on the node.
func (p *Plan) pod(e *analysis.Endpoint, addr netip.Addr) (Pod, []string) {
	var left []string
	name := e.Name
	if e.Kind == analysis.Workload {
		name = strings.ToLower(e.WorkloadKind) + "-" + e.Name
	}
	if len(name) > 63 {
		name = name[:63]
	}
	var listen []Port
	var containers []corev1.Container
	// Ports go into the first container where neither their name nor their
	// number is taken: the API server wants port names unique per container.
	for _, wp := range e.Ports {
		if wp.Protocol != "TCP" && wp.Protocol != "UDP" {
			left = append(left, fmt.Sprintf("%s: %s port %d (this kernel has no SCTP)", e.ID, wp.Protocol, wp.Port))
			continue
		}
		cp := corev1.ContainerPort{Name: wp.Name, ContainerPort: wp.Port, Protocol: corev1.Protocol(wp.Protocol)}
		placed := false
		for i := range containers {
			if fits(containers[i].Ports, cp) {
				containers[i].Ports = append(containers[i].Ports, cp)
				placed = true
				break
			}
		}
		if !placed {
			containers = append(containers, corev1.Container{Ports: []corev1.ContainerPort{cp}})
		}
		l := Port{Proto: wp.Protocol, Port: wp.Port}
		if !containsPort(listen, l) {
			listen = append(listen, l)
		}
	}
	if len(containers) == 0 {
		containers = []corev1.Container{{}}
	}
	for i := range containers {
		containers[i].Name = fmt.Sprintf("c%d", i)
		containers[i].Image = "tierwall.invalid/none"
	}
	no := false
	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.Namespace, Labels: e.Labels},
		Spec: corev1.PodSpec{
			NodeName:                     NodeName,
			Containers:                   containers,
			AutomountServiceAccountToken: &no,
		},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			PodIP:      addr.String(),
			PodIPs:     []corev1.PodIP{{IP: addr.String()}},
			HostIP:     NodeAddr.String(),
			HostIPs:    []corev1.HostIP{{IP: NodeAddr.String()}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		},
	}
	p.addrOf[e.ID] = addr
	return Pod{Endpoint: e.ID, Object: pod, Addr: addr, Listen: listen}, left
}

// NodeName is the name of the sandbox's one Node.
const NodeName = "tierwall-node"

func fits(ports []corev1.ContainerPort, cp corev1.ContainerPort) bool {
	for _, q := range ports {
		if (cp.Name != "" && q.Name == cp.Name) || (q.ContainerPort == cp.ContainerPort && q.Protocol == cp.Protocol) {
			return false
		}
	}
	return true
}

func containsPort(ps []Port, p Port) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// policyJSON is the policy as the API server takes it, with its effective
// namespace written in.
func policyJSON(pol *analysis.Policy) ([]byte, error) {
	data, err := yaml.NewRNode(pol.Object.Node).MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding NetworkPolicy %s: %w", pol.Ref(), err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	meta, _ := m["metadata"].(map[string]any)
	if meta == nil {
		return nil, fmt.Errorf("NetworkPolicy %s has no metadata", pol.Ref())
	}
	meta["namespace"] = pol.Namespace
	delete(m, "status")
	return json.Marshal(m)
}

// hosts are the addresses to probe outside the pods: the analysis' external
// endpoints (the internet at InternetAddr), and the first address of every
// except of an ipBlock, so that excepts are probed from both sides. Hosts
// listen on TCP/80 and on every numbered port of an egress rule that can
// reach beyond the pods (an ipBlock, or no peers).
func hosts(m *analysis.Model, left []string) ([]Host, []string) {
	var out []Host
	seen := map[netip.Addr]bool{}
	add := func(name string, a netip.Addr) {
		switch {
		case !a.Is4():
			left = append(left, fmt.Sprintf("host %s: IPv6 is not probed", name))
		case a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
			left = append(left, fmt.Sprintf("host %s: %s cannot be a host", name, a))
		case PodRange.Contains(a) || a == NodeAddr:
			left = append(left, fmt.Sprintf("host %s: %s is in the sandbox's pod range or the node's address", name, a))
		case !seen[a]:
			seen[a] = true
			out = append(out, Host{Name: name, Addr: a})
		}
	}
	for _, e := range m.Endpoints {
		if e.Kind != analysis.External || len(e.Addrs) == 0 {
			continue
		}
		if e.Role == analysis.RoleInternet {
			add("internet", InternetAddr)
			continue
		}
		add(e.Name, e.Addrs[0])
	}
	// A named port has no number for a host; every number a pod declares
	// under the name is probed (an enforcer may allow it everywhere).
	named := map[string][]Port{}
	for _, e := range m.Endpoints {
		for _, wp := range e.Ports {
			if wp.Name != "" {
				named[wp.Protocol+"/"+wp.Name] = append(named[wp.Protocol+"/"+wp.Name], Port{Proto: wp.Protocol, Port: wp.Port})
			}
		}
	}
	ports := map[Port]bool{{Proto: "TCP", Port: 80}: true}
	for _, pol := range m.Policies {
		for _, r := range pol.EgressRules {
			if !r.AllPeers() && !hasBlock(r) {
				continue // only pods can match its peers
			}
			for _, pp := range r.Ports {
				addPolicyPort(ports, named, pp.Protocol, pp.Port, pp.EndPort)
			}
		}
		for _, rules := range [][]*analysis.Rule{pol.IngressRules, pol.EgressRules} {
			for _, r := range rules {
				for i := range r.Peers {
					if _, except, ok := r.Block(i); ok {
						for _, e := range except {
							add("except "+e.String(), e.Masked().Addr())
						}
					}
				}
			}
		}
	}
	var listen []Port
	for p := range ports {
		listen = append(listen, p)
	}
	sortPorts(listen)
	for i := range out {
		out[i].Listen = listen
	}
	return out, left
}

func hasBlock(r *analysis.Rule) bool {
	for i := range r.Peers {
		if _, _, ok := r.Block(i); ok {
			return true
		}
	}
	return false
}

// addPolicyPort adds the port of a rule: a number (both ends of a range), or
// the numbers a name stands for on some pod.
func addPolicyPort(ports map[Port]bool, named map[string][]Port, proto *corev1.Protocol, port *intstr.IntOrString, end *int32) {
	pr := "TCP"
	if proto != nil {
		pr = string(*proto)
	}
	if pr != "TCP" && pr != "UDP" || port == nil {
		return
	}
	if port.Type == intstr.String {
		for _, p := range named[pr+"/"+port.StrVal] {
			ports[p] = true
		}
		return
	}
	ports[Port{Proto: pr, Port: port.IntVal}] = true
	if end != nil {
		ports[Port{Proto: pr, Port: *end}] = true
	}
}

func sortPorts(ps []Port) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Proto != ps[j].Proto {
			return ps[i].Proto < ps[j].Proto
		}
		return ps[i].Port < ps[j].Port
	})
}

// liveObjects are the objects the sandbox holds, as `kubectl get -o yaml`
// would show them: namespaces, Pods with their addresses, the plain
// NetworkPolicies.
func (p *Plan) liveObjects() ([]manifest.Object, error) {
	var docs [][]byte
	for _, n := range p.Namespaces {
		ns := corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels},
		}
		data, err := json.Marshal(ns)
		if err != nil {
			return nil, err
		}
		docs = append(docs, data)
	}
	for _, pod := range p.Pods {
		data, err := json.Marshal(pod.Object)
		if err != nil {
			return nil, err
		}
		docs = append(docs, data)
	}
	for _, pol := range p.Policies {
		docs = append(docs, pol.JSON)
	}
	objs := make([]manifest.Object, len(docs))
	for i, d := range docs {
		n, err := yaml.Parse(string(d))
		if err != nil {
			return nil, err
		}
		objs[i] = manifest.FromNode(i, n.YNode())
	}
	return objs, nil
}

// index maps every pod and host to its endpoint in both models.
func (p *Plan) index() error {
	p.manifestEP, p.liveEP = map[string]*analysis.Endpoint{}, map[string]*analysis.Endpoint{}
	for _, e := range p.live.Endpoints {
		if e.Kind == analysis.Virtual {
			return fmt.Errorf("the live analysis still has a virtual endpoint %s: no pod stands for it", e.ID)
		}
	}
	for _, pod := range p.Pods {
		m := find(p.manifest, func(e *analysis.Endpoint) bool { return e.ID == pod.Endpoint })
		l := find(p.live, func(e *analysis.Endpoint) bool {
			return e.Kind == analysis.Workload && e.Namespace == pod.Object.Namespace && e.Name == pod.Object.Name
		})
		if m == nil || l == nil {
			return fmt.Errorf("pod %s/%s (%s) is missing from an analysis", pod.Object.Namespace, pod.Object.Name, pod.Endpoint)
		}
		p.manifestEP[pod.Endpoint], p.liveEP[pod.Endpoint] = m, l
	}
	for _, h := range p.Hosts {
		byAddr := func(e *analysis.Endpoint) bool {
			return e.Kind == analysis.External && len(e.Addrs) == 1 && e.Addrs[0] == h.Addr
		}
		m, l := find(p.manifest, byAddr), find(p.live, byAddr)
		if m == nil || l == nil {
			return fmt.Errorf("host %s (%s) is missing from an analysis", h.Name, h.Addr)
		}
		p.manifestEP[h.Name], p.liveEP[h.Name] = m, l
	}
	return nil
}

func find(m *analysis.Model, ok func(*analysis.Endpoint) bool) *analysis.Endpoint {
	for _, e := range m.Endpoints {
		if ok(e) {
			return e
		}
	}
	return nil
}

// probes lists every pod to every pod and host, and every host to every pod,
// on each port the destination listens on.
func (p *Plan) probes() {
	type end struct {
		id     string
		listen []Port
		host   bool
	}
	var ends []end
	for _, pod := range p.Pods {
		ends = append(ends, end{pod.Endpoint, pod.Listen, false})
	}
	for _, h := range p.Hosts {
		ends = append(ends, end{h.Name, h.Listen, true})
	}
	for _, from := range ends {
		for _, to := range ends {
			if from.id == to.id || (from.host && to.host) {
				continue
			}
			for _, port := range to.listen {
				p.Probes = append(p.Probes, Probe{From: from.id, To: to.id, Port: port})
			}
		}
	}
}

// Addr is the address of a pod (by endpoint ID) or host (by name).
func (p *Plan) Addr(id string) netip.Addr { return p.addrOf[id] }

// Expect is what the analysis says of a probe, given the objects the sandbox
// runs: Pod objects with their addresses, so that ipBlocks match pods as both
// enforcers match them.
func (p *Plan) Expect(pr Probe) bool {
	return p.live.Allowed(p.liveEP[pr.From], p.liveEP[pr.To], pr.Proto, pr.Port.Port)
}

// ExpectManifest is what the analysis of the rendered manifests says (what
// tierwall report shows): it differs from Expect only where an ipBlock would
// match a pod's address, which manifests do not carry.
func (p *Plan) ExpectManifest(pr Probe) bool {
	return p.manifest.Allowed(p.manifestEP[pr.From], p.manifestEP[pr.To], pr.Proto, pr.Port.Port)
}

// Why names the policies that govern a probe in the live analysis: those
// isolating the source's egress and the destination's ingress.
func (p *Plan) Why(pr Probe) string {
	from, to := p.liveEP[pr.From], p.liveEP[pr.To]
	var parts []string
	for _, side := range []struct {
		what string
		e    *analysis.Endpoint
		dir  analysis.Direction
	}{{"egress of " + pr.From, from, analysis.Egress}, {"ingress of " + pr.To, to, analysis.Ingress}} {
		var refs []string
		for _, pol := range p.live.Selecting(side.e, side.dir) {
			refs = append(refs, pol.Ref())
		}
		if len(refs) == 0 {
			refs = []string{"not isolated"}
		}
		parts = append(parts, side.what+": "+strings.Join(refs, ", "))
	}
	return strings.Join(parts, "; ")
}
