package baseline_test

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/baseline"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/scope"
	"github.com/tierwall/tierwall/pkg/workload"
)

func derive(t *testing.T, specBody, stream string) ([]policy.Generated, []string) {
	t.Helper()
	fc, err := yaml.Parse("apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec:\n" + specBody)
	require.NoError(t, err)
	spec, _, err := v1alpha1.Load(fc)
	require.NoError(t, err)
	var objs []manifest.Object
	for i, n := range testutil.Docs(t, []byte(stream)) {
		objs = append(objs, manifest.FromNode(i, n))
	}
	set, _ := scope.Find(spec, objs)
	var ws []workload.Workload
	for _, o := range objs {
		if ns, ok := set.Of[o.Index]; ok {
			if w, ok := workload.Extract(o, ns, nil); ok {
				ws = append(ws, w)
			}
		}
	}
	gen, rs := baseline.Derive(spec, set, ws)
	// In derivation order: the engine sorts findings, Derive does not.
	var msgs []string
	for _, r := range rs {
		msgs = append(msgs, string(r.Severity)+": "+r.Message)
	}
	return gen, msgs
}

func names(gen []policy.Generated) []string {
	var out []string
	for _, g := range gen {
		out = append(out, g.Policy.Namespace+"/"+g.Policy.Name)
	}
	sort.Strings(out)
	return out
}

func find(t *testing.T, gen []policy.Generated, key string) networkingv1.NetworkPolicy {
	t.Helper()
	for _, g := range gen {
		if g.Policy.Namespace+"/"+g.Policy.Name == key {
			return g.Policy
		}
	}
	require.Failf(t, "policy not generated", "%s among %v", key, names(gen))
	return networkingv1.NetworkPolicy{}
}

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          ports: [{name: metrics, containerPort: 9090}, {name: http, containerPort: 8080}]
`

func TestDerive(t *testing.T) {
	tests := map[string]struct {
		spec    string
		stream  string
		want    []string
		results []string
		check   func(t *testing.T, gen []policy.Generated)
	}{
		"defaults": {
			stream: deployment,
			want:   []string{"shop/allow-dns", "shop/allow-monitoring", "shop/default-deny-all"},
			check: func(t *testing.T, gen []policy.Generated) {
				dd := find(t, gen, "shop/default-deny-all")
				assert.Empty(t, dd.Spec.PodSelector.MatchLabels)
				assert.Equal(t, []networkingv1.PolicyType{policy.Ingress, policy.Egress}, dd.Spec.PolicyTypes)
				assert.Empty(t, dd.Spec.Ingress)
				assert.Empty(t, dd.Spec.Egress)

				dns := find(t, gen, "shop/allow-dns")
				require.Len(t, dns.Spec.Egress, 1)
				require.Len(t, dns.Spec.Egress[0].To, 1, "namespace and pods in ONE peer")
				peer := dns.Spec.Egress[0].To[0]
				require.NotNil(t, peer.NamespaceSelector)
				require.NotNil(t, peer.PodSelector)
				assert.Equal(t, map[string]string{"kubernetes.io/metadata.name": "kube-system"}, peer.NamespaceSelector.MatchLabels)
				assert.Equal(t, map[string]string{"k8s-app": "kube-dns"}, peer.PodSelector.MatchLabels)
				assert.Len(t, dns.Spec.Egress[0].Ports, 2, "UDP and TCP 53")

				for _, g := range gen {
					assert.Equal(t, "tierwall", g.Policy.Labels["app.kubernetes.io/managed-by"])
					assert.NotEmpty(t, g.Policy.Annotations["tierwall.io/reason"])
					assert.Equal(t, g.Reason, g.Policy.Annotations["tierwall.io/reason"])
				}
			},
		},
		"monitoring disabled": {
			spec:   "  monitoring: {enabled: false}\n",
			stream: deployment,
			want:   []string{"shop/allow-dns", "shop/default-deny-all"},
		},
		"an annotated port that is a declared non-metrics port gets its own policy": {
			stream: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}, annotations: {prometheus.io/port: " 8080 "}}
    spec:
      containers: [{name: web, ports: [{name: http, containerPort: 8080}]}]
`,
			want: []string{"shop/allow-dns", "shop/allow-monitoring-web", "shop/default-deny-all"},
			check: func(t *testing.T, gen []policy.Generated) {
				p := find(t, gen, "shop/allow-monitoring-web")
				assert.Equal(t, map[string]string{"app": "web"}, p.Spec.PodSelector.MatchLabels)
				require.Len(t, p.Spec.Ingress, 1)
				require.Len(t, p.Spec.Ingress[0].Ports, 1)
				assert.Equal(t, "8080", p.Spec.Ingress[0].Ports[0].Port.String())
			},
		},
		"an annotated workload without labels cannot be selected": {
			stream: `
apiVersion: v1
kind: Pod
metadata: {name: loose, namespace: shop, annotations: {prometheus.io/port: "9000"}}
spec: {containers: [{name: c}]}
`,
			want: []string{"shop/allow-dns", "shop/default-deny-all"},
			results: []string{
				"warning: Pod loose has no labels to select its pods: no monitoring allow for port 9000",
				"info: namespace shop: no workload declares a metrics port (a container port named metrics, http-metrics or *-metrics, or a prometheus.io/port annotation): no allow-monitoring policy",
			},
		},
		"an annotated port out of range": {
			stream: `
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop, labels: {app: p}, annotations: {prometheus.io/port: "70000"}}
spec: {containers: [{name: c}]}
`,
			want: []string{"shop/allow-dns", "shop/default-deny-all"},
			results: []string{
				`warning: prometheus.io/port "70000" is not a port number: no monitoring allow for it`,
				"info: namespace shop: no workload declares a metrics port (a container port named metrics, http-metrics or *-metrics, or a prometheus.io/port annotation): no allow-monitoring policy",
			},
		},
		"UDP metrics port keeps its protocol": {
			stream: `
apiVersion: v1
kind: Pod
metadata: {name: statsd, namespace: shop, labels: {app: statsd}}
spec: {containers: [{name: c, ports: [{name: statsd-metrics, containerPort: 9125, protocol: UDP}]}]}
`,
			want: []string{"shop/allow-dns", "shop/allow-monitoring", "shop/default-deny-all"},
			check: func(t *testing.T, gen []policy.Generated) {
				p := find(t, gen, "shop/allow-monitoring")
				require.Len(t, p.Spec.Ingress[0].Ports, 1)
				assert.Equal(t, "UDP", string(*p.Spec.Ingress[0].Ports[0].Protocol))
			},
		},
		"skipped namespaces get nothing": {
			spec:   "  skipNamespaces: [shop]\n",
			stream: deployment,
			want:   nil,
		},
		"DNS namespace in scope, ingress only: allow-dns-ingress and no warning": {
			spec:   "  skipSystemNamespaces: false\n  defaultDeny: {egress: false}\n",
			stream: "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n",
			want:   []string{"kube-system/allow-dns-ingress", "kube-system/default-deny-all"},
			check: func(t *testing.T, gen []policy.Generated) {
				p := find(t, gen, "kube-system/allow-dns-ingress")
				assert.Equal(t, map[string]string{"k8s-app": "kube-dns"}, p.Spec.PodSelector.MatchLabels)
				require.Len(t, p.Spec.Ingress, 1)
				require.Len(t, p.Spec.Ingress[0].From, 1)
				assert.NotNil(t, p.Spec.Ingress[0].From[0].NamespaceSelector, "every namespace")
				assert.Empty(t, p.Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels)
				assert.Nil(t, p.Spec.Ingress[0].From[0].PodSelector)
			},
			// a namespace without workloads gets no "no metrics port" note
			results: nil,
		},
		"DNS namespace in scope with egress denied: warned": {
			spec:   "  skipSystemNamespaces: false\n",
			stream: "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n",
			want:   []string{"kube-system/allow-dns", "kube-system/allow-dns-ingress", "kube-system/default-deny-all"},
			results: []string{
				"warning: namespace kube-system holds the DNS pods (config spec.dns) and is default-denied: their egress to upstream resolvers and the API server is not allowed, which breaks name resolution for the whole cluster; skip the namespace or allow that egress",
			},
		},
		"Prometheus egress with ingress deny off": {
			spec:   "  defaultDeny: {ingress: false}\n",
			stream: deployment + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: monitoring}\n",
			want: []string{
				"monitoring/allow-dns", "monitoring/allow-monitoring-egress", "monitoring/default-deny-all",
				"shop/allow-dns", "shop/default-deny-all",
			},
			check: func(t *testing.T, gen []policy.Generated) {
				p := find(t, gen, "monitoring/allow-monitoring-egress")
				assert.Equal(t, map[string]string{"app.kubernetes.io/name": "prometheus"}, p.Spec.PodSelector.MatchLabels)
				require.Len(t, p.Spec.Egress, 1)
				assert.Equal(t, map[string]string{"kubernetes.io/metadata.name": "shop"}, p.Spec.Egress[0].To[0].NamespaceSelector.MatchLabels)
				assert.Equal(t, "metrics", p.Spec.Egress[0].Ports[0].Port.String())
			},
		},
		"no Prometheus egress when its namespace is skipped": {
			spec:   "  skipNamespaces: [monitoring]\n",
			stream: deployment + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: monitoring}\n",
			want:   []string{"shop/allow-dns", "shop/allow-monitoring", "shop/default-deny-all"},
		},
		"kube api only with egress denied": {
			spec:   "  defaultDeny: {egress: false}\n  kubeAPI: {enabled: true, cidrs: [10.0.0.1/32]}\n",
			stream: deployment,
			want:   []string{"shop/allow-monitoring", "shop/default-deny-all"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			gen, results := derive(t, tc.spec, tc.stream)
			assert.Equal(t, tc.want, names(gen))
			assert.Equal(t, tc.results, results)
			if tc.check != nil {
				tc.check(t, gen)
			}
		})
	}
}
