package v1alpha1

import (
	"fmt"
	"regexp"
	"strings"
)

// Flavors of output.
const (
	// FlavorKubernetes writes plain networking.k8s.io NetworkPolicies only.
	FlavorKubernetes = "kubernetes"
	// FlavorCilium adds cilium.io/v2 CiliumNetworkPolicies where Cilium
	// adds something: L7 HTTP rules, toFQDNs egress and the kube-apiserver
	// entity. Everything else stays a plain NetworkPolicy, which Cilium
	// enforces too.
	FlavorCilium = "cilium"
)

// Fallbacks of the kubernetes flavour for rules it cannot express.
const (
	FallbackError = "error"
	FallbackWarn  = "warn"
	FallbackWiden = "widen"
)

// Cilium holds the rules only Cilium can enforce.
type Cilium struct {
	// HTTP are L7 HTTP allow-lists for a workload's ingress.
	HTTP []HTTPAllow `json:"http,omitempty"`
	// FQDN are egress allows to host names (toFQDNs).
	FQDN []FQDNEgress `json:"fqdn,omitempty"`
	// KubernetesFallback says what the kubernetes flavour does with HTTP and
	// FQDN rules, which NetworkPolicy cannot express: error (refuse), warn
	// (leave them out, with a warning), or widen (HTTP rules become a plain
	// L4 allow on the same ports, FQDN egress becomes external egress to
	// 0.0.0.0/0 and ::/0 with private ranges excepted), an explicit opt-in.
	// Defaults to error.
	KubernetesFallback string `json:"kubernetesFallback,omitempty"`
}

// HTTPAllow lets peers reach a workload's HTTP port only with the listed
// methods and paths.
type HTTPAllow struct {
	// Name is used in messages. Defaults to http-<index>.
	Name string `json:"name,omitempty"`
	// Namespace of the destination (and of peers that name none). Required.
	Namespace string `json:"namespace"`
	// To selects the destination: a tier, a workload or podLabels.
	To Peer `json:"to"`
	// From are the peers the rules apply to. Required.
	From []Peer `json:"from"`
	// Ports of the destination. Defaults to its serving ports.
	Ports []PortSpec `json:"ports,omitempty"`
	// Rules are the allowed requests. Required.
	Rules []HTTPRule `json:"rules"`
}

// HTTPRule is one allowed request: a method and a path, each a regular
// expression (Cilium's extended POSIX regex); empty means any.
type HTTPRule struct {
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	Host   string `json:"host,omitempty"`
}

// FQDNEgress lets selected pods reach host names.
type FQDNEgress struct {
	// Name is used in policy names. Defaults to fqdn-<index>.
	Name string `json:"name,omitempty"`
	// Namespace of the pods. Required.
	Namespace string `json:"namespace"`
	// Pods selects them (tier, workload or podLabels). Required.
	Pods Peer `json:"pods"`
	// Hosts reached. Required.
	Hosts []FQDN `json:"hosts"`
	// Ports reached. Required.
	Ports []PortSpec `json:"ports"`
}

// FQDN is a host name (matchName) or a pattern with * (matchPattern).
type FQDN struct {
	MatchName    string `json:"matchName,omitempty"`
	MatchPattern string `json:"matchPattern,omitempty"`
}

var (
	fqdnNameRE    = regexp.MustCompile(`^([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?\.?$`)
	fqdnPatternRE = regexp.MustCompile(`^([-a-zA-Z0-9*]+\.)*[-a-zA-Z0-9*]+\.?$`)
	httpMethodRE  = regexp.MustCompile(`^[A-Z|().*]*$`)
)

func (s *Spec) defaultCilium() {
	if s.Flavor == "" {
		s.Flavor = FlavorKubernetes
	}
	if s.Cilium.KubernetesFallback == "" {
		s.Cilium.KubernetesFallback = FallbackError
	}
}

func (s *Spec) validateCilium(v *validator) {
	switch s.Flavor {
	case FlavorKubernetes, FlavorCilium:
	default:
		v.add("flavor", "%q must be %s or %s", s.Flavor, FlavorKubernetes, FlavorCilium)
	}
	switch s.Cilium.KubernetesFallback {
	case FallbackError, FallbackWarn, FallbackWiden:
	default:
		v.add("cilium.kubernetesFallback", "%q must be %s, %s or %s", s.Cilium.KubernetesFallback, FallbackError, FallbackWarn, FallbackWiden)
	}
	for i, h := range s.Cilium.HTTP {
		path := fmt.Sprintf("cilium.http[%d]", i)
		if h.Namespace == "" {
			v.add(path+".namespace", "required")
		} else {
			v.namespace(path+".namespace", h.Namespace)
		}
		v.addAll(ValidatePeer(h.To, path+".to", s))
		if h.To.CIDR != "" || h.To.NamespaceLabels != nil || (h.To.Tier == "" && h.To.Workload == "" && len(h.To.PodLabels) == 0) {
			v.add(path+".to", "must select pods of the namespace (tier, workload or podLabels)")
		}
		if len(h.From) == 0 {
			v.add(path+".from", "required")
		}
		for j, p := range h.From {
			v.addAll(ValidatePeer(p, fmt.Sprintf("%s.from[%d]", path, j), s))
		}
		v.addAll(ValidatePorts(h.Ports, path+".ports"))
		if len(h.Rules) == 0 {
			v.add(path+".rules", "required: list the allowed method and path pairs")
		}
		for j, r := range h.Rules {
			rp := fmt.Sprintf("%s.rules[%d]", path, j)
			if r.Method == "" && r.Path == "" && r.Host == "" {
				v.add(rp, "empty rule: it would allow every request")
			}
			if !httpMethodRE.MatchString(r.Method) {
				v.add(rp+".method", "%q is not an HTTP method (or regex of methods) in capitals", r.Method)
			}
			for _, re := range []struct{ f, s string }{{".path", r.Path}, {".method", r.Method}, {".host", r.Host}} {
				if _, err := regexp.Compile(re.s); err != nil {
					v.add(rp+re.f, "%q is not a valid regular expression: %v", re.s, err)
				}
			}
		}
	}
	for i, f := range s.Cilium.FQDN {
		path := fmt.Sprintf("cilium.fqdn[%d]", i)
		if f.Namespace == "" {
			v.add(path+".namespace", "required")
		} else {
			v.namespace(path+".namespace", f.Namespace)
		}
		if f.Pods.CIDR != "" || f.Pods.NamespaceLabels != nil || (f.Pods.Tier == "" && f.Pods.Workload == "" && len(f.Pods.PodLabels) == 0) {
			v.add(path+".pods", "must select pods of the namespace (tier, workload or podLabels)")
		}
		v.addAll(ValidatePeer(f.Pods, path+".pods", s))
		if len(f.Hosts) == 0 {
			v.add(path+".hosts", "required")
		}
		for j, h := range f.Hosts {
			if msg := ValidateFQDN(h); msg != "" {
				v.add(fmt.Sprintf("%s.hosts[%d]", path, j), "%s", msg)
			}
		}
		if len(f.Ports) == 0 {
			v.add(path+".ports", "required")
		}
		v.addAll(ValidatePorts(f.Ports, path+".ports"))
		for j, p := range f.Ports {
			if p.Port.StrVal != "" {
				v.add(fmt.Sprintf("%s.ports[%d]", path, j), "named port %q cannot resolve for hosts outside the cluster: use a number", p.Port.StrVal)
			}
		}
	}
	if s.Flavor == FlavorKubernetes && s.Cilium.KubernetesFallback == FallbackError {
		if len(s.Cilium.HTTP) > 0 {
			v.add("cilium.http", "L7 HTTP rules need flavor: cilium; a plain NetworkPolicy cannot express them (set cilium.kubernetesFallback to warn or widen to go on without them)")
		}
		if len(s.Cilium.FQDN) > 0 {
			v.add("cilium.fqdn", "FQDN egress needs flavor: cilium; a plain NetworkPolicy cannot express host names (set cilium.kubernetesFallback to warn, or widen for an ipBlock to 0.0.0.0/0 with private ranges excepted)")
		}
	}
}

// ValidateFQDN checks one host entry and returns a message, or "".
func ValidateFQDN(h FQDN) string {
	switch {
	case (h.MatchName == "") == (h.MatchPattern == ""):
		return "set exactly one of matchName and matchPattern"
	case h.MatchName != "" && !fqdnNameRE.MatchString(h.MatchName):
		return fmt.Sprintf("matchName %q is not a host name", h.MatchName)
	case h.MatchPattern != "" && (!fqdnPatternRE.MatchString(h.MatchPattern) || strings.Trim(h.MatchPattern, "*.") == ""):
		return fmt.Sprintf("matchPattern %q is not a host pattern (letters, digits, -, . and *, and not only wildcards)", h.MatchPattern)
	}
	return ""
}
