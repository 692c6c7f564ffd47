package v1alpha1

import "k8s.io/apimachinery/pkg/util/intstr"

// Group, Version and Kind of tierwall's configuration object.
const (
	Group      = "tierwall.io"
	Version    = "v1alpha1"
	APIVersion = Group + "/" + Version
	Kind       = "TierWall"
)

// DNS profiles understood by Spec.DNS.Profile.
const (
	DNSProfileKubeDNS     = "kube-dns"
	DNSProfileNodeLocal   = "nodelocal"
	DNSProfileOpenShift   = "openshift"
	DNSProfileGKECloudDNS = "gke-cloud-dns"
	DNSProfileCustom      = "custom"
)

// TierWall is the configuration object of the tierwall KRM function and
// post-renderer.
type TierWall struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata,omitempty"`
	// Spec holds every setting; all of them are optional.
	Spec Spec `json:"spec,omitempty"`
}

// Spec is every setting of tierwall. The zero value, once defaulted, is the
// zero-config baseline.
type Spec struct {
	// Namespace names the namespace that objects without metadata.namespace
	// are applied to (Helm's release namespace, kubectl's -n). When set, those
	// objects belong to it and its policies carry it. When empty, they form
	// the "release namespace" whose policies are written without a namespace,
	// so they land wherever the objects land. Defaults to "".
	Namespace string `json:"namespace,omitempty"`

	// Release names the Helm release, Argo CD application or overlay this
	// render belongs to. The namespace-wide policies (the baseline, the
	// fallback's egress) carry it in their names, so that several renders
	// into one namespace never collide. The post-renderer and the function
	// also take it from --release and from ARGOCD_APP_NAME. Defaults to the
	// one app.kubernetes.io/instance value every workload of the input
	// shares, else none (and the summary says a second render would collide).
	Release string `json:"release,omitempty"`

	// SkipSystemNamespaces skips kube-system, kube-public and kube-node-lease,
	// where a default-deny breaks the cluster. Defaults to true.
	SkipSystemNamespaces *bool `json:"skipSystemNamespaces,omitempty"`

	// SkipNamespaces lists further namespaces that get no policies.
	// Namespace objects labelled tierwall.io/ignore: "true" are skipped too.
	// Defaults to none.
	SkipNamespaces []string `json:"skipNamespaces,omitempty"`

	// DefaultDeny says whether each direction of the namespaces is
	// default-denied: by this render's default-deny-all, or by another
	// render's (see Baseline).
	DefaultDeny DefaultDeny `json:"defaultDeny,omitempty"`

	// Baseline turns this render's namespace-wide policies (default-deny-all,
	// allow-dns, allow-monitoring) on or off. Off, the allows are still
	// written for the directions DefaultDeny denies (another render, or the
	// platform, denies them), and every pod that gets an egress policy gets
	// DNS in it.
	Baseline Baseline `json:"baseline,omitempty"`

	// DNS says where pods resolve names. Defaults to the kube-dns profile.
	DNS DNS `json:"dns,omitempty"`

	// Monitoring admits Prometheus to the metrics ports of every namespace.
	Monitoring Monitoring `json:"monitoring,omitempty"`

	// KubeAPI allows egress to the Kubernetes API server. Off by default.
	KubeAPI KubeAPI `json:"kubeAPI,omitempty"`

	// Tiers derives allows between tiers from workload labels.
	Tiers Tiers `json:"tiers,omitempty"`

	// Allows are explicit allows, within or across namespaces.
	Allows []Allow `json:"allows,omitempty"`

	// IsolateNamespaces lists namespaces whose pods may all talk to each
	// other, and to nothing outside unless another allow says so.
	// Defaults to none.
	IsolateNamespaces []string `json:"isolateNamespaces,omitempty"`

	// ExternalEgress lets selected pods reach addresses outside the cluster.
	ExternalEgress []ExternalEgress `json:"externalEgress,omitempty"`

	// Zones isolates pods by a zone label (microsegmentation).
	Zones Zones `json:"zones,omitempty"`

	// Flavor is kubernetes (plain NetworkPolicy only) or cilium (adds
	// CiliumNetworkPolicies for L7 HTTP, FQDN egress and the API server).
	// Defaults to kubernetes.
	Flavor string `json:"flavor,omitempty"`

	// Cilium holds the rules only Cilium can enforce.
	Cilium Cilium `json:"cilium,omitempty"`

	// Check runs tierwall check on the function's own output.
	Check Check `json:"check,omitempty"`

	// Inference infers allows from Ingresses, routes, Services, references
	// and monitors in the manifests.
	Inference Inference `json:"inference,omitempty"`

	// Fallback says what happens to needs tierwall cannot read exactly:
	// callers named only in code, hosts outside the cluster.
	Fallback Fallback `json:"fallback,omitempty"`

	// Cluster is the profile of the target cluster: CNI, address ranges,
	// API server, control plane and cloud.
	Cluster Cluster `json:"cluster,omitempty"`

	// WorkloadKinds adds kinds that run pods to the built-in table.
	WorkloadKinds []WorkloadKind `json:"workloadKinds,omitempty"`
}

// DefaultDeny configures the default-deny-all policy of every namespace.
type DefaultDeny struct {
	// Ingress denies all ingress not allowed by another policy. Defaults to true.
	Ingress *bool `json:"ingress,omitempty"`
	// Egress denies all egress not allowed by another policy. Defaults to true.
	Egress *bool `json:"egress,omitempty"`
}

// Baseline configures the namespace-wide policies of this render.
type Baseline struct {
	// Enabled writes default-deny-all, allow-dns and allow-monitoring.
	// Defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
}

// DNS configures the allow-dns policy.
type DNS struct {
	// Profile is one of kube-dns, nodelocal, openshift, gke-cloud-dns or
	// custom. Defaults to "kube-dns".
	Profile string `json:"profile,omitempty"`
	// Namespace of the DNS pods. Defaults by profile: kube-system
	// (kube-dns, nodelocal), openshift-dns (openshift); none for gke-cloud-dns.
	Namespace string `json:"namespace,omitempty"`
	// PodLabels select the DNS pods in Namespace. Defaults by profile:
	// k8s-app: kube-dns, or dns.operator.openshift.io/daemonset-dns: default.
	PodLabels map[string]string `json:"podLabels,omitempty"`
	// Ports the DNS pods listen on, each allowed over UDP and TCP. Defaults by
	// profile: [53], or [5353] for openshift.
	Ports []int32 `json:"ports,omitempty"`
	// CIDRs of node-local or metadata resolvers reached by address. Defaults
	// by profile: 169.254.20.10/32 (nodelocal), 169.254.169.254/32
	// (gke-cloud-dns); none otherwise.
	CIDRs []string `json:"cidrs,omitempty"`
	// NodeLocalIP is the NodeLocal DNSCache address (kubespray uses
	// 169.254.25.10). Only for the nodelocal profile. Defaults to 169.254.20.10.
	NodeLocalIP string `json:"nodeLocalIP,omitempty"`
}

// Monitoring configures the allow-monitoring policies.
type Monitoring struct {
	// Enabled turns monitoring allows on. Defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
	// Namespace where Prometheus runs. Defaults to "monitoring".
	Namespace string `json:"namespace,omitempty"`
	// PodLabels select the Prometheus pods. Defaults to
	// app.kubernetes.io/name: prometheus.
	PodLabels map[string]string `json:"podLabels,omitempty"`
	// Ports, when set, are scraped on every pod instead of the detected
	// metrics ports (container ports named metrics, http-metrics or *-metrics,
	// and prometheus.io/port pod annotations). Numbers or port names.
	// Defaults to none (detect).
	Ports []intstr.IntOrString `json:"ports,omitempty"`
}

// KubeAPI configures the allow-kube-api policy.
type KubeAPI struct {
	// Enabled emits allow-kube-api. Defaults to false.
	Enabled bool `json:"enabled,omitempty"`
	// CIDRs of the API server: the endpoint (node or control-plane) addresses
	// for CNIs that enforce after DNAT (Calico, Cilium), and the kubernetes
	// Service ClusterIP for those that enforce before it (AWS VPC CNI).
	// Required when Enabled, except in the cilium flavour, which uses the
	// kube-apiserver entity instead. Folds into cluster.apiServer.cidrs
	// (either may be set; defaults to the other).
	CIDRs []string `json:"cidrs,omitempty"`
	// Ports of the API server: the Service port and the endpoint port.
	// Defaults to [443, 6443].
	Ports []int32 `json:"ports,omitempty"`
	// PodLabels select the pods that may reach the API server. Defaults to
	// all pods of the namespace.
	PodLabels map[string]string `json:"podLabels,omitempty"`
}
