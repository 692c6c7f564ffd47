package fallback

import (
	"fmt"
	"sort"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/infer"
	"github.com/tierwall/tierwall/pkg/plumbing"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/workload"
)

// ExternalSource is the tierwall.io/source of external-host allows, and
// ExternalCheck the id of an external host left without one.
const (
	ExternalSource = "external-hosts"
	ExternalCheck  = "external-host"
)

// Host is an external host for the cilium flavour's toFQDNs.
type Host struct {
	From   graph.Endpoint
	Host   string
	Ports  []networkingv1.NetworkPolicyPort
	Reason string
}

// ExternalOutput is how the external hosts are met.
type ExternalOutput struct {
	Edges   []graph.Edge
	Hosts   []Host
	Results framework.Results
	// URLs lists each host met, for the summary ("scheme://host:port by
	// Deployment ns/name").
	URLs []string
}

// Externals meets the external hosts the manifests name, per
// spec.fallback.externalHosts: public writes egress to any public address
// on the host's port for that workload only (toFQDNs in the cilium
// flavour, unless the host came from a Secret); none makes each an error
// unless an edge already allows the port (spec.externalEgress).
func Externals(spec *v1alpha1.Spec, hosts []infer.External, edges []graph.Edge) ExternalOutput {
	var out ExternalOutput
	// The configured external egress, by the namespace of its pods.
	egress := map[string][]graph.Edge{}
	for _, e := range edges {
		if e.Source == "external-egress" && e.To.Kind == graph.CIDR {
			egress[e.From.Namespace] = append(egress[e.From.Namespace], e)
		}
	}
	for i, h := range hosts {
		w := h.Workload
		port := policy.Port("TCP", h.Port)
		shown := h.URL
		if h.Secret {
			shown = "a host read from a Secret"
		}
		if allowed(egress[h.From.Namespace], h) {
			continue
		}
		out.URLs = append(out.URLs, fmt.Sprintf("%s (%s %s)", urlOrSecret(h), w.Kind, display(w.Namespace, w.Name)))
		if spec.Fallback.ExternalHosts == v1alpha1.FallbackNone {
			out.Results = append(out.Results, tagged(result.New(result.Error, result.RefOf(w.Object), h.Field,
				"%s of %s %s names %s, outside the cluster, and spec.fallback.externalHosts is none: allow it with spec.externalEgress (its CIDRs and port %d)",
				h.Where, w.Kind, w.Name, shown, h.Port), ExternalCheck))
			continue
		}
		ports := []networkingv1.NetworkPolicyPort{port}
		if spec.Flavor == v1alpha1.FlavorCilium && !h.Secret {
			out.Hosts = append(out.Hosts, Host{From: h.From, Host: h.Host, Ports: ports, Reason: fmt.Sprintf(
				"external host: %s of %s %s names %s: it may reach %s on TCP/%d by name (toFQDNs)", h.Where, w.Kind, w.Name, h.URL, h.Host, h.Port)})
			continue
		}
		reason := fmt.Sprintf("external host: %s of %s %s names %s, outside the cluster: it may reach any public address on TCP/%d, not only that host (managed databases and endpoints that resolve to private addresses need spec.externalEgress with their CIDRs)",
			h.Where, w.Kind, w.Name, shown, h.Port)
		if out.Edges == nil {
			out.Edges = make([]graph.Edge, 0, 2*(len(hosts)-i)) // two per host at most
		}
		for _, to := range []graph.Endpoint{
			{Kind: graph.CIDR, CIDR: "0.0.0.0/0", Except: plumbing.PublicExcept, Name: "public"},
			{Kind: graph.CIDR, CIDR: "::/0", Except: plumbing.PublicExcept6, Name: "public"},
		} {
			out.Edges = append(out.Edges, graph.Edge{From: h.From, To: to, Ports: ports, Reason: reason, Source: ExternalSource, SkipIngress: true})
		}
	}
	sort.Strings(out.URLs)
	return out
}

func urlOrSecret(h infer.External) string {
	if h.Secret {
		return fmt.Sprintf("a host from a Secret, port %d", h.Port)
	}
	return h.URL
}

// allowed reports whether an edge of the configuration already lets the
// workload reach addresses on the host's port.
func allowed(edges []graph.Edge, h infer.External) bool {
	for _, e := range edges {
		if e.Source != "external-egress" || e.To.Kind != graph.CIDR || e.From.Namespace != h.From.Namespace {
			continue
		}
		if e.From.Kind == graph.Workload && (e.From.Workload == nil || e.From.Workload.Name != h.Workload.Name) {
			continue
		}
		if e.From.Kind == graph.Pods && !subset(e.From.Selector, h.Workload.PodLabels) {
			continue
		}
		if len(e.Ports) == 0 {
			return true
		}
		for _, p := range e.Ports {
			if portMatches(p, workload.Port{Port: h.Port, Protocol: "TCP"}) {
				return true
			}
		}
	}
	return false
}

func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}
