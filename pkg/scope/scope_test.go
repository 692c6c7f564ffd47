package scope_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/scope"
)

func objects(t *testing.T, stream string) []manifest.Object {
	t.Helper()
	var out []manifest.Object
	for i, n := range testutil.Docs(t, []byte(stream)) {
		out = append(out, manifest.FromNode(i, n))
	}
	return out
}

func spec(t *testing.T, body string) *v1alpha1.Spec {
	t.Helper()
	fc, err := yaml.Parse("apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec:\n" + body)
	require.NoError(t, err)
	s, _, err := v1alpha1.Load(fc)
	require.NoError(t, err)
	return s
}

func messages(rs framework.Results) []string {
	var out []string
	for _, r := range rs {
		out = append(out, string(r.Severity)+": "+r.Message)
	}
	return out
}

func TestFind(t *testing.T) {
	tests := map[string]struct {
		spec    string
		stream  string
		want    map[string]string // namespace -> skip reason ("" in scope)
		of      map[int]string    // object index -> effective namespace
		results []string
	}{
		"Namespace objects and namespaced objects": {
			stream: `
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: reports}
`,
			want: map[string]string{"shop": "", "reports": ""},
			of:   map[int]string{1: "shop", 2: "reports"},
		},
		"cluster-scoped kinds are in no namespace, even with one written": {
			stream: `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: r, namespace: ignored}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv}
`,
			want: map[string]string{},
			of:   map[int]string{},
		},
		"objects without a namespace form the release namespace": {
			stream: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
---
apiVersion: v1
kind: Service
metadata: {name: web}
`,
			want:    map[string]string{"": ""},
			of:      map[int]string{0: "", 1: ""},
			results: []string{"info: objects without metadata.namespace form the release namespace: its policies are written without a namespace so they land beside those objects; set spec.namespace (post-renderer: --namespace) to name it"},
		},
		"spec.namespace names them": {
			spec: "  namespace: shop\n",
			stream: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: shop}
`,
			want:    map[string]string{"shop": ""},
			of:      map[int]string{0: "shop", 1: "shop"},
			results: []string{`info: objects without metadata.namespace are taken to be in namespace "shop" (spec.namespace)`},
		},
		"CRD-declared scope": {
			stream: `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: tenants.example.com}
spec: {group: example.com, scope: Cluster, names: {kind: Tenant}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec: {group: example.com, scope: Namespaced, names: {kind: Widget}}
---
apiVersion: example.com/v1
kind: Tenant
metadata: {name: acme, namespace: written-by-mistake}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: gadget}
---
apiVersion: example.com/v2
kind: Widget
metadata: {name: gizmo, namespace: tools}
`,
			want:    map[string]string{"": "", "tools": ""},
			of:      map[int]string{3: "", 4: "tools"},
			results: []string{"info: objects without metadata.namespace form the release namespace: its policies are written without a namespace so they land beside those objects; set spec.namespace (post-renderer: --namespace) to name it"},
		},
		"an unknown kind without namespace is taken to be cluster-scoped, and said so": {
			stream: `
apiVersion: other.example.org/v1
kind: Gizmo
metadata: {name: thing}
---
apiVersion: other.example.org/v1
kind: Gizmo
metadata: {name: placed, namespace: tools}
`,
			want:    map[string]string{"tools": ""},
			of:      map[int]string{1: "tools"},
			results: []string{"info: kind other.example.org/v1/Gizmo has no namespace and tierwall does not know its scope: treated as cluster-scoped"},
		},
		"system namespaces are skipped by default": {
			stream: `
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: kube-public}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: l, namespace: kube-node-lease}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: default}
`,
			want: map[string]string{
				"kube-system":     "system namespace (spec.skipSystemNamespaces)",
				"kube-public":     "system namespace (spec.skipSystemNamespaces)",
				"kube-node-lease": "system namespace (spec.skipSystemNamespaces)",
				"default":         "",
			},
			of: map[int]string{1: "kube-public", 2: "kube-node-lease", 3: "default"},
			results: []string{
				"info: namespace kube-node-lease skipped: system namespace (spec.skipSystemNamespaces)",
				"info: namespace kube-public skipped: system namespace (spec.skipSystemNamespaces)",
				"info: namespace kube-system skipped: system namespace (spec.skipSystemNamespaces)",
			},
		},
		"system namespaces can be included": {
			spec:   "  skipSystemNamespaces: false\n",
			stream: "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n",
			want:   map[string]string{"kube-system": ""},
			of:     map[int]string{},
		},
		"configured namespaces are skipped, also as the release namespace": {
			spec: "  namespace: legacy\n  skipNamespaces: [legacy, absent]\n",
			stream: `
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
`,
			want: map[string]string{"legacy": "listed in spec.skipNamespaces"},
			of:   map[int]string{0: "legacy"},
			results: []string{
				`info: objects without metadata.namespace are taken to be in namespace "legacy" (spec.namespace)`,
				"info: namespace legacy skipped: listed in spec.skipNamespaces",
			},
		},
		"the ignore label opts out only with \"true\"": {
			stream: `
apiVersion: v1
kind: Namespace
metadata: {name: sandbox, labels: {tierwall.io/ignore: "true"}}
---
apiVersion: v1
kind: Namespace
metadata: {name: staging, labels: {tierwall.io/ignore: "false"}}
---
apiVersion: v1
kind: Namespace
metadata: {name: dev, labels: {tierwall.io/ignore: "yes"}}
`,
			want: map[string]string{"sandbox": `Namespace labelled tierwall.io/ignore: "true"`, "staging": "", "dev": ""},
			of:   map[int]string{},
			results: []string{
				`info: namespace sandbox skipped: Namespace labelled tierwall.io/ignore: "true"`,
			},
		},
		"local-config items are not resources": {
			stream: `
apiVersion: v1
kind: ConfigMap
metadata:
  name: setters
  namespace: kpt-setters
  annotations: {config.kubernetes.io/local-config: "true"}
---
apiVersion: v1
kind: Namespace
metadata:
  name: template
  annotations: {config.kubernetes.io/local-config: "true"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: real
  namespace: shop
  annotations: {config.kubernetes.io/local-config: "false"}
`,
			want: map[string]string{"shop": ""},
			of:   map[int]string{2: "shop"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			set, rs := scope.Find(spec(t, tc.spec), objects(t, tc.stream))
			got := map[string]string{}
			var names []string
			for _, ns := range set.List {
				got[ns.Name] = ns.Skipped
				names = append(names, ns.Name)
				assert.Equal(t, ns.Skipped == "", ns.InScope())
			}
			assert.Equal(t, tc.want, got)
			assert.IsIncreasing(t, names, "sorted by name")
			assert.Equal(t, tc.of, set.Of)
			assert.Equal(t, tc.results, messages(rs))
		})
	}
}

func TestFindNamespaceObject(t *testing.T) {
	set, _ := scope.Find(spec(t, ""), objects(t, `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: a}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: payments}
`))
	shop, ok := set.Get("shop")
	require.True(t, ok)
	assert.Equal(t, map[string]string{"team": "a"}, shop.Labels)
	require.NotNil(t, shop.Object)
	assert.Equal(t, "Namespace", shop.Object.Kind)
	assert.Equal(t, "shop", shop.Display())

	payments, ok := set.Get("payments")
	require.True(t, ok)
	assert.Nil(t, payments.Object, "seen only through metadata.namespace")

	_, ok = set.Get("absent")
	assert.False(t, ok)
	_, ok = set.Get("")
	assert.False(t, ok)
	assert.Equal(t, "(release namespace)", scope.Namespace{}.Display())
}

func TestFindSkipResultsReferenceTheNamespace(t *testing.T) {
	_, rs := scope.Find(spec(t, "  skipNamespaces: [legacy]\n"), objects(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: legacy}\n"))
	require.Len(t, rs, 1)
	require.NotNil(t, rs[0].ResourceRef)
	assert.Equal(t, "v1", rs[0].ResourceRef.APIVersion)
	assert.Equal(t, "Namespace", rs[0].ResourceRef.Kind)
	assert.Equal(t, "legacy", rs[0].ResourceRef.Name)
	assert.Equal(t, framework.Info, rs[0].Severity)
}
