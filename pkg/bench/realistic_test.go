package bench_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/bench"
)

// read parses a plain stream or a ResourceList with kyaml, as the noop
// yardstick does, and returns each object as a map.
func read(t *testing.T, in []byte, resourceList bool) []map[string]any {
	t.Helper()
	var nodes []*yaml.RNode
	if resourceList {
		rl, err := yaml.Parse(string(in))
		require.NoError(t, err)
		items, err := rl.Pipe(yaml.Lookup("items"))
		require.NoError(t, err)
		nodes, err = items.Elements()
		require.NoError(t, err)
	} else {
		var err error
		nodes, err = (&kio.ByteReader{Reader: bytes.NewReader(in), OmitReaderAnnotations: true}).Read()
		require.NoError(t, err)
	}
	objs := make([]map[string]any, len(nodes))
	for i, n := range nodes {
		m, err := n.Map()
		require.NoError(t, err)
		objs[i] = m
	}
	return objs
}

func field(o map[string]any, path ...string) string {
	var v any = o
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

var clusterScoped = map[string]bool{"ClusterRole": true, "ClusterRoleBinding": true, "IngressClass": true, "ValidatingWebhookConfiguration": true}

// TestLayouts checks both data sets in both layouts: the count each
// promises, an apiVersion, kind and name on every object, a namespace on
// every namespaced one, the same objects in the plain stream and the
// ResourceList, and the same bytes on every call.
func TestLayouts(t *testing.T) {
	sets := map[string]struct {
		gen   func(namespaces, apps int, resourceList bool) []byte
		count func(namespaces, apps int) int
	}{
		"realistic": {bench.Realistic, bench.RealisticCount},
		"simple":    {bench.Stream, func(n, a int) int { return n * a * 9 }},
	}
	for name, set := range sets {
		for _, size := range [][2]int{{1, 1}, {2, 3}, {6, 20}} {
			plain := set.gen(size[0], size[1], false)
			objs := read(t, plain, false)
			require.Len(t, objs, set.count(size[0], size[1]), "%s %v", name, size)
			for _, o := range objs {
				assert.NotEmpty(t, field(o, "apiVersion"), "%s: %v", name, o)
				assert.NotEmpty(t, field(o, "kind"), "%s: %v", name, o)
				assert.NotEmpty(t, field(o, "metadata", "name"), "%s: %v", name, o)
				assert.Equal(t, !clusterScoped[field(o, "kind")], field(o, "metadata", "namespace") != "",
					"%s: namespace of %s %s", name, field(o, "kind"), field(o, "metadata", "name"))
			}
			rl := set.gen(size[0], size[1], true)
			assert.Equal(t, objs, read(t, rl, true), "%s %v: the ResourceList holds other objects", name, size)
			assert.Equal(t, plain, set.gen(size[0], size[1], false), "%s %v: not deterministic", name, size)
			assert.Equal(t, rl, set.gen(size[0], size[1], true), "%s %v: not deterministic", name, size)
		}
	}
}

// TestRealisticDefaultSize pins the promise of the default parameters: as
// many objects as the simple set, give or take 3%.
func TestRealisticDefaultSize(t *testing.T) {
	assert.InEpsilon(t, 9000, bench.RealisticCount(50, 20), 0.03)
}

// TestRealisticHelmShape checks what a Helm-rendered stream carries: a
// "# Source:" comment before every document, the chart labels on every
// object, two releases in some namespace, and the hook and ingress
// controller objects.
func TestRealisticHelmShape(t *testing.T) {
	in := bench.Realistic(5, 4, false)
	docs := strings.Split(string(in), "---\n")[1:]
	for _, d := range docs {
		require.True(t, strings.HasPrefix(d, "# Source: "), d)
	}
	objs := read(t, in, false)
	instances := map[string]map[string]bool{}
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[field(o, "apiVersion")+" "+field(o, "kind")]++
		for _, l := range []string{"helm.sh/chart", "app.kubernetes.io/name", "app.kubernetes.io/instance",
			"app.kubernetes.io/version", "app.kubernetes.io/component", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by"} {
			if l == "app.kubernetes.io/component" && field(o, "kind") == "ConfigMap" {
				continue
			}
			assert.NotEmpty(t, field(o, "metadata", "labels", l), "%s on %s %s", l, field(o, "kind"), field(o, "metadata", "name"))
		}
		if ns := field(o, "metadata", "namespace"); ns != "" {
			if instances[ns] == nil {
				instances[ns] = map[string]bool{}
			}
			instances[ns][field(o, "metadata", "labels", "app.kubernetes.io/instance")] = true
		}
		if field(o, "kind") == "Job" {
			assert.Equal(t, "pre-install,pre-upgrade", field(o, "metadata", "annotations", "helm.sh/hook"))
		}
	}
	assert.Equal(t, map[string]bool{"core": true, "edge": true, "policy-webhook": true}, instances["team-001"])
	assert.Equal(t, map[string]bool{"core": true, "policy-webhook": true}, instances["team-000"])
	for _, k := range []string{"v1 ServiceAccount", "v1 ConfigMap", "v1 Service", "apps/v1 Deployment", "batch/v1 Job",
		"networking.k8s.io/v1 Ingress", "networking.k8s.io/v1 IngressClass", "monitoring.coreos.com/v1 ServiceMonitor",
		"rbac.authorization.k8s.io/v1 Role", "rbac.authorization.k8s.io/v1 RoleBinding",
		"rbac.authorization.k8s.io/v1 ClusterRole", "rbac.authorization.k8s.io/v1 ClusterRoleBinding",
		"admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration"} {
		assert.Positive(t, kinds[k], k)
	}
	assert.Equal(t, 5, kinds["admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration"])
}

// TestRealisticReferences checks that every in-cluster name the stream's
// env, ConfigMaps, Ingresses, ServiceMonitors and webhooks use exists: a
// dangling reference would measure a warning path, not inference. Some of
// them cross namespaces.
func TestRealisticReferences(t *testing.T) {
	in := bench.Realistic(3, 6, false)
	objs := read(t, in, false)
	exists := map[string]bool{}
	for _, o := range objs {
		exists[field(o, "kind")+"/"+field(o, "metadata", "namespace")+"/"+field(o, "metadata", "name")] = true
	}
	text := string(in)
	qualified := regexp.MustCompile(`(?:http://|postgres://|value: )([a-z0-9-]+)\.(team-[0-9]+)\.svc\.cluster\.local`)
	cross := 0
	for _, m := range qualified.FindAllStringSubmatch(text, -1) {
		assert.True(t, exists["Service/"+m[2]+"/"+m[1]], m[0])
		cross++
	}
	assert.Positive(t, cross)
	// Short names resolve in the namespace of the document that holds them.
	short := regexp.MustCompile(`(?m)^(?:\s+value: |\s+value: http://|\s+name: )(app[0-9]+-(?:api|postgresql|web|config))(?::[0-9]+)?$`)
	nsLine := regexp.MustCompile(`(?m)^  namespace: (\S+)$`)
	checked := 0
	for _, d := range strings.Split(text, "---\n")[1:] {
		ns := nsLine.FindStringSubmatch(d)
		if ns == nil {
			continue
		}
		for _, m := range short.FindAllStringSubmatch(d, -1) {
			kind := "Service"
			if strings.HasSuffix(m[1], "-config") {
				kind = "ConfigMap"
			}
			if !exists[kind+"/"+ns[1]+"/"+m[1]] && !exists["ServiceAccount/"+ns[1]+"/"+m[1]] {
				t.Errorf("%s names %s %s/%s, not in the stream", strings.SplitN(d, "\n", 2)[0], kind, ns[1], m[1])
			}
			checked++
		}
	}
	assert.Greater(t, checked, 100)
}
