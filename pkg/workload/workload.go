package workload

import (
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// Kind says where a kind keeps its pod template.
type Kind struct {
	Group, Kind string
	// Template is the path to the pod template (metadata + spec); empty for Pod.
	Template []string
	// Selector is the path to the label selector; empty when the kind has
	// none (Pod) or it is generated (Job, CronJob).
	Selector []string
	// PlainSelector is true when Selector is a plain map (ReplicationController)
	// rather than a LabelSelector with matchLabels.
	PlainSelector bool
}

// Kinds is the table of built-in kinds that run pods.
var Kinds = []Kind{
	{Group: "apps", Kind: "Deployment", Template: []string{"spec", "template"}, Selector: []string{"spec", "selector"}},
	{Group: "apps", Kind: "StatefulSet", Template: []string{"spec", "template"}, Selector: []string{"spec", "selector"}},
	{Group: "apps", Kind: "DaemonSet", Template: []string{"spec", "template"}, Selector: []string{"spec", "selector"}},
	{Group: "apps", Kind: "ReplicaSet", Template: []string{"spec", "template"}, Selector: []string{"spec", "selector"}},
	{Group: "", Kind: "ReplicationController", Template: []string{"spec", "template"}, Selector: []string{"spec", "selector"}, PlainSelector: true},
	{Group: "batch", Kind: "Job", Template: []string{"spec", "template"}},
	{Group: "batch", Kind: "CronJob", Template: []string{"spec", "jobTemplate", "spec", "template"}},
	{Group: "", Kind: "Pod"},
}

// volatileLabels are set by controllers on pods and change across rollouts;
// a policy never selects on them.
var volatileLabels = map[string]bool{
	"pod-template-hash":                        true,
	"controller-revision-hash":                 true,
	"statefulset.kubernetes.io/pod-name":       true,
	"pod-template-generation":                  true,
	"controller-uid":                           true,
	"batch.kubernetes.io/controller-uid":       true,
	"job-name":                                 true,
	"batch.kubernetes.io/job-name":             true,
	"apps.kubernetes.io/pod-index":             true,
	"batch.kubernetes.io/job-completion-index": true,
}

// Port is one declared container port.
type Port struct {
	Name     string
	Port     int32
	Protocol string // TCP, UDP or SCTP
}

// Workload is an object that runs pods.
type Workload struct {
	Object manifest.Object
	// Namespace is the effective namespace ("" for the release namespace).
	Namespace string
	Name      string
	Kind      string
	// Selector are the labels that select exactly this workload's pods.
	Selector map[string]string
	// PodLabels and PodAnnotations are the pod template's.
	PodLabels      map[string]string
	PodAnnotations map[string]string
	// Ports are the declared ports of containers and restartable init
	// containers (native sidecars), sorted by port, protocol and name.
	Ports []Port
	// HostNetwork pods are outside NetworkPolicy.
	HostNetwork bool
	// Template is the path of the pod template in Object (empty for a Pod,
	// whose own metadata and spec are the template), for findings' fields.
	Template []string
	// Containers and Volumes are what inference reads of the pod spec.
	Containers []Container
	Volumes    []Volume
	// PodIPs are the addresses of a Pod object's status, if any.
	PodIPs []string
	// ServiceAccount is the pod's ServiceAccount ("default" when unset).
	ServiceAccount string
	// AutomountToken is the pod's automountServiceAccountToken (Unset
	// defers to the ServiceAccount's, which defaults to true).
	AutomountToken Tristate
	// ProjectedToken is true when a projected volume mounts a
	// serviceAccountToken, which reaches the API server whatever automount says.
	ProjectedToken bool
	// ServiceName is a StatefulSet's governing Service (spec.serviceName).
	ServiceName string
	// Generic is true when the kind is in no table and the pod template was
	// found at spec.template or spec.jobTemplate.spec.template by its shape.
	Generic bool
}

// Tristate is a boolean that may be unset.
type Tristate int8

// Tristate values.
const (
	Unset Tristate = iota
	Yes
	No
)

// genericTemplates are where a kind in no table keeps a pod template, tried
// in order: most controllers (Argo Rollouts, OpenKruise) use spec.template,
// job-like ones spec.jobTemplate.spec.template.
var genericTemplates = [][]string{{"spec", "template"}, {"spec", "jobTemplate", "spec", "template"}}

// genericContainers are the paths of the containers of genericTemplates.
var genericContainers = func() [][]string {
	out := make([][]string, len(genericTemplates))
	for i, t := range genericTemplates {
		out[i] = append(append([]string{}, t...), "spec", "containers")
	}
	return out
}()

// TemplateField returns the field path of a pod template field in Object,
// e.g. "spec.jobTemplate.spec.template.metadata.annotations" for a CronJob.
func (w Workload) TemplateField(path ...string) string {
	return strings.Join(append(append([]string{}, w.Template...), path...), ".")
}

// Extract returns the workload an object describes, or false when its kind
// runs no pods. extra adds kinds (e.g. Argo Rollouts) to the table.
func Extract(o manifest.Object, namespace string, extra []Kind) (Workload, bool) {
	if p, ok := o.Summary.(*Workload); ok {
		w := *p
		w.Object, w.Namespace = o, namespace
		return w, true
	}
	k, ok := lookupKind(o, extra)
	generic := false
	if !ok {
		if k, ok = genericKind(o); !ok {
			return Workload{}, false
		}
		generic = true
	}
	var meta, spec *yaml.Node
	if len(k.Template) == 0 {
		meta, spec = manifest.Lookup(o.Node, "metadata"), manifest.Lookup(o.Node, "spec")
	} else {
		tmpl := manifest.Lookup(o.Node, k.Template...)
		meta, spec = manifest.Lookup(tmpl, "metadata"), manifest.Lookup(tmpl, "spec")
	}
	w := Workload{
		Object:         o,
		Namespace:      namespace,
		Name:           o.StableName(),
		Kind:           o.Kind,
		PodLabels:      manifest.StringMap(meta, "labels"),
		PodAnnotations: manifest.StringMap(meta, "annotations"),
		HostNetwork:    manifest.String(spec, "hostNetwork") == "true",
		Template:       k.Template,
		Generic:        generic,
	}
	if o.Kind == "StatefulSet" {
		w.ServiceName = manifest.String(o.Node, "spec", "serviceName")
	}
	if w.PodLabels == nil {
		w.PodLabels = map[string]string{}
	}
	if w.PodAnnotations == nil {
		w.PodAnnotations = map[string]string{}
	}
	readPodSpec(&w, spec)
	if o.Kind == "Pod" {
		if ip := manifest.String(o.Node, "status", "podIP"); ip != "" {
			w.PodIPs = append(w.PodIPs, ip)
		}
		for _, it := range manifest.Items(o.Node, "status", "podIPs") {
			if ip := manifest.String(it, "ip"); ip != "" {
				w.PodIPs = append(w.PodIPs, ip)
			}
		}
	}
	w.Selector = selector(o, k, w.PodLabels)
	w.Ports = ports(spec)
	return w, true
}

// genericKind recognises a kind in no table by its pod template: a mapping
// with spec.containers as a non-empty sequence. Its selector is
// spec.selector when present, else the template's labels.
func genericKind(o manifest.Object) (Kind, bool) {
	if o.Node == nil || o.Kind == "" || o.APIVersion == "v1" {
		return Kind{}, false
	}
	for i, t := range genericTemplates {
		c := manifest.Lookup(o.Node, genericContainers[i]...)
		if c != nil && c.Kind == yaml.SequenceNode && len(c.Content) > 0 {
			k := Kind{Group: o.Group(), Kind: o.Kind, Template: t}
			if manifest.Lookup(o.Node, "spec", "selector", "matchLabels") != nil {
				k.Selector = []string{"spec", "selector"}
			}
			return k, true
		}
	}
	return Kind{}, false
}

func lookupKind(o manifest.Object, extra []Kind) (Kind, bool) {
	g := o.Group()
	for _, tbl := range [][]Kind{Kinds, extra} {
		for _, k := range tbl {
			if k.Kind == o.Kind && k.Group == g {
				return k, true
			}
		}
	}
	return Kind{}, false
}

func selector(o manifest.Object, k Kind, podLabels map[string]string) map[string]string {
	var sel map[string]string
	if len(k.Selector) > 0 {
		if k.PlainSelector {
			sel = manifest.StringMap(o.Node, k.Selector...)
		} else {
			sel = manifest.StringMap(o.Node, append(append([]string{}, k.Selector...), "matchLabels")...)
		}
	}
	if len(sel) == 0 {
		sel = map[string]string{}
		for key, v := range podLabels {
			if !volatileLabels[key] {
				sel[key] = v
			}
		}
	}
	return sel
}

func ports(spec *yaml.Node) []Port {
	var out []Port
	seen := map[Port]bool{}
	add := func(c *yaml.Node) {
		for _, p := range manifest.Items(c, "ports") {
			n, err := strconv.Atoi(manifest.String(p, "containerPort"))
			if err != nil || n < 1 || n > 65535 {
				continue
			}
			proto := strings.ToUpper(manifest.String(p, "protocol"))
			if proto == "" {
				proto = "TCP"
			}
			port := Port{Name: manifest.String(p, "name"), Port: int32(n), Protocol: proto} //nolint:gosec // n is within 1-65535, checked above
			if !seen[port] {
				seen[port] = true
				out = append(out, port)
			}
		}
	}
	for _, c := range manifest.Items(spec, "containers") {
		add(c)
	}
	for _, c := range manifest.Items(spec, "initContainers") {
		if manifest.String(c, "restartPolicy") == "Always" {
			add(c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Port != out[j].Port {
			return out[i].Port < out[j].Port
		}
		if out[i].Protocol != out[j].Protocol {
			return out[i].Protocol < out[j].Protocol
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// PortByName returns the declared port with the given name.
func (w Workload) PortByName(name string) (Port, bool) {
	for _, p := range w.Ports {
		if p.Name == name {
			return p, true
		}
	}
	return Port{}, false
}

// SummaryOf makes a Workload a manifest.Summary, kept on its object at read time.
func (*Workload) SummaryOf() string { return "workload" }

// Prepare reads the workload of an object once, at read time, and keeps it
// in o.Summary, so that the object's node can be dropped (o.Compact).
func Prepare(o *manifest.Object, extra []Kind) {
	if w, ok := Extract(*o, "", extra); ok {
		w.Object = manifest.Object{}
		o.Summary = &w
	}
}

// ConfigKinds turns the configured workload kinds (spec.workloadKinds,
// dotted paths) into the table's form.
func ConfigKinds(kinds []v1alpha1.WorkloadKind) []Kind {
	var out []Kind
	for _, k := range kinds {
		wk := Kind{Group: k.Group, Kind: k.Kind, Template: strings.Split(k.Template, ".")}
		if k.Selector != "" {
			wk.Selector = strings.Split(k.Selector, ".")
		}
		out = append(out, wk)
	}
	return out
}

// IsMetricsPortName matches the conventional names of metrics ports:
// metrics, http-metrics, *-metrics and prometheus.
func IsMetricsPortName(name string) bool {
	return name == "metrics" || name == "http-metrics" || name == "prometheus" || strings.HasSuffix(name, "-metrics")
}

// PrometheusPortAnnotation names a pod's metrics port by number.
const PrometheusPortAnnotation = "prometheus.io/port"

// MetricsPort reports whether a declared port is a dedicated metrics port:
// named like one, or the port the pod's prometheus.io/port annotation names.
func (w Workload) MetricsPort(p Port) bool {
	return IsMetricsPortName(p.Name) || (p.Port != 0 && w.PodAnnotations[PrometheusPortAnnotation] == strconv.Itoa(int(p.Port)))
}
