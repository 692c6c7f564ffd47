package v1alpha1

import "fmt"

// Inference reads who talks to whom from the manifests themselves: Ingress
// and Gateway API routes, LoadBalancer and NodePort Services, references to
// Services in env, ConfigMaps, Secrets, args and commands, and
// ServiceMonitors and PodMonitors.
type Inference struct {
	// Enabled turns all inference on or off. Defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
	// Ingress infers allows from networking.k8s.io Ingress backends.
	// Defaults to true.
	Ingress *bool `json:"ingress,omitempty"`
	// Gateway infers allows from Gateway API HTTPRoute, GRPCRoute and
	// TCPRoute backends. Defaults to true.
	Gateway *bool `json:"gateway,omitempty"`
	// LoadBalancer admits traffic from outside the cluster to the pods of
	// LoadBalancer and NodePort Services. Defaults to true.
	LoadBalancer *bool `json:"loadBalancer,omitempty"`
	// References infers allows from Service names in env values, consumed
	// ConfigMaps and Secrets, args and commands. Defaults to true.
	References *bool `json:"references,omitempty"`
	// Monitors infers Prometheus allows from ServiceMonitors and
	// PodMonitors. Defaults to true.
	Monitors *bool `json:"monitors,omitempty"`
	// IngressControllers are the pods that forward Ingress traffic. Defaults
	// to the pods of namespace ingress-nginx.
	IngressControllers []Peer `json:"ingressControllers,omitempty"`
	// Gateways are the pods that forward Gateway API traffic. Defaults to,
	// for each parent Gateway of a route, the pods labelled
	// gateway.networking.k8s.io/gateway-name: <gateway> when the Gateway is
	// in the route's namespace, and the pods of the Gateway's namespace
	// otherwise.
	Gateways []Peer `json:"gateways,omitempty"`
	// ExternalSources are the addresses that reach LoadBalancer and NodePort
	// Services without loadBalancerSourceRanges. Defaults to [0.0.0.0/0, ::/0].
	ExternalSources []string `json:"externalSources,omitempty"`
	// ClusterDomain of Service host names. Defaults to cluster.local.
	ClusterDomain string `json:"clusterDomain,omitempty"`
}

// On reports whether a source of inference is on.
func (i Inference) On(source *bool) bool {
	return *i.Enabled && (source == nil || *source)
}

func (i *Inference) defaults() {
	for _, b := range []**bool{&i.Enabled, &i.Ingress, &i.Gateway, &i.LoadBalancer, &i.References, &i.Monitors} {
		if *b == nil {
			*b = boolPtr(true)
		}
	}
	if i.IngressControllers == nil {
		i.IngressControllers = []Peer{{Namespace: "ingress-nginx"}}
	}
	if len(i.ExternalSources) == 0 {
		i.ExternalSources = []string{"0.0.0.0/0", "::/0"}
	}
	if i.ClusterDomain == "" {
		i.ClusterDomain = "cluster.local"
	}
}

func (i *Inference) validate(v *validator, s *Spec) {
	for j, p := range i.IngressControllers {
		v.addAll(ValidatePeer(p, fmt.Sprintf("inference.ingressControllers[%d]", j), s))
	}
	for j, p := range i.Gateways {
		v.addAll(ValidatePeer(p, fmt.Sprintf("inference.gateways[%d]", j), s))
	}
	v.cidrs("inference.externalSources", i.ExternalSources)
}
