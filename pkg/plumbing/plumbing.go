package plumbing

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/scope"
	"github.com/tierwall/tierwall/pkg/service"
	"github.com/tierwall/tierwall/pkg/workload"
)

// Sources, written to the tierwall.io/source annotation; each is switched
// by the spec.inference field of the same name.
const (
	SourceRBAC          = "rbac"
	SourceAPIOverride   = "needs-api"
	SourceWebhook       = "webhook"
	SourceController    = "ingress-controller"
	SourceGateway       = "gateway"
	SourcePeers         = "statefulset-peers"
	SourceNodeAgent     = "node-agent"
	SourceCloudIdentity = "cloud-identity"
	SourceMesh          = "mesh"
)

// Check ids of the deliberately wide defaults, written to the
// tierwall.io/wide annotation of the policies that hold them.
const (
	WideAPIEgress     = "api-egress-unscoped"
	WideWebhook       = "open-webhook-port"
	WideProxyEgress   = "proxy-egress-all-pods"
	WideNodeEgress    = "node-egress-unscoped"
	NeedsAPIAnnot     = "tierwall.io/needs-api"
	KonnectivityLabel = "k8s-app"
)

// NeedKind is what a Need asks for.
type NeedKind string

// Need kinds.
const (
	// NeedAPI is egress to the API server.
	NeedAPI NeedKind = "api-server"
	// NeedWebhook is ingress from the control plane on Ports.
	NeedWebhook NeedKind = "webhook"
)

// Need is something a workload must be allowed for the app to work; check
// verifies each through the analysis.
type Need struct {
	Kind     NeedKind
	Workload *workload.Workload
	// Ports are the pod ports of a webhook.
	Ports []workload.Port
	// Why says where the need was read ("ServiceAccount shop/api is bound by
	// RoleBinding shop/api").
	Why string
	// Object and Field declare the need.
	Object manifest.Object
	Field  string
}

// Input is what plumbing reads.
type Input struct {
	Spec      *v1alpha1.Spec
	Set       scope.Set
	Objects   []manifest.Object
	Workloads []workload.Workload
	Services  []service.Service
}

// Read finds the namespaces of objs and reads their workloads and Services
// (tierwall's own output and local-config objects left out): the engine's
// input and the plumbing's.
func Read(spec *v1alpha1.Spec, objs []manifest.Object) (Input, framework.Results) {
	set, rs := scope.Find(spec, objs)
	in := Input{Spec: spec, Set: set, Objects: objs}
	// The objects read when parsed say how many there are at least.
	workloads, services := 0, 0
	for _, o := range objs {
		switch o.Summary.(type) {
		case *workload.Workload:
			workloads++
		case *service.Service:
			services++
		}
	}
	in.Workloads = make([]workload.Workload, 0, workloads)
	in.Services = make([]service.Service, 0, services)
	extra := workload.ConfigKinds(spec.WorkloadKinds)
	for _, o := range objs {
		if o.LocalConfig() || o.ManagedByTierwall() {
			continue
		}
		ns, ok := set.Of[o.Index]
		if !ok {
			continue
		}
		if w, ok := workload.Extract(o, ns, extra); ok {
			in.Workloads = append(in.Workloads, w)
		} else if s, ok := service.Extract(o, ns); ok {
			in.Services = append(in.Services, s)
		}
	}
	rs = append(rs, foreign(&in)...)
	return in, rs
}

// Foreign is why a namespace that holds neither a workload nor a Namespace
// object of the input is not protected: its pods belong to someone else (a
// chart's ServiceMonitor in monitoring, a dashboard ConfigMap in grafana),
// and an egress allow there would isolate pods tierwall has not seen.
const Foreign = "no workload and no Namespace object of the input: someone else's namespace (touched, not protected)"

func foreign(in *Input) framework.Results {
	has := map[string]bool{}
	for _, w := range in.Workloads {
		has[w.Namespace] = true
	}
	var rs framework.Results
	for i := range in.Set.List {
		ns := &in.Set.List[i]
		if !ns.InScope() || ns.Object != nil || has[ns.Name] {
			continue
		}
		ns.Skipped = Foreign
		var ref *result.Ref
		if ns.Name != "" {
			ref = &result.Ref{APIVersion: "v1", Kind: "Namespace", Name: ns.Name}
		}
		rs = append(rs, result.New(result.Info, ref, "", "namespace %s skipped: %s", ns.Display(), Foreign))
	}
	return rs
}

// Output is the edges of the needs met, the needs to verify and the findings.
type Output struct {
	Edges   []graph.Edge
	Needs   []Need
	Results framework.Results
	// Classes resolves the ingress class of an Ingress to the endpoints of
	// its controller.
	Classes *Classes
}

type reader struct {
	in       Input
	out      Output
	spec     *v1alpha1.Spec
	services map[string][]*service.Service // ns -> Services
	byNS     map[string][]*workload.Workload
	sas      map[string]manifest.Object // ns/name
	// saNamespaces are the namespaces of the ServiceAccounts of each name,
	// sorted (a workload of the unnamed release namespace may match more
	// than one: the first is taken, whatever the input order).
	saNamespaces map[string][]string
	// workloads are the input's workloads, and bySA those of each
	// ServiceAccount name, in input order.
	workloads []*workload.Workload
	bySA      map[string][]*workload.Workload
	nsLabels  map[string]map[string]string
	// api collects, per workload, why it needs the API server.
	api      map[*workload.Workload][]apiWhy
	apiOrder []*workload.Workload
	warned   map[string]bool
}

type apiWhy struct {
	source, why string
	obj         manifest.Object
	field       string
}

// Derive reads every need the enabled sources declare.
func Derive(in Input) Output {
	r := &reader{in: in, spec: in.Spec, services: map[string][]*service.Service{}, byNS: map[string][]*workload.Workload{},
		sas: map[string]manifest.Object{}, saNamespaces: map[string][]string{}, bySA: map[string][]*workload.Workload{}, nsLabels: map[string]map[string]string{}, api: map[*workload.Workload][]apiWhy{}, warned: map[string]bool{}}
	for i := range in.Services {
		s := &in.Services[i]
		r.services[s.Namespace] = append(r.services[s.Namespace], s)
	}
	for i := range in.Workloads {
		w := &in.Workloads[i]
		r.byNS[w.Namespace] = append(r.byNS[w.Namespace], w)
		r.workloads = append(r.workloads, w)
		r.bySA[w.ServiceAccount] = append(r.bySA[w.ServiceAccount], w)
	}
	for _, ns := range in.Set.List {
		r.nsLabels[ns.Name] = ns.Labels
	}
	for _, o := range in.Objects {
		if o.Kind == "ServiceAccount" && o.APIVersion == "v1" {
			if ns, ok := in.Set.Of[o.Index]; ok {
				if _, seen := r.sas[ns+"/"+o.Name]; !seen {
					r.saNamespaces[o.Name] = append(r.saNamespaces[o.Name], ns)
				}
				r.sas[ns+"/"+o.Name] = o
			}
		}
	}
	for _, nss := range r.saNamespaces {
		sort.Strings(nss)
	}
	inf := in.Spec.Inference
	r.out.Classes = r.classes()
	r.genericWorkloads()
	if inf.On(inf.RBAC) {
		r.rbac()
	}
	if inf.On(inf.Proxies) {
		r.controllers()
		r.gateways()
	}
	if inf.On(inf.Webhooks) {
		r.webhooks()
	}
	if inf.On(inf.Peers) {
		r.peers()
	}
	if inf.On(inf.NodeAgents) {
		r.nodeAgents()
	}
	if inf.On(inf.CloudIdentity) {
		r.cloudIdentity()
	}
	if inf.On(inf.Mesh) {
		r.mesh()
	}
	r.overrides()
	r.apiEdges()
	return r.out
}

func (r *reader) note(sev framework.Severity, o manifest.Object, field, format string, args ...any) {
	r.out.Results = append(r.out.Results, result.New(sev, result.RefOf(o), field, format, args...))
}

// inScope reports whether tierwall writes policies in namespace ns.
func (r *reader) inScope(ns string) bool {
	n, ok := r.in.Set.Get(ns)
	return ok && n.InScope()
}

// selectable reports whether a workload's pods can be selected by a policy.
func selectable(w *workload.Workload) bool { return !w.HostNetwork && len(w.Selector) > 0 }

// sameNamespace reports whether a namespace written in an object (a
// binding's subject, a webhook's Service) is a workload's: equal, or the
// unnamed release namespace when the name is none of the input's namespaces
// (a chart writes {{ .Release.Namespace }} where its other objects have none).
func (r *reader) sameNamespace(written, effective string) bool {
	if written == effective {
		return true
	}
	if effective != "" || written == "" {
		return false
	}
	_, named := r.in.Set.Get(written)
	return !named
}

// servicesNamed finds the Services of a name whose namespace matches.
func (r *reader) serviceNamed(ns, name string) *service.Service {
	for k, ss := range r.services {
		if !r.sameNamespace(ns, k) {
			continue
		}
		for _, s := range ss {
			if s.Name == name {
				return s
			}
		}
	}
	return nil
}

// backing returns the workloads a Service selects.
func (r *reader) backing(s *service.Service) []*workload.Workload {
	var out []*workload.Workload
	if s.Selector == nil {
		return nil
	}
	for _, w := range r.byNS[s.Namespace] {
		if s.Selects(*w) {
			out = append(out, w)
		}
	}
	return out
}

// needAPI records that a workload needs the API server.
func (r *reader) needAPI(w *workload.Workload, source, why string, o manifest.Object, field string) {
	if _, ok := r.api[w]; !ok {
		r.apiOrder = append(r.apiOrder, w)
	}
	r.api[w] = append(r.api[w], apiWhy{source: source, why: why, obj: o, field: field})
}

// overrides applies tierwall.io/needs-api on workloads (object or pod
// template annotations).
func (r *reader) overrides() {
	for i := range r.in.Workloads {
		w := &r.in.Workloads[i]
		v, ok := w.Object.Annotations[NeedsAPIAnnot]
		if !ok {
			v, ok = w.PodAnnotations[NeedsAPIAnnot]
		}
		if !ok {
			continue
		}
		switch v {
		case "true":
			if _, has := r.api[w]; !has {
				r.needAPI(w, SourceAPIOverride, fmt.Sprintf("annotation %s: \"true\" on %s %s", NeedsAPIAnnot, w.Kind, w.Name), w.Object, "metadata.annotations")
			}
		case "false":
			delete(r.api, w)
		default:
			r.note(result.Error, w.Object, "metadata.annotations."+NeedsAPIAnnot, "%s must be \"true\" or \"false\", not %q", NeedsAPIAnnot, v)
		}
	}
}

// apiEdges writes one egress policy per workload that needs the API server:
// to its addresses when the cluster profile names them; otherwise on its
// ports only, with no destination, where ipBlocks may not match the API
// server (an unknown CNI, Cilium), or to every address elsewhere.
func (r *reader) apiEdges() {
	c := r.spec.Cluster
	var ports []networkingv1.NetworkPolicyPort
	for _, p := range c.APIServer.Ports {
		ports = append(ports, policy.Port("TCP", p))
	}
	var tos []graph.Endpoint
	wide := ""
	where := ""
	switch {
	case r.spec.Flavor == v1alpha1.FlavorCilium:
		// Written by the cilium renderer as the kube-apiserver entity.
		tos = []graph.Endpoint{{Kind: graph.Anywhere, Name: "kube-apiserver"}}
		where = "as the kube-apiserver entity (cilium flavour; no addresses to keep up to date)"
	case len(c.APIServer.CIDRs) > 0:
		for _, cidr := range c.APIServer.CIDRs {
			tos = append(tos, graph.Endpoint{Kind: graph.CIDR, CIDR: cidr, Name: "kube-apiserver"})
		}
		where = "at " + strings.Join(c.APIServer.CIDRs, ", ") + " (config spec.cluster.apiServer.cidrs)"
	case !c.IPBlocksMatchNodes():
		tos = []graph.Endpoint{{Kind: graph.Anywhere, Name: "the API server (any address)"}}
		wide = WideAPIEgress
		where = fmt.Sprintf("at any address, since the API server's addresses are not configured and on CNI %q an ipBlock may not match them (set spec.cluster.apiServer.cidrs to narrow it)", c.CNI)
	default:
		for _, cidr := range []string{"0.0.0.0/0", "::/0"} {
			tos = append(tos, graph.Endpoint{Kind: graph.CIDR, CIDR: cidr, Name: "kube-apiserver"})
		}
		wide = WideAPIEgress
		where = "at any address, since the API server's addresses are not configured (set spec.cluster.apiServer.cidrs to narrow it)"
	}
	var wideNames []string
	for _, w := range r.apiOrder {
		whys, ok := r.api[w]
		if !ok || !selectable(w) || !r.inScope(w.Namespace) {
			continue
		}
		var parts []string
		sources := map[string]bool{}
		for _, y := range whys {
			parts = append(parts, y.why)
			sources[y.source] = true
		}
		src := sortedKeys(sources)
		from := graph.FromWorkload(w, r.spec.Zones.Key)
		reason := fmt.Sprintf("%s: %s %s needs the API server: it may reach it on %s %s", strings.Join(src, ", "),
			w.Kind, w.Name, graph.PortsString(ports), where)
		reason += " (" + strings.Join(dedupe(parts), "; ") + ")"
		for _, to := range tos {
			r.out.Edges = append(r.out.Edges, graph.Edge{From: from, To: to, Ports: ports, Reason: reason,
				Source: strings.Join(src, ","), Policy: "kube-api", Wide: wide, APIServer: true, SkipIngress: true})
		}
		first := whys[0]
		for _, y := range whys {
			if y.why < first.why {
				first = y
			}
		}
		r.out.Needs = append(r.out.Needs, Need{Kind: NeedAPI, Workload: w, Why: strings.Join(dedupe(parts), "; "), Object: first.obj, Field: first.field})
		if wide != "" {
			wideNames = append(wideNames, w.Kind+" "+nsName(w))
		}
	}
	wideNames = dedupe(wideNames)
	if len(wideNames) > 0 && r.spec.Flavor != v1alpha1.FlavorCilium {
		r.out.Results = append(r.out.Results, result.New(result.Warning, nil, "spec.cluster.apiServer.cidrs",
			"%d workload(s) need the API server and get egress on %s %s: %s [%s]",
			len(wideNames), graph.PortsString(ports), where, list(wideNames), WideAPIEgress))
	}
}

func nsName(w *workload.Workload) string {
	return manifest.DisplayNamespace(w.Namespace) + "/" + w.Name
}

// list writes the first ten names, then a count.
func list(names []string) string {
	if len(names) <= 10 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:10], ", ") + fmt.Sprintf(" and %d more", len(names)-10)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// dedupe returns the distinct strings, sorted, so that messages do not
// depend on the input's order.
func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// genericWorkloads warns once per workload found by the shape of its pod
// template: its selector is a guess.
func (r *reader) genericWorkloads() {
	for i := range r.in.Workloads {
		w := &r.in.Workloads[i]
		if !w.Generic || !r.inScope(w.Namespace) {
			continue
		}
		from := "spec.selector"
		if len(w.Template) > 0 && manifest.FormatLabels(w.Selector) == manifest.FormatLabels(w.PodLabels) {
			from = "its pod template's labels"
		}
		r.out.Results = append(r.out.Results, tagged(result.New(result.Warning, result.RefOf(w.Object), w.TemplateField("spec"),
			"%s %s is a kind tierwall does not know, read as a workload by its pod template at %s (selector from %s): add it to spec.workloadKinds to say where its template and selector are",
			w.Kind, w.Name, strings.Join(w.Template, "."), from), "unknown-pod-template"))
	}
}

func tagged(r *framework.Result, check string) *framework.Result {
	r.Tags = map[string]string{"check": check}
	return r
}
