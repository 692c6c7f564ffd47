package plumbing

import (
	"fmt"
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
)

// GatewayImpl is a Gateway API implementation that deploys a Gateway's
// pods in the Gateway's own namespace, labelled
// gateway.networking.k8s.io/gateway-name (GEP-1762).
type GatewayImpl struct {
	Controller string
	// Class is the GatewayClass name its installation creates.
	Class string
	// PortOffset is added to a listener's port to give the pod port.
	PortOffset int32
	// ControlPlane is where the gateway pods fetch their configuration.
	ControlPlane     graph.Endpoint
	ControlPlanePort int32
}

// GatewayImpls are the implementations whose defaults tierwall knows.
var GatewayImpls = []GatewayImpl{
	{Controller: "istio.io/gateway-controller", Class: "istio",
		ControlPlane:     graph.Endpoint{Kind: graph.Pods, Namespace: "istio-system", Selector: map[string]string{"app": "istiod"}, Name: "istiod"},
		ControlPlanePort: 15012},
}

// gateways gives the pods of each in-namespace Gateway of the input ingress
// from outside on its listeners' pod ports and egress to its control plane;
// its routes' backends are inferred from the routes.
func (r *reader) gateways() {
	classes := map[string]string{}
	for _, o := range r.in.Objects {
		if o.Kind == "GatewayClass" && o.Group() == "gateway.networking.k8s.io" && o.Node != nil {
			classes[o.Name] = manifest.String(o.Node, "spec", "controllerName")
		}
	}
	for _, o := range r.in.Objects {
		if o.Kind != "Gateway" || o.Group() != "gateway.networking.k8s.io" || o.Node == nil || o.ManagedByTierwall() {
			continue
		}
		ns, ok := r.in.Set.Of[o.Index]
		if !ok || !r.inScope(ns) {
			continue
		}
		class := manifest.String(o.Node, "spec", "gatewayClassName")
		var impl *GatewayImpl
		for i, g := range GatewayImpls {
			if (classes[class] != "" && classes[class] == g.Controller) || (classes[class] == "" && class == g.Class) {
				impl = &GatewayImpls[i]
			}
		}
		if impl == nil {
			r.note(result.Warning, o, "spec.gatewayClassName", "%s has GatewayClass %s, an implementation tierwall does not know: its pods get no ingress or control-plane allow; describe them with spec.allows (its routes' backends are still inferred)", o.Ref(), class)
			continue
		}
		self := graph.Endpoint{Kind: graph.Pods, Namespace: ns, Selector: map[string]string{"gateway.networking.k8s.io/gateway-name": o.Name}, Name: "gateway-" + o.Name}
		var ports []networkingv1.NetworkPolicyPort
		for _, l := range manifest.Items(o.Node, "spec", "listeners") {
			if n, err := strconv.Atoi(manifest.String(l, "port")); err == nil {
				proto := "TCP"
				if manifest.String(l, "protocol") == "UDP" {
					proto = "UDP"
				}
				ports = append(ports, policy.Port(proto, int32(n)+impl.PortOffset))
			}
		}
		if len(ports) > 0 {
			for _, cidr := range r.spec.Inference.ExternalSources {
				r.out.Edges = append(r.out.Edges, graph.Edge{From: graph.Endpoint{Kind: graph.CIDR, CIDR: cidr, Except: r.spec.Cluster.Except(cidr), Name: "external"}, To: self, Ports: ports, Source: SourceGateway, SkipEgress: true,
					Reason: fmt.Sprintf("gateway: %s (%s) listens on %s: clients outside the pods (config spec.inference.externalSources) may reach its pods", o.Ref(), impl.Controller, graph.PortsString(ports))})
			}
		}
		r.out.Edges = append(r.out.Edges, graph.Edge{From: self, To: impl.ControlPlane, Ports: []networkingv1.NetworkPolicyPort{policy.Port("TCP", impl.ControlPlanePort)}, Source: SourceGateway, SkipIngress: true,
			Reason: fmt.Sprintf("gateway: the pods of %s (%s) fetch their configuration from %s on TCP/%d", o.Ref(), impl.Controller, impl.ControlPlane.Describe(), impl.ControlPlanePort)})
	}
}
