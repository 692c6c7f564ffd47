// Package service reads Services and maps their ports to the ports of the
// pods behind them: Service port -> targetPort (number or name) -> the
// container port the pod declares. Policies match pod ports, never Service
// ports, because NetworkPolicy is enforced after the Service's DNAT.
package service

import (
	"sort"
	"strconv"
	"strings"

	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/workload"
)

// Port is one port of a Service.
type Port struct {
	Name     string
	Port     int32
	Protocol string
	// TargetPort as written: a number, a name, or "" (then it is Port).
	TargetPort string
}

// Service is a v1 Service of the stream.
type Service struct {
	Object    manifest.Object
	Namespace string
	Name      string
	Type      string
	Headless  bool
	// Selector is nil for Services without selectors (their endpoints are
	// managed by hand and cannot be resolved).
	Selector map[string]string
	Ports    []Port
	// LoadBalancerSourceRanges restricts who reaches a LoadBalancer.
	LoadBalancerSourceRanges []string
	// ExternalName is the host of an ExternalName Service.
	ExternalName string
}

// Extract reads a Service, or returns false for other kinds.
func Extract(o manifest.Object, namespace string) (Service, bool) {
	if p, ok := o.Summary.(*Service); ok {
		s := *p
		s.Object, s.Namespace = o, namespace
		return s, true
	}
	if o.Kind != "Service" || o.APIVersion != "v1" {
		return Service{}, false
	}
	s := Service{
		Object:       o,
		Namespace:    namespace,
		Name:         o.Name,
		Type:         manifest.String(o.Node, "spec", "type"),
		Headless:     manifest.String(o.Node, "spec", "clusterIP") == "None",
		Selector:     manifest.StringMap(o.Node, "spec", "selector"),
		ExternalName: manifest.String(o.Node, "spec", "externalName"),
	}
	if s.Type == "" {
		s.Type = "ClusterIP"
	}
	for _, r := range manifest.Items(o.Node, "spec", "loadBalancerSourceRanges") {
		if r != nil && r.Value != "" {
			s.LoadBalancerSourceRanges = append(s.LoadBalancerSourceRanges, r.Value)
		}
	}
	for _, p := range manifest.Items(o.Node, "spec", "ports") {
		n, err := strconv.Atoi(manifest.String(p, "port"))
		if err != nil {
			continue
		}
		proto := strings.ToUpper(manifest.String(p, "protocol"))
		if proto == "" {
			proto = "TCP"
		}
		s.Ports = append(s.Ports, Port{
			Name: manifest.String(p, "name"), Port: int32(n), Protocol: proto, //nolint:gosec // n is within 1-65535, checked above
			TargetPort: manifest.String(p, "targetPort"),
		})
	}
	return s, true
}

// Selects reports whether the Service's selector picks the workload's pods.
func (s Service) Selects(w workload.Workload) bool {
	if len(s.Selector) == 0 || s.Namespace != w.Namespace {
		return false
	}
	for k, v := range s.Selector {
		if w.PodLabels[k] != v {
			return false
		}
	}
	return true
}

// Target resolves a Service port to the workload's pod port. ok is false
// when a named targetPort names no container port of the workload.
// declared is false when a numbered target is not among the declared ports
// (the pod may still listen on it).
func (s Service) Target(p Port, w workload.Workload) (port workload.Port, declared, ok bool) {
	t := p.TargetPort
	if t == "" {
		t = strconv.Itoa(int(p.Port))
	}
	if n, err := strconv.ParseInt(t, 10, 32); err == nil {
		for _, wp := range w.Ports {
			if wp.Port == int32(n) && wp.Protocol == p.Protocol {
				return wp, true, true
			}
		}
		return workload.Port{Port: int32(n), Protocol: p.Protocol}, false, true
	}
	for _, wp := range w.Ports {
		if wp.Name == t {
			return wp, true, true
		}
	}
	return workload.Port{}, false, false
}

// Ref names the Service for messages.
func (s Service) Ref() string {
	return "Service " + manifest.DisplayNamespace(s.Namespace) + "/" + s.Name
}

// SummaryOf makes a Service a manifest.Summary, kept on its object at read time.
func (*Service) SummaryOf() string { return "service" }

// Prepare reads a Service once, at read time, and keeps it in o.Summary,
// so that the object's node can be dropped (o.Compact).
func Prepare(o *manifest.Object) {
	if s, ok := Extract(*o, ""); ok {
		s.Object = manifest.Object{}
		o.Summary = &s
	}
}

// Index finds the Services that select a workload without trying every
// Service of its namespace: each Service is filed under one of its selector
// labels, and a workload only meets the Services filed under its own labels.
type Index struct {
	byLabel map[podLabel][]*Service // a selector entry, in its namespace
}

// NewIndex indexes services (Services without a selector select nothing).
func NewIndex(services []Service) Index {
	ix := Index{byLabel: map[podLabel][]*Service{}}
	for i := range services {
		s := &services[i]
		if len(s.Selector) == 0 {
			continue
		}
		// File under the smallest key, so that a Service is filed once.
		key := ""
		for k := range s.Selector {
			if key == "" || k < key {
				key = k
			}
		}
		l := podLabel{s.Namespace, key, s.Selector[key]}
		ix.byLabel[l] = append(ix.byLabel[l], s)
	}
	return ix
}

// Selecting returns the Services that select the workload's pods, in input
// order.
func (ix Index) Selecting(w workload.Workload) []*Service {
	var out []*Service
	for k, v := range w.PodLabels {
		for _, s := range ix.byLabel[podLabel{w.Namespace, k, v}] {
			if s.Selects(w) {
				out = append(out, s)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Object.Index < out[j].Object.Index })
	return out
}

// Pods finds the workloads a Service selects without trying every workload
// of its namespace: workloads are filed under their labels of each key a
// selector names (filed the first time a selector names it), and a Service
// only meets the workloads filed under its rarest selector label. What a
// Service selects is found once.
type Pods struct {
	ws       []*workload.Workload
	byLabel  map[podLabel][]*workload.Workload
	filed    map[string]bool // the label keys filed
	selected map[*Service][]*workload.Workload
}

// podLabel is a label of pods (or a selector entry) in a namespace.
type podLabel struct{ namespace, key, value string }

// NewPods indexes workloads (the slice is kept).
func NewPods(ws []*workload.Workload) *Pods {
	return &Pods{ws: ws, byLabel: map[podLabel][]*workload.Workload{}, filed: map[string]bool{}, selected: map[*Service][]*workload.Workload{}}
}

// file files the workloads under their labels of key.
func (p *Pods) file(key string) {
	p.filed[key] = true
	for _, w := range p.ws {
		if v, ok := w.PodLabels[key]; ok {
			l := podLabel{w.Namespace, key, v}
			p.byLabel[l] = append(p.byLabel[l], w)
		}
	}
}

// Selected returns the workloads that s selects, in the order NewPods was
// given them. The slice is shared: callers read it.
func (p *Pods) Selected(s *Service) []*workload.Workload {
	if len(s.Selector) == 0 {
		return nil
	}
	if out, ok := p.selected[s]; ok {
		return out
	}
	var fewest []*workload.Workload
	first := true
	for k, v := range s.Selector {
		if !p.filed[k] {
			p.file(k)
		}
		if ws := p.byLabel[podLabel{s.Namespace, k, v}]; first || len(ws) < len(fewest) {
			fewest, first = ws, false
		}
	}
	var out []*workload.Workload
	for _, w := range fewest {
		if s.Selects(*w) {
			out = append(out, w)
		}
	}
	p.selected[s] = out
	return out
}
