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
	// IngressControllers, when set, are the pods that forward the traffic
	// of every Ingress, whatever its class. Defaults to none: each Ingress is
	// entered by the controller of its class (see IngressClasses).
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

	// RBAC gives API server egress to the workloads whose ServiceAccount is
	// bound by a RoleBinding or ClusterRoleBinding of the input and whose
	// token is mounted. Defaults to true.
	RBAC *bool `json:"rbac,omitempty"`
	// Webhooks admits the control plane to the pods behind admission,
	// conversion and aggregated-API webhooks that name a Service of the
	// input. Defaults to true.
	Webhooks *bool `json:"webhooks,omitempty"`
	// Proxies treats ingress controllers and in-namespace Gateway API
	// gateways as proxies: egress to their backends, ingress from outside,
	// API access. Defaults to true.
	Proxies *bool `json:"proxies,omitempty"`
	// Peers lets the pods of a StatefulSet reach each other through its
	// headless Service (replication, gossip). Defaults to true.
	Peers *bool `json:"peers,omitempty"`
	// NodeAgents gives egress to node-local agents (env from status.hostIP)
	// on the port the container names. Defaults to true.
	NodeAgents *bool `json:"nodeAgents,omitempty"`
	// CloudIdentity gives workloads whose ServiceAccount is annotated for
	// cloud workload identity the endpoint it needs. Defaults to true.
	CloudIdentity *bool `json:"cloudIdentity,omitempty"`
	// Mesh gives Istio and Linkerd sidecars (and Istio ambient pods) what
	// they need to become ready. Defaults to true.
	Mesh *bool `json:"mesh,omitempty"`
	// Hooks writes the allows of Helm hook pods as hooks of the same events
	// with a lower weight, so that they exist before the hook runs.
	// Defaults to true.
	Hooks *bool `json:"hooks,omitempty"`
	// IngressClasses map ingress classes to their controller's pods, ahead
	// of the built-in table (nginx, traefik, haproxy, contour, kong,
	// nginx-inc). Ingresses of a class neither names get a warning.
	// Defaults to none.
	IngressClasses []IngressClass `json:"ingressClasses,omitempty"`
}

// IngressClass maps an ingress class to the pods of its controller.
type IngressClass struct {
	// Name of the IngressClass (spec.ingressClassName).
	Name string `json:"name"`
	// Namespace of the controller's pods.
	Namespace string `json:"namespace"`
	// PodLabels select the controller's pods. Defaults to every pod of
	// Namespace.
	PodLabels map[string]string `json:"podLabels,omitempty"`
}

// On reports whether a source of inference is on.
func (i Inference) On(source *bool) bool {
	return *i.Enabled && (source == nil || *source)
}

func (i *Inference) defaults() {
	for _, b := range []**bool{&i.Enabled, &i.Ingress, &i.Gateway, &i.LoadBalancer, &i.References, &i.Monitors,
		&i.RBAC, &i.Webhooks, &i.Proxies, &i.Peers, &i.NodeAgents, &i.CloudIdentity, &i.Mesh, &i.Hooks} {
		if *b == nil {
			*b = boolPtr(true)
		}
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
	for j, c := range i.IngressClasses {
		path := fmt.Sprintf("inference.ingressClasses[%d]", j)
		if c.Name == "" {
			v.add(path+".name", "required")
		}
		if c.Namespace == "" {
			v.add(path+".namespace", "required")
		} else {
			v.namespace(path+".namespace", c.Namespace)
		}
		v.labels(path+".podLabels", c.PodLabels)
	}
}
