package v1alpha1

import (
	"fmt"
	"net"
)

// Well-known defaults, exported so that docs, tests and other packages name
// the same values.
var (
	// SystemNamespaces are skipped unless SkipSystemNamespaces is false.
	SystemNamespaces = []string{"kube-node-lease", "kube-public", "kube-system"}
	// DefaultNodeLocalIP is the NodeLocal DNSCache link-local address.
	DefaultNodeLocalIP = "169.254.20.10"
	// GKEMetadataCIDR is where GKE Cloud DNS answers.
	GKEMetadataCIDR = "169.254.169.254/32"
)

func boolPtr(b bool) *bool { return &b }

// Default fills every unset field with its documented default. It is
// idempotent and never overrides a value the user set.
func (s *Spec) Default() {
	if s.SkipSystemNamespaces == nil {
		s.SkipSystemNamespaces = boolPtr(true)
	}
	if s.DefaultDeny.Ingress == nil {
		s.DefaultDeny.Ingress = boolPtr(true)
	}
	if s.DefaultDeny.Egress == nil {
		s.DefaultDeny.Egress = boolPtr(true)
	}
	if s.Baseline.Enabled == nil {
		s.Baseline.Enabled = boolPtr(true)
	}
	s.DNS.Default()
	s.Monitoring.Default()
	s.KubeAPI.Default()
	s.defaultPolicies()
	s.Cluster.defaults(s)
	s.Fallback.defaults()
}

// Default fills the DNS profile's values where the user left them empty.
func (d *DNS) Default() {
	if d.Profile == "" {
		d.Profile = DNSProfileKubeDNS
	}
	switch d.Profile {
	case DNSProfileKubeDNS, DNSProfileNodeLocal:
		if d.Namespace == "" {
			d.Namespace = "kube-system"
		}
		if len(d.PodLabels) == 0 {
			d.PodLabels = map[string]string{"k8s-app": "kube-dns"}
		}
		if len(d.Ports) == 0 {
			d.Ports = []int32{53}
		}
		if d.Profile == DNSProfileNodeLocal {
			if d.NodeLocalIP == "" {
				d.NodeLocalIP = DefaultNodeLocalIP
			}
			if len(d.CIDRs) == 0 {
				// An address that does not parse gets no CIDR: Validate
				// reports it at dns.nodeLocalIP, where the user wrote it.
				if ip := net.ParseIP(d.NodeLocalIP); ip != nil {
					bits := 128
					if ip.To4() != nil {
						bits = 32
					}
					d.CIDRs = []string{fmt.Sprintf("%s/%d", d.NodeLocalIP, bits)}
				}
			}
		}
	case DNSProfileOpenShift:
		if d.Namespace == "" {
			d.Namespace = "openshift-dns"
		}
		if len(d.PodLabels) == 0 {
			d.PodLabels = map[string]string{"dns.operator.openshift.io/daemonset-dns": "default"}
		}
		if len(d.Ports) == 0 {
			d.Ports = []int32{5353}
		}
	case DNSProfileGKECloudDNS:
		if len(d.CIDRs) == 0 {
			d.CIDRs = []string{GKEMetadataCIDR}
		}
		if len(d.Ports) == 0 {
			d.Ports = []int32{53}
		}
	case DNSProfileCustom:
		if len(d.Ports) == 0 {
			d.Ports = []int32{53}
		}
	}
}

// Default fills the Prometheus defaults.
func (m *Monitoring) Default() {
	if m.Enabled == nil {
		m.Enabled = boolPtr(true)
	}
	if m.Namespace == "" {
		m.Namespace = "monitoring"
	}
	if len(m.PodLabels) == 0 {
		m.PodLabels = map[string]string{"app.kubernetes.io/name": "prometheus"}
	}
}

// Default fills the API server ports.
func (k *KubeAPI) Default() {
	if len(k.Ports) == 0 {
		k.Ports = []int32{443, 6443}
	}
}
