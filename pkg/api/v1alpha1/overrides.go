package v1alpha1

import (
	"slices"
	"strings"
)

// Overrides are settings given on a command line (the Helm post-renderer's
// flags). A set field replaces the configuration's value; list fields add to
// the configuration's lists. The zero value overrides nothing.
type Overrides struct {
	// Namespace replaces spec.namespace when not empty.
	Namespace string
	// Release replaces spec.release when not empty (--release).
	Release string
	// ReleaseFallback names the release when neither Release nor the
	// config does (Argo CD's ARGOCD_APP_NAME); ignored when it is not a
	// valid release name.
	ReleaseFallback string
	// DNSProfile replaces spec.dns.profile when not empty.
	DNSProfile string
	// SkipNamespaces are added to spec.skipNamespaces.
	SkipNamespaces []string
	// DisableMonitoring sets spec.monitoring.enabled to false.
	DisableMonitoring bool
	// DisableTiers sets spec.tiers.enabled to false.
	DisableTiers bool
	// KubeAPICIDRs, when not empty, are added to spec.kubeAPI.cidrs and set
	// spec.kubeAPI.enabled to true.
	KubeAPICIDRs []string
	// Flags explains, for messages, where an overridden field's value came
	// from, by the field's path under spec ("dns.profile": "set by
	// --dns-profile"). It is appended in parentheses to errors on that field.
	Flags map[string]string
}

// IsZero reports whether o overrides nothing.
func (o Overrides) IsZero() bool {
	return o.Namespace == "" && o.Release == "" && o.DNSProfile == "" && len(o.SkipNamespaces) == 0 &&
		!o.DisableMonitoring && !o.DisableTiers && len(o.KubeAPICIDRs) == 0
}

// apply writes the overrides into a decoded Spec, before its defaults.
func (o Overrides) apply(s *Spec) {
	if o.Namespace != "" {
		s.Namespace = o.Namespace
	}
	if o.Release != "" {
		s.Release = o.Release
	}
	if o.DNSProfile != "" {
		s.DNS.Profile = o.DNSProfile
	}
	for _, ns := range o.SkipNamespaces {
		if !slices.Contains(s.SkipNamespaces, ns) {
			s.SkipNamespaces = append(s.SkipNamespaces, ns)
		}
	}
	if o.DisableMonitoring {
		s.Monitoring.Enabled = boolPtr(false)
	}
	if o.DisableTiers {
		s.Tiers.Enabled = boolPtr(false)
	}
	if len(o.KubeAPICIDRs) > 0 {
		s.KubeAPI.Enabled = true
		for _, c := range o.KubeAPICIDRs {
			if !slices.Contains(s.KubeAPI.CIDRs, c) {
				s.KubeAPI.CIDRs = append(s.KubeAPI.CIDRs, c)
			}
		}
	}
}

// explain appends, to each error on an overridden field, where its value
// came from ("set by --dns-profile").
func (o Overrides) explain(errs Errors) Errors {
	if len(o.Flags) == 0 {
		return errs
	}
	set := map[string]bool{
		"namespace": o.Namespace != "", "release": o.Release != "", "dns.profile": o.DNSProfile != "",
		"skipNamespaces": len(o.SkipNamespaces) > 0, "monitoring.enabled": o.DisableMonitoring,
		"tiers.enabled": o.DisableTiers, "kubeAPI.cidrs": len(o.KubeAPICIDRs) > 0, "kubeAPI.enabled": len(o.KubeAPICIDRs) > 0,
	}
	out := make(Errors, len(errs))
	for i, fe := range errs {
		field := strings.TrimPrefix(strings.TrimPrefix(fe.Path, "spec."), "data.")
		if field, _, _ = strings.Cut(field, "["); set[field] && o.Flags[field] != "" {
			fe.Message += " (" + o.Flags[field] + ")"
		}
		out[i] = fe
	}
	return out
}
