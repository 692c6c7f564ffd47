package v1alpha1

import (
	"fmt"
	"net/netip"
)

// CNIs understood by Cluster.CNI.
const (
	CNIUnknown             = "unknown"
	CNIKubeRouter          = "kube-router"
	CNICalico              = "calico"
	CNICilium              = "cilium"
	CNIAWSVPC              = "aws-vpc-cni"
	CNIKubeNetworkPolicies = "kube-network-policies"
	CNIAntrea              = "antrea"
	CNIOVNKubernetes       = "ovn-kubernetes"
	CNIWeave               = "weave"
	CNIAzure               = "azure-npm"
)

// CNIs lists every value of Cluster.CNI.
var CNIs = []string{CNIUnknown, CNIAntrea, CNIAWSVPC, CNIAzure, CNICalico, CNICilium, CNIKubeNetworkPolicies, CNIKubeRouter, CNIOVNKubernetes, CNIWeave}

// Clouds understood by Cluster.Cloud.
const (
	CloudEKS = "eks"
	CloudGKE = "gke"
	CloudAKS = "aks"
)

// Cluster is the profile of the cluster the output is applied to: its
// NetworkPolicy enforcer, address ranges, API server and cloud. Generation,
// report and check read it. Every field is optional: where a fact is
// unknown, generation writes what works on the narrowest enforcer and report
// and check assume what the widest would enforce.
type Cluster struct {
	// CNI is the NetworkPolicy enforcer: unknown, kube-router, calico,
	// cilium, aws-vpc-cni, kube-network-policies, antrea, ovn-kubernetes,
	// weave or azure-npm. Defaults to unknown (or cilium in the cilium
	// flavour).
	CNI string `json:"cni,omitempty"`
	// PodCIDRs are the pod address ranges. Defaults to none.
	PodCIDRs []string `json:"podCIDRs,omitempty"`
	// ServiceCIDRs are the Service ClusterIP ranges. Defaults to none.
	ServiceCIDRs []string `json:"serviceCIDRs,omitempty"`
	// NodeCIDRs are the nodes' addresses, where node-local agents (APM,
	// StatsD, log collectors on hostPort) listen. Defaults to none: such
	// egress is then written without a destination, on its port only.
	NodeCIDRs []string `json:"nodeCIDRs,omitempty"`
	// APIServer says where the Kubernetes API server is reached.
	APIServer ClusterAPIServer `json:"apiServer,omitempty"`
	// ControlPlane says where the control plane calls from (admission and
	// conversion webhooks, aggregated APIs).
	ControlPlane ClusterControlPlane `json:"controlPlane,omitempty"`
	// Cloud is eks, gke or aks, or empty. On gke and aks the API server
	// calls webhooks through the konnectivity-agent pods of kube-system.
	// Defaults to "".
	Cloud string `json:"cloud,omitempty"`
	// NarrowIPBlocks excepts the pod and Service ranges from the address
	// ranges that admit outside traffic to LoadBalancer and NodePort
	// Services, ingress controllers and gateways: on enforcers that match
	// ipBlocks against pods (kube-router, Calico, kube-network-policies),
	// 0.0.0.0/0 otherwise admits every pod whose egress is open. Opt-in:
	// where pods and nodes share a range it cuts load-balancer traffic.
	// Needs podCIDRs. Defaults to false.
	NarrowIPBlocks bool `json:"narrowIPBlocks,omitempty"`
}

// Except returns the pod and Service ranges inside cidr that
// NarrowIPBlocks leaves out of it (none when it is off).
func (c Cluster) Except(cidr string) []string {
	if !c.NarrowIPBlocks {
		return nil
	}
	outer, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range append(append([]string{}, c.PodCIDRs...), c.ServiceCIDRs...) {
		if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Is4() == outer.Addr().Is4() && outer.Bits() <= p.Bits() && outer.Contains(p.Addr()) {
			out = append(out, p.Masked().String())
		}
	}
	return out
}

// ClusterAPIServer is where pods reach the API server.
type ClusterAPIServer struct {
	// CIDRs of the API server: its endpoint (node or control-plane)
	// addresses for CNIs that enforce after DNAT (Calico, Cilium), and the
	// kubernetes Service ClusterIP for those that enforce before it (AWS VPC
	// CNI). Defaults to kubeAPI.cidrs; when neither is set, API egress is
	// written on its ports only (see docs/cluster.md).
	CIDRs []string `json:"cidrs,omitempty"`
	// Ports of the API server: the Service port and the endpoint port.
	// Defaults to kubeAPI.ports, else [443, 6443].
	Ports []int32 `json:"ports,omitempty"`
}

// ClusterControlPlane is where the API server calls webhooks from.
type ClusterControlPlane struct {
	// CIDRs the API server's calls to webhooks come from. Defaults to none:
	// webhook ports are then open to every source (a warning).
	CIDRs []string `json:"cidrs,omitempty"`
}

// IPBlocksMatchPods reports whether the enforcer matches ipBlock peers
// against pod addresses too (kube-router, Calico, kube-network-policies and,
// for unknown, the widest reading); Cilium does not by default.
func (c Cluster) IPBlocksMatchPods() bool { return c.CNI != CNICilium }

// IPBlocksMatchNodes reports whether an ipBlock reaches host-network
// endpoints such as an API server on the nodes. Cilium (without
// policy-cidr-match-mode: nodes) does not, and unknown assumes it may not.
func (c Cluster) IPBlocksMatchNodes() bool { return c.CNI != CNICilium && c.CNI != CNIUnknown }

// ViaKonnectivity reports whether the API server reaches webhooks through
// konnectivity-agent pods (GKE, AKS).
func (c Cluster) ViaKonnectivity() bool { return c.Cloud == CloudGKE || c.Cloud == CloudAKS }

func (c *Cluster) defaults(s *Spec) {
	if c.CNI == "" {
		c.CNI = CNIUnknown
		if s.Flavor == FlavorCilium {
			c.CNI = CNICilium
		}
	}
	// kubeAPI.cidrs and kubeAPI.ports fold into the profile, which is what
	// every reader reads, so that older configs keep working.
	if len(c.APIServer.CIDRs) == 0 {
		c.APIServer.CIDRs = s.KubeAPI.CIDRs
	}
	if len(c.APIServer.Ports) == 0 {
		c.APIServer.Ports = s.KubeAPI.Ports
	}
	if len(c.APIServer.Ports) == 0 {
		c.APIServer.Ports = []int32{443, 6443}
	}
	// check.clusterCIDRs reads the profile's pod and Service ranges.
	if len(s.Check.ClusterCIDRs) == 0 {
		s.Check.ClusterCIDRs = append(append([]string{}, c.PodCIDRs...), c.ServiceCIDRs...)
		if len(s.Check.ClusterCIDRs) == 0 {
			s.Check.ClusterCIDRs = nil
		}
	}
}

func (c *Cluster) validate(v *validator, s *Spec) {
	known := false
	for _, n := range CNIs {
		known = known || c.CNI == n
	}
	if !known {
		v.add("cluster.cni", "unknown CNI %q: must be one of %v", c.CNI, CNIs)
	}
	switch c.Cloud {
	case "", CloudEKS, CloudGKE, CloudAKS:
	default:
		v.add("cluster.cloud", "unknown cloud %q: must be %s, %s or %s (or empty)", c.Cloud, CloudEKS, CloudGKE, CloudAKS)
	}
	v.cidrs("cluster.podCIDRs", c.PodCIDRs)
	v.cidrs("cluster.serviceCIDRs", c.ServiceCIDRs)
	v.cidrs("cluster.nodeCIDRs", c.NodeCIDRs)
	// Values folded in from kubeAPI are reported there, where they were written.
	if !same(c.APIServer.CIDRs, s.KubeAPI.CIDRs) {
		v.cidrs("cluster.apiServer.cidrs", c.APIServer.CIDRs)
	}
	if fmt.Sprint(c.APIServer.Ports) != fmt.Sprint(s.KubeAPI.Ports) {
		v.ports("cluster.apiServer.ports", c.APIServer.Ports)
	}
	v.cidrs("cluster.controlPlane.cidrs", c.ControlPlane.CIDRs)
	if c.NarrowIPBlocks && len(c.PodCIDRs) == 0 {
		v.add("cluster.narrowIPBlocks", "needs cluster.podCIDRs (and serviceCIDRs): the ranges to leave out")
	}
	if len(s.KubeAPI.CIDRs) > 0 && !same(s.KubeAPI.CIDRs, c.APIServer.CIDRs) {
		v.add("kubeAPI.cidrs", "differs from cluster.apiServer.cidrs: set the API server's addresses once, in cluster.apiServer.cidrs")
	}
}

func same(a, b []string) bool { return fmt.Sprintf("%q", a) == fmt.Sprintf("%q", b) }
