package fallback_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/fallback"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/infer"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/plumbing"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/scope"
	"github.com/tierwall/tierwall/pkg/service"
	"github.com/tierwall/tierwall/pkg/workload"
)

// input reads docs the way the engine does; edges are added by each case.
func input(t *testing.T, spec *v1alpha1.Spec, docs string) fallback.Input {
	t.Helper()
	nodes := testutil.Docs(t, []byte(docs))
	objs := make([]manifest.Object, len(nodes))
	for i, n := range nodes {
		objs[i] = manifest.FromNode(i, n)
	}
	set, _ := scope.Find(spec, objs)
	in := fallback.Input{Input: plumbing.Input{Spec: spec, Set: set, Objects: objs}}
	for _, o := range objs {
		ns, ok := set.Of[o.Index]
		if !ok {
			continue
		}
		if w, ok := workload.Extract(o, ns, nil); ok {
			in.Workloads = append(in.Workloads, w)
		} else if s, ok := service.Extract(o, ns); ok {
			in.Services = append(in.Services, s)
		}
	}
	return in
}

func workloadNamed(t *testing.T, in fallback.Input, name string) *workload.Workload {
	t.Helper()
	for i := range in.Workloads {
		if in.Workloads[i].Name == name {
			return &in.Workloads[i]
		}
	}
	require.FailNow(t, "no workload "+name)
	return nil
}

func edgeLine(e graph.Edge) string {
	attrs := []string{"source=" + e.Source}
	if e.Policy != "" {
		attrs = append(attrs, "policy="+e.Policy)
	}
	if e.Wide != "" {
		attrs = append(attrs, "wide="+e.Wide)
	}
	if e.SkipIngress {
		attrs = append(attrs, "skip-ingress")
	}
	if e.SkipEgress {
		attrs = append(attrs, "skip-egress")
	}
	return fmt.Sprintf("%s(%s) -> %s %s [%s]", e.From.Describe(), e.From.Name, e.To.Describe(), graph.PortsString(e.Ports), strings.Join(attrs, " "))
}

func edgeLines(edges []graph.Edge) []string {
	var out []string
	for _, e := range edges {
		out = append(out, edgeLine(e))
	}
	return out
}

// resultLines writes each finding with its check tag, if any.
func resultLines(rs framework.Results) []string {
	var out []string
	for _, r := range rs {
		s := string(r.Severity) + ": " + r.Message
		if c := r.Tags["check"]; c != "" {
			s += " [" + c + "]"
		}
		out = append(out, s)
	}
	return out
}

// shop holds api (pod ports http 8080 and metrics 9090) behind Service api
// (80 -> http, 9090 -> metrics) and web, which calls nobody.
const shop = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api, ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, ports: [{name: http, port: 80, targetPort: http}, {name: metrics, port: 9090, targetPort: metrics}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web}]}
`

const (
	fallbackIngress = "all pods in namespace shop(fallback) -> Deployment shop/api TCP/8080 [source=fallback policy=fallback-ingress wide=fallback-callers skip-egress]"
	fallbackEgress  = "all pods in namespace shop(fallback) -> Deployment shop/api TCP/8080 [source=fallback wide=fallback-callers skip-ingress]"
	fallbackWarning = "warning: fallback: 1 port(s) have no caller the manifests name, so each is open to the pods of its own namespace " +
		"(calls from other namespaces or written in code to the internet stay blocked): Deployment shop/api port 8080; " +
		"name the callers (tierwall.io/allow-from, spec.allows) or annotate tierwall.io/callers: none, and set spec.fallback.callers: none to make this an error [fallback-callers]"
)

func tcp(ps ...int32) []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for _, p := range ps {
		out = append(out, policy.Port("TCP", p))
	}
	return out
}

func TestDerive(t *testing.T) {
	tests := map[string]struct {
		config func(*v1alpha1.Spec)
		docs   string
		// edges returns the edges derived before the fallback.
		edges       func(in fallback.Input) []graph.Edge
		wantEdges   []string
		wantResults []string
		wantPorts   []string
	}{
		"an uncalled port: open to the namespace, in both directions": {
			docs:        shop,
			wantEdges:   []string{fallbackIngress, fallbackEgress},
			wantResults: []string{fallbackWarning},
			wantPorts:   []string{"Deployment api: Service shop/api port 80 -> pod port 8080"},
		},
		"a caller of the port": {
			docs: shop,
			edges: func(in fallback.Input) []graph.Edge {
				return []graph.Edge{{From: graph.FromWorkload(workloadNamed(t, in, "web"), ""), To: graph.FromWorkload(workloadNamed(t, in, "api"), ""), Ports: tcp(8080), Source: "tiers"}}
			},
		},
		"a caller by label on every port": {
			docs: shop,
			edges: func(in fallback.Input) []graph.Edge {
				return []graph.Edge{{From: graph.Endpoint{Kind: graph.Pods, Namespace: "other"}, To: graph.Endpoint{Kind: graph.Pods, Namespace: "shop", Selector: map[string]string{"app": "api"}}, Source: "allows"}}
			},
		},
		"a caller of a port by its name": {
			docs: shop,
			edges: func(in fallback.Input) []graph.Edge {
				return []graph.Edge{{From: graph.Endpoint{Kind: graph.Pods, Namespace: "shop"}, To: graph.FromWorkload(workloadNamed(t, in, "api"), ""),
					Ports: []networkingv1.NetworkPolicyPort{policy.NamedPort("TCP", "http")}, Source: "allows"}}
			},
		},
		"a caller of another port": {
			docs: shop,
			edges: func(in fallback.Input) []graph.Edge {
				return []graph.Edge{{From: graph.FromWorkload(workloadNamed(t, in, "web"), ""), To: graph.FromWorkload(workloadNamed(t, in, "api"), ""), Ports: tcp(8081), Source: "tiers"}}
			},
			wantEdges:   []string{fallbackIngress, fallbackEgress},
			wantResults: []string{fallbackWarning},
			wantPorts:   []string{"Deployment api: Service shop/api port 80 -> pod port 8080"},
		},
		"Prometheus and the API server are no callers": {
			docs: shop,
			edges: func(in fallback.Input) []graph.Edge {
				api := graph.FromWorkload(workloadNamed(t, in, "api"), "")
				return []graph.Edge{
					{From: graph.Endpoint{Kind: graph.Pods, Namespace: "monitoring"}, To: api, Ports: tcp(8080), Source: "monitors"},
					{From: graph.Endpoint{Kind: graph.Anywhere}, To: api, Ports: tcp(8080), APIServer: true},
				}
			},
			wantEdges:   []string{fallbackIngress, fallbackEgress},
			wantResults: []string{fallbackWarning},
			wantPorts:   []string{"Deployment api: Service shop/api port 80 -> pod port 8080"},
		},
		"a port named like a metrics port is Prometheus's": {
			docs: strings.Replace(shop, "ports: [{name: http, port: 80, targetPort: http}, {name: metrics", "ports: [{name: metrics", 1),
		},
		"the port of the prometheus.io/port annotation is Prometheus's": {
			docs:      strings.Replace(shop, "labels: {app: api}}", "labels: {app: api}, annotations: {prometheus.io/port: \"8080\"}}", 1),
			wantEdges: nil,
		},
		"callers: none on the Service": {
			docs: strings.Replace(shop, "metadata: {name: api, namespace: shop}\nspec: {selector", "metadata: {name: api, namespace: shop, annotations: {tierwall.io/callers: none}}\nspec: {selector", 1),
		},
		"callers: none on the workload": {
			docs: strings.Replace(shop, "kind: Deployment\nmetadata: {name: api, namespace: shop}", "kind: Deployment\nmetadata: {name: api, namespace: shop, annotations: {tierwall.io/callers: none}}", 1),
		},
		"callers: none on the pod template": {
			docs: strings.Replace(shop, "labels: {app: api}}", "labels: {app: api}, annotations: {tierwall.io/callers: none}}", 1),
		},
		"spec.fallback.callers none: an error per port, no edge": {
			config: func(s *v1alpha1.Spec) { s.Fallback.Callers = v1alpha1.FallbackNone },
			docs:   shop,
			wantResults: []string{"error: Service shop/api port 80 -> pod port 8080 of Deployment api: no allow names a caller (spec.fallback.callers is none): " +
				"name its callers with the annotation tierwall.io/allow-from on Deployment api or spec.allows, or annotate tierwall.io/callers: none if nothing calls it [unreachable-port]"},
			wantPorts: []string{"Deployment api: Service shop/api port 80 -> pod port 8080"},
		},
		"the user's own policy selecting every pod: a warning, no fallback": {
			docs: shop + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress]}
`,
			wantResults: []string{"warning: Service shop/api port 80 -> pod port 8080 of Deployment api: no allow names a caller, and the input's own policy NetworkPolicy shop/deny-all " +
				"selects every pod of the namespace: no fallback is written here; make sure your policies admit its callers"},
		},
		"the user's own egress-only policy selecting every pod is no ingress": {
			docs: shop + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: shop}
spec: {podSelector: {}, policyTypes: [Egress]}
`,
			wantEdges:   []string{fallbackIngress, fallbackEgress},
			wantResults: []string{fallbackWarning},
			wantPorts:   []string{"Deployment api: Service shop/api port 80 -> pod port 8080"},
		},
		"the user's own policy admitting callers to the port": {
			docs: shop + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{from: [{namespaceSelector: {}}], ports: [{port: 8000, endPort: 8100}]}]
`,
		},
		"the user's own policy of another port": {
			docs: shop + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{ports: [{port: 8443}, {port: http, protocol: UDP}]}]
`,
			wantEdges:   []string{fallbackIngress, fallbackEgress},
			wantResults: []string{fallbackWarning},
			wantPorts:   []string{"Deployment api: Service shop/api port 80 -> pod port 8080"},
		},
		"a StatefulSet's own peers are no callers": {
			docs: `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: db, ports: [{containerPort: 5432}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}
`,
			edges: func(in fallback.Input) []graph.Edge {
				db := graph.FromWorkload(workloadNamed(t, in, "db"), "")
				return []graph.Edge{{From: db, To: db, Ports: tcp(5432), Source: "statefulset-peers"}}
			},
			wantEdges: []string{
				"all pods in namespace shop(fallback) -> StatefulSet shop/db TCP/5432 [source=fallback policy=fallback-ingress wide=fallback-callers skip-egress]",
				"all pods in namespace shop(fallback) -> StatefulSet shop/db TCP/5432 [source=fallback wide=fallback-callers skip-ingress]",
			},
			wantResults: []string{"warning: fallback: 1 port(s) have no caller the manifests name, so each is open to the pods of its own namespace " +
				"(calls from other namespaces or written in code to the internet stay blocked): StatefulSet shop/db port 5432; " +
				"name the callers (tierwall.io/allow-from, spec.allows) or annotate tierwall.io/callers: none, and set spec.fallback.callers: none to make this an error [fallback-callers]"},
			wantPorts: []string{"StatefulSet db: Service shop/db port 5432 -> pod port 5432"},
		},
		"two Services on one pod port: one fallback": {
			docs: shop + `---
apiVersion: v1
kind: Service
metadata: {name: api-alias, namespace: shop}
spec: {selector: {app: api}, ports: [{port: 8080}]}
`,
			wantEdges:   []string{fallbackIngress, fallbackEgress},
			wantResults: []string{fallbackWarning},
			wantPorts:   []string{"Deployment api: Service shop/api port 80 -> pod port 8080"},
		},
		"a Service without a selector, or ExternalName": {
			docs: strings.Replace(shop, "spec: {selector: {app: api}, ports:", "spec: {ports:", 1) + `---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: shop}
spec: {type: ExternalName, externalName: example.com, selector: {app: api}, ports: [{port: 8080}]}
`,
		},
		"ingress not default-denied": {
			config: func(s *v1alpha1.Spec) { s.DefaultDeny.Ingress = new(bool) },
			docs:   shop,
		},
		"an isolated namespace": {
			config: func(s *v1alpha1.Spec) { s.IsolateNamespaces = []string{"shop"} },
			docs:   shop,
		},
		"a skipped namespace": {
			config: func(s *v1alpha1.Spec) { s.SkipNamespaces = []string{"shop"} },
			docs:   shop,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := &v1alpha1.Spec{}
			if tc.config != nil {
				tc.config(spec)
			}
			spec.Default()
			in := input(t, spec, tc.docs)
			if tc.edges != nil {
				in.Edges = tc.edges(in)
			}
			out := fallback.Derive(in)
			assert.Equal(t, tc.wantEdges, edgeLines(out.Edges))
			assert.Equal(t, tc.wantResults, resultLines(out.Results))
			var ports []string
			for _, p := range out.Ports {
				ports = append(ports, fmt.Sprintf("%s %s: %s port %d -> pod port %d", p.Workload.Kind, p.Workload.Name, p.Service.Ref(), p.Port.Port, p.Pod.Port))
			}
			assert.Equal(t, tc.wantPorts, ports)
		})
	}
}

// TestDeriveRelease: the fallback's egress is one policy for the pods of
// the namespace, named for the release when one is known, beside the
// workload's own fallback ingress policy.
func TestDeriveRelease(t *testing.T) {
	tests := map[string]struct {
		release string
		want    []string
	}{
		"no release":   {want: []string{"shop/api-fallback-ingress", "shop/fallback-egress"}},
		"with release": {release: "shop-v1", want: []string{"shop/api-fallback-ingress", "shop/shop-v1-fallback-egress"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := &v1alpha1.Spec{}
			spec.Default()
			in := input(t, spec, shop)
			in.Release = tc.release
			out := fallback.Derive(in)
			require.Len(t, out.Edges, 2)
			gs, rs := graph.Render(out.Edges, graph.Options{IngressDenied: true, EgressDenied: true, InScope: func(ns string) bool { return ns == "shop" }})
			require.Empty(t, rs)
			var names []string
			for _, g := range gs {
				names = append(names, g.Policy.Namespace+"/"+g.Policy.Name)
				assert.Equal(t, fallback.Source, g.Policy.Annotations[manifest.SourceAnnotation])
				assert.Equal(t, fallback.Check, g.Policy.Annotations[manifest.WideAnnotation])
			}
			sort.Strings(names)
			assert.Equal(t, tc.want, names)
		})
	}
}

func TestExternals(t *testing.T) {
	api := &workload.Workload{Namespace: "shop", Name: "api", Kind: "Deployment", Selector: map[string]string{"app": "api"},
		PodLabels: map[string]string{"app": "api", "tier": "backend"}}
	from := graph.FromWorkload(api, "")
	stripe := infer.External{From: from, Workload: api, URL: "https://api.stripe.com:443", Host: "api.stripe.com", Port: 443,
		Where: "env STRIPE_URL of container api", Field: "spec.template.spec.containers[0].env[0].value"}
	secret := infer.External{From: from, Workload: api, Host: "db.secret-host.example.net", Port: 5432, Secret: true,
		Where: "key DATABASE_URL of Secret db", Field: "spec.template.spec.containers[0].envFrom[0]"}
	externalEgress := func(pods graph.Endpoint, ports ...int32) graph.Edge {
		return graph.Edge{From: pods, To: graph.Endpoint{Kind: graph.CIDR, CIDR: "0.0.0.0/0"}, Ports: tcp(ports...), Source: "external-egress"}
	}
	const (
		public4 = "0.0.0.0/0 except 10.0.0.0/8,100.64.0.0/10,127.0.0.0/8,169.254.0.0/16,172.16.0.0/12,192.168.0.0/16"
		public6 = "::/0 except ::1/128,fc00::/7,fe80::/10"
	)
	tests := map[string]struct {
		config      func(*v1alpha1.Spec)
		hosts       []infer.External
		edges       []graph.Edge
		wantEdges   []string
		wantHosts   []string
		wantResults []string
		wantURLs    []string
	}{
		"public: any public IPv4 and IPv6 address on the port": {
			hosts: []infer.External{stripe},
			wantEdges: []string{
				"Deployment shop/api(api) -> " + public4 + " TCP/443 [source=external-hosts skip-ingress]",
				"Deployment shop/api(api) -> " + public6 + " TCP/443 [source=external-hosts skip-ingress]",
			},
			wantURLs: []string{"https://api.stripe.com:443 (Deployment shop/api)"},
		},
		"cilium: the host by name": {
			config:    func(s *v1alpha1.Spec) { s.Flavor = v1alpha1.FlavorCilium },
			hosts:     []infer.External{stripe},
			wantHosts: []string{"Deployment shop/api -> api.stripe.com TCP/443"},
			wantURLs:  []string{"https://api.stripe.com:443 (Deployment shop/api)"},
		},
		"cilium: a host from a Secret is never written by name": {
			config: func(s *v1alpha1.Spec) { s.Flavor = v1alpha1.FlavorCilium },
			hosts:  []infer.External{secret},
			wantEdges: []string{
				"Deployment shop/api(api) -> " + public4 + " TCP/5432 [source=external-hosts skip-ingress]",
				"Deployment shop/api(api) -> " + public6 + " TCP/5432 [source=external-hosts skip-ingress]",
			},
			wantURLs: []string{"a host from a Secret, port 5432 (Deployment shop/api)"},
		},
		"none: an error per host": {
			config: func(s *v1alpha1.Spec) { s.Fallback.ExternalHosts = v1alpha1.FallbackNone },
			hosts:  []infer.External{stripe, secret},
			wantResults: []string{
				"error: env STRIPE_URL of container api of Deployment api names https://api.stripe.com:443, outside the cluster, and spec.fallback.externalHosts is none: " +
					"allow it with spec.externalEgress (its CIDRs and port 443) [external-host]",
				"error: key DATABASE_URL of Secret db of Deployment api names a host read from a Secret, outside the cluster, and spec.fallback.externalHosts is none: " +
					"allow it with spec.externalEgress (its CIDRs and port 5432) [external-host]",
			},
			wantURLs: []string{"a host from a Secret, port 5432 (Deployment shop/api)", "https://api.stripe.com:443 (Deployment shop/api)"},
		},
		"none, but external egress of the workload allows the port": {
			config: func(s *v1alpha1.Spec) { s.Fallback.ExternalHosts = v1alpha1.FallbackNone },
			hosts:  []infer.External{stripe},
			edges:  []graph.Edge{externalEgress(from, 443)},
		},
		"none, but external egress of pods with its labels allows the port": {
			config: func(s *v1alpha1.Spec) { s.Fallback.ExternalHosts = v1alpha1.FallbackNone },
			hosts:  []infer.External{stripe},
			edges:  []graph.Edge{externalEgress(graph.Endpoint{Kind: graph.Pods, Namespace: "shop", Selector: map[string]string{"tier": "backend"}}, 443)},
		},
		"external egress on every port": {
			hosts: []infer.External{stripe},
			edges: []graph.Edge{externalEgress(from)},
		},
		"external egress of another port, pods, namespace or source does not count": {
			config: func(s *v1alpha1.Spec) { s.Fallback.ExternalHosts = v1alpha1.FallbackNone },
			hosts:  []infer.External{stripe},
			edges: []graph.Edge{
				externalEgress(from, 8443),
				externalEgress(graph.Endpoint{Kind: graph.Pods, Namespace: "shop", Selector: map[string]string{"tier": "frontend"}}, 443),
				externalEgress(graph.Endpoint{Kind: graph.Pods, Namespace: "blog"}, 443),
				{From: from, To: graph.Endpoint{Kind: graph.CIDR, CIDR: "0.0.0.0/0"}, Ports: tcp(443), Source: "allows"},
			},
			wantResults: []string{
				"error: env STRIPE_URL of container api of Deployment api names https://api.stripe.com:443, outside the cluster, and spec.fallback.externalHosts is none: " +
					"allow it with spec.externalEgress (its CIDRs and port 443) [external-host]",
			},
			wantURLs: []string{"https://api.stripe.com:443 (Deployment shop/api)"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := &v1alpha1.Spec{}
			if tc.config != nil {
				tc.config(spec)
			}
			spec.Default()
			out := fallback.Externals(spec, tc.hosts, tc.edges)
			assert.Equal(t, tc.wantEdges, edgeLines(out.Edges))
			var hosts []string
			for _, h := range out.Hosts {
				hosts = append(hosts, fmt.Sprintf("%s -> %s %s", h.From.Describe(), h.Host, graph.PortsString(h.Ports)))
			}
			assert.Equal(t, tc.wantHosts, hosts)
			assert.Equal(t, tc.wantResults, resultLines(out.Results))
			assert.Equal(t, tc.wantURLs, out.URLs)
			// A host read from a Secret appears nowhere.
			var texts []string
			for _, e := range out.Edges {
				texts = append(texts, e.Reason)
			}
			for _, h := range out.Hosts {
				texts = append(texts, h.Reason, h.Host)
			}
			texts = append(texts, resultLines(out.Results)...)
			texts = append(texts, out.URLs...)
			for _, s := range texts {
				assert.NotContains(t, s, secret.Host)
			}
		})
	}
}

func TestExternalsReasons(t *testing.T) {
	api := &workload.Workload{Namespace: "shop", Name: "api", Kind: "Deployment", Selector: map[string]string{"app": "api"}}
	h := infer.External{From: graph.FromWorkload(api, ""), Workload: api, URL: "https://api.stripe.com:443", Host: "api.stripe.com", Port: 443,
		Where: "env STRIPE_URL of container api"}
	tests := map[string]struct {
		flavor string
		want   string
	}{
		"kubernetes": {
			flavor: v1alpha1.FlavorKubernetes,
			want: "external host: env STRIPE_URL of container api of Deployment api names https://api.stripe.com:443, outside the cluster: it may reach any public address on TCP/443, " +
				"not only that host (managed databases and endpoints that resolve to private addresses need spec.externalEgress with their CIDRs)",
		},
		"cilium": {
			flavor: v1alpha1.FlavorCilium,
			want:   "external host: env STRIPE_URL of container api of Deployment api names https://api.stripe.com:443: it may reach api.stripe.com on TCP/443 by name (toFQDNs)",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := &v1alpha1.Spec{Flavor: tc.flavor}
			spec.Default()
			out := fallback.Externals(spec, []infer.External{h}, nil)
			var reasons []string
			for _, e := range out.Edges {
				reasons = append(reasons, e.Reason)
			}
			for _, x := range out.Hosts {
				reasons = append(reasons, x.Reason)
			}
			require.NotEmpty(t, reasons)
			for _, r := range reasons {
				assert.Equal(t, tc.want, r)
			}
		})
	}
}
