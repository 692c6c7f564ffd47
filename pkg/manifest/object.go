package manifest

import (
	"encoding/base64"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Labels and annotations tierwall reads or writes.
const (
	ManagedByLabel        = "app.kubernetes.io/managed-by"
	ManagedByValue        = "tierwall"
	ReasonAnnotation      = "tierwall.io/reason"
	IgnoreLabel           = "tierwall.io/ignore"
	LocalConfigAnnotation = "config.kubernetes.io/local-config"
	// SourceAnnotation lists, comma-separated and sorted, what a generated
	// policy's rules were read from: baseline, tiers, allows, references,
	// rbac, webhook, ingress-controller, ... (the spec.inference switches).
	SourceAnnotation = "tierwall.io/source"
	// WideAnnotation lists the check ids of the deliberately wide defaults
	// a generated policy holds (a rule without peers, egress to every pod),
	// which check reports under those ids.
	WideAnnotation = "tierwall.io/wide"
)

// Object is one input document as tierwall sees it. Node is the parsed
// document; tierwall never modifies it.
type Object struct {
	// Index is the position of the document in the input, from 0.
	Index      int
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	// GenerateName is metadata.generateName: the API server adds a random
	// suffix to it when the object has no name (Argo CD hooks, Jobs).
	GenerateName string
	Labels       map[string]string
	Annotations  map[string]string
	// Node is the parsed document. Readers of large inputs drop it (nil)
	// once Summary holds what tierwall reads of the kind.
	Node *yaml.Node
	// Summary is what a kind's reader took from Node at read time, or nil.
	Summary Summary
	// Data is the data of a ConfigMap, or a Secret's stringData and its
	// data decoded; nil for other kinds.
	Data map[string]string
	// ListItems is true for a typed list (a kind ending in List) that holds
	// an items sequence.
	ListItems bool
}

// Summary is what a kind's reader took from an object's node as the object
// was read, so that the node can be dropped (Compact): package workload's
// *Workload (pod template, ports, env) or package service's *Service
// (selector, ports). The reader's Extract hands it back.
type Summary interface {
	// SummaryOf names the reader that took it: "workload" or "service".
	SummaryOf() string
}

// FromNode reads the identity of one document.
func FromNode(index int, n *yaml.Node) Object {
	o := Object{
		Index:        index,
		APIVersion:   String(n, "apiVersion"),
		Kind:         String(n, "kind"),
		Namespace:    String(n, "metadata", "namespace"),
		Name:         String(n, "metadata", "name"),
		GenerateName: String(n, "metadata", "generateName"),
		Labels:       StringMap(n, "metadata", "labels"),
		Annotations:  StringMap(n, "metadata", "annotations"),
		Node:         n,
	}
	if o.APIVersion == "v1" && (o.Kind == "ConfigMap" || o.Kind == "Secret") {
		o.Data = data(o.Kind, n)
	}
	if strings.HasSuffix(o.Kind, "List") {
		items := Lookup(n, "items")
		o.ListItems = items != nil && items.Kind == yaml.SequenceNode
	}
	return o
}

// data reads a ConfigMap's data (and binaryData keys, as empty values are
// of no use) or a Secret's stringData and base64-decoded data.
func data(kind string, n *yaml.Node) map[string]string {
	m := map[string]string{}
	for k, v := range StringMap(n, "data") {
		if kind == "Secret" {
			if d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v)); err == nil {
				m[k] = string(d)
			}
			continue
		}
		m[k] = v
	}
	if kind == "Secret" {
		for k, v := range StringMap(n, "stringData") {
			m[k] = v
		}
	}
	return m
}

// nodeKinds are the kinds whose Node tierwall reads after reading: every
// other kind is fully described by its identity, Summary and Data.
var nodeKinds = map[string]bool{
	"networking.k8s.io/NetworkPolicy":               true,
	"cilium.io/CiliumNetworkPolicy":                 true,
	"apiextensions.k8s.io/CustomResourceDefinition": true,
	"networking.k8s.io/Ingress":                     true,
	"gateway.networking.k8s.io/HTTPRoute":           true,
	"gateway.networking.k8s.io/GRPCRoute":           true,
	"gateway.networking.k8s.io/TCPRoute":            true,
	"monitoring.coreos.com/ServiceMonitor":          true,
	"monitoring.coreos.com/PodMonitor":              true,
	// Read by the plumbing needs (package plumbing).
	"/ServiceAccount":                                             true,
	"rbac.authorization.k8s.io/RoleBinding":                       true,
	"rbac.authorization.k8s.io/ClusterRoleBinding":                true,
	"admissionregistration.k8s.io/ValidatingWebhookConfiguration": true,
	"admissionregistration.k8s.io/MutatingWebhookConfiguration":   true,
	"apiregistration.k8s.io/APIService":                           true,
	"networking.k8s.io/IngressClass":                              true,
	"gateway.networking.k8s.io/Gateway":                           true,
	"gateway.networking.k8s.io/GatewayClass":                      true,
}

// Compact drops Node when nothing reads it after reading, so that a large
// input is held as identities and prepared summaries, not as node trees.
// Call it after the kind readers have prepared the object.
func (o *Object) Compact() {
	if !nodeKinds[o.Group()+"/"+o.Kind] {
		o.Node = nil
	}
}

// Group returns the API group of the object ("" for the core group).
func (o Object) Group() string {
	if g, _, ok := strings.Cut(o.APIVersion, "/"); ok {
		return g
	}
	return ""
}

// Ref names the object for messages: "Deployment shop/api".
func (o Object) Ref() string {
	if o.Namespace == "" {
		return fmt.Sprintf("%s %s", o.Kind, o.Name)
	}
	return fmt.Sprintf("%s %s/%s", o.Kind, o.Namespace, o.Name)
}

// ManagedByTierwall reports whether tierwall generated the object (a previous
// run's output fed back in).
func (o Object) ManagedByTierwall() bool {
	// Helm overwrites app.kubernetes.io/managed-by with "Helm" on every
	// object it installs: tierwall's objects read back from a cluster are
	// known by their content hash.
	return o.Labels[ManagedByLabel] == ManagedByValue || o.Annotations[HashAnnotation] != ""
}

// LocalConfig reports whether the object is marked local-config (kpt feeds
// such files, e.g. the function's own config, as items).
func (o Object) LocalConfig() bool {
	return o.Annotations[LocalConfigAnnotation] == "true"
}

// IsNetworkPolicy reports whether the object is a networking.k8s.io NetworkPolicy.
func (o Object) IsNetworkPolicy() bool {
	return o.Kind == "NetworkPolicy" && o.Group() == "networking.k8s.io"
}

// clusterScoped lists the cluster-scoped kinds by group and kind. Unknown kinds
// are namespaced when they carry a namespace and cluster-scoped otherwise,
// unless a CustomResourceDefinition in the same stream says otherwise.
var clusterScoped = map[string]bool{
	"/Namespace": true, "/Node": true, "/PersistentVolume": true, "/ComponentStatus": true,
	"rbac.authorization.k8s.io/ClusterRole":                         true,
	"rbac.authorization.k8s.io/ClusterRoleBinding":                  true,
	"apiextensions.k8s.io/CustomResourceDefinition":                 true,
	"apiregistration.k8s.io/APIService":                             true,
	"storage.k8s.io/StorageClass":                                   true,
	"storage.k8s.io/CSIDriver":                                      true,
	"storage.k8s.io/CSINode":                                        true,
	"storage.k8s.io/VolumeAttachment":                               true,
	"scheduling.k8s.io/PriorityClass":                               true,
	"networking.k8s.io/IngressClass":                                true,
	"networking.k8s.io/IPAddress":                                   true,
	"networking.k8s.io/ServiceCIDR":                                 true,
	"storage.k8s.io/VolumeAttributesClass":                          true,
	"resource.k8s.io/DeviceClass":                                   true,
	"resource.k8s.io/ResourceSlice":                                 true,
	"certificates.k8s.io/ClusterTrustBundle":                        true,
	"node.k8s.io/RuntimeClass":                                      true,
	"admissionregistration.k8s.io/ValidatingWebhookConfiguration":   true,
	"admissionregistration.k8s.io/MutatingWebhookConfiguration":     true,
	"admissionregistration.k8s.io/ValidatingAdmissionPolicy":        true,
	"admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding": true,
	"admissionregistration.k8s.io/MutatingAdmissionPolicy":          true,
	"admissionregistration.k8s.io/MutatingAdmissionPolicyBinding":   true,
	"certificates.k8s.io/CertificateSigningRequest":                 true,
	"flowcontrol.apiserver.k8s.io/FlowSchema":                       true,
	"flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration":       true,
	"policy/PodSecurityPolicy":                                      true,
	"gateway.networking.k8s.io/GatewayClass":                        true,
	"cert-manager.io/ClusterIssuer":                                 true,
	"cilium.io/CiliumClusterwideNetworkPolicy":                      true,
	"cilium.io/CiliumClusterwideEnvoyConfig":                        true,
	"cilium.io/CiliumEgressGatewayPolicy":                           true,
	"cilium.io/CiliumNode":                                          true,
	"cilium.io/CiliumIdentity":                                      true,
	"cilium.io/CiliumExternalWorkload":                              true,
	"cilium.io/CiliumEndpointSlice":                                 true,
	"cilium.io/CiliumLoadBalancerIPPool":                            true,
	"cilium.io/CiliumL2AnnouncementPolicy":                          true,
	"cilium.io/CiliumPodIPPool":                                     true,
	"cilium.io/CiliumCIDRGroup":                                     true,
	"cilium.io/CiliumBGPPeeringPolicy":                              true,
	"cilium.io/CiliumBGPClusterConfig":                              true,
	"cilium.io/CiliumBGPPeerConfig":                                 true,
	"cilium.io/CiliumBGPAdvertisement":                              true,
	"cilium.io/CiliumBGPNodeConfig":                                 true,
	"cilium.io/CiliumBGPNodeConfigOverride":                         true,
	"argoproj.io/ClusterWorkflowTemplate":                           true,
	"argoproj.io/ClusterAnalysisTemplate":                           true,
	"crd.projectcalico.org/GlobalNetworkPolicy":                     true,
	"kyverno.io/ClusterPolicy":                                      true,
	"config.kubernetes.io/ResourceList":                             true,
	"kustomize.config.k8s.io/Kustomization":                         true,
}

// Scopes decides whether kinds are namespaced, from the built-in table and
// the CustomResourceDefinitions seen in the stream.
type Scopes struct {
	crd map[string]bool // group/kind -> cluster-scoped
}

// NewScopes learns the scope of every CustomResourceDefinition among objs.
func NewScopes(objs []Object) Scopes {
	s := Scopes{crd: map[string]bool{}}
	for _, o := range objs {
		if o.Kind != "CustomResourceDefinition" || o.Group() != "apiextensions.k8s.io" {
			continue
		}
		group := String(o.Node, "spec", "group")
		kind := String(o.Node, "spec", "names", "kind")
		scope := String(o.Node, "spec", "scope")
		if kind != "" {
			s.crd[group+"/"+kind] = scope == "Cluster"
		}
	}
	return s
}

// Namespaced reports whether o belongs in a namespace. The second result is
// false when the kind is unknown and o carries no namespace, so the answer
// is a guess (cluster-scoped).
func (s Scopes) Namespaced(o Object) (namespaced, known bool) {
	key := o.Group() + "/" + o.Kind
	// A CustomResourceDefinition in the stream is the truth; the table a guess.
	if cluster, ok := s.crd[key]; ok {
		return !cluster, true
	}
	if clusterScoped[key] {
		return false, true
	}
	if o.Namespace != "" {
		return true, true
	}
	return !isUnknown(key), !isUnknown(key)
}

// builtinNamespaced lists the core namespaced groups; kinds of other groups
// without a namespace and without a CRD in the stream are unknown.
var builtinNamespaced = map[string]bool{
	"": true, "apps": true, "batch": true, "autoscaling": true, "policy": true,
	"networking.k8s.io": true, "rbac.authorization.k8s.io": true, "discovery.k8s.io": true,
	"coordination.k8s.io": true, "events.k8s.io": true, "storage.k8s.io": true,
	"monitoring.coreos.com": true, "gateway.networking.k8s.io": true, "cilium.io": true,
	"argoproj.io": true, "cert-manager.io": true, "resource.k8s.io": true,
}

func isUnknown(key string) bool {
	group, _, _ := strings.Cut(key, "/")
	return !builtinNamespaced[group]
}

// ReleaseNamespace is how messages name the unnamed release namespace (the
// namespace of objects without metadata.namespace when none is configured).
const ReleaseNamespace = "(release namespace)"

// DisplayNamespace names a namespace for people: its name, or
// ReleaseNamespace for "".
func DisplayNamespace(ns string) string {
	if ns == "" {
		return ReleaseNamespace
	}
	return ns
}

// StableName is the object's name, or for an object named by generateName
// the stable part of it (without the trailing "-"): never the random suffix
// the API server adds, so that the names tierwall derives from it are stable.
func (o Object) StableName() string {
	if o.Name != "" {
		return o.Name
	}
	return strings.TrimRight(o.GenerateName, "-.")
}
