// Package fallback covers the callers tierwall cannot see. Most real
// applications keep their peers' addresses in code or in config baked into
// the image; a target port of a Service-backed workload that no allow
// admits any caller to almost certainly has such callers. With
// spec.fallback.callers: namespace that port is opened to the pods of the
// same namespace (and nothing else: no other port, no other namespace), in
// policies of their own whose reason starts with "fallback:" and says what
// replaces them; with none, each such port is an error.
package fallback

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/plumbing"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/service"
	"github.com/tierwall/tierwall/pkg/workload"
)

// Source is the tierwall.io/source of fallback policies, and Check the
// check id under which they are reported.
const (
	Source = "fallback"
	Check  = "fallback-callers"
	// CallersAnnotation "none" on a Service or its workload says nobody
	// calls it: no fallback, no finding.
	CallersAnnotation = "tierwall.io/callers"
	// NoCallersAnnotation on a Service lists the ports (names or numbers,
	// comma-separated) nobody calls, such as an admin UI reached only by
	// port-forward.
	NoCallersAnnotation = "tierwall.io/no-callers"
	// UnreachableCheck is the id of a Service port nothing may reach.
	UnreachableCheck = "unreachable-port"
)

// Input is what the fallback reads: the derived edges and the input.
type Input struct {
	// Input is the read input: the spec, the namespaces, the objects, their
	// workloads and Services.
	plumbing.Input
	Edges []graph.Edge
	// Release, when known, names the namespace's fallback egress policy
	// (<release>-fallback-egress), so that renders sharing a namespace never
	// collide.
	Release string
}

// Port is one uncalled Service port of a workload.
type Port struct {
	Workload *workload.Workload
	Service  *service.Service
	Port     service.Port
	Pod      workload.Port
}

// Output is the fallback edges, the uncalled ports and the findings.
type Output struct {
	Edges   []graph.Edge
	Ports   []Port
	Results framework.Results
}

// ignored are the sources that do not count as callers: Prometheus scrapes
// a port without calling the app. (A webhook configuration does name the
// caller of its Service's port: the control plane.)
var ignored = map[string]bool{"monitors": true}

// Derive finds every uncalled port and writes its fallback.
func Derive(in Input) Output {
	var out Output
	if !*in.Spec.DefaultDeny.Ingress {
		return out
	}
	isolated := map[string]bool{}
	for _, ns := range in.Spec.IsolateNamespaces {
		isolated[ns] = true
	}
	user := userPolicies(in)
	idx := indexEdges(in.Edges)
	ws := make([]*workload.Workload, len(in.Workloads))
	for j := range in.Workloads {
		ws[j] = &in.Workloads[j]
	}
	pods := service.NewPods(ws)
	var names []string
	reported := map[string]bool{}
	for i := range in.Services {
		s := &in.Services[i]
		if s.Selector == nil || s.Type == "ExternalName" || s.Object.Annotations[CallersAnnotation] == "none" {
			continue
		}
		ns, ok := in.Set.Get(s.Namespace)
		if !ok || !ns.InScope() || isolated[s.Namespace] {
			continue
		}
		for _, w := range pods.Selected(s) {
			if w.HostNetwork || len(w.Selector) == 0 ||
				w.Object.Annotations[CallersAnnotation] == "none" || w.PodAnnotations[CallersAnnotation] == "none" {
				continue
			}
			for _, sp := range s.Ports {
				if NoCallers(s.Object.Annotations, sp.Name, sp.Port) {
					continue
				}
				wp, _, ok := s.Target(sp, *w)
				// A dedicated metrics port is Prometheus's, which has its own allow.
				if !ok || w.MetricsPort(wp) || idx.covered(w, wp) || user.covers(w, wp) {
					continue
				}
				key := w.Namespace + "/" + w.Kind + "/" + w.Name + "/" + wp.Protocol + strconv.Itoa(int(wp.Port))
				if reported[key] {
					continue
				}
				reported[key] = true
				if user.selectsAll[w.Namespace] {
					out.Results = append(out.Results, result.New(result.Warning, result.RefOf(s.Object), "spec.ports",
						"%s port %d -> pod port %d of %s %s: no allow names a caller, and the input's own policy %s selects every pod of the namespace: no fallback is written here; make sure your policies admit its callers",
						s.Ref(), sp.Port, wp.Port, w.Kind, w.Name, user.allName[w.Namespace]))
					continue
				}
				out.Ports = append(out.Ports, Port{Workload: w, Service: s, Port: sp, Pod: wp})
				names = append(names, fmt.Sprintf("%s %s port %d", w.Kind, display(w.Namespace, w.Name), wp.Port))
				if in.Spec.Fallback.Callers == v1alpha1.FallbackNone {
					out.Results = append(out.Results, tagged(result.New(result.Error, result.RefOf(s.Object), "spec.ports",
						"%s port %d -> pod port %d of %s %s: no allow names a caller (spec.fallback.callers is none): name its callers with the annotation tierwall.io/allow-from on %s %s or spec.allows, or annotate %s: none if nothing calls it",
						s.Ref(), sp.Port, wp.Port, w.Kind, w.Name, w.Kind, w.Name, CallersAnnotation), UnreachableCheck))
					continue
				}
				out.Edges = append(out.Edges, edges(w, s, sp, wp, in.Spec.Zones.Key, in.Release)...)
			}
		}
	}
	if len(names) > 0 && in.Spec.Fallback.Callers == v1alpha1.FallbackNamespace {
		sort.Strings(names)
		out.Results = append(out.Results, tagged(result.New(result.Warning, nil, "spec.fallback.callers",
			"fallback: %d port(s) have no caller the manifests name, so each is open to the pods of its own namespace (calls from other namespaces or written in code to the internet stay blocked): %s; name the callers (tierwall.io/allow-from, spec.allows) or annotate %s: none, and set spec.fallback.callers: none to make this an error",
			len(names), list(names), CallersAnnotation), Check))
	}
	return out
}

func tagged(r *framework.Result, check string) *framework.Result {
	r.Tags = map[string]string{"check": check}
	return r
}

func display(ns, name string) string { return manifest.DisplayNamespace(ns) + "/" + name }

// list writes the first ten names, then a count.
func list(names []string) string {
	if len(names) <= 10 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:10], ", ") + fmt.Sprintf(" and %d more", len(names)-10)
}

// edges writes the fallback of one port: ingress from every pod of the
// namespace in a policy of its own, and the matching egress of those pods.
func edges(w *workload.Workload, s *service.Service, sp service.Port, wp workload.Port, zoneKey, release string) []graph.Edge {
	name := "fallback"
	if release != "" {
		name = release + "-fallback"
	}
	all := graph.Endpoint{Kind: graph.Pods, Namespace: w.Namespace, Selector: map[string]string{}, Name: name}
	to := graph.FromWorkload(w, zoneKey)
	ports := []networkingv1.NetworkPolicyPort{policy.Port(wp.Protocol, wp.Port)}
	reason := fmt.Sprintf("fallback: no allow names a caller of %s port %d -> pod port %d of %s %s, so the pods of its namespace may reach it there (callers the manifests do not name, such as addresses compiled into code); replace it with an exact allow (annotation tierwall.io/allow-from on %s %s, or spec.allows), or annotate %s: none if nothing calls it",
		s.Ref(), sp.Port, wp.Port, w.Kind, w.Name, w.Kind, w.Name, CallersAnnotation)
	return []graph.Edge{
		{From: all, To: to, Ports: ports, Reason: reason, Source: Source, Wide: Check, Policy: "fallback-ingress", SkipEgress: true},
		{From: all, To: to, Ports: ports, Reason: reason, Source: Source, Wide: Check, SkipIngress: true},
	}
}

// edgeIndex holds the edges that admit a caller, by where they lead: a
// workload, the pods of a namespace, or pods of every namespace. It points
// into the edges it indexes.
type edgeIndex struct {
	byWorkload map[workloadKey][]*graph.Edge
	byNS       map[string][]*graph.Edge
	anyNS      []*graph.Edge
}

type workloadKey struct{ namespace, kind, name string }

func indexEdges(edges []graph.Edge) edgeIndex {
	x := edgeIndex{byWorkload: map[workloadKey][]*graph.Edge{}, byNS: map[string][]*graph.Edge{}}
	for i := range edges {
		e := &edges[i]
		if e.SkipIngress || ignored[e.Source] || e.APIServer {
			continue
		}
		switch {
		case e.To.Kind == graph.Workload && e.To.Workload != nil:
			k := workloadKey{e.To.Workload.Namespace, e.To.Workload.Kind, e.To.Workload.Name}
			x.byWorkload[k] = append(x.byWorkload[k], e)
		case e.To.Kind == graph.Pods && e.To.NamespaceLabels == nil:
			x.byNS[e.To.Namespace] = append(x.byNS[e.To.Namespace], e)
		case e.To.Kind == graph.Pods:
			x.anyNS = append(x.anyNS, e)
		}
	}
	return x
}

// covered reports whether an indexed edge admits some caller to the
// workload's pod port.
func (x edgeIndex) covered(w *workload.Workload, wp workload.Port) bool {
	return covered(x.byWorkload[workloadKey{w.Namespace, w.Kind, w.Name}], w, wp) ||
		covered(x.byNS[w.Namespace], w, wp) || covered(x.anyNS, w, wp)
}

// covered reports whether an edge admits some caller to the workload's pod
// port (Prometheus and the control plane do not count).
func covered(edges []*graph.Edge, w *workload.Workload, wp workload.Port) bool {
	for _, e := range edges {
		// A workload's own pods calling each other (StatefulSet peers) name
		// none of its clients.
		// Only an edge whose ingress side is written admits a caller (a
		// proxy's egress to every pod admits none by itself).
		if e.SkipIngress || ignored[e.Source] || e.APIServer || !reaches(e.To, w) || (e.From.Kind == graph.Workload && reaches(e.From, w)) {
			continue
		}
		if len(e.Ports) == 0 {
			return true
		}
		for _, p := range e.Ports {
			if portMatches(p, wp) {
				return true
			}
		}
	}
	return false
}

// reaches reports whether an endpoint selects the workload's pods.
func reaches(to graph.Endpoint, w *workload.Workload) bool {
	switch to.Kind {
	case graph.Workload:
		return to.Workload != nil && to.Workload.Namespace == w.Namespace && to.Workload.Kind == w.Kind && to.Workload.Name == w.Name
	case graph.Pods:
		if to.NamespaceLabels == nil && to.Namespace != w.Namespace {
			return false
		}
		for k, v := range to.Selector {
			if w.PodLabels[k] != v {
				return false
			}
		}
		return true
	}
	return false
}

func portMatches(p networkingv1.NetworkPolicyPort, wp workload.Port) bool {
	proto := "TCP"
	if p.Protocol != nil {
		proto = string(*p.Protocol)
	}
	if proto != wp.Protocol || p.Port == nil {
		return proto == wp.Protocol
	}
	if p.Port.Type == intstr.String {
		return p.Port.StrVal == wp.Name
	}
	if p.EndPort != nil {
		return p.Port.IntVal <= wp.Port && wp.Port <= *p.EndPort
	}
	return p.Port.IntVal == wp.Port
}

// users are the input's own NetworkPolicies, as far as the fallback needs
// them: whether one selects every pod of a namespace, and which ports of
// which pods they admit callers to.
type users struct {
	selectsAll map[string]bool
	allName    map[string]string
	rules      []userRule
}

type userRule struct {
	ns       string
	selector labels.Selector
	ports    []networkingv1.NetworkPolicyPort // nil: every port
	any      bool                             // a rule with no ports
}

func userPolicies(in Input) users {
	u := users{selectsAll: map[string]bool{}, allName: map[string]string{}}
	for _, o := range in.Objects {
		if !o.IsNetworkPolicy() || o.ManagedByTierwall() || o.Node == nil {
			continue
		}
		ns, ok := in.Set.Of[o.Index]
		if !ok {
			continue
		}
		node := manifest.Lookup(o.Node, "spec", "podSelector")
		sel, err := selectorOf(node)
		if err != nil {
			continue // an invalid selector: the analysis reports it
		}
		if sel.Empty() && hasIngress(o) {
			u.selectsAll[ns] = true
			u.allName[ns] = o.Ref()
		}
		for _, r := range manifest.Items(o.Node, "spec", "ingress") {
			ur := userRule{ns: ns, selector: sel}
			ps := manifest.Items(r, "ports")
			if len(ps) == 0 {
				ur.any = true
			}
			for _, p := range ps {
				proto := manifest.String(p, "protocol")
				if proto == "" {
					proto = "TCP"
				}
				v := manifest.String(p, "port")
				np := policy.Port(proto, 0)
				if v == "" {
					np.Port = nil
				} else if n, err := strconv.Atoi(v); err == nil {
					np = policy.Port(proto, int32(n))
				} else {
					np = policy.NamedPort(proto, v)
				}
				if e, err := strconv.Atoi(manifest.String(p, "endPort")); err == nil {
					end := int32(e)
					np.EndPort = &end
				}
				ur.ports = append(ur.ports, np)
			}
			u.rules = append(u.rules, ur)
		}
	}
	return u
}

func hasIngress(o manifest.Object) bool {
	for _, t := range manifest.Items(o.Node, "spec", "policyTypes") {
		if t.Value == "Ingress" {
			return true
		}
	}
	return len(manifest.Items(o.Node, "spec", "policyTypes")) == 0
}

// covers reports whether a rule of the input's own policies admits some
// caller to the workload's pod port.
func (u users) covers(w *workload.Workload, wp workload.Port) bool {
	for _, r := range u.rules {
		if r.ns != w.Namespace {
			continue
		}
		if !r.selector.Matches(labels.Set(w.PodLabels)) {
			continue
		}
		if r.any {
			return true
		}
		for _, p := range r.ports {
			if portMatches(p, wp) {
				return true
			}
		}
	}
	return false
}

// selectorOf reads a LabelSelector node, matchExpressions included; a
// missing one selects every pod.
func selectorOf(n *yaml.Node) (labels.Selector, error) {
	if n == nil {
		return labels.Everything(), nil
	}
	text, err := yaml.String(n)
	if err != nil {
		return nil, err
	}
	var ls metav1.LabelSelector
	if err := sigsyaml.Unmarshal([]byte(text), &ls); err != nil {
		return nil, err
	}
	return metav1.LabelSelectorAsSelector(&ls)
}

// NoCallers reports whether a Service's tierwall.io/no-callers annotation
// names a port, by name or number.
func NoCallers(annotations map[string]string, name string, port int32) bool {
	for _, p := range strings.Split(annotations[NoCallersAnnotation], ",") {
		p = strings.TrimSpace(p)
		if p != "" && (p == name || p == strconv.Itoa(int(port))) {
			return true
		}
	}
	return false
}
