// Package report renders an analysis.Model for people and machines: a text
// table, Markdown (a summary, then a folded section per namespace with a
// Mermaid flowchart, within a size budget), JSON with a versioned schema
// (docs/report-schema.md), the same document as YAML, and DOT. Each shows,
// per namespace of the input, the allowed flows with their ports and the
// policies that allow them, the workloads nothing may reach or that may
// reach nothing, and the hostNetwork pods outside NetworkPolicy; Options
// narrow it to namespaces, sources, destinations, and leave out the
// baseline flows. Output is sorted and has no timestamps, so it can be kept
// as a golden file.
package report

import (
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/tierwall/tierwall/pkg/analysis"
)

// Formats are the output formats Write accepts.
var Formats = []string{"text", "markdown", "json", "yaml", "dot"}

// DefaultMaxBytes is the Markdown size budget when Options.MaxBytes is 0:
// what a GitHub pull-request comment holds (65,536 characters).
const DefaultMaxBytes = 65536

// MinMaxBytes is the smallest budget: a summary and a pointer to the JSON.
const MinMaxBytes = 2048

// Options narrow a report and bound its Markdown.
type Options struct {
	// In keeps the namespaces named (and the flows from or to their pods).
	In []string `json:"in,omitempty"`
	// From and To keep the flows whose source (destination) matches one of
	// the patterns: "NAMESPACE/NAME", "NAME", a peer's name ("internet",
	// "kube-apiserver", "any"), or a glob of those ("shop/*", "*/api").
	From []string `json:"from,omitempty"`
	To   []string `json:"to,omitempty"`
	// HideBaseline leaves out the baseline flows: to the cluster DNS and
	// from Prometheus.
	HideBaseline bool `json:"hideBaseline,omitempty"`
	// MaxBytes bounds the Markdown. Defaults to DefaultMaxBytes; negative
	// is no bound.
	MaxBytes int `json:"maxBytes,omitempty"`
	// FullJSON says where the complete JSON report is (a path or a URL),
	// for Markdown cut to its budget. Defaults to the command that writes
	// it.
	FullJSON string `json:"fullJSON,omitempty"`
}

// Filtered reports whether the options leave anything out.
func (o Options) Filtered() bool {
	return len(o.In) > 0 || len(o.From) > 0 || len(o.To) > 0 || o.HideBaseline
}

// Write renders the model in format, unfiltered.
func Write(w io.Writer, m *analysis.Model, format string) error {
	return WriteOptions(w, m, format, Options{})
}

// WriteOptions renders the model in format with options.
func WriteOptions(w io.Writer, m *analysis.Model, format string, o Options) error {
	r, err := Build(m, o)
	if err != nil {
		return err
	}
	return Render(w, r, format)
}

// Render writes a built report in format.
func Render(w io.Writer, r Report, format string) error {
	switch format {
	case "text", "":
		return Text(w, r)
	case "markdown", "md":
		return Markdown(w, r)
	case "json":
		return JSON(w, r)
	case "yaml":
		return YAML(w, r)
	case "dot":
		return DOT(w, r)
	}
	return fmt.Errorf("unknown report format %q: use one of %s", format, strings.Join(Formats, ", "))
}

// Report is what every format shows.
type Report struct {
	Model   *analysis.Model
	Options Options
	// Namespaces of the input the report shows.
	Namespaces []Namespace
	// Flows are the allowed flows the report shows, sorted.
	Flows []analysis.Flow
	// Hidden counts the flows the options left out.
	Hidden int
}

// Namespace is the part of the report about one namespace of the input.
type Namespace struct {
	*analysis.Namespace
	// Workloads of the namespace (hostNetwork ones included), sorted.
	Workloads []*analysis.Endpoint
	// Flows from or to the namespace's pods, sorted.
	Flows []analysis.Flow
	// NoIngress are the workloads no source may reach; NoEgress those that
	// may reach nothing (whatever the options leave out).
	NoIngress, NoEgress []*analysis.Endpoint
	// HostNetwork pods are outside NetworkPolicy.
	HostNetwork []*analysis.Endpoint
}

// Build gathers the report of a model. A namespace or pattern of the
// options that matches nothing in the model is an error.
func Build(m *analysis.Model, o Options) (Report, error) {
	if err := o.Check(m); err != nil {
		return Report{}, err
	}
	all := m.Flows()
	r := Report{Model: m, Options: o}
	hasIn, hasOut := map[*analysis.Endpoint]bool{}, map[*analysis.Endpoint]bool{}
	for _, f := range all {
		hasOut[f.From] = true
		hasIn[f.To] = true
		if o.keep(m, f) {
			r.Flows = append(r.Flows, f)
		} else {
			r.Hidden++
		}
	}
	for _, ns := range m.Namespaces {
		if !ns.InStream || (len(o.In) > 0 && !contains(o.In, ns.Name)) {
			continue
		}
		n := Namespace{Namespace: ns}
		for _, e := range m.Endpoints {
			if e.Kind != analysis.Workload || e.Namespace != ns.Name {
				continue
			}
			n.Workloads = append(n.Workloads, e)
			switch {
			case e.HostNetwork:
				n.HostNetwork = append(n.HostNetwork, e)
				continue
			case !hasIn[e]:
				n.NoIngress = append(n.NoIngress, e)
			}
			if !hasOut[e] {
				n.NoEgress = append(n.NoEgress, e)
			}
		}
		for _, f := range r.Flows {
			if touches(f.From, ns.Name) || touches(f.To, ns.Name) {
				n.Flows = append(n.Flows, f)
			}
		}
		if len(n.Flows) == 0 && len(o.In) == 0 && (len(o.From) > 0 || len(o.To) > 0) {
			continue // --from and --to show where their flows are
		}
		r.Namespaces = append(r.Namespaces, n)
	}
	return r, nil
}

// Check reports the namespaces and patterns of the options that match
// nothing in any of the models: a typo must not pass for "no flow".
func (o Options) Check(models ...*analysis.Model) error {
	var problems []string
	inStream := func(ns string) bool {
		for _, m := range models {
			if n, ok := m.Namespace(ns); ok && n.InStream {
				return true
			}
		}
		return false
	}
	matches := func(p string) bool {
		for _, m := range models {
			if anyMatch(m, p) {
				return true
			}
		}
		return false
	}
	for _, ns := range o.In {
		if !inStream(ns) {
			problems = append(problems, fmt.Sprintf("--in %q: no namespace of the input has that name (%s)", ns, inputNamespaces(models[len(models)-1])))
		}
	}
	for _, p := range o.From {
		if _, err := path.Match(p, ""); err != nil {
			problems = append(problems, fmt.Sprintf("--from %q: %v", p, err))
		} else if !matches(p) {
			problems = append(problems, fmt.Sprintf("--from %q matches no endpoint (workloads are NAMESPACE/NAME, peers go by their names: internet, kube-apiserver, any; globs work: shop/*)", p))
		}
	}
	for _, p := range o.To {
		if _, err := path.Match(p, ""); err != nil {
			problems = append(problems, fmt.Sprintf("--to %q: %v", p, err))
		} else if !matches(p) {
			problems = append(problems, fmt.Sprintf("--to %q matches no endpoint (workloads are NAMESPACE/NAME, peers go by their names: internet, kube-apiserver, any; globs work: shop/*)", p))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return nil
}

func inputNamespaces(m *analysis.Model) string {
	var names []string
	for _, n := range m.Namespaces {
		if n.InStream {
			names = append(names, n.Display())
		}
	}
	if len(names) == 0 {
		return "it has none"
	}
	if len(names) > 10 {
		names = append(names[:10], fmt.Sprintf("and %d more", len(names)-10))
	}
	return "it has " + strings.Join(names, ", ")
}

func anyMatch(m *analysis.Model, p string) bool {
	if MatchEndpoint(analysis.AnyEndpoint, p) {
		return true
	}
	for _, e := range m.Endpoints {
		if MatchEndpoint(e, p) {
			return true
		}
	}
	return false
}

// MatchEndpoint reports whether an endpoint matches a pattern of --from or
// --to: its name as shown ("shop/api", "internet", "pods app=x in namespace
// shop"), its ID, its bare name, "NAMESPACE/" for every endpoint of a
// namespace, or a glob of those (path.Match).
func MatchEndpoint(e *analysis.Endpoint, p string) bool {
	if ns, ok := strings.CutSuffix(p, "/"); ok && ns != "" {
		return (e.Kind == analysis.Workload || e.Kind == analysis.Virtual) && e.Namespace == ns
	}
	for _, s := range []string{e.String(), e.ID, e.Name} {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

// keep reports whether the options keep a flow.
func (o Options) keep(m *analysis.Model, f analysis.Flow) bool {
	return o.Keep(m, f.From, f.To)
}

// Keep reports whether the options keep a flow from one endpoint of model
// m to another.
func (o Options) Keep(m *analysis.Model, from, to *analysis.Endpoint) bool {
	if o.HideBaseline && Baseline(m, analysis.Flow{From: from, To: to}) {
		return false
	}
	if len(o.In) > 0 && !inAny(from, o.In) && !inAny(to, o.In) {
		return false
	}
	return matchesAny(from, o.From) && matchesAny(to, o.To)
}

// Baseline reports whether a flow is one of the baseline's: to the cluster
// DNS, or from Prometheus (the pods spec.dns and spec.monitoring name,
// whether the input holds them or not, and the DNS addresses).
func Baseline(m *analysis.Model, f analysis.Flow) bool {
	if f.To.Role == analysis.RoleDNS || f.From.Role == analysis.RoleMonitoring {
		return true
	}
	dns, mon := m.Spec.DNS, m.Spec.Monitoring
	return (f.To.Kind == analysis.Workload && f.To.Namespace == dns.Namespace && len(dns.PodLabels) > 0 && labelsMatch(dns.PodLabels, f.To.Labels)) ||
		(f.From.Kind == analysis.Workload && f.From.Namespace == mon.Namespace && len(mon.PodLabels) > 0 && labelsMatch(mon.PodLabels, f.From.Labels))
}

// labelsMatch reports whether labels carry every key and value of want.
func labelsMatch(want, labels map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func inAny(e *analysis.Endpoint, namespaces []string) bool {
	return (e.Kind == analysis.Workload || e.Kind == analysis.Virtual) && contains(namespaces, e.Namespace)
}

func matchesAny(e *analysis.Endpoint, patterns []string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if MatchEndpoint(e, p) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func touches(e *analysis.Endpoint, ns string) bool {
	return (e.Kind == analysis.Workload || e.Kind == analysis.Virtual) && e.Namespace == ns
}

// status says how tierwall treats a namespace.
func status(n Namespace) string {
	if n.InScope() {
		return "protected by tierwall"
	}
	return "skipped: " + n.Skipped
}

// portsText lists a flow's ports.
func portsText(f analysis.Flow) string {
	parts := f.Ports.Strings()
	if f.Ports.Empty() {
		parts = nil
	}
	for _, n := range f.NamedPorts {
		parts = append(parts, n+" (named, on each destination)")
	}
	return strings.Join(parts, ", ")
}

// via says which policies allow a flow on each side.
func via(m *analysis.Model, f analysis.Flow) string {
	var parts []string
	if f.From.Kind != analysis.External && f.From.Kind != analysis.Any {
		parts = append(parts, sideText(m, "egress", f.From, f.Egress))
	}
	if f.To.Kind != analysis.External && f.To.Kind != analysis.Any {
		parts = append(parts, sideText(m, "ingress", f.To, f.Ingress))
	}
	if f.From.Kind == analysis.Any {
		parts = append(parts, "each source's egress applies")
	}
	if f.To.Kind == analysis.Any {
		parts = append(parts, "each destination's ingress applies")
	}
	return strings.Join(parts, "; ")
}

func sideText(m *analysis.Model, dir string, e *analysis.Endpoint, s analysis.Side) string {
	if !s.Isolated {
		if ns, ok := m.Namespace(e.Namespace); ok && !ns.InStream {
			if e.Peer != nil {
				return dir + " unknown (not in the input)"
			}
			return dir + " unknown (namespace " + ns.Display() + " is not in the input)"
		}
		return dir + " not isolated (no policy selects it)"
	}
	refs := make([]string, len(s.Policies))
	for i, p := range s.Policies {
		refs[i] = p.Ref()
	}
	return dir + " " + strings.Join(refs, ", ")
}

// endpointText names an endpoint with what it is: "production/api
// (Deployment)".
func endpointText(e *analysis.Endpoint) string {
	if e.Kind == analysis.Any {
		return "any"
	}
	return e.String() + " (" + e.Describe() + ")"
}

func names(es []*analysis.Endpoint) string {
	if len(es) == 0 {
		return "none"
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = endpointText(e)
	}
	return strings.Join(out, ", ")
}

// outside reports whether an endpoint is not a workload of the input.
func outside(e *analysis.Endpoint) bool { return e.Kind != analysis.Workload }

// FiltersText says what the options leave out, "" when nothing.
func FiltersText(o Options) string {
	var parts []string
	if len(o.In) > 0 {
		parts = append(parts, "namespaces "+strings.Join(o.In, ", "))
	}
	if len(o.From) > 0 {
		parts = append(parts, "from "+strings.Join(o.From, ", "))
	}
	if len(o.To) > 0 {
		parts = append(parts, "to "+strings.Join(o.To, ", "))
	}
	if o.HideBaseline {
		parts = append(parts, "baseline flows (DNS, monitoring) hidden")
	}
	return strings.Join(parts, "; ")
}

// sortedKeys returns a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
