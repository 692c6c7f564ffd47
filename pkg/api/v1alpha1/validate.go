package v1alpha1

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// FieldError is one problem with the configuration, at a field path such as
// spec.dns.profile.
type FieldError struct {
	Path    string
	Message string
}

func (e FieldError) Error() string { return e.Path + ": " + e.Message }

// Errors is every problem found in a configuration, sorted by path.
type Errors []FieldError

func (e Errors) Error() string {
	msgs := make([]string, len(e))
	for i, fe := range e {
		msgs[i] = fe.Error()
	}
	return "invalid tierwall configuration: " + strings.Join(msgs, "; ")
}

type validator struct {
	prefix string
	errs   Errors
}

func (v *validator) add(path, format string, args ...any) {
	p := v.prefix + path
	if strings.HasPrefix(path, "[") || path == "" {
		p = strings.TrimSuffix(v.prefix, ".") + path // spec[""], not spec.[""]
	}
	v.errs = append(v.errs, FieldError{Path: p, Message: fmt.Sprintf(format, args...)})
}

// Validate checks a defaulted Spec and returns every problem at once, or nil.
// prefix is put before each field path ("spec." for a TierWall, "data." for
// a ConfigMap).
func (s *Spec) Validate(prefix string) error {
	v := &validator{prefix: prefix}
	if s.Namespace != "" {
		v.namespace("namespace", s.Namespace)
	}
	if s.Release != "" {
		// Part of policy names: a DNS-1123 label (Helm's own rule for
		// release names).
		for _, msg := range validation.IsDNS1123Label(s.Release) {
			v.add("release", "%q is not a valid release name: %s", s.Release, msg)
		}
	}
	for i, ns := range s.SkipNamespaces {
		v.namespace(fmt.Sprintf("skipNamespaces[%d]", i), ns)
	}
	s.DNS.validate(v)
	s.Monitoring.validate(v)
	s.KubeAPI.validate(v, s.Flavor, s.Cluster.APIServer.CIDRs)
	s.validatePolicies(v)
	s.Cluster.validate(v, s)
	s.Fallback.validate(v)
	if len(v.errs) == 0 {
		return nil
	}
	sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].Path < v.errs[j].Path })
	return v.errs
}

func (d *DNS) validate(v *validator) {
	switch d.Profile {
	case DNSProfileKubeDNS, DNSProfileNodeLocal, DNSProfileOpenShift, DNSProfileGKECloudDNS, DNSProfileCustom:
	default:
		v.add("dns.profile", "unknown DNS profile %q: must be one of %s, %s, %s, %s, %s",
			d.Profile, DNSProfileKubeDNS, DNSProfileNodeLocal, DNSProfileOpenShift, DNSProfileGKECloudDNS, DNSProfileCustom)
	}
	if d.NodeLocalIP != "" {
		if d.Profile != DNSProfileNodeLocal {
			v.add("dns.nodeLocalIP", "only applies to the %s profile, not %q", DNSProfileNodeLocal, d.Profile)
		} else if net.ParseIP(d.NodeLocalIP) == nil {
			v.add("dns.nodeLocalIP", "%q is not an IP address", d.NodeLocalIP)
		}
	}
	if d.Namespace != "" {
		v.namespace("dns.namespace", d.Namespace)
	}
	v.labels("dns.podLabels", d.PodLabels)
	if (d.Namespace == "") != (len(d.PodLabels) == 0) {
		v.add("dns", "namespace and podLabels must be set together (the DNS pods are selected by both)")
	}
	if d.Profile == DNSProfileCustom && d.Namespace == "" && len(d.CIDRs) == 0 {
		v.add("dns", "the custom profile needs namespace and podLabels, or cidrs")
	}
	v.ports("dns.ports", d.Ports)
	v.cidrs("dns.cidrs", d.CIDRs)
}

func (m *Monitoring) validate(v *validator) {
	v.namespace("monitoring.namespace", m.Namespace)
	v.labels("monitoring.podLabels", m.PodLabels)
	for i, port := range m.Ports {
		p := port.String()
		path := fmt.Sprintf("monitoring.ports[%d]", i)
		if n, err := strconv.Atoi(p); err == nil {
			if n < 1 || n > 65535 {
				v.add(path, "port %d is out of range 1-65535", n)
			}
			continue
		}
		for _, msg := range validation.IsValidPortName(p) {
			v.add(path, "%q is neither a port number nor a valid port name: %s", p, msg)
		}
	}
}

func (k *KubeAPI) validate(v *validator, flavor string, cluster []string) {
	if k.Enabled && len(k.CIDRs) == 0 && len(cluster) == 0 && flavor != FlavorCilium {
		v.add("kubeAPI.cidrs", "required when kubeAPI.enabled is true (here or in cluster.apiServer.cidrs): list the API server endpoint addresses (and the kubernetes Service ClusterIP for CNIs that enforce before DNAT)")
	}
	v.cidrs("kubeAPI.cidrs", k.CIDRs)
	v.ports("kubeAPI.ports", k.Ports)
	v.labels("kubeAPI.podLabels", k.PodLabels)
}

func (v *validator) namespace(path, ns string) {
	for _, msg := range validation.IsDNS1123Label(ns) {
		v.add(path, "%q is not a valid namespace name: %s", ns, msg)
	}
}

func (v *validator) ports(path string, ports []int32) {
	for i, p := range ports {
		if p < 1 || p > 65535 {
			v.add(fmt.Sprintf("%s[%d]", path, i), "port %d is out of range 1-65535", p)
		}
	}
}

func (v *validator) cidrs(path string, cidrs []string) {
	for i, c := range cidrs {
		if _, _, err := net.ParseCIDR(c); err != nil {
			p := fmt.Sprintf("%s[%d]", path, i)
			if ip := net.ParseIP(c); ip == nil {
				v.add(p, "%q is not a CIDR", c)
			} else if ip.To4() != nil {
				v.add(p, "%q is not a CIDR (write a single address as %s/32)", c, c)
			} else {
				v.add(p, "%q is not a CIDR (write a single address as %s/128)", c, c)
			}
		}
	}
}

func (v *validator) labels(path string, labels map[string]string) {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, msg := range validation.IsQualifiedName(k) {
			v.add(path, "label key %q is invalid: %s", k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(labels[k]) {
			v.add(fieldPath(path, k), "label value %q is invalid: %s", labels[k], msg)
		}
	}
}
