package graph_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/workload"
)

func inScope(nss ...string) func(string) bool {
	return func(ns string) bool {
		for _, n := range nss {
			if n == ns {
				return true
			}
		}
		return false
	}
}

// specs indexes rendered policies by namespace/name.
func specs(t *testing.T, gs []policy.Generated) map[string]networkingv1.NetworkPolicySpec {
	t.Helper()
	out := map[string]networkingv1.NetworkPolicySpec{}
	for _, g := range gs {
		k := g.Policy.Namespace + "/" + g.Policy.Name
		_, dup := out[k]
		require.False(t, dup, "two policies named %s", k)
		out[k] = g.Policy.Spec
	}
	return out
}

func find(t *testing.T, gs []policy.Generated, ns, name string) networkingv1.NetworkPolicy {
	t.Helper()
	for _, g := range gs {
		if g.Policy.Namespace == ns && g.Policy.Name == name {
			return g.Policy
		}
	}
	require.Failf(t, "policy not rendered", "%s/%s not among %v", ns, name, policyNames(gs))
	return networkingv1.NetworkPolicy{}
}

func policyNames(gs []policy.Generated) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Policy.Namespace+"/"+g.Policy.Name)
	}
	sort.Strings(out)
	return out
}

func ports(ps ...int32) []networkingv1.NetworkPolicyPort {
	out := []networkingv1.NetworkPolicyPort{}
	for _, p := range ps {
		out = append(out, policy.Port("TCP", p))
	}
	return out
}

func sel(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func ingressSpec(podSel map[string]string, rules ...networkingv1.NetworkPolicyIngressRule) networkingv1.NetworkPolicySpec {
	return networkingv1.NetworkPolicySpec{PodSelector: policy.Selector(podSel), Ingress: rules, PolicyTypes: []networkingv1.PolicyType{policy.Ingress}}
}

func egressSpec(podSel map[string]string, rules ...networkingv1.NetworkPolicyEgressRule) networkingv1.NetworkPolicySpec {
	return networkingv1.NetworkPolicySpec{PodSelector: policy.Selector(podSel), Egress: rules, PolicyTypes: []networkingv1.PolicyType{policy.Egress}}
}

func peers(ps ...networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicyPeer { return ps }

func TestRender(t *testing.T) {
	web := deployment("shop", "web", sel("app", "web"))
	worker := deployment("shop", "worker", sel("app", "worker"))
	api := deployment("shop", "api", sel("app", "api"))
	front := deployment("front", "web", sel("app", "web"))
	anywhere := graph.Endpoint{Kind: graph.Anywhere, Name: "any source"}
	both := graph.Options{IngressDenied: true, EgressDenied: true, InScope: inScope("shop", "front")}
	allNS := map[string]string{}

	tests := map[string]struct {
		edges []graph.Edge
		opt   graph.Options
		want  map[string]networkingv1.NetworkPolicySpec
	}{
		"one edge gives an ingress policy for the destination and an egress policy for the source": {
			edges: []graph.Edge{{From: web, To: api, Ports: ports(8080), Reason: "r"}},
			opt:   both,
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-ingress": ingressSpec(sel("app", "api"), networkingv1.NetworkPolicyIngressRule{From: peers(policy.Pods(sel("app", "web"))), Ports: ports(8080)}),
				"shop/web-egress":  egressSpec(sel("app", "web"), networkingv1.NetworkPolicyEgressRule{To: peers(policy.Pods(sel("app", "api"))), Ports: ports(8080)}),
			},
		},
		"two sources on the same ports share one rule, peers sorted": {
			edges: []graph.Edge{
				{From: worker, To: api, Ports: ports(8080), Reason: "b"},
				{From: web, To: api, Ports: ports(8080), Reason: "a"},
			},
			opt: graph.Options{IngressDenied: true, InScope: inScope("shop")},
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-ingress": ingressSpec(sel("app", "api"), networkingv1.NetworkPolicyIngressRule{
					From: peers(policy.Pods(sel("app", "web")), policy.Pods(sel("app", "worker"))), Ports: ports(8080)}),
			},
		},
		"other ports make another rule": {
			edges: []graph.Edge{
				{From: web, To: api, Ports: ports(8080)},
				{From: worker, To: api, Ports: ports(9090)},
			},
			opt: graph.Options{IngressDenied: true, InScope: inScope("shop")},
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-ingress": ingressSpec(sel("app", "api"),
					networkingv1.NetworkPolicyIngressRule{From: peers(policy.Pods(sel("app", "web"))), Ports: ports(8080)},
					networkingv1.NetworkPolicyIngressRule{From: peers(policy.Pods(sel("app", "worker"))), Ports: ports(9090)}),
			},
		},
		"ports are sorted and deduplicated": {
			edges: []graph.Edge{{From: web, To: api, Ports: ports(8080, 80, 8080)}},
			opt:   graph.Options{IngressDenied: true, InScope: inScope("shop")},
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-ingress": ingressSpec(sel("app", "api"), networkingv1.NetworkPolicyIngressRule{From: peers(policy.Pods(sel("app", "web"))), Ports: ports(80, 8080)}),
			},
		},
		"peers of different shapes never share a rule": {
			edges: []graph.Edge{
				{From: web, To: api, Ports: ports(8080)},
				{From: graph.Endpoint{Kind: graph.Pods, Namespace: "monitoring"}, To: api, Ports: ports(8080)},
				{From: graph.Endpoint{Kind: graph.Pods, Namespace: "monitoring", Selector: sel("app", "prometheus")}, To: api, Ports: ports(8080)},
				{From: graph.Endpoint{Kind: graph.CIDR, CIDR: "10.0.0.0/8"}, To: api, Ports: ports(8080)},
			},
			opt: graph.Options{IngressDenied: true, InScope: inScope("shop")},
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-ingress": ingressSpec(sel("app", "api"),
					networkingv1.NetworkPolicyIngressRule{From: peers(policy.CIDR("10.0.0.0/8")), Ports: ports(8080)},
					networkingv1.NetworkPolicyIngressRule{From: peers(policy.Namespace("monitoring")), Ports: ports(8080)},
					networkingv1.NetworkPolicyIngressRule{From: peers(policy.PodsInNamespace("monitoring", sel("app", "prometheus"))), Ports: ports(8080)},
					networkingv1.NetworkPolicyIngressRule{From: peers(policy.Pods(sel("app", "web"))), Ports: ports(8080)}),
			},
		},
		"anywhere gives a rule with no from and no to": {
			edges: []graph.Edge{
				{From: anywhere, To: api, Ports: ports(9443)},
				{From: api, To: graph.Endpoint{Kind: graph.Anywhere, Name: "the node"}, Ports: ports(8125)},
			},
			opt: both,
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-ingress": ingressSpec(sel("app", "api"), networkingv1.NetworkPolicyIngressRule{Ports: ports(9443)}),
				"shop/api-egress":  egressSpec(sel("app", "api"), networkingv1.NetworkPolicyEgressRule{Ports: ports(8125)}),
			},
		},
		"anywhere beside a pod peer on the same port stays a rule of its own": {
			edges: []graph.Edge{
				{From: web, To: api, Ports: ports(8080)},
				{From: anywhere, To: api, Ports: ports(8080)},
			},
			opt: graph.Options{IngressDenied: true, InScope: inScope("shop")},
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-ingress": ingressSpec(sel("app", "api"),
					networkingv1.NetworkPolicyIngressRule{Ports: ports(8080)},
					networkingv1.NetworkPolicyIngressRule{From: peers(policy.Pods(sel("app", "web"))), Ports: ports(8080)}),
			},
		},
		"no ports is every port": {
			edges: []graph.Edge{{From: web, To: api}},
			opt:   graph.Options{IngressDenied: true, InScope: inScope("shop")},
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-ingress": ingressSpec(sel("app", "api"), networkingv1.NetworkPolicyIngressRule{From: peers(policy.Pods(sel("app", "web"))), Ports: ports()}),
			},
		},
		"only the denied direction": {
			edges: []graph.Edge{{From: web, To: api, Ports: ports(8080)}},
			opt:   graph.Options{EgressDenied: true, InScope: inScope("shop")},
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/web-egress": egressSpec(sel("app", "web"), networkingv1.NetworkPolicyEgressRule{To: peers(policy.Pods(sel("app", "api"))), Ports: ports(8080)}),
			},
		},
		"a source out of scope gets nothing, its peer names its namespace": {
			edges: []graph.Edge{{From: front, To: api, Ports: ports(8080)}},
			opt:   graph.Options{IngressDenied: true, EgressDenied: true, InScope: inScope("shop")},
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-ingress": ingressSpec(sel("app", "api"), networkingv1.NetworkPolicyIngressRule{From: peers(policy.PodsInNamespace("front", sel("app", "web"))), Ports: ports(8080)}),
			},
		},
		"pods of every namespace: an empty namespace selector beside the pod selector": {
			edges: []graph.Edge{{From: graph.Endpoint{Kind: graph.Pods, NamespaceLabels: allNS, Selector: sel("app", "prometheus")}, To: api, Ports: ports(9090)}},
			opt:   both,
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-ingress": ingressSpec(sel("app", "api"), networkingv1.NetworkPolicyIngressRule{
					From: peers(networkingv1.NetworkPolicyPeer{NamespaceSelector: ptr(policy.Selector(nil)), PodSelector: ptr(policy.Selector(sel("app", "prometheus")))}), Ports: ports(9090)}),
			},
		},
		"every pod of labelled namespaces": {
			edges: []graph.Edge{{From: api, To: graph.Endpoint{Kind: graph.Pods, NamespaceLabels: sel("team", "data")}, Ports: ports(5432)}},
			opt:   both,
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-egress": egressSpec(sel("app", "api"), networkingv1.NetworkPolicyEgressRule{
					To: peers(networkingv1.NetworkPolicyPeer{NamespaceSelector: ptr(policy.Selector(sel("team", "data")))}), Ports: ports(5432)}),
			},
		},
		"a cidr with excepts": {
			edges: []graph.Edge{{From: api, To: graph.Endpoint{Kind: graph.CIDR, CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}}, Ports: ports(443)}},
			opt:   both,
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-egress": egressSpec(sel("app", "api"), networkingv1.NetworkPolicyEgressRule{To: peers(policy.CIDR("0.0.0.0/0", "10.0.0.0/8")), Ports: ports(443)}),
			},
		},
		"SkipIngress writes the egress side only": {
			edges: []graph.Edge{{From: web, To: api, Ports: ports(8080), SkipIngress: true}},
			opt:   both,
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/web-egress": egressSpec(sel("app", "web"), networkingv1.NetworkPolicyEgressRule{To: peers(policy.Pods(sel("app", "api"))), Ports: ports(8080)}),
			},
		},
		"SkipEgress writes the ingress side only": {
			edges: []graph.Edge{{From: web, To: api, Ports: ports(8080), SkipEgress: true}},
			opt:   both,
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-ingress": ingressSpec(sel("app", "api"), networkingv1.NetworkPolicyIngressRule{From: peers(policy.Pods(sel("app", "web"))), Ports: ports(8080)}),
			},
		},
		"an HTTP edge has no plain ingress side": {
			edges: []graph.Edge{{From: web, To: api, Ports: ports(8080), HTTP: []graph.HTTPRule{{Method: "GET"}}}},
			opt:   both,
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/web-egress": egressSpec(sel("app", "web"), networkingv1.NetworkPolicyEgressRule{To: peers(policy.Pods(sel("app", "api"))), Ports: ports(8080)}),
			},
		},
		"SkipAPIServer leaves out the egress of API server edges": {
			edges: []graph.Edge{
				{From: api, To: graph.Endpoint{Kind: graph.Anywhere, Name: "kube-apiserver"}, Ports: ports(443), APIServer: true, SkipIngress: true, Policy: "kube-api"},
				{From: api, To: web, Ports: ports(80)},
			},
			opt: graph.Options{IngressDenied: true, EgressDenied: true, InScope: inScope("shop"), SkipAPIServer: true},
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-egress":  egressSpec(sel("app", "api"), networkingv1.NetworkPolicyEgressRule{To: peers(policy.Pods(sel("app", "web"))), Ports: ports(80)}),
				"shop/web-ingress": ingressSpec(sel("app", "web"), networkingv1.NetworkPolicyIngressRule{From: peers(policy.Pods(sel("app", "api"))), Ports: ports(80)}),
			},
		},
		"an API server edge without SkipAPIServer gets a policy of its own": {
			edges: []graph.Edge{
				{From: api, To: graph.Endpoint{Kind: graph.CIDR, CIDR: "10.0.0.1/32"}, Ports: ports(443), APIServer: true, SkipIngress: true, Policy: "kube-api"},
				{From: api, To: web, Ports: ports(80), SkipIngress: true},
			},
			opt: both,
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-kube-api": egressSpec(sel("app", "api"), networkingv1.NetworkPolicyEgressRule{To: peers(policy.CIDR("10.0.0.1/32")), Ports: ports(443)}),
				"shop/api-egress":   egressSpec(sel("app", "api"), networkingv1.NetworkPolicyEgressRule{To: peers(policy.Pods(sel("app", "web"))), Ports: ports(80)}),
			},
		},
		"an ingress policy of its own": {
			edges: []graph.Edge{{From: anywhere, To: api, Ports: ports(9443), Policy: "webhook", SkipEgress: true}},
			opt:   both,
			want: map[string]networkingv1.NetworkPolicySpec{
				"shop/api-webhook": ingressSpec(sel("app", "api"), networkingv1.NetworkPolicyIngressRule{Ports: ports(9443)}),
			},
		},
		"neither end selectable: nothing": {
			edges: []graph.Edge{{From: graph.Endpoint{Kind: graph.CIDR, CIDR: "10.0.0.0/8"}, To: anywhere, Ports: ports(80)}},
			opt:   both,
			want:  map[string]networkingv1.NetworkPolicySpec{},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			gs, results := graph.Render(tc.edges, tc.opt)
			assert.Empty(t, results)
			assert.Equal(t, tc.want, specs(t, gs))
			for _, g := range gs {
				assert.Equal(t, manifest.ManagedByValue, g.Policy.Labels[manifest.ManagedByLabel], g.Policy.Name)
				assert.Equal(t, "networking.k8s.io/v1", g.Policy.APIVersion)
				assert.Equal(t, "NetworkPolicy", g.Policy.Kind)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestRenderAnnotations(t *testing.T) {
	web := deployment("shop", "web", sel("app", "web"))
	api := deployment("shop", "api", sel("app", "api"))
	opt := graph.Options{IngressDenied: true, EgressDenied: true, InScope: inScope("shop")}
	tests := map[string]struct {
		edges      []graph.Edge
		policy     string
		wantReason string
		// wantSource and wantWide are the annotations' values, "" for none.
		wantSource, wantWide string
	}{
		"ingress reason lists the reasons sorted and deduplicated": {
			edges: []graph.Edge{
				{From: web, To: api, Ports: ports(8080), Reason: "tier chain"},
				{From: web, To: api, Ports: ports(8081), Reason: "an allow"},
				{From: web, To: api, Ports: ports(8082), Reason: "tier chain"},
			},
			policy:     "api-ingress",
			wantReason: "least privilege for Deployment shop/api: it may be reached by only what these allow: an allow; tier chain",
		},
		"egress reason": {
			edges:      []graph.Edge{{From: web, To: api, Ports: ports(8080), Reason: "tier chain"}},
			policy:     "web-egress",
			wantReason: "least privilege for Deployment shop/web: it may reach only what these allow: tier chain",
		},
		"sources are joined sorted": {
			edges: []graph.Edge{
				{From: web, To: api, Ports: ports(8080), Reason: "a", Source: "tiers"},
				{From: web, To: api, Ports: ports(8081), Reason: "b", Source: "allows"},
				{From: web, To: api, Ports: ports(8082), Reason: "c", Source: "tiers"},
				{From: web, To: api, Ports: ports(8083), Reason: "d"},
			},
			policy:     "api-ingress",
			wantReason: "least privilege for Deployment shop/api: it may be reached by only what these allow: a; b; c; d",
			wantSource: "allows,tiers",
		},
		"wide check ids": {
			edges: []graph.Edge{
				{From: web, To: graph.Endpoint{Kind: graph.Anywhere}, Ports: ports(443), Reason: "api", Source: "rbac", Wide: "api-egress-unscoped", Policy: "kube-api"},
				{From: web, To: graph.Endpoint{Kind: graph.Anywhere}, Ports: ports(6443), Reason: "api", Source: "needs-api", Wide: "api-egress-unscoped", Policy: "kube-api"},
			},
			policy:     "web-kube-api",
			wantReason: "least privilege for Deployment shop/web: it may reach only what these allow: api",
			wantSource: "needs-api,rbac",
			wantWide:   "api-egress-unscoped",
		},
		"a policy of its own keeps its annotations apart": {
			edges: []graph.Edge{
				{From: web, To: graph.Endpoint{Kind: graph.Anywhere}, Ports: ports(443), Reason: "api", Source: "rbac", Wide: "api-egress-unscoped", Policy: "kube-api"},
				{From: web, To: api, Ports: ports(8080), Reason: "tier", Source: "tiers"},
			},
			policy:     "web-egress",
			wantReason: "least privilege for Deployment shop/web: it may reach only what these allow: tier",
			wantSource: "tiers",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			gs, _ := graph.Render(tc.edges, opt)
			p := find(t, gs, "shop", tc.policy)
			assert.Equal(t, tc.wantReason, p.Annotations[manifest.ReasonAnnotation])
			src, hasSrc := p.Annotations[manifest.SourceAnnotation]
			assert.Equal(t, tc.wantSource != "", hasSrc)
			assert.Equal(t, tc.wantSource, src)
			wide, hasWide := p.Annotations[manifest.WideAnnotation]
			assert.Equal(t, tc.wantWide != "", hasWide)
			assert.Equal(t, tc.wantWide, wide)
		})
	}
}

func TestRenderHooks(t *testing.T) {
	hook := func(ann map[string]string) graph.Endpoint {
		w := &workload.Workload{Namespace: "shop", Name: "migrate", Kind: "Job", Selector: sel("job", "migrate"),
			Object: manifest.Object{Kind: "Job", Name: "migrate", Annotations: ann}}
		return graph.FromWorkload(w, "")
	}
	db := deployment("shop", "db", sel("app", "db"))
	tests := map[string]struct {
		annotations map[string]string
		hooks       bool
		// want are the hook annotations of the Job's egress policy (nil: none).
		want map[string]string
	}{
		"a hook's policy is a hook one weight lower": {
			annotations: map[string]string{graph.HookAnnotation: "pre-install,pre-upgrade", graph.HookWeightAnnotation: "5"},
			hooks:       true,
			want: map[string]string{graph.HookAnnotation: "pre-install,pre-upgrade", graph.HookWeightAnnotation: "4",
				graph.HookDeletePolicyAnnotation: "before-hook-creation"},
		},
		"no weight is weight 0": {
			annotations: map[string]string{graph.HookAnnotation: "post-install"},
			hooks:       true,
			want: map[string]string{graph.HookAnnotation: "post-install", graph.HookWeightAnnotation: "-1",
				graph.HookDeletePolicyAnnotation: "before-hook-creation"},
		},
		"a negative weight with spaces": {
			annotations: map[string]string{graph.HookAnnotation: "pre-install", graph.HookWeightAnnotation: " -3 "},
			hooks:       true,
			want: map[string]string{graph.HookAnnotation: "pre-install", graph.HookWeightAnnotation: "-4",
				graph.HookDeletePolicyAnnotation: "before-hook-creation"},
		},
		"the workload's own delete policy is replaced": {
			annotations: map[string]string{graph.HookAnnotation: "pre-install", graph.HookDeletePolicyAnnotation: "hook-succeeded"},
			hooks:       true,
			want: map[string]string{graph.HookAnnotation: "pre-install", graph.HookWeightAnnotation: "-1",
				graph.HookDeletePolicyAnnotation: "before-hook-creation"},
		},
		"without Options.Hooks": {
			annotations: map[string]string{graph.HookAnnotation: "pre-install", graph.HookWeightAnnotation: "5"},
			hooks:       false,
		},
		"not a hook": {
			annotations: map[string]string{"example.com/other": "x"},
			hooks:       true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			gs, _ := graph.Render([]graph.Edge{{From: hook(tc.annotations), To: db, Ports: ports(5432)}},
				graph.Options{IngressDenied: true, EgressDenied: true, InScope: inScope("shop"), Hooks: tc.hooks})
			got := map[string]string{}
			for k, v := range find(t, gs, "shop", "migrate-egress").Annotations {
				if strings.HasPrefix(k, "helm.sh/") {
					got[k] = v
				}
			}
			if tc.want == nil {
				tc.want = map[string]string{}
			}
			assert.Equal(t, tc.want, got)
			// The destination is no hook: its policy never is.
			for k := range find(t, gs, "shop", "db-ingress").Annotations {
				assert.False(t, strings.HasPrefix(k, "helm.sh/"), k)
			}
		})
	}
}

func TestRenderNames(t *testing.T) {
	webDeploy := deployment("shop", "web", sel("app", "web"))
	webSTS := graph.FromWorkload(&workload.Workload{Namespace: "shop", Name: "web", Kind: "StatefulSet", Selector: sel("app", "web-cache")}, "")
	webOther := deployment("blog", "web", sel("app", "web"))
	api := deployment("shop", "api", sel("app", "api"))
	opt := graph.Options{IngressDenied: true, EgressDenied: true, InScope: inScope("shop", "blog")}
	tests := map[string]struct {
		edges []graph.Edge
		want  []string
	}{
		"two workloads of one name get their kind": {
			edges: []graph.Edge{
				{From: api, To: webDeploy, Ports: ports(80)},
				{From: api, To: webSTS, Ports: ports(6379)},
			},
			want: []string{"shop/api-egress", "shop/web-deployment-ingress", "shop/web-statefulset-ingress"},
		},
		"one name in two namespaces needs no kind": {
			edges: []graph.Edge{
				{From: webOther, To: api, Ports: ports(80)},
				{From: webDeploy, To: api, Ports: ports(80)},
			},
			want: []string{"blog/web-egress", "shop/api-ingress", "shop/web-egress"},
		},
		"a policy of its own beside a namesake's ordinary policies gets the kind too": {
			edges: []graph.Edge{
				{From: api, To: webDeploy, Ports: ports(80)},
				{From: api, To: webSTS, Ports: ports(6379)},
				{From: webSTS, To: graph.Endpoint{Kind: graph.Anywhere}, Ports: ports(443), Policy: "kube-api", SkipIngress: true},
			},
			want: []string{"shop/api-egress", "shop/web-deployment-ingress", "shop/web-statefulset-ingress", "shop/web-statefulset-kube-api"},
		},
		"a policy of its own of a unique workload keeps the plain name": {
			edges: []graph.Edge{
				{From: api, To: webDeploy, Ports: ports(80)},
				{From: webDeploy, To: graph.Endpoint{Kind: graph.Anywhere}, Ports: ports(443), Policy: "kube-api", SkipIngress: true},
			},
			want: []string{"shop/api-egress", "shop/web-ingress", "shop/web-kube-api"},
		},
		"a long name is hashed to 63 characters": {
			edges: []graph.Edge{{From: api, To: deployment("shop", strings.Repeat("a", 60), sel("app", "long")), Ports: ports(80)}},
			want:  []string{"shop/" + strings.Repeat("a", 54) + "-" + policy.Name(strings.Repeat("a", 60) + "-ingress")[55:], "shop/api-egress"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			gs, _ := graph.Render(tc.edges, opt)
			assert.Equal(t, tc.want, policyNames(gs))
			for _, g := range gs {
				assert.LessOrEqual(t, len(g.Policy.Name), policy.MaxNameLength)
			}
		})
	}
}

// TestRenderNamesOfPods: label-selected subjects of one name (a configured
// name shared by two selectors) are told apart by a short hash of their
// selector, stable across runs.
func TestRenderNamesOfPods(t *testing.T) {
	a := graph.Endpoint{Kind: graph.Pods, Namespace: "shop", Selector: sel("app", "a"), Name: "tier-entry"}
	b := graph.Endpoint{Kind: graph.Pods, Namespace: "shop", Selector: sel("app", "b"), Name: "tier-entry"}
	api := deployment("shop", "api", sel("app", "api"))
	edges := []graph.Edge{{From: a, To: api, Ports: ports(80)}, {From: b, To: api, Ports: ports(80)}}
	opt := graph.Options{EgressDenied: true, InScope: inScope("shop")}
	gs, _ := graph.Render(edges, opt)
	require.Len(t, gs, 2)
	names := policyNames(gs)
	for _, n := range names {
		assert.Regexp(t, `^shop/tier-entry-[0-9a-f]{8}-egress$`, n)
	}
	assert.NotEqual(t, names[0], names[1])
	again, _ := graph.Render([]graph.Edge{edges[1], edges[0]}, opt)
	assert.Equal(t, names, policyNames(again), "names do not depend on the order of the edges")
}

func TestRenderUnnamedReleaseNamespace(t *testing.T) {
	release := deployment("", "web", sel("app", "web"))
	shop := deployment("shop", "api", sel("app", "api"))
	opt := graph.Options{IngressDenied: true, EgressDenied: true, InScope: inScope("", "shop")}
	tests := map[string]struct {
		edge     graph.Edge
		want     []string
		warnings []string
	}{
		"from the release namespace into a named one: only the egress side": {
			edge: graph.Edge{From: release, To: shop, Ports: ports(8080)},
			want: []string{"/web-egress"},
			warnings: []string{"cannot write the allow Deployment (release namespace)/web -> Deployment shop/api across namespaces: " +
				"the release namespace has no name (set spec.namespace, or --namespace for the post-renderer)"},
		},
		"from a named namespace into the release namespace: only the ingress side": {
			edge: graph.Edge{From: shop, To: release, Ports: ports(80)},
			want: []string{"/web-ingress"},
			warnings: []string{"cannot write the allow Deployment shop/api -> Deployment (release namespace)/web across namespaces: " +
				"the release namespace has no name (set spec.namespace, or --namespace for the post-renderer)"},
		},
		"within the release namespace: both sides, no warning": {
			edge: graph.Edge{From: release, To: deployment("", "api", sel("app", "api")), Ports: ports(8080)},
			want: []string{"/api-ingress", "/web-egress"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			gs, results := graph.Render([]graph.Edge{tc.edge}, opt)
			assert.Equal(t, tc.want, policyNames(gs))
			assert.Equal(t, tc.warnings, messages(results, framework.Warning))
			for _, r := range results {
				require.NotNil(t, r.Field)
				assert.Equal(t, "spec.namespace", r.Field.Path)
			}
		})
	}
	// The egress side from the release namespace names the destination's namespace.
	gs, _ := graph.Render([]graph.Edge{{From: release, To: shop, Ports: ports(8080)}}, opt)
	assert.Equal(t, peers(policy.PodsInNamespace("shop", sel("app", "api"))), find(t, gs, "", "web-egress").Spec.Egress[0].To)
}

func messages(rs framework.Results, sev framework.Severity) []string {
	var out []string
	for _, r := range rs {
		if r.Severity == sev {
			out = append(out, r.Message)
		}
	}
	return out
}
