package manifest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
)

func node(t *testing.T, s string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(s), &n))
	return &n
}

func TestFromNode(t *testing.T) {
	o := manifest.FromNode(3, node(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app.kubernetes.io/managed-by: tierwall, version: 1.0, empty: null}
  annotations: {config.kubernetes.io/local-config: "true"}
`))
	assert.Equal(t, 3, o.Index)
	assert.Equal(t, "apps/v1", o.APIVersion)
	assert.Equal(t, "apps", o.Group())
	assert.Equal(t, "Deployment shop/web", o.Ref())
	assert.Equal(t, map[string]string{"app.kubernetes.io/managed-by": "tierwall", "version": "1.0", "empty": ""}, o.Labels, "scalars as written")
	assert.True(t, o.ManagedByTierwall())
	assert.True(t, o.LocalConfig())
	assert.False(t, o.IsNetworkPolicy())

	core := manifest.FromNode(0, node(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"))
	assert.Empty(t, core.Group())
	assert.Equal(t, "Namespace shop", core.Ref())
	assert.False(t, core.ManagedByTierwall())
	assert.False(t, core.LocalConfig())

	np := manifest.FromNode(0, node(t, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\n"))
	assert.True(t, np.IsNetworkPolicy())
	cnp := manifest.FromNode(0, node(t, "apiVersion: cilium.io/v2\nkind: NetworkPolicy\nmetadata: {name: x}\n"))
	assert.False(t, cnp.IsNetworkPolicy(), "another group's NetworkPolicy")
}

func TestLookup(t *testing.T) {
	n := node(t, `
base: &base {app: web}
spec:
  selector:
    matchLabels: *base
  list: [a, *base]
  scalar: x
  null: null
`)
	assert.Equal(t, map[string]string{"app": "web"}, manifest.StringMap(n, "spec", "selector", "matchLabels"), "aliases are looked through")
	assert.Equal(t, "x", manifest.String(n, "spec", "scalar"))
	assert.Empty(t, manifest.String(n, "spec", "null"))
	assert.Empty(t, manifest.String(n, "spec", "selector"), "not a scalar")
	assert.Empty(t, manifest.String(n, "spec", "scalar", "deeper"))
	assert.Nil(t, manifest.Lookup(n, "spec", "absent"))
	assert.Nil(t, manifest.StringMap(n, "spec", "scalar"))
	items := manifest.Items(n, "spec", "list")
	require.Len(t, items, 2)
	assert.Equal(t, "a", items[0].Value)
	assert.Equal(t, yaml.MappingNode, items[1].Kind, "alias resolved")
	assert.Nil(t, manifest.Items(n, "spec", "scalar"))
	assert.Nil(t, manifest.Lookup(nil, "x"))
	assert.Nil(t, manifest.Lookup(&yaml.Node{Kind: yaml.DocumentNode}))
}

func TestScopes(t *testing.T) {
	crds := []manifest.Object{
		manifest.FromNode(0, node(t, "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a}\nspec: {group: example.com, scope: Cluster, names: {kind: Tenant}}\n")),
		manifest.FromNode(1, node(t, "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: b}\nspec: {group: example.com, scope: Namespaced, names: {kind: Widget}}\n")),
		// A CRD that disagrees with the built-in table wins: it is the truth.
		manifest.FromNode(2, node(t, "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: c}\nspec: {group: cert-manager.io, scope: Namespaced, names: {kind: ClusterIssuer}}\n")),
	}
	scopes := manifest.NewScopes(crds)
	tests := map[string]struct {
		doc               string
		namespaced, known bool
	}{
		"core namespaced, with namespace":     {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: a}\n", true, true},
		"core namespaced, without namespace":  {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", true, true},
		"Namespace":                           {"apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n", false, true},
		"Node":                                {"apiVersion: v1\nkind: Node\nmetadata: {name: x}\n", false, true},
		"PersistentVolume":                    {"apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: x}\n", false, true},
		"ClusterRole with a stray namespace":  {"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x, namespace: a}\n", false, true},
		"Role":                                {"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: x}\n", true, true},
		"StorageClass":                        {"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: x}\n", false, true},
		"VolumeAttributesClass":               {"apiVersion: storage.k8s.io/v1\nkind: VolumeAttributesClass\nmetadata: {name: x}\n", false, true},
		"CSIStorageCapacity":                  {"apiVersion: storage.k8s.io/v1\nkind: CSIStorageCapacity\nmetadata: {name: x}\n", true, true},
		"ServiceCIDR":                         {"apiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata: {name: x}\n", false, true},
		"IPAddress":                           {"apiVersion: networking.k8s.io/v1\nkind: IPAddress\nmetadata: {name: x}\n", false, true},
		"IngressClass":                        {"apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: x}\n", false, true},
		"Ingress":                             {"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\n", true, true},
		"DeviceClass":                         {"apiVersion: resource.k8s.io/v1\nkind: DeviceClass\nmetadata: {name: x}\n", false, true},
		"ResourceClaimTemplate":               {"apiVersion: resource.k8s.io/v1\nkind: ResourceClaimTemplate\nmetadata: {name: x}\n", true, true},
		"CiliumLoadBalancerIPPool":            {"apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: x}\n", false, true},
		"CiliumL2AnnouncementPolicy":          {"apiVersion: cilium.io/v2alpha1\nkind: CiliumL2AnnouncementPolicy\nmetadata: {name: x}\n", false, true},
		"CiliumNetworkPolicy":                 {"apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: x}\n", true, true},
		"ClusterWorkflowTemplate":             {"apiVersion: argoproj.io/v1alpha1\nkind: ClusterWorkflowTemplate\nmetadata: {name: x}\n", false, true},
		"Rollout":                             {"apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: x}\n", true, true},
		"ValidatingWebhookConfiguration":      {"apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: x}\n", false, true},
		"CRD: Cluster, namespace ignored":     {"apiVersion: example.com/v1\nkind: Tenant\nmetadata: {name: x, namespace: a}\n", false, true},
		"CRD: Namespaced, without namespace":  {"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: x}\n", true, true},
		"CRD overrides the table":             {"apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: x}\n", true, true},
		"unknown group, with namespace":       {"apiVersion: other.org/v1\nkind: Thing\nmetadata: {name: x, namespace: a}\n", true, true},
		"unknown group, without namespace":    {"apiVersion: other.org/v1\nkind: Thing\nmetadata: {name: x}\n", false, false},
		"same kind, another group than a CRD": {"apiVersion: other.org/v1\nkind: Widget\nmetadata: {name: x}\n", false, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			namespaced, known := scopes.Namespaced(manifest.FromNode(0, node(t, tc.doc)))
			assert.Equal(t, tc.namespaced, namespaced, "namespaced")
			assert.Equal(t, tc.known, known, "known")
		})
	}
}
