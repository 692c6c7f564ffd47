package v1alpha1

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
	// Port is a number ("8080") or the name of a container port ("http").
	Port string `json:"port"`
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
}

// validatePolicies checks the tier and allow settings.
func (s *Spec) validatePolicies(v *validator) {}
