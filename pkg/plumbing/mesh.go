package plumbing

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/workload"
)

// Service-mesh defaults (Istio and Linkerd's documented installs).
const (
	IstioInjectionLabel   = "istio-injection"
	IstioRevLabel         = "istio.io/rev"
	IstioSidecarInject    = "sidecar.istio.io/inject"
	IstioDataplaneMode    = "istio.io/dataplane-mode"
	LinkerdInject         = "linkerd.io/inject"
	IstioHBONEPort        = 15008
	IstioXDSPort          = 15012
	IstioAmbientProbeCIDR = "169.254.7.127/32"
)

var (
	istiod             = graph.Endpoint{Kind: graph.Pods, Namespace: "istio-system", Selector: map[string]string{"app": "istiod"}, Name: "istiod"}
	linkerdDestination = graph.Endpoint{Kind: graph.Pods, Namespace: "linkerd", Selector: map[string]string{"linkerd.io/control-plane-component": "destination"}, Name: "linkerd-destination"}
	linkerdIdentity    = graph.Endpoint{Kind: graph.Pods, Namespace: "linkerd", Selector: map[string]string{"linkerd.io/control-plane-component": "identity"}, Name: "linkerd-identity"}
)

// mesh gives sidecar-injected pods egress to their control plane, and Istio
// ambient pods their HBONE port and the kubelet probes' address, without
// which they never become ready.
func (r *reader) mesh() {
	for i := range r.in.Workloads {
		w := &r.in.Workloads[i]
		if !selectable(w) || !r.inScope(w.Namespace) {
			continue
		}
		self := graph.FromWorkload(w, r.spec.Zones.Key)
		nsLabels, nsAnn := r.nsMeta(w.Namespace)
		podFlag := func(key string) string {
			if v, ok := w.PodLabels[key]; ok {
				return v
			}
			return w.PodAnnotations[key]
		}
		egress := func(to graph.Endpoint, ports []int32, why string) {
			var pp []networkingv1.NetworkPolicyPort
			for _, p := range ports {
				pp = append(pp, policy.Port("TCP", p))
			}
			r.out.Edges = append(r.out.Edges, graph.Edge{From: self, To: to, Ports: pp, Source: SourceMesh, SkipIngress: true,
				Reason: fmt.Sprintf("mesh: %s %s %s, so its proxy must reach %s on %s", w.Kind, w.Name, why, to.Describe(), graph.PortsString(pp))})
		}
		// Istio sidecars.
		inject := podFlag(IstioSidecarInject)
		switch {
		case inject == "false":
		case inject == "true":
			egress(istiod, []int32{IstioXDSPort}, "has "+IstioSidecarInject+": \"true\" (an Istio sidecar)")
		case nsLabels[IstioInjectionLabel] == "enabled":
			egress(istiod, []int32{IstioXDSPort}, "runs in a namespace labelled "+IstioInjectionLabel+"=enabled (an Istio sidecar)")
		case nsLabels[IstioRevLabel] != "" && nsLabels[IstioDataplaneMode] != "ambient":
			egress(istiod, []int32{IstioXDSPort}, "runs in a namespace labelled "+IstioRevLabel+" (an Istio sidecar)")
		}
		// Istio ambient: ztunnel carries traffic to the HBONE port; kubelet
		// probes arrive from a fixed link-local address.
		mode := podFlag(IstioDataplaneMode)
		if mode == "ambient" || (mode == "" && nsLabels[IstioDataplaneMode] == "ambient") {
			allPods := graph.Endpoint{Kind: graph.Pods, NamespaceLabels: map[string]string{}, Name: "every pod"}
			hbone := []networkingv1.NetworkPolicyPort{policy.Port("TCP", IstioHBONEPort)}
			r.out.Edges = append(r.out.Edges,
				graph.Edge{From: allPods, To: self, Ports: hbone, Source: SourceMesh, SkipEgress: true,
					Reason: fmt.Sprintf("mesh: %s %s is in Istio ambient mode: ztunnel delivers its callers' traffic on the HBONE port TCP/%d (ztunnel's own authorization policies decide who may call)", w.Kind, w.Name, IstioHBONEPort)},
				graph.Edge{From: self, To: allPods, Ports: hbone, Source: SourceMesh, SkipIngress: true,
					Reason: fmt.Sprintf("mesh: %s %s is in Istio ambient mode: ztunnel sends its calls to the HBONE port TCP/%d of the callee", w.Kind, w.Name, IstioHBONEPort)},
				graph.Edge{From: graph.Endpoint{Kind: graph.CIDR, CIDR: IstioAmbientProbeCIDR, Name: "ambient-probes"}, To: self, Ports: probePorts(w), Source: SourceMesh, SkipEgress: true,
					Reason: fmt.Sprintf("mesh: %s %s is in Istio ambient mode: kubelet probes arrive from %s", w.Kind, w.Name, IstioAmbientProbeCIDR)})
		}
		// Linkerd.
		if v := w.PodAnnotations[LinkerdInject]; v == "enabled" || (v == "" && nsAnn[LinkerdInject] == "enabled") {
			egress(linkerdDestination, []int32{8086, 8090}, "is injected by Linkerd ("+LinkerdInject+": enabled)")
			egress(linkerdIdentity, []int32{8080}, "is injected by Linkerd ("+LinkerdInject+": enabled)")
		}
	}
}

// probePorts are a workload's declared ports (the probes' targets), or
// every port when it declares none.
func probePorts(w *workload.Workload) []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for _, p := range w.Ports {
		out = append(out, policy.Port(p.Protocol, p.Port))
	}
	return out
}

// nsMeta returns the labels and annotations of a namespace's object.
func (r *reader) nsMeta(ns string) (map[string]string, map[string]string) {
	n, ok := r.in.Set.Get(ns)
	if !ok || n.Object == nil {
		return nil, nil
	}
	return n.Labels, n.Object.Annotations
}
