package plumbing

import (
	"fmt"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/service"
	"github.com/tierwall/tierwall/pkg/workload"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// webhookRef is one call of the control plane to a Service of the input.
type webhookRef struct {
	obj           manifest.Object
	name          string // the webhook's name, or the object's
	field         string // of the clientConfig / service
	svc           *yaml.Node
	failurePolicy string
}

// webhooks admits the control plane to the pods behind every admission,
// conversion and aggregated-API webhook that names a Service of the input.
func (r *reader) webhooks() {
	var refs []webhookRef
	for _, o := range r.in.Objects {
		if o.ManagedByTierwall() || o.Node == nil {
			continue
		}
		switch {
		case o.Group() == "admissionregistration.k8s.io" && (o.Kind == "ValidatingWebhookConfiguration" || o.Kind == "MutatingWebhookConfiguration"):
			for i, wh := range manifest.Items(o.Node, "webhooks") {
				field := fmt.Sprintf("webhooks[%d].clientConfig", i)
				fp := manifest.String(wh, "failurePolicy")
				if fp == "" {
					fp = "Fail" // the admissionregistration.k8s.io/v1 default
				}
				name := manifest.String(wh, "name")
				if svc := manifest.Lookup(wh, "clientConfig", "service"); svc != nil {
					refs = append(refs, webhookRef{o, name, field + ".service", svc, fp})
				} else if u := manifest.String(wh, "clientConfig", "url"); u != "" {
					r.note(result.Info, o, field+".url", "webhook %s of %s calls a URL, not a Service of the input: no allow is written for it (the API server calls it from outside the pods' policies)", name, o.Ref())
				}
			}
		case o.Group() == "apiregistration.k8s.io" && o.Kind == "APIService":
			if svc := manifest.Lookup(o.Node, "spec", "service"); svc != nil {
				refs = append(refs, webhookRef{o, o.Name, "spec.service", svc, "Fail (an aggregated API is unavailable while unreachable)"})
			}
		case o.Group() == "apiextensions.k8s.io" && o.Kind == "CustomResourceDefinition":
			if svc := manifest.Lookup(o.Node, "spec", "conversion", "webhook", "clientConfig", "service"); svc != nil {
				refs = append(refs, webhookRef{o, "conversion", "spec.conversion.webhook.clientConfig.service", svc, "Fail (objects of other versions cannot be read while unreachable)"})
			}
		}
	}
	froms, described, wide := r.controlPlane()
	var open []string
	for _, ref := range refs {
		ns, name := manifest.String(ref.svc, "namespace"), manifest.String(ref.svc, "name")
		port := int32(443)
		if p, err := strconv.Atoi(manifest.String(ref.svc, "port")); err == nil {
			port = int32(p)
		}
		s := r.serviceNamed(ns, name)
		if s == nil {
			r.note(result.Info, ref.obj, ref.field, "webhook %s of %s calls Service %s/%s, which is not in the input: no allow is written for it (render it with its Service, or pass it as --context)", ref.name, ref.obj.Ref(), ns, name)
			continue
		}
		sp, ok := servicePortNumber(s, port)
		if !ok {
			r.note(result.Warning, ref.obj, ref.field+".port", "webhook %s of %s calls %s on port %d, which the Service does not have: no allow is written for it", ref.name, ref.obj.Ref(), s.Ref(), port)
			continue
		}
		backing := r.backing(s)
		if len(backing) == 0 {
			r.note(result.Warning, ref.obj, ref.field, "webhook %s of %s calls %s, which selects no workload of the input: no allow is written for it", ref.name, ref.obj.Ref(), s.Ref())
		}
		for _, w := range backing {
			wp, _, ok := s.Target(sp, *w)
			if !ok || !selectable(w) {
				continue
			}
			ports := []networkingv1.NetworkPolicyPort{policy.Port(wp.Protocol, wp.Port)}
			why := fmt.Sprintf("%s webhook %s (failurePolicy %s) calls %s port %d -> pod port %d", ref.obj.Ref(), ref.name, ref.failurePolicy, s.Ref(), port, wp.Port)
			r.out.Needs = append(r.out.Needs, Need{Kind: NeedWebhook, Workload: w, Ports: []workload.Port{wp}, Why: why, Object: ref.obj, Field: ref.field})
			if !r.inScope(w.Namespace) {
				continue
			}
			to := graph.FromWorkload(w, r.spec.Zones.Key)
			for _, from := range froms {
				r.out.Edges = append(r.out.Edges, graph.Edge{From: from, To: to, Ports: ports, Source: SourceWebhook, Policy: "webhook", Wide: wide, SkipEgress: true,
					Reason: fmt.Sprintf("webhook: the control plane (%s) may call %s %s: %s", described, w.Kind, w.Name, why)})
			}
			if wide != "" {
				open = append(open, fmt.Sprintf("%s %s port %d", w.Kind, nsName(w), wp.Port))
			}
		}
	}
	if len(open) > 0 {
		r.out.Results = append(r.out.Results, result.New(result.Warning, nil, "spec.cluster.controlPlane.cidrs",
			"webhook ports are open to every source, since the control plane's addresses are not configured: any pod or host that reaches them may call the webhook directly (set spec.cluster.controlPlane.cidrs, and spec.cluster.cloud on GKE or AKS): %s [%s]",
			list(dedupe(open)), WideWebhook))
	}
}

// controlPlane returns the sources of the API server's calls: the
// configured control-plane ranges, plus the konnectivity-agent pods on GKE
// and AKS; or any source when no range is configured.
func (r *reader) controlPlane() (froms []graph.Endpoint, described, wide string) {
	c := r.spec.Cluster
	if len(c.ControlPlane.CIDRs) == 0 {
		return []graph.Endpoint{{Kind: graph.Anywhere, Name: "any source"}}, "any source, since spec.cluster.controlPlane.cidrs is not set", WideWebhook
	}
	for _, cidr := range c.ControlPlane.CIDRs {
		froms = append(froms, graph.Endpoint{Kind: graph.CIDR, CIDR: cidr, Name: "control-plane"})
	}
	described = strings.Join(c.ControlPlane.CIDRs, ", ") + " from spec.cluster.controlPlane.cidrs"
	if c.ViaKonnectivity() {
		froms = append(froms, graph.Endpoint{Kind: graph.Pods, Namespace: "kube-system", Selector: map[string]string{KonnectivityLabel: "konnectivity-agent"}, Name: "konnectivity-agent"})
		described += fmt.Sprintf(", and the konnectivity-agent pods of kube-system through which %s calls webhooks", strings.ToUpper(c.Cloud))
	}
	return froms, described, ""
}

func servicePortNumber(s *service.Service, port int32) (service.Port, bool) {
	for _, p := range s.Ports {
		if p.Port == port {
			return p, true
		}
	}
	return service.Port{}, false
}
