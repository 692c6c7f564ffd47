package v1alpha1

// Fallback modes.
const (
	// FallbackNamespace opens a Service port that no allow names a caller
	// of to the pods of its own namespace.
	FallbackNamespace = "namespace"
	// FallbackNone writes no fallback: such a port, or an external host,
	// is an error that fails the run.
	FallbackNone = "none"
	// FallbackPublic lets a workload reach any public address on the port
	// of an external host its manifests name.
	FallbackPublic = "public"
)

// Fallback says what tierwall does for needs it cannot read exactly:
// callers whose addresses live in code, and hosts outside the cluster.
type Fallback struct {
	// Callers is namespace or none. With namespace, a target port of a
	// Service-backed workload that no allow admits any caller to (the
	// baseline's DNS and monitoring, API-server and control-plane allows
	// do not count) is opened to the pods of the same namespace, and only
	// that port; with none, each such port is an error. The annotation
	// tierwall.io/callers: none on a Service or its workload says nobody
	// calls it. Defaults to namespace.
	Callers string `json:"callers,omitempty"`
	// ExternalHosts is public or none. With public, a URL or host:port
	// outside the cluster named in env, args or consumed ConfigMaps lets
	// that workload reach any public address on that port (the cilium
	// flavour writes toFQDNs for the host instead); with none, each is an
	// error unless spec.externalEgress allows it. Defaults to public.
	ExternalHosts string `json:"externalHosts,omitempty"`
}

func (f *Fallback) defaults() {
	if f.Callers == "" {
		f.Callers = FallbackNamespace
	}
	if f.ExternalHosts == "" {
		f.ExternalHosts = FallbackPublic
	}
}

func (f *Fallback) validate(v *validator) {
	switch f.Callers {
	case FallbackNamespace, FallbackNone:
	default:
		v.add("fallback.callers", "%q must be %s or %s", f.Callers, FallbackNamespace, FallbackNone)
	}
	switch f.ExternalHosts {
	case FallbackPublic, FallbackNone:
	default:
		v.add("fallback.externalHosts", "%q must be %s or %s", f.ExternalHosts, FallbackPublic, FallbackNone)
	}
}
