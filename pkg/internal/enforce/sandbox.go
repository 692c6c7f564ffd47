//go:build linux

package enforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Config says how to build a sandbox.
type Config struct {
	Enforcer Enforcer
	// Binary is the enforcer's program.
	Binary string
	// APIServerScript is scripts/apiserver.sh, which starts etcd and
	// kube-apiserver (KUBE_APISERVER and ETCD in the environment name them).
	APIServerScript string
	// Dir holds the sandbox's files: the API server's state and logs, the
	// enforcer's log.
	Dir string
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
}

// Timeouts of probes: a first pass, and the second look at every probe whose
// outcome differs from the expectation.
const (
	probeTimeout   = 1 * time.Second
	recheckTimeout = 3 * time.Second
	// probeParallel bounds the probes in flight: kube-network-policies loses
	// packets with 512 (its queue reader falls behind), and each probe holds
	// a descriptor.
	probeParallel = 256
)

// Sandbox is one node with one enforcer, its own kube-apiserver and etcd, and
// a network namespace per pod and per outside host, all inside a "node"
// namespace that has no route out: no probe can leave it, and the host's own
// network namespace is never changed. Cases run one after the other; each
// leaves the sandbox as it found it.
type Sandbox struct {
	cfg      Config
	name     string
	node     netNS
	apiDir   string
	api      *apiClient
	enforcer *exec.Cmd
	exited   chan error
	logFile  *os.File

	pods     []slot // by index in a plan
	hosts    map[netip.Addr]slot
	veths    int
	sentinel struct {
		client, server slot
		listen         listeners
	}

	namespaces map[string]bool // namespaces the API server has, with a default ServiceAccount
	labelled   map[string]bool // namespaces a case gave labels
}

// slot is a network namespace with one address, linked to the node.
type slot struct {
	ns   netNS
	addr netip.Addr
}

// Sentinel: two pods in a namespace of their own, and a policy that cuts them
// apart. Applied after a case's objects and removed after their deletion, it
// tells when the enforcer has caught up.
const (
	sentinelNS     = "tierwall-sentinel"
	sentinelPolicy = "tierwall-sentinel"
	sentinelPort   = 7
)

var (
	sentinelClientAddr = netip.MustParseAddr("10.244.250.2")
	sentinelServerAddr = netip.MustParseAddr("10.244.250.3")
)

// Start builds the sandbox: node namespace, API server, Node object, the
// sentinel pods, then the enforcer, and returns once the enforcer has been
// seen to cut the sentinel apart and let it together again.
func Start(ctx context.Context, cfg Config) (s *Sandbox, err error) {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	removeStaleNetNS("twe")
	s = &Sandbox{
		cfg:        cfg,
		name:       fmt.Sprintf("twe%d-%s", os.Getpid(), cfg.Enforcer.Short),
		hosts:      map[netip.Addr]slot{},
		namespaces: map[string]bool{},
		labelled:   map[string]bool{},
		apiDir:     filepath.Join(cfg.Dir, "apiserver"),
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%s sandbox: %w%s", cfg.Enforcer.Name, err, s.logTail())
			s.Close()
			s = nil
		}
	}()
	if s.node, err = addNetNS(s.name + "-node"); err != nil {
		return s, err
	}
	// No rate limit on ICMP errors: kube-router refuses with REJECT, and a
	// refusal the kernel does not send reads as a timeout.
	if err = s.node.exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1",
		"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
		"net.ipv4.icmp_ratelimit=0", "net.ipv4.icmp_ratemask=0", "net.ipv4.icmp_msgs_per_sec=1000000", "net.ipv4.icmp_msgs_burst=100000"); err != nil {
		return s, err
	}
	if err = s.node.ip("addr", "add", NodeAddr.String()+"/32", "dev", "lo"); err != nil {
		return s, err
	}

	start := time.Now()
	cmd := s.node.command("bash", cfg.APIServerScript, "start", s.apiDir)
	cmd.Env = append(os.Environ(), fmt.Sprintf("APISERVER_OWNER_PID=%d", os.Getpid()))
	if out, err := cmd.CombinedOutput(); err != nil {
		return s, fmt.Errorf("starting kube-apiserver: %w\n%s", err, out)
	}
	if s.api, err = newAPIClient(s.node, s.apiDir); err != nil {
		return s, err
	}
	cfg.Logf("%s: kube-apiserver ready in %s", cfg.Enforcer.Name, time.Since(start).Round(time.Millisecond))

	if err = s.createNode(ctx); err != nil {
		return s, err
	}
	if err = s.createSentinel(ctx); err != nil {
		return s, err
	}
	if err = cfg.Enforcer.setup(s); err != nil {
		return s, err
	}
	if err = s.startEnforcer(); err != nil {
		return s, err
	}
	start = time.Now()
	if err = s.waitSentinel(ctx, true, 30*time.Second); err != nil {
		return s, fmt.Errorf("before any policy: %w", err)
	}
	if err = s.sentinelPolicy(ctx, true); err != nil {
		return s, err
	}
	if err = s.waitSentinel(ctx, false, 90*time.Second); err != nil {
		return s, fmt.Errorf("the enforcer never applied the sentinel policy: %w", err)
	}
	if err = s.sentinelPolicy(ctx, false); err != nil {
		return s, err
	}
	if err = s.waitSentinel(ctx, true, 60*time.Second); err != nil {
		return s, fmt.Errorf("the enforcer never removed the sentinel policy: %w", err)
	}
	cfg.Logf("%s: enforcing in %s", cfg.Enforcer.Name, time.Since(start).Round(time.Millisecond))
	return s, nil
}

func (s *Sandbox) startEnforcer() error {
	cmd, err := s.cfg.Enforcer.command(s, s.cfg.Binary)
	if err != nil {
		return err
	}
	if s.logFile, err = os.Create(filepath.Join(s.cfg.Dir, s.cfg.Enforcer.Name+".log")); err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = s.logFile, s.logFile
	// The enforcer dies with the test binary, even one killed by -timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	if err := cmd.Start(); err != nil {
		return err
	}
	s.enforcer = cmd
	s.exited = make(chan error, 1)
	go func() { s.exited <- cmd.Wait() }()
	return nil
}

// alive reports an error when the enforcer has exited.
func (s *Sandbox) alive() error {
	select {
	case err := <-s.exited:
		s.exited <- err
		return fmt.Errorf("%s exited: %w", s.cfg.Enforcer.Name, err)
	default:
		return nil
	}
}

// logTail is the end of the enforcer's log, for errors.
func (s *Sandbox) logTail() string {
	if s.logFile == nil {
		return ""
	}
	data, err := os.ReadFile(s.logFile.Name())
	if err != nil || len(data) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 25 {
		lines = lines[len(lines)-25:]
	}
	return "\nlast lines of " + s.logFile.Name() + ":\n  " + strings.Join(lines, "\n  ")
}

// Close stops the enforcer and the API server (by their process IDs) and
// deletes every namespace the sandbox made.
func (s *Sandbox) Close() {
	if s.enforcer != nil && s.enforcer.Process != nil {
		_ = s.enforcer.Process.Kill()
		err := <-s.exited
		s.exited <- err
		s.enforcer = nil
	}
	s.sentinel.listen.close()
	if s.logFile != nil {
		s.logFile.Close()
	}
	if _, err := os.Stat(s.apiDir); err == nil {
		if out, err := exec.Command("bash", s.cfg.APIServerScript, "stop", s.apiDir).CombinedOutput(); err != nil {
			s.cfg.Logf("stopping kube-apiserver: %v: %s", err, out)
		}
	}
	for _, sl := range s.allSlots() {
		_ = sl.ns.remove()
	}
	if s.node != "" {
		_ = s.node.remove()
	}
}

func (s *Sandbox) allSlots() []slot {
	out := append([]slot{}, s.pods...)
	for _, h := range s.hosts {
		out = append(out, h)
	}
	if s.sentinel.client.ns != "" {
		out = append(out, s.sentinel.client, s.sentinel.server)
	}
	return out
}

// newSlot makes a namespace with addr on eth0, linked to the node by a veth
// pair: a /32 route on the node, a default route through a link-local
// gateway in the namespace, permanent neighbour entries both ways (no ARP).
func (s *Sandbox) newSlot(name string, addr netip.Addr) (slot, error) {
	ns, err := addNetNS(s.name + "-" + name)
	if err != nil {
		return slot{}, err
	}
	s.veths++
	i := s.veths
	veth := fmt.Sprintf("v%d", i)
	nodeMAC := fmt.Sprintf("02:00:00:%02x:%02x:01", i>>8&0xff, i&0xff)
	podMAC := fmt.Sprintf("02:00:00:%02x:%02x:02", i>>8&0xff, i&0xff)
	a := addr.String()
	err = s.node.batch(
		"link add "+veth+" address "+nodeMAC+" type veth peer name eth0 address "+podMAC+" netns "+string(ns),
		"link set "+veth+" up",
		"route add "+a+"/32 dev "+veth,
		"neigh replace "+a+" lladdr "+podMAC+" dev "+veth+" nud permanent",
	)
	if err == nil {
		err = ns.batch(
			"addr add "+a+"/32 dev eth0",
			"link set eth0 up",
			"route add 169.254.1.1 dev eth0 scope link",
			"route add default via 169.254.1.1 dev eth0",
			"neigh replace 169.254.1.1 lladdr "+nodeMAC+" dev eth0 nud permanent",
		)
	}
	if err != nil {
		_ = ns.remove()
		return slot{}, err
	}
	return slot{ns: ns, addr: addr}, nil
}

// slots makes sure the plan's pods and hosts have their namespaces; they are
// kept for the next cases.
func (s *Sandbox) slots(p *Plan) error {
	for len(s.pods) < len(p.Pods) {
		sl, err := s.newSlot(fmt.Sprintf("p%d", len(s.pods)), podAddr(len(s.pods)))
		if err != nil {
			return err
		}
		s.pods = append(s.pods, sl)
	}
	for i, h := range p.Hosts {
		if _, ok := s.hosts[h.Addr]; ok {
			continue
		}
		sl, err := s.newSlot(fmt.Sprintf("h%d", len(s.hosts)), h.Addr)
		if err != nil {
			return fmt.Errorf("host %d %s (%s): %w", i, h.Name, h.Addr, err)
		}
		s.hosts[h.Addr] = sl
	}
	return nil
}

func (s *Sandbox) createNode(ctx context.Context) error {
	node := corev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: NodeName},
		Spec:       corev1.NodeSpec{PodCIDR: PodRange.String(), PodCIDRs: []string{PodRange.String()}},
	}
	if err := s.api.create(ctx, "/api/v1/nodes", node); err != nil {
		return err
	}
	return s.api.mergePatch(ctx, "/api/v1/nodes/"+NodeName+"/status", map[string]any{"status": corev1.NodeStatus{
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: NodeAddr.String()},
			{Type: corev1.NodeHostName, Address: NodeName},
		},
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
	}})
}

// ensureNamespace creates a namespace and its default ServiceAccount (the
// ServiceAccount admission plugin wants it for every pod, and no controller
// manager makes it here).
func (s *Sandbox) ensureNamespace(ctx context.Context, name string) error {
	if s.namespaces[name] {
		return nil
	}
	ns := corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := s.api.create(ctx, "/api/v1/namespaces", ns); err != nil && !isStatus(err, http.StatusConflict) {
		return err
	}
	sa := corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if err := s.api.create(ctx, "/api/v1/namespaces/"+name+"/serviceaccounts", sa); err != nil && !isStatus(err, http.StatusConflict) {
		return err
	}
	s.namespaces[name] = true
	return nil
}

// setLabels gives a namespace exactly these labels (besides
// kubernetes.io/metadata.name).
func (s *Sandbox) setLabels(ctx context.Context, name string, want map[string]string) error {
	var ns corev1.Namespace
	if err := s.api.get(ctx, "/api/v1/namespaces/"+name, &ns); err != nil {
		return err
	}
	patch := map[string]any{}
	for k := range ns.Labels {
		if _, ok := want[k]; !ok && k != "kubernetes.io/metadata.name" {
			patch[k] = nil
		}
	}
	for k, v := range want {
		patch[k] = v
	}
	if len(patch) == 0 {
		return nil
	}
	return s.api.mergePatch(ctx, "/api/v1/namespaces/"+name, map[string]any{"metadata": map[string]any{"labels": patch}})
}

// createPod creates a pod and writes its status: running on the node at its
// address, as a kubelet would.
func (s *Sandbox) createPod(ctx context.Context, pod corev1.Pod) error {
	status := pod.Status
	pod.Status = corev1.PodStatus{}
	base := "/api/v1/namespaces/" + pod.Namespace + "/pods"
	if err := s.api.create(ctx, base, pod); err != nil {
		return fmt.Errorf("creating pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if err := s.api.mergePatch(ctx, base+"/"+pod.Name+"/status", map[string]any{"status": status}); err != nil {
		return fmt.Errorf("writing the status of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

func (s *Sandbox) createSentinel(ctx context.Context) error {
	if err := s.ensureNamespace(ctx, sentinelNS); err != nil {
		return err
	}
	var err error
	if s.sentinel.client, err = s.newSlot("sc", sentinelClientAddr); err != nil {
		return err
	}
	if s.sentinel.server, err = s.newSlot("ss", sentinelServerAddr); err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		addr netip.Addr
	}{{"client", sentinelClientAddr}, {"server", sentinelServerAddr}} {
		pod := corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: p.name, Namespace: sentinelNS, Labels: map[string]string{"role": p.name}},
			Spec: corev1.PodSpec{NodeName: NodeName, Containers: []corev1.Container{{Name: "c", Image: "tierwall.invalid/none",
				Ports: []corev1.ContainerPort{{ContainerPort: sentinelPort, Protocol: corev1.ProtocolTCP}}}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: p.addr.String(), PodIPs: []corev1.PodIP{{IP: p.addr.String()}},
				HostIP: NodeAddr.String(), HostIPs: []corev1.HostIP{{IP: NodeAddr.String()}}},
		}
		if err := s.createPod(ctx, pod); err != nil {
			return err
		}
	}
	// The server listens for the whole life of the sandbox.
	return s.sentinel.listen.open(s.sentinel.server.ns, []Port{{Proto: "TCP", Port: sentinelPort}})
}

// sentinelPolicy creates (on) or deletes the policy that isolates the
// sentinel server.
func (s *Sandbox) sentinelPolicy(ctx context.Context, on bool) error {
	path := "/apis/networking.k8s.io/v1/namespaces/" + sentinelNS + "/networkpolicies"
	if !on {
		return s.api.delete(ctx, path+"/"+sentinelPolicy)
	}
	pol := networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: sentinelPolicy},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"role": "server"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}
	return s.api.create(ctx, path, pol)
}

// waitSentinel waits until the sentinel client reaches the server (open) or
// does not (closed).
func (s *Sandbox) waitSentinel(ctx context.Context, open bool, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if err := s.alive(); err != nil {
			return err
		}
		if probe(ctx, s.sentinel.client.ns, sentinelServerAddr, Port{"TCP", sentinelPort}, 500*time.Millisecond) == open {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	state := "closed"
	if open {
		state = "open"
	}
	return fmt.Errorf("the sentinel connection is not %s after %s", state, limit)
}

// Result is what one case measured.
type Result struct {
	// Allowed is the outcome of every probe of the plan.
	Allowed map[Probe]bool
	// Rechecked are the probes whose first outcome differed from the
	// expectation, probed again with a longer timeout; Flipped those whose
	// second outcome differed from the first (the second one counts).
	Rechecked, Flipped []Probe
	// Timings of the steps.
	Timings map[string]time.Duration
}

// Run deploys a plan (namespaces, pods with their listeners, hosts), checks
// that every probe passes without policies, applies the policies, waits for
// the enforcer, probes every pair, and removes what it created. Probes whose
// outcome differs from expect are probed again after a pause with a longer
// timeout, so that a slow enforcer or a busy machine is not taken for a
// verdict.
func (s *Sandbox) Run(ctx context.Context, p *Plan, expect func(Probe) bool) (res *Result, err error) {
	res = &Result{Timings: map[string]time.Duration{}}
	step := time.Now()
	lap := func(name string) {
		res.Timings[name] = time.Since(step)
		step = time.Now()
	}
	if err := s.alive(); err != nil {
		return nil, err
	}
	if err := s.slots(p); err != nil {
		return nil, err
	}
	where := map[string]slot{}
	for i, pod := range p.Pods {
		where[pod.Endpoint] = s.pods[i]
	}
	for _, h := range p.Hosts {
		where[h.Name] = s.hosts[h.Addr]
	}

	var ls listeners
	var created []corev1.Pod
	var applied []Policy
	defer func() {
		cerr := s.reset(ctx, &ls, created, applied)
		lap("reset")
		if err == nil && cerr != nil {
			err = cerr
			res = nil
		}
		if err != nil {
			err = fmt.Errorf("%s: %w%s", s.cfg.Enforcer.Name, err, s.logTail())
		}
	}()

	wantNS := map[string]bool{}
	for _, n := range p.Namespaces {
		wantNS[n.Name] = true
		if err := s.ensureNamespace(ctx, n.Name); err != nil {
			return nil, err
		}
		if err := s.setLabels(ctx, n.Name, n.Labels); err != nil {
			return nil, err
		}
		s.labelled[n.Name] = true
	}
	for name := range s.labelled {
		if !wantNS[name] {
			if err := s.setLabels(ctx, name, nil); err != nil {
				return nil, err
			}
			delete(s.labelled, name)
		}
	}
	for i, pod := range p.Pods {
		if err := s.ensureNamespace(ctx, pod.Object.Namespace); err != nil {
			return nil, err
		}
		created = append(created, pod.Object) // deleted by reset even if half made
		if err := s.createPod(ctx, pod.Object); err != nil {
			return nil, err
		}
		if err := ls.open(s.pods[i].ns, pod.Listen); err != nil {
			return nil, err
		}
	}
	for _, h := range p.Hosts {
		if err := ls.open(s.hosts[h.Addr].ns, h.Listen); err != nil {
			return nil, err
		}
	}
	lap("deploy")

	// Without policies every probe must pass: the plumbing works.
	base := s.probeAll(ctx, where, p.Probes, probeTimeout)
	var failed []Probe
	for _, pr := range p.Probes {
		if !base[pr] {
			failed = append(failed, pr)
		}
	}
	if len(failed) > 0 {
		again := s.probeAll(ctx, where, failed, recheckTimeout)
		var still []string
		for _, pr := range failed {
			if !again[pr] {
				still = append(still, pr.String())
			}
		}
		if len(still) > 0 {
			sort.Strings(still)
			return nil, fmt.Errorf("%d of %d probes fail before any policy is applied:\n  %s", len(still), len(p.Probes), strings.Join(truncate(still, 20), "\n  "))
		}
	}
	lap("baseline")

	for _, pol := range p.Policies {
		applied = append(applied, pol)
		if err := s.api.create(ctx, "/apis/networking.k8s.io/v1/namespaces/"+pol.Namespace+"/networkpolicies", pol.JSON); err != nil {
			return nil, fmt.Errorf("applying NetworkPolicy %s/%s: %w", pol.Namespace, pol.Name, err)
		}
	}
	if err := s.sentinelPolicy(ctx, true); err != nil {
		return nil, err
	}
	if err := s.waitSentinel(ctx, false, 60*time.Second); err != nil {
		return nil, err
	}
	lap("apply")

	res.Allowed = s.probeAll(ctx, where, p.Probes, probeTimeout)
	lap("probe")
	for _, pr := range p.Probes {
		if res.Allowed[pr] != expect(pr) {
			res.Rechecked = append(res.Rechecked, pr)
		}
	}
	if len(res.Rechecked) > 0 {
		time.Sleep(time.Second)
		again := s.probeAll(ctx, where, res.Rechecked, recheckTimeout)
		for _, pr := range res.Rechecked {
			if again[pr] != res.Allowed[pr] {
				res.Flipped = append(res.Flipped, pr)
				res.Allowed[pr] = again[pr]
			}
		}
		lap("recheck")
	}
	return res, s.alive()
}

// truncate keeps the first n lines and says how many it left out.
func truncate(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("... and %d more", len(s)-n))
	}
	return s
}

// reset closes the listeners and deletes the case's policies and pods, then
// the sentinel policy, and waits until the enforcer has seen it go.
func (s *Sandbox) reset(ctx context.Context, ls *listeners, pods []corev1.Pod, pols []Policy) error {
	ls.close()
	var errs []error
	for _, pol := range pols {
		errs = append(errs, s.api.delete(ctx, "/apis/networking.k8s.io/v1/namespaces/"+pol.Namespace+"/networkpolicies/"+pol.Name))
	}
	for _, pod := range pods {
		errs = append(errs, s.api.delete(ctx, "/api/v1/namespaces/"+pod.Namespace+"/pods/"+pod.Name))
	}
	errs = append(errs, s.sentinelPolicy(ctx, false))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("resetting: %w", err)
	}
	return s.waitSentinel(ctx, true, 60*time.Second)
}

// probeAll runs probes in parallel and returns their outcomes.
func (s *Sandbox) probeAll(ctx context.Context, where map[string]slot, probes []Probe, timeout time.Duration) map[Probe]bool {
	out := make(map[Probe]bool, len(probes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, probeParallel)
	for _, pr := range probes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			ok := probe(ctx, where[pr.From].ns, where[pr.To].addr, pr.Port, timeout)
			<-sem
			mu.Lock()
			out[pr] = ok
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
