// Package graph holds who may talk to whom, and why: endpoints (workloads,
// labelled pods, namespaces, address ranges) and the edges between them,
// each with its ports and the reason it exists. Render turns the edges into
// least-privilege NetworkPolicies, one per subject and direction, with both
// ends emitted when both are in scope.
package graph

import (
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/workload"
)

// Kind of endpoint.
type Kind int

// Endpoint kinds.
const (
	// Workload is the pods of one workload, selected by its selector.
	Workload Kind = iota
	// Pods is pods selected by labels (in Namespace, or in the namespaces
	// NamespaceLabels select).
	Pods
	// CIDR is an address range.
	CIDR
	// Anywhere is every source or destination, in the cluster and outside
	// it: a rule without from or to, limited by its ports. Used only for
	// needs whose peer cannot be written portably (the API server on an
	// unknown CNI, the control plane without addresses, a node-local agent).
	Anywhere
)

// Endpoint is one end of an edge.
type Endpoint struct {
	Kind Kind
	// Namespace of the pods ("" is the release namespace, unless
	// NamespaceLabels is set, in which case it is unused).
	Namespace string
	// NamespaceLabels select the namespaces of Pods endpoints across the
	// cluster instead of Namespace; an empty non-nil map selects all.
	NamespaceLabels map[string]string
	// Selector are the pod labels (empty: every pod).
	Selector map[string]string
	// Name names the subject in policy names (a workload's name, or a
	// configured name for Pods).
	Name string
	// Workload is set for Workload endpoints.
	Workload *workload.Workload
	// CIDR and Except for address ranges.
	CIDR   string
	Except []string
	// Zone is the endpoint's security zone label value ("" for none).
	Zone string
}

// Selectable reports whether the endpoint is pods of one known namespace, so
// that a policy can be written there selecting them.
func (e Endpoint) Selectable() bool {
	return (e.Kind == Workload || e.Kind == Pods) && e.NamespaceLabels == nil
}

// Describe names the endpoint for reasons and messages.
func (e Endpoint) Describe() string {
	ns := manifest.DisplayNamespace(e.Namespace)
	switch e.Kind {
	case Workload:
		return fmt.Sprintf("%s %s/%s", e.Workload.Kind, ns, e.Workload.Name)
	case Anywhere:
		if e.Name != "" {
			return e.Name
		}
		return "any address"
	case CIDR:
		if len(e.Except) > 0 {
			return fmt.Sprintf("%s except %s", e.CIDR, strings.Join(e.Except, ","))
		}
		return e.CIDR
	}
	pods := "all pods"
	if len(e.Selector) > 0 {
		pods = "pods " + Labels(e.Selector)
	}
	if e.NamespaceLabels != nil {
		if len(e.NamespaceLabels) == 0 {
			return pods + " in every namespace"
		}
		return fmt.Sprintf("%s in namespaces %s", pods, Labels(e.NamespaceLabels))
	}
	return fmt.Sprintf("%s in namespace %s", pods, ns)
}

// Edge allows traffic from one endpoint to another on some ports.
type Edge struct {
	From, To Endpoint
	// Ports on the destination; empty means every port (only ever used for
	// explicitly configured allows, never inferred).
	Ports []networkingv1.NetworkPolicyPort
	// Reason says why the edge exists and where it came from.
	Reason string
	// HTTP, when set, restricts the edge to these requests: its ingress
	// side is written as a CiliumNetworkPolicy with L7 rules, never as a
	// plain NetworkPolicy (an L4 allow on the same peer and port would make
	// the L7 rules moot).
	HTTP []HTTPRule
	// SkipIngress leaves the ingress side of the edge out of the plain
	// NetworkPolicies (an L7 rule covers it).
	SkipIngress bool
	// Source names what the edge was read from (rbac, webhook, ...), for the
	// tierwall.io/source annotation; "" writes none.
	Source string
	// Policy, when set, puts the edge in a policy of its own named
	// <subject>-<Policy> instead of <subject>-ingress or <subject>-egress.
	Policy string
	// Wide is the check id of a deliberately wide default (a rule without
	// peers, egress to every pod), written to the tierwall.io/wide
	// annotation so that check reports it under that id.
	Wide string
	// APIServer marks an edge to the API server: the cilium flavour writes
	// it as the kube-apiserver entity instead.
	APIServer bool
	// SkipEgress leaves the egress side out (a source whose egress is not
	// ours to open, such as the ingress-controller pods of another release).
	SkipEgress bool
}

// HTTPRule is one allowed HTTP request (regular expressions; empty is any).
type HTTPRule struct {
	Method, Path, Host string
}

// Same reports whether two endpoints select the same pods or addresses.
func Same(a, b Endpoint) bool {
	if a.Kind == Anywhere || b.Kind == Anywhere {
		return a.Kind == b.Kind
	}
	return a.Kind == b.Kind && a.Namespace == b.Namespace && Labels(a.Selector) == Labels(b.Selector) &&
		(a.NamespaceLabels == nil) == (b.NamespaceLabels == nil) && Labels(a.NamespaceLabels) == Labels(b.NamespaceLabels) &&
		a.CIDR == b.CIDR && strings.Join(a.Except, ",") == strings.Join(b.Except, ",")
}

// Covers reports whether a selects every pod b selects (a's labels are a
// subset of b's, in the same namespace or namespaces).
func Covers(a, b Endpoint) bool {
	if a.Kind == Anywhere || b.Kind == Anywhere {
		return a.Kind == Anywhere // every source or destination covers all
	}
	if a.Kind == CIDR || b.Kind == CIDR || (a.NamespaceLabels == nil) != (b.NamespaceLabels == nil) {
		return Same(a, b)
	}
	if a.NamespaceLabels != nil {
		for k, v := range a.NamespaceLabels {
			if b.NamespaceLabels[k] != v {
				return false
			}
		}
	} else if a.Namespace != b.Namespace {
		return false
	}
	for k, v := range a.Selector {
		if b.Selector[k] != v {
			return false
		}
	}
	return true
}

// FromWorkload returns the endpoint of a workload.
func FromWorkload(w *workload.Workload, zoneKey string) Endpoint {
	return Endpoint{Kind: Workload, Namespace: w.Namespace, Selector: w.Selector, Name: w.Name, Workload: w, Zone: w.PodLabels[zoneKey]}
}

// Labels writes labels as k=v,k2=v2 in key order.
func Labels(m map[string]string) string { return manifest.FormatLabels(m) }

// PortsString writes ports as TCP/8080, UDP/53, TCP/http.
func PortsString(ports []networkingv1.NetworkPolicyPort) string {
	if len(ports) == 0 {
		return "every port"
	}
	parts := make([]string, len(ports))
	for i, p := range ports {
		proto := "TCP"
		if p.Protocol != nil {
			proto = string(*p.Protocol)
		}
		s := proto + "/" + p.Port.String()
		if p.EndPort != nil {
			s += fmt.Sprintf("-%d", *p.EndPort)
		}
		parts[i] = s
	}
	return strings.Join(parts, ", ")
}

// FQDNEgress is an egress to host names for one set of pods.
type FQDNEgress struct {
	From   Endpoint
	Hosts  []v1alpha1.FQDN
	Ports  []networkingv1.NetworkPolicyPort
	Reason string
}
