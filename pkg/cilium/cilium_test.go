package cilium_test

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/cilium"
	"github.com/tierwall/tierwall/pkg/emit"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/workload"
)

func deployment(ns, name string, sel map[string]string) graph.Endpoint {
	return graph.FromWorkload(&workload.Workload{Namespace: ns, Name: name, Kind: "Deployment", Selector: sel, PodLabels: sel}, "")
}

func ports(ps ...int32) []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for _, p := range ps {
		out = append(out, policy.Port("TCP", p))
	}
	return out
}

func inShop(ns string) bool { return ns == "shop" }

var (
	web = deployment("shop", "web", map[string]string{"app": "web"})
	api = deployment("shop", "api", map[string]string{"app": "api"})
)

// rendered writes each object as "namespace/name" -> its spec in YAML.
func rendered(t *testing.T, objs []emit.Object) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range objs {
		assert.Equal(t, cilium.Kind, o.Kind)
		assert.Equal(t, cilium.APIVersion, manifest.String(o.Node, "apiVersion"))
		assert.Equal(t, o.Name, manifest.String(o.Node, "metadata", "name"))
		assert.Equal(t, o.Namespace, manifest.String(o.Node, "metadata", "namespace"))
		assert.Equal(t, manifest.ManagedByValue, manifest.String(o.Node, "metadata", "labels", manifest.ManagedByLabel))
		k := o.Namespace + "/" + o.Name
		_, dup := out[k]
		require.False(t, dup, "two objects named %s", k)
		out[k] = emit.String(manifest.Lookup(o.Node, "spec"))
	}
	return out
}

func messages(rs framework.Results) []string {
	var out []string
	for _, r := range rs {
		out = append(out, string(r.Severity)+": "+r.Message)
	}
	return out
}

func TestRender(t *testing.T) {
	httpEdge := graph.Edge{From: web, To: api, Ports: ports(8080), Reason: "r",
		HTTP: []graph.HTTPRule{{Method: "GET", Path: "/v1/.*"}, {Method: "POST", Path: "/v1/orders", Host: "api.example.com"}}}
	apiEdge := graph.Edge{From: api, To: graph.Endpoint{Kind: graph.Anywhere, Name: "kube-apiserver"}, Ports: ports(443, 6443),
		APIServer: true, Policy: "kube-api", SkipIngress: true, Reason: "rbac: it needs the API server"}
	fqdn := graph.FQDNEgress{From: api, Ports: ports(443), Reason: "f",
		Hosts: []v1alpha1.FQDN{{MatchName: "api.github.com"}, {MatchPattern: "*.githubusercontent.com"}}}
	const dnsRule = `- toEndpoints:
  - matchLabels:
      k8s:io.kubernetes.pod.namespace: kube-system
      k8s:k8s-app: kube-dns
  toPorts:
  - ports:
    - port: "53"
      protocol: ANY
    rules:
      dns:
      - matchPattern: '*'
`
	tests := map[string]struct {
		config      func(s *v1alpha1.Spec)
		edges       []graph.Edge
		fqdn        []graph.FQDNEgress
		want        map[string]string
		wantResults []string
	}{
		"the kubernetes flavour writes nothing": {
			edges: []graph.Edge{httpEdge, apiEdge},
			fqdn:  []graph.FQDNEgress{fqdn},
			want:  map[string]string{},
		},
		"L7 HTTP rules in place of the plain ingress": {
			config: func(s *v1alpha1.Spec) { s.Flavor = v1alpha1.FlavorCilium },
			edges:  []graph.Edge{httpEdge},
			want: map[string]string{"shop/api-l7-ingress": `endpointSelector:
  matchLabels:
    app: api
ingress:
- fromEndpoints:
  - matchLabels:
      app: web
  toPorts:
  - ports:
    - port: "8080"
      protocol: TCP
    rules:
      http:
      - method: GET
        path: /v1/.*
      - method: POST
        path: /v1/orders
        host: api.example.com
`},
		},
		"HTTP rules from another namespace name it": {
			config: func(s *v1alpha1.Spec) { s.Flavor = v1alpha1.FlavorCilium },
			edges: []graph.Edge{{From: graph.Endpoint{Kind: graph.Pods, Namespace: "edge", Selector: map[string]string{"app": "gw"}}, To: api, Ports: ports(8080),
				HTTP: []graph.HTTPRule{{Path: "/healthz"}}}},
			want: map[string]string{"shop/api-l7-ingress": `endpointSelector:
  matchLabels:
    app: api
ingress:
- fromEndpoints:
  - matchLabels:
      app: gw
      k8s:io.kubernetes.pod.namespace: edge
  toPorts:
  - ports:
    - port: "8080"
      protocol: TCP
    rules:
      http:
      - path: /healthz
`},
		},
		"HTTP rules without an ingress default-deny are not written": {
			config: func(s *v1alpha1.Spec) {
				s.Flavor = v1alpha1.FlavorCilium
				s.DefaultDeny.Ingress = new(bool)
			},
			edges:       []graph.Edge{httpEdge},
			want:        map[string]string{},
			wantResults: []string{"warning: HTTP rules for Deployment shop/api not written: ingress is not default-denied, so they would only restrict it"},
		},
		"HTTP rules of a namespace out of scope are not written": {
			config: func(s *v1alpha1.Spec) { s.Flavor = v1alpha1.FlavorCilium },
			edges:  []graph.Edge{{From: web, To: deployment("other", "api", map[string]string{"app": "api"}), Ports: ports(80), HTTP: []graph.HTTPRule{{Method: "GET"}}}},
			want:   map[string]string{},
		},
		"FQDN egress with the DNS rule": {
			config: func(s *v1alpha1.Spec) { s.Flavor = v1alpha1.FlavorCilium },
			fqdn:   []graph.FQDNEgress{fqdn},
			want: map[string]string{"shop/api-fqdn-egress": `endpointSelector:
  matchLabels:
    app: api
egress:
- toFQDNs:
  - matchName: api.github.com
  - matchPattern: '*.githubusercontent.com'
  toPorts:
  - ports:
    - port: "443"
      protocol: TCP
` + dnsRule},
		},
		"FQDN egress of one source on two ports is one policy": {
			config: func(s *v1alpha1.Spec) { s.Flavor = v1alpha1.FlavorCilium },
			fqdn: []graph.FQDNEgress{
				{From: api, Ports: ports(443), Hosts: []v1alpha1.FQDN{{MatchName: "a.example.com"}}},
				{From: api, Ports: ports(8443), Hosts: []v1alpha1.FQDN{{MatchName: "b.example.com"}}},
			},
			want: map[string]string{"shop/api-fqdn-egress": `endpointSelector:
  matchLabels:
    app: api
egress:
- toFQDNs:
  - matchName: a.example.com
  toPorts:
  - ports:
    - port: "443"
      protocol: TCP
- toFQDNs:
  - matchName: b.example.com
  toPorts:
  - ports:
    - port: "8443"
      protocol: TCP
` + dnsRule},
		},
		"FQDN egress with node-local DNS adds its address": {
			config: func(s *v1alpha1.Spec) {
				s.Flavor = v1alpha1.FlavorCilium
				s.DNS.Profile = v1alpha1.DNSProfileNodeLocal
			},
			fqdn: []graph.FQDNEgress{{From: api, Ports: ports(443), Hosts: []v1alpha1.FQDN{{MatchName: "api.github.com"}}}},
			want: map[string]string{"shop/api-fqdn-egress": `endpointSelector:
  matchLabels:
    app: api
egress:
- toFQDNs:
  - matchName: api.github.com
  toPorts:
  - ports:
    - port: "443"
      protocol: TCP
` + dnsRule + `- toCIDR:
  - "169.254.20.10/32"
  toPorts:
  - ports:
    - port: "53"
      protocol: ANY
    rules:
      dns:
      - matchPattern: '*'
`},
		},
		"FQDN egress without an egress default-deny is not written": {
			config: func(s *v1alpha1.Spec) {
				s.Flavor = v1alpha1.FlavorCilium
				s.DefaultDeny.Egress = new(bool)
			},
			fqdn:        []graph.FQDNEgress{fqdn},
			want:        map[string]string{},
			wantResults: []string{"warning: FQDN egress for Deployment shop/api not written: egress is not default-denied, so it would only restrict it"},
		},
		"an API server edge becomes the kube-apiserver entity": {
			config: func(s *v1alpha1.Spec) { s.Flavor = v1alpha1.FlavorCilium },
			edges:  []graph.Edge{apiEdge, apiEdge},
			want: map[string]string{"shop/api-kube-api": `endpointSelector:
  matchLabels:
    app: api
egress:
- toEntities:
  - kube-apiserver
  toPorts:
  - ports:
    - port: "443"
      protocol: TCP
    - port: "6443"
      protocol: TCP
`},
		},
		"an API server edge without an egress default-deny is not written": {
			config: func(s *v1alpha1.Spec) {
				s.Flavor = v1alpha1.FlavorCilium
				s.DefaultDeny.Egress = new(bool)
			},
			edges: []graph.Edge{apiEdge},
			want:  map[string]string{},
		},
		"plain edges are no Cilium policy": {
			config: func(s *v1alpha1.Spec) { s.Flavor = v1alpha1.FlavorCilium },
			edges:  []graph.Edge{{From: web, To: api, Ports: ports(8080)}},
			want:   map[string]string{},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := &v1alpha1.Spec{}
			if tc.config != nil {
				tc.config(spec)
			}
			spec.Default()
			objs, results := cilium.Render(cilium.Input{Spec: spec, Edges: tc.edges, FQDN: tc.fqdn, InScope: inShop, Namespaces: []string{"shop"}})
			assert.Equal(t, tc.want, rendered(t, objs))
			assert.Equal(t, tc.wantResults, messages(results))
		})
	}
}

func TestRenderReasons(t *testing.T) {
	spec := &v1alpha1.Spec{Flavor: v1alpha1.FlavorCilium}
	spec.Default()
	objs, _ := cilium.Render(cilium.Input{Spec: spec, InScope: inShop,
		Edges: []graph.Edge{
			{From: web, To: api, Ports: ports(8080), Reason: "b", HTTP: []graph.HTTPRule{{Method: "GET"}}},
			{From: web, To: api, Ports: ports(8080), Reason: "a", HTTP: []graph.HTTPRule{{Method: "PUT"}}},
			{From: api, To: graph.Endpoint{Kind: graph.Anywhere}, Ports: ports(443), APIServer: true, Reason: "rbac"},
		},
		FQDN: []graph.FQDNEgress{{From: web, Ports: ports(443), Reason: "f", Hosts: []v1alpha1.FQDN{{MatchName: "x.example.com"}}}},
	})
	reasons := map[string]string{}
	for _, o := range objs {
		reasons[o.Name] = manifest.String(o.Node, "metadata", "annotations", manifest.ReasonAnnotation)
	}
	assert.Equal(t, map[string]string{
		"api-l7-ingress":  "cilium flavour: L7 HTTP allow-list for Deployment shop/api, in place of a plain L4 allow that would make it moot: a; b",
		"api-kube-api":    "cilium flavour: Deployment shop/api reaches the API server as the kube-apiserver entity on TCP/443: rbac",
		"web-fqdn-egress": `cilium flavour: Deployment shop/web may reach host names, with the DNS rule (L7 dns matchPattern "*") on the same pods without which toFQDNs never matches: f (DNS from config spec.dns)`,
	}, reasons)
}

func TestRenderKubeAPI(t *testing.T) {
	tests := map[string]struct {
		podLabels map[string]string
		hasPods   func(ns string, labels map[string]string) bool
		want      []string
		selector  string
	}{
		"every pod of every namespace in scope": {
			want:     []string{"blog/allow-kube-api", "shop/allow-kube-api"},
			selector: "{}\n",
		},
		"selected pods, only where they are": {
			podLabels: map[string]string{"app": "operator"},
			hasPods:   func(ns string, _ map[string]string) bool { return ns == "blog" },
			want:      []string{"blog/allow-kube-api"},
			selector:  "matchLabels:\n  app: operator\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := &v1alpha1.Spec{Flavor: v1alpha1.FlavorCilium, KubeAPI: v1alpha1.KubeAPI{Enabled: true, PodLabels: tc.podLabels}}
			spec.Default()
			objs, results := cilium.Render(cilium.Input{Spec: spec, InScope: func(string) bool { return true },
				Namespaces: []string{"blog", "shop"}, HasPods: tc.hasPods})
			assert.Empty(t, results)
			var got []string
			for _, o := range objs {
				got = append(got, o.Namespace+"/"+o.Name)
				assert.Equal(t, tc.selector, emit.String(manifest.Lookup(o.Node, "spec", "endpointSelector")))
				assert.Equal(t, `- toEntities:
  - kube-apiserver
  toPorts:
  - ports:
    - port: "443"
      protocol: TCP
    - port: "6443"
      protocol: TCP
`, emit.String(manifest.Lookup(o.Node, "spec", "egress")))
			}
			sort.Strings(got)
			assert.Equal(t, tc.want, got)
		})
	}
}
