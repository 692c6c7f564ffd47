package v1alpha1

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Tiers derives least-privilege allows from workload labels: each tier's
// pods are reached only by the tier before it, on their declared ports.
type Tiers struct {
	// Enabled turns tier policies on. Defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
	// Labels are the pod labels read for a workload's tier, the first present
	// wins. Defaults to [tier, app.kubernetes.io/component].
	Labels []string `json:"labels,omitempty"`
	// Chain is the ordered list of tiers, first (entry) to last. Defaults to
	// frontend (web, ui) -> api (backend, app, service) -> database (db,
	// postgres, mysql, cache, redis).
	Chain []Tier `json:"chain,omitempty"`
	// Entry are the peers admitted to the first tier on its ports. Defaults
	// to the pods of namespace ingress-nginx.
	Entry []Peer `json:"entry,omitempty"`
}

// Tier is one link of the chain.
type Tier struct {
	// Name of the tier, as written in policy names.
	Name string `json:"name"`
	// Aliases are other label values that mean this tier.
	Aliases []string `json:"aliases,omitempty"`
}

// Peer names pods (or addresses) on one side of an allow. Fields set
// together are ANDed into ONE NetworkPolicy peer: a namespace and pod labels
// select those pods in that namespace, never every pod of it.
type Peer struct {
	// Tier selects the workloads of a tier (in Namespace, or in the namespace
	// of the allow when Namespace is empty).
	Tier string `json:"tier,omitempty"`
	// Workload selects one workload by name (with its selector labels).
	Workload string `json:"workload,omitempty"`
	// PodLabels select pods by label.
	PodLabels map[string]string `json:"podLabels,omitempty"`
	// Namespace names the peer's namespace.
	Namespace string `json:"namespace,omitempty"`
	// NamespaceLabels select namespaces by label.
	NamespaceLabels map[string]string `json:"namespaceLabels,omitempty"`
	// CIDR is an address range (only as an egress destination or ingress
	// source outside the cluster).
	CIDR string `json:"cidr,omitempty"`
	// Except are ranges of CIDR left out.
	Except []string `json:"except,omitempty"`
}

// PortSpec is a port by number or name, with a protocol (TCP by default).
type PortSpec struct {
	// Port is a number (8080) or the name of a container port (http).
	Port intstr.IntOrString `json:"port"`
	// Protocol is TCP, UDP or SCTP. Defaults to TCP.
	Protocol string `json:"protocol,omitempty"`
	// EndPort makes Port..EndPort a range (numbers only).
	EndPort int32 `json:"endPort,omitempty"`
}

// Allow is an explicit allow written by a person: from peers to pods, on
// ports. Both sides are emitted when both ends are in scope.
type Allow struct {
	// Name is used in the generated policy names. Defaults to allow-<index>.
	Name string `json:"name,omitempty"`
	// Namespace of the destination pods (and of the source when the source
	// names none). Required unless To names a namespace.
	Namespace string `json:"namespace,omitempty"`
	// From are the sources; any of them may connect.
	From []Peer `json:"from"`
	// To selects the destination pods (or, for egress to addresses, a CIDR).
	To Peer `json:"to"`
	// Ports on the destination. Defaults to the destination's declared ports.
	Ports []PortSpec `json:"ports,omitempty"`
}

// ExternalEgress lets selected pods reach addresses outside the cluster.
type ExternalEgress struct {
	// Name is used in the generated policy name. Defaults to external-<index>.
	Name string `json:"name,omitempty"`
	// Namespace of the pods. Required.
	Namespace string `json:"namespace"`
	// Pods selects the pods (by tier, workload or labels). Required: external
	// egress is never given to a whole namespace by default.
	Pods Peer `json:"pods"`
	// CIDRs reached. Defaults to [0.0.0.0/0, ::/0].
	CIDRs []string `json:"cidrs,omitempty"`
	// Except are left out of every CIDR. Defaults to the private (RFC 1918),
	// link-local (incl. the 169.254.169.254 metadata address), carrier-grade
	// NAT, loopback and unique-local ranges.
	Except []string `json:"except,omitempty"`
	// Ports reached. Required.
	Ports []PortSpec `json:"ports"`
}

// Zones isolates pods by a label: pods of an isolated zone reach and are
// reached only by pods of the same zone.
type Zones struct {
	// Key is the zone label. Defaults to security-zone.
	Key string `json:"key,omitempty"`
	// Isolated lists the zone values that are isolated. Defaults to none.
	Isolated []string `json:"isolated,omitempty"`
	// AllowCrossing lists explicit crossings, "from-zone->to-zone" (a zone
	// value, or "*" for any pod outside isolated zones). Defaults to none.
	AllowCrossing []string `json:"allowCrossing,omitempty"`
}

// WorkloadKind teaches tierwall another kind that runs pods, e.g. Argo
// Rollouts: {group: argoproj.io, kind: Rollout, template: spec.template,
// selector: spec.selector}.
type WorkloadKind struct {
	Group    string `json:"group,omitempty"`
	Kind     string `json:"kind"`
	Template string `json:"template"`
	Selector string `json:"selector,omitempty"`
}

// defaultPolicies fills the defaults of the tier and allow settings.
func (s *Spec) defaultPolicies() {
	if s.Tiers.Enabled == nil {
		s.Tiers.Enabled = boolPtr(true)
	}
	if len(s.Tiers.Labels) == 0 {
		s.Tiers.Labels = []string{"tier", "app.kubernetes.io/component"}
	}
	if len(s.Tiers.Chain) == 0 {
		s.Tiers.Chain = []Tier{
			{Name: "frontend", Aliases: []string{"web", "ui"}},
			{Name: "api", Aliases: []string{"backend", "app", "service"}},
			{Name: "database", Aliases: []string{"db", "postgres", "mysql", "cache", "redis"}},
		}
	}
	if s.Tiers.Entry == nil {
		s.Tiers.Entry = []Peer{{Namespace: "ingress-nginx"}}
	}
	if s.Zones.Key == "" {
		s.Zones.Key = "security-zone"
	}
	s.Inference.defaults()
	s.defaultCilium()
	s.Check.defaults()
}

// validatePolicies checks the tier and allow settings.
func (s *Spec) validatePolicies(v *validator) {
	s.Inference.validate(v, s)
	s.validateCilium(v)
	s.Check.validate(v)
	seenTier := map[string]string{}
	for i, t := range s.Tiers.Chain {
		path := fmt.Sprintf("tiers.chain[%d]", i)
		if t.Name == "" {
			v.add(path+".name", "required")
		}
		for _, n := range append([]string{t.Name}, t.Aliases...) {
			if n == "" {
				continue
			}
			for _, msg := range validation.IsValidLabelValue(n) {
				v.add(path, "tier %q is not a valid label value: %s", n, msg)
			}
			if prev, ok := seenTier[strings.ToLower(n)]; ok {
				v.add(path, "tier name or alias %q is already used by %s", n, prev)
			}
			seenTier[strings.ToLower(n)] = path
		}
	}
	for i, k := range s.Tiers.Labels {
		for _, msg := range validation.IsQualifiedName(k) {
			v.add(fmt.Sprintf("tiers.labels[%d]", i), "label key %q is invalid: %s", k, msg)
		}
	}
	for i, p := range s.Tiers.Entry {
		v.addAll(ValidatePeer(p, fmt.Sprintf("tiers.entry[%d]", i), s))
	}
	names := map[string]bool{}
	for i, a := range s.Allows {
		path := fmt.Sprintf("allows[%d]", i)
		if a.Name != "" {
			for _, msg := range validation.IsDNS1123Label(a.Name) {
				v.add(path+".name", "%q: %s", a.Name, msg)
			}
			if names[a.Name] {
				v.add(path+".name", "%q is used by another allow", a.Name)
			}
			names[a.Name] = true
		}
		if a.Namespace != "" {
			v.namespace(path+".namespace", a.Namespace)
		}
		if len(a.From) == 0 {
			v.add(path+".from", "required: list at least one peer (an allow from everywhere must say so, e.g. {namespaceLabels: {}})")
		}
		for j, p := range a.From {
			v.addAll(ValidatePeer(p, fmt.Sprintf("%s.from[%d]", path, j), s))
		}
		v.addAll(ValidatePeer(a.To, path+".to", s))
		if a.To.CIDR != "" {
			v.add(path+".to.cidr", "an allow's destination is pods; use externalEgress for addresses")
		}
		v.addAll(ValidatePorts(a.Ports, path+".ports"))
		if len(a.Ports) == 0 && a.To.Tier == "" && a.To.Workload == "" {
			v.add(path+".ports", "required when to selects pods by labels (tierwall only knows the ports of tiers and workloads)")
		}
	}
	for i, ns := range s.IsolateNamespaces {
		v.namespace(fmt.Sprintf("isolateNamespaces[%d]", i), ns)
	}
	for i, x := range s.ExternalEgress {
		path := fmt.Sprintf("externalEgress[%d]", i)
		if x.Namespace == "" {
			v.add(path+".namespace", "required")
		} else {
			v.namespace(path+".namespace", x.Namespace)
		}
		if x.Pods.CIDR != "" || x.Pods.NamespaceLabels != nil {
			v.add(path+".pods", "must select pods of the namespace (tier, workload or podLabels)")
		} else if x.Pods.Tier == "" && x.Pods.Workload == "" && len(x.Pods.PodLabels) == 0 {
			v.add(path+".pods", "required: external egress is never given to a whole namespace by default (select a tier, workload or podLabels)")
		}
		v.addAll(ValidatePeer(x.Pods, path+".pods", s))
		v.cidrs(path+".cidrs", x.CIDRs)
		v.cidrs(path+".except", x.Except)
		if len(x.Ports) == 0 {
			v.add(path+".ports", "required")
		}
		v.addAll(ValidatePorts(x.Ports, path+".ports"))
		for j, p := range x.Ports {
			if p.Port.Type == intstr.String {
				v.add(fmt.Sprintf("%s.ports[%d]", path, j), "named port %q cannot resolve for addresses outside the cluster: use a number", p.Port.StrVal)
			}
		}
	}
	for _, msg := range validation.IsQualifiedName(s.Zones.Key) {
		v.add("zones.key", "label key %q is invalid: %s", s.Zones.Key, msg)
	}
	for i, z := range s.Zones.Isolated {
		for _, msg := range validation.IsValidLabelValue(z) {
			v.add(fmt.Sprintf("zones.isolated[%d]", i), "%q: %s", z, msg)
		}
		if z == "" {
			v.add(fmt.Sprintf("zones.isolated[%d]", i), "must not be empty")
		}
	}
	for i, c := range s.Zones.AllowCrossing {
		from, to, ok := strings.Cut(c, "->")
		if !ok || strings.TrimSpace(from) == "" || strings.TrimSpace(to) == "" {
			v.add(fmt.Sprintf("zones.allowCrossing[%d]", i), "%q must read from-zone->to-zone (a zone or *)", c)
		}
	}
	for i, k := range s.WorkloadKinds {
		path := fmt.Sprintf("workloadKinds[%d]", i)
		if k.Kind == "" {
			v.add(path+".kind", "required")
		}
		if k.Template == "" {
			v.add(path+".template", "required: the dotted path of the pod template, e.g. spec.template")
		}
	}
}

func (v *validator) addAll(errs []string) {
	for _, e := range errs {
		path, msg, _ := strings.Cut(e, ": ")
		v.add(path, "%s", msg)
	}
}

// ValidatePeer checks one peer and returns "path: message" strings.
func ValidatePeer(p Peer, path string, s *Spec) []string {
	var errs []string
	add := func(field, format string, args ...any) {
		errs = append(errs, path+field+": "+fmt.Sprintf(format, args...))
	}
	kinds := 0
	for _, set := range []bool{p.CIDR != "", p.Tier != "", p.Workload != "", len(p.PodLabels) > 0} {
		if set {
			kinds++
		}
	}
	if kinds > 1 {
		add("", "set only one of cidr, tier, workload or podLabels")
	}
	if kinds == 0 && p.Namespace == "" && p.NamespaceLabels == nil {
		add("", "empty peer: name a tier, workload, podLabels, namespace, namespaceLabels or cidr")
	}
	if p.Namespace != "" && p.NamespaceLabels != nil {
		add("", "set namespace or namespaceLabels, not both")
	}
	if p.CIDR != "" {
		if p.Namespace != "" || p.NamespaceLabels != nil {
			add("", "a cidr peer takes no namespace")
		}
		if _, _, err := net.ParseCIDR(p.CIDR); err != nil {
			add(".cidr", "%q is not a CIDR", p.CIDR)
		}
	}
	if len(p.Except) > 0 && p.CIDR == "" {
		add(".except", "only with cidr")
	}
	for i, e := range p.Except {
		if _, _, err := net.ParseCIDR(e); err != nil {
			add(fmt.Sprintf(".except[%d]", i), "%q is not a CIDR", e)
		}
	}
	if p.Tier != "" && s != nil {
		found := false
		for _, t := range s.Tiers.Chain {
			for _, n := range append([]string{t.Name}, t.Aliases...) {
				if strings.EqualFold(n, p.Tier) {
					found = true
				}
			}
		}
		if !found {
			add(".tier", "%q is no tier of spec.tiers.chain", p.Tier)
		}
	}
	if p.Namespace != "" {
		for _, msg := range validation.IsDNS1123Label(p.Namespace) {
			add(".namespace", "%q is not a valid namespace name: %s", p.Namespace, msg)
		}
	}
	for _, m := range []struct {
		field  string
		labels map[string]string
	}{{".podLabels", p.PodLabels}, {".namespaceLabels", p.NamespaceLabels}} {
		for k, val := range m.labels {
			for _, msg := range validation.IsQualifiedName(k) {
				add(m.field, "label key %q is invalid: %s", k, msg)
			}
			for _, msg := range validation.IsValidLabelValue(val) {
				add(fieldPath(m.field, k), "label value %q is invalid: %s", val, msg)
			}
		}
	}
	return errs
}

// ValidatePorts checks configured ports and returns "path: message" strings.
func ValidatePorts(ps []PortSpec, path string) []string {
	var errs []string
	for i, p := range ps {
		at := fmt.Sprintf("%s[%d]", path, i)
		switch p.Protocol {
		case "", "TCP", "UDP", "SCTP":
		default:
			errs = append(errs, fmt.Sprintf("%s.protocol: %q must be TCP, UDP or SCTP", at, p.Protocol))
		}
		n, err := strconv.Atoi(p.Port.String())
		if err != nil {
			for _, msg := range validation.IsValidPortName(p.Port.String()) {
				errs = append(errs, fmt.Sprintf("%s.port: %q is neither a port number nor a valid port name: %s", at, p.Port.String(), msg))
			}
			if p.EndPort != 0 {
				errs = append(errs, fmt.Sprintf("%s.endPort: cannot be combined with a named port", at))
			}
			continue
		}
		if n < 1 || n > 65535 {
			errs = append(errs, fmt.Sprintf("%s.port: %d is out of range 1-65535", at, n))
		}
		if p.EndPort != 0 && (p.EndPort < int32(n) || p.EndPort > 65535) { //nolint:gosec // n is within 1-65535, checked above
			errs = append(errs, fmt.Sprintf("%s.endPort: %d must be between port %d and 65535", at, p.EndPort, n))
		}
	}
	return errs
}
