package infer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/plumbing"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/service"
	"github.com/tierwall/tierwall/pkg/workload"
)

// GatewayNameLabel is the label Gateway API implementations put on the pods
// they deploy for a Gateway (GEP-1762), set to the Gateway's name.
const GatewayNameLabel = "gateway.networking.k8s.io/gateway-name"

// Input is what inference reads.
type Input struct {
	// Input is the read input: the spec, the namespaces, the objects, their
	// workloads and Services.
	plumbing.Input
	// Resolve turns a configured peer into endpoints (package tier's
	// resolver, so that peers mean the same everywhere).
	Resolve func(p v1alpha1.Peer, ns, name string) []graph.Endpoint
	// Classes resolves an Ingress's class to its controller's pods.
	Classes *plumbing.Classes
	// ContextServices and ContextWorkloads come from objects that resolve
	// references without being owned (--context: another release's Services,
	// the ingress controller): a reference to them is an egress allow on the
	// pod port, never an ingress policy for their pods.
	ContextServices  []service.Service
	ContextWorkloads []workload.Workload
}

// Output is the inferred edges and the findings.
type Output struct {
	Edges   []graph.Edge
	Results framework.Results
	// External are the hosts outside the cluster the manifests name.
	External []External
	// Unresolved counts the in-cluster names that are no Service of the
	// input.
	Unresolved int
}

type inferrer struct {
	in       Input
	out      Output
	services map[string]*service.Service // ns/name
	// servicesByNS are the Services of services by namespace, by name, for
	// the ServiceMonitors.
	servicesByNS map[string][]*service.Service
	objects      map[string]manifest.Object // kind/ns/name for ConfigMaps and Secrets
	byNS         map[string][]*workload.Workload
	// pods are the workloads of byNS, for the Services that select them.
	pods    *service.Pods
	zoneKey string
	// unlabelled are the workloads already reported for having no labels.
	unlabelled map[*workload.Workload]bool
	// source names the inference source at work, for the edges' Source.
	source string
	// context marks the Services and workloads of --context objects.
	context          map[*service.Service]bool
	contextWorkloads map[*workload.Workload]bool
	// unresolvedCount counts in-cluster names with no Service.
	unresolvedCount int
	// itemBuf holds the items of the workload being read, reused.
	itemBuf []item
}

// Derive infers every edge the enabled sources give.
func Derive(in Input) Output {
	x := &inferrer{in: in, services: map[string]*service.Service{}, objects: map[string]manifest.Object{},
		byNS: map[string][]*workload.Workload{}, zoneKey: in.Spec.Zones.Key, unlabelled: map[*workload.Workload]bool{},
		context: map[*service.Service]bool{}, contextWorkloads: map[*workload.Workload]bool{}}
	inf := in.Spec.Inference
	if !*inf.Enabled {
		return x.out
	}
	for i := range in.ContextServices {
		s := &in.ContextServices[i]
		x.services[s.Namespace+"/"+s.Name] = s
		x.context[s] = true
	}
	for i := range in.Services {
		s := &in.Services[i]
		x.services[s.Namespace+"/"+s.Name] = s // the input's own win
		delete(x.context, s)
	}
	for i := range in.ContextWorkloads {
		w := &in.ContextWorkloads[i]
		if !w.HostNetwork {
			x.byNS[w.Namespace] = append(x.byNS[w.Namespace], w)
			x.contextWorkloads[w] = true
		}
	}
	for i := range in.Workloads {
		w := &in.Workloads[i]
		if !w.HostNetwork {
			x.byNS[w.Namespace] = append(x.byNS[w.Namespace], w)
		}
	}
	// Each namespace's workloads in byNS order (the order of the edges).
	var pods []*workload.Workload
	for _, ws := range x.byNS {
		pods = append(pods, ws...)
	}
	x.pods = service.NewPods(pods)
	for _, o := range in.Objects {
		if o.Kind == "ConfigMap" || o.Kind == "Secret" {
			if ns, ok := in.Set.Of[o.Index]; ok && o.APIVersion == "v1" {
				x.objects[o.Kind+"/"+ns+"/"+o.Name] = o
			}
		}
	}
	for _, o := range in.Objects {
		ns, ok := in.Set.Of[o.Index]
		if !ok || o.ManagedByTierwall() || o.LocalConfig() {
			continue
		}
		switch {
		case o.Kind == "Ingress" && o.Group() == "networking.k8s.io" && inf.On(inf.Ingress):
			x.source = "ingress"
			x.ingress(o, ns)
		case (o.Kind == "HTTPRoute" || o.Kind == "GRPCRoute" || o.Kind == "TCPRoute") && o.Group() == "gateway.networking.k8s.io" && inf.On(inf.Gateway):
			x.source = "gateway-routes"
			x.route(o, ns)
		case o.Kind == "ServiceMonitor" && o.Group() == "monitoring.coreos.com" && inf.On(inf.Monitors):
			x.source = "monitors"
			x.serviceMonitor(o, ns)
		case o.Kind == "PodMonitor" && o.Group() == "monitoring.coreos.com" && inf.On(inf.Monitors):
			x.podMonitor(o, ns)
		}
	}
	if inf.On(inf.LoadBalancer) {
		x.source = "loadbalancer"
		for i := range in.Services {
			x.loadBalancer(&in.Services[i])
		}
	}
	if inf.On(inf.References) {
		x.source = "references"
		for i := range in.Workloads {
			x.references(&in.Workloads[i])
		}
	}
	x.out.Unresolved = x.unresolvedCount
	return x.out
}

func (x *inferrer) note(sev framework.Severity, o manifest.Object, field, format string, args ...any) {
	x.out.Results = append(x.out.Results, result.New(sev, result.RefOf(o), field, format, args...))
}

// endpoint returns the endpoint of a workload, or false (and a warning, once)
// when its pods carry no label: a policy selecting them would select every
// pod of the namespace.
func (x *inferrer) endpoint(w *workload.Workload) (graph.Endpoint, bool) {
	if len(w.Selector) > 0 {
		return graph.FromWorkload(w, x.zoneKey), true
	}
	if !x.unlabelled[w] {
		x.unlabelled[w] = true
		x.note(result.Warning, w.Object, w.TemplateField("metadata", "labels"),
			"%s %s has no pod labels: a policy cannot select its pods without selecting every pod of the namespace, so nothing is inferred for it (label its pod template)", w.Kind, w.Name)
	}
	return graph.Endpoint{}, false
}

// lookupService finds a Service by name in a namespace.
func (x *inferrer) lookupService(ns, name string) *service.Service {
	return x.services[ns+"/"+name]
}

// toService adds edges from one endpoint to the pods behind a Service, on
// the pod port behind each chosen Service port (all ports when ports is nil).
func (x *inferrer) toService(from graph.Endpoint, s *service.Service, ports []service.Port, reason string, src manifest.Object, field string) {
	if s.Type == "ExternalName" {
		x.note(result.Info, src, field, "%s is an ExternalName Service, an alias of %s outside the input: nothing allowed for it (use spec.externalEgress for external hosts) (%s)",
			s.Ref(), s.ExternalName, reason)
		return
	}
	if s.Selector == nil {
		x.note(result.Warning, src, field, "%s has no selector: its endpoints are managed by hand, so no allow is inferred for it (%s)", s.Ref(), reason)
		return
	}
	if ports == nil {
		ports = s.Ports
	}
	matched := false
	for _, w := range x.pods.Selected(s) {
		if x.contextWorkloads[w] != x.context[s] {
			continue
		}
		matched = true
		if from.Kind == graph.Workload && from.Workload == w {
			continue // a workload calling itself needs no policy
		}
		to, ok := x.endpoint(w)
		if !ok {
			continue
		}
		var pp []networkingv1.NetworkPolicyPort
		var vias []string
		for _, p := range ports {
			wp, _, ok := s.Target(p, *w)
			if !ok {
				// Package tier already warns about every such port of a
				// Service in a namespace in scope.
				if ns, known := x.in.Set.Get(s.Namespace); !known || !ns.InScope() {
					x.note(result.Warning, s.Object, "spec.ports", "%s port %d targets %q, which %s %s does not declare: no allow for it", s.Ref(), p.Port, p.TargetPort, w.Kind, w.Name)
				}
				continue
			}
			pp = append(pp, policy.Port(wp.Protocol, wp.Port))
			vias = append(vias, fmt.Sprintf("%s port %d -> pod port %d", s.Ref(), p.Port, wp.Port))
		}
		if len(pp) == 0 {
			continue
		}
		e := graph.Edge{From: from, To: to, Ports: pp, Source: x.source, Reason: fmt.Sprintf(
			"inferred from %s: %s may reach %s on %s", reason, from.Describe(), to.Describe(), strings.Join(vias, ", "))}
		if x.contextWorkloads[w] {
			// Another release's pods: their ingress is theirs to write.
			e.SkipIngress = true
			e.Reason += " (the destination is context, not owned: only this side is written)"
		}
		x.out.Edges = append(x.out.Edges, e)
	}
	if !matched {
		x.note(result.Info, src, field, "%s selects no workload of the input: nothing inferred (%s)", s.Ref(), reason)
	}
}

// servicePort picks a Service port by number or name.
func servicePort(s *service.Service, number int32, name string) (service.Port, bool) {
	for _, p := range s.Ports {
		if (name != "" && p.Name == name) || (name == "" && p.Port == number) {
			return p, true
		}
	}
	return service.Port{}, false
}

func (x *inferrer) peers(peers []v1alpha1.Peer, ns, name string) []graph.Endpoint {
	var out []graph.Endpoint
	for _, p := range peers {
		out = append(out, x.in.Resolve(p, ns, name)...)
	}
	return out
}

func (x *inferrer) ingress(o manifest.Object, ns string) {
	type backend struct {
		node  *yaml.Node
		field string
	}
	var backends []backend
	if b := manifest.Lookup(o.Node, "spec", "defaultBackend", "service"); b != nil {
		backends = append(backends, backend{b, "spec.defaultBackend"})
	}
	for i, r := range manifest.Items(o.Node, "spec", "rules") {
		for j, p := range manifest.Items(r, "http", "paths") {
			if b := manifest.Lookup(p, "backend", "service"); b != nil {
				backends = append(backends, backend{b, fmt.Sprintf("spec.rules[%d].http.paths[%d].backend", i, j)})
			}
		}
	}
	froms, how, note := x.in.Classes.Entry(o, func(p v1alpha1.Peer) []graph.Endpoint { return x.in.Resolve(p, ns, "ingress-controller") })
	if note != nil {
		x.out.Results = append(x.out.Results, note)
	}
	if len(froms) == 0 {
		return
	}
	for _, b := range backends {
		name := manifest.String(b.node, "name")
		s := x.lookupService(ns, name)
		if s == nil {
			x.note(result.Info, o, b.field, "backend Service %s is not in the input: nothing inferred", name)
			continue
		}
		num, _ := strconv.Atoi(manifest.String(b.node, "port", "number"))
		p, ok := servicePort(s, int32(num), manifest.String(b.node, "port", "name"))
		if !ok {
			x.note(result.Warning, o, b.field, "backend port of %s matches no port of the Service: nothing inferred", s.Ref())
			continue
		}
		for _, from := range froms {
			x.toService(from, s, []service.Port{p}, fmt.Sprintf("%s backend, entered by the controller of %s", o.Ref(), how), o, b.field)
		}
	}
}

func (x *inferrer) route(o manifest.Object, ns string) {
	gws := x.in.Spec.Inference.Gateways
	var froms []graph.Endpoint
	if len(gws) > 0 {
		froms = x.peers(gws, ns, "gateway")
	} else {
		seen := map[string]bool{}
		for _, pr := range manifest.Items(o.Node, "spec", "parentRefs") {
			if k := manifest.String(pr, "kind"); k != "" && k != "Gateway" {
				continue // a mesh parent (kind Service): its callers are not named here
			}
			gns := manifest.String(pr, "namespace")
			if gns == "" {
				gns = ns
			}
			from := graph.Endpoint{Kind: graph.Pods, Namespace: gns, Name: "gateway"}
			if gns == ns {
				// A Gateway beside its routes: the whole namespace would be
				// every pod of the application. Its pods carry the label
				// GEP-1762 gives the resources a Gateway deploys.
				name := manifest.String(pr, "name")
				from.Selector = map[string]string{GatewayNameLabel: name}
				from.Name = "gateway-" + name
			}
			if key := from.Namespace + "/" + graph.Labels(from.Selector); !seen[key] {
				seen[key] = true
				froms = append(froms, from)
			}
		}
	}
	if len(froms) == 0 {
		x.note(result.Warning, o, "spec.parentRefs", "%s has no parentRefs and spec.inference.gateways is empty: nothing inferred", o.Ref())
		return
	}
	for i, r := range manifest.Items(o.Node, "spec", "rules") {
		for j, b := range manifest.Items(r, "backendRefs") {
			field := fmt.Sprintf("spec.rules[%d].backendRefs[%d]", i, j)
			if k := manifest.String(b, "kind"); k != "" && k != "Service" {
				continue
			}
			bns := manifest.String(b, "namespace")
			if bns == "" {
				bns = ns
			}
			name := manifest.String(b, "name")
			s := x.lookupService(bns, name)
			if s == nil {
				x.note(result.Info, o, field, "backend Service %s/%s is not in the input: nothing inferred", bns, name)
				continue
			}
			var ports []service.Port
			if n, err := strconv.Atoi(manifest.String(b, "port")); err == nil {
				p, ok := servicePort(s, int32(n), "")
				if !ok {
					x.note(result.Warning, o, field, "backend port %d matches no port of %s: nothing inferred", n, s.Ref())
					continue
				}
				ports = []service.Port{p}
			}
			for _, from := range froms {
				x.toService(from, s, ports, fmt.Sprintf("%s backend", o.Ref()), o, field)
			}
		}
	}
}

func (x *inferrer) loadBalancer(s *service.Service) {
	if s.Type != "LoadBalancer" && s.Type != "NodePort" {
		return
	}
	sources := s.LoadBalancerSourceRanges
	origin := "spec.loadBalancerSourceRanges"
	if len(sources) == 0 || s.Type == "NodePort" {
		sources = x.in.Spec.Inference.ExternalSources
		origin = "config spec.inference.externalSources"
	}
	for _, c := range sources {
		from := graph.Endpoint{Kind: graph.CIDR, CIDR: c, Except: x.in.Spec.Cluster.Except(c), Name: "external"}
		x.toService(from, s, nil, fmt.Sprintf("%s of type %s (sources from %s)", s.Ref(), s.Type, origin), s.Object, "spec.type")
	}
}

// prometheus is the endpoint of the Prometheus pods of the config.
func (x *inferrer) prometheus() graph.Endpoint {
	m := x.in.Spec.Monitoring
	return graph.Endpoint{Kind: graph.Pods, Namespace: m.Namespace, Selector: m.PodLabels, Name: "prometheus"}
}

// monitorNamespaces returns the namespaces a monitor's namespaceSelector
// covers: its own by default, matchNames, or every namespace (any: true).
func (x *inferrer) monitorNamespaces(o manifest.Object, ns string) []string {
	nsSel := manifest.Lookup(o.Node, "spec", "namespaceSelector")
	if manifest.String(nsSel, "any") == "true" {
		var all []string
		for _, n := range x.in.Set.List {
			all = append(all, n.Name)
		}
		return all
	}
	if names := manifest.Items(nsSel, "matchNames"); len(names) > 0 {
		var out []string
		for _, n := range names {
			out = append(out, n.Value)
		}
		return out
	}
	return []string{ns}
}

func (x *inferrer) serviceMonitor(o manifest.Object, ns string) {
	sel := manifest.Lookup(o.Node, "spec", "selector")
	endpoints := manifest.Items(o.Node, "spec", "endpoints")
	matched := false
	if x.servicesByNS == nil {
		x.servicesByNS = map[string][]*service.Service{}
		for _, s := range x.services {
			x.servicesByNS[s.Namespace] = append(x.servicesByNS[s.Namespace], s)
		}
		for _, ss := range x.servicesByNS {
			sort.Slice(ss, func(i, j int) bool { return ss[i].Name < ss[j].Name })
		}
	}
	for _, n := range x.monitorNamespaces(o, ns) {
		for _, s := range x.servicesByNS[n] {
			if !selectorMatches(sel, s.Object.Labels) {
				continue
			}
			matched = true
			for i, ep := range endpoints {
				field := fmt.Sprintf("spec.endpoints[%d]", i)
				reason := fmt.Sprintf("%s endpoint %d", o.Ref(), i)
				if name := manifest.String(ep, "port"); name != "" {
					p, ok := servicePort(s, 0, name)
					if !ok {
						x.note(result.Warning, o, field+".port", "port %q is no port name of %s: nothing inferred", name, s.Ref())
						continue
					}
					x.toService(x.prometheus(), s, []service.Port{p}, reason, o, field)
				} else if tp := manifest.String(ep, "targetPort"); tp != "" {
					x.toService(x.prometheus(), s, []service.Port{{Port: 0, Protocol: "TCP", TargetPort: tp}}, reason, o, field)
				}
			}
		}
	}
	if !matched {
		x.note(result.Info, o, "spec.selector", "%s selects no Service of the input: nothing inferred", o.Ref())
	}
}

func (x *inferrer) podMonitor(o manifest.Object, ns string) {
	sel := manifest.Lookup(o.Node, "spec", "selector")
	matched := false
	for _, n := range x.monitorNamespaces(o, ns) {
		for _, w := range x.byNS[n] {
			if !selectorMatches(sel, w.PodLabels) {
				continue
			}
			matched = true
			to, ok := x.endpoint(w)
			if !ok {
				continue
			}
			var pp []networkingv1.NetworkPolicyPort
			for i, ep := range manifest.Items(o.Node, "spec", "podMetricsEndpoints") {
				field := fmt.Sprintf("spec.podMetricsEndpoints[%d]", i)
				name := manifest.String(ep, "port")
				if name == "" {
					name = manifest.String(ep, "targetPort")
				}
				if num := manifest.String(ep, "portNumber"); num != "" {
					name = num
				}
				if n, err := strconv.Atoi(name); err == nil {
					pp = append(pp, policy.Port("TCP", int32(n)))
				} else if p, ok := w.PortByName(name); ok {
					pp = append(pp, policy.Port(p.Protocol, p.Port))
				} else {
					x.note(result.Warning, o, field, "port %q is no container port of %s %s: nothing inferred", name, w.Kind, w.Name)
				}
			}
			if len(pp) > 0 {
				x.out.Edges = append(x.out.Edges, graph.Edge{From: x.prometheus(), To: to, Ports: pp, Source: "monitors", Reason: fmt.Sprintf(
					"inferred from %s: Prometheus may scrape %s on %s", o.Ref(), to.Describe(), graph.PortsString(pp))})
			}
		}
	}
	if !matched {
		x.note(result.Info, o, "spec.selector", "%s selects no workload of the input: nothing inferred", o.Ref())
	}
}

// selectorMatches evaluates a LabelSelector node (matchLabels and
// matchExpressions) against labels. An empty selector matches everything.
func selectorMatches(sel *yaml.Node, labels map[string]string) bool {
	for k, v := range manifest.StringMap(sel, "matchLabels") {
		if labels[k] != v {
			return false
		}
	}
	for _, e := range manifest.Items(sel, "matchExpressions") {
		key := manifest.String(e, "key")
		val, has := labels[key]
		var values []string
		for _, v := range manifest.Items(e, "values") {
			values = append(values, v.Value)
		}
		in := false
		for _, v := range values {
			if v == val {
				in = true
			}
		}
		switch manifest.String(e, "operator") {
		case "In":
			if !has || !in {
				return false
			}
		case "NotIn":
			if has && in {
				return false
			}
		case "Exists":
			if !has {
				return false
			}
		case "DoesNotExist":
			if has {
				return false
			}
		default:
			return false
		}
	}
	return true
}
