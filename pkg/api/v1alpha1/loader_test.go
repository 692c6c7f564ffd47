package v1alpha1_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
)

func parse(t *testing.T, s string) *yaml.RNode {
	t.Helper()
	n, err := yaml.Parse(s)
	require.NoError(t, err)
	return n
}

func boolPtr(b bool) *bool { return &b }

func TestLoadDefaults(t *testing.T) {
	tests := map[string]struct {
		config string // "" means no functionConfig at all
	}{
		"no functionConfig":       {},
		"empty functionConfig":    {config: "{}\n"},
		"TierWall without spec":   {config: "apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\n"},
		"TierWall with null spec": {config: "apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec: null\n"},
		"TierWall with spec {}":   {config: "apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec: {}\n"},
		"ConfigMap without data":  {config: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: function-input}\n"},
		"ConfigMap with no keys":  {config: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: function-input}\ndata: {}\n"},
		"kustomize local-config annotations": {config: `apiVersion: tierwall.io/v1alpha1
kind: TierWall
metadata:
  name: tw
  annotations:
    config.kubernetes.io/local-config: "true"
    config.kubernetes.io/function: |
      exec: {path: tierwall}
`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var fc *yaml.RNode
			if tc.config != "" {
				fc = parse(t, tc.config)
			}
			spec, _, err := v1alpha1.Load(fc)
			require.NoError(t, err)
			require.NotNil(t, spec)

			assert.Empty(t, spec.Namespace)
			assert.Equal(t, boolPtr(true), spec.SkipSystemNamespaces)
			assert.Empty(t, spec.SkipNamespaces)
			assert.Equal(t, v1alpha1.DefaultDeny{Ingress: boolPtr(true), Egress: boolPtr(true)}, spec.DefaultDeny)
			assert.Equal(t, v1alpha1.DNS{
				Profile:   v1alpha1.DNSProfileKubeDNS,
				Namespace: "kube-system",
				PodLabels: map[string]string{"k8s-app": "kube-dns"},
				Ports:     []int32{53},
			}, spec.DNS)
			assert.Equal(t, v1alpha1.Monitoring{
				Enabled:   boolPtr(true),
				Namespace: "monitoring",
				PodLabels: map[string]string{"app.kubernetes.io/name": "prometheus"},
			}, spec.Monitoring)
			assert.Equal(t, v1alpha1.KubeAPI{Ports: []int32{443, 6443}}, spec.KubeAPI)
		})
	}
}

func TestLoadSource(t *testing.T) {
	tests := map[string]struct {
		config string
		want   v1alpha1.Source
		str    string
	}{
		"none": {str: "defaults (no functionConfig)"},
		"TierWall": {
			config: "apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw, namespace: ns}\n",
			want:   v1alpha1.Source{APIVersion: "tierwall.io/v1alpha1", Kind: "TierWall", Name: "tw", Namespace: "ns"},
			str:    "tierwall.io/v1alpha1/TierWall tw",
		},
		"ConfigMap": {
			config: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: function-input}\n",
			want:   v1alpha1.Source{APIVersion: "v1", Kind: "ConfigMap", Name: "function-input"},
			str:    "v1/ConfigMap function-input",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var fc *yaml.RNode
			if tc.config != "" {
				fc = parse(t, tc.config)
			}
			_, src, err := v1alpha1.Load(fc)
			require.NoError(t, err)
			assert.Equal(t, tc.want, src)
			assert.Equal(t, tc.str, src.String())
		})
	}
}

// TestLoadParity: the same settings, as a TierWall spec or as ConfigMap data
// (dotted keys, comma lists, k=v maps, YAML values), give the same Spec.
func TestLoadParity(t *testing.T) {
	tests := map[string]struct {
		spec string // body of spec:, indented by two
		data string // body of data:, indented by two
	}{
		"namespace and skips": {
			spec: "  namespace: shop\n  skipSystemNamespaces: false\n  skipNamespaces: [legacy, sandbox]\n",
			data: "  namespace: shop\n  skipSystemNamespaces: \"false\"\n  skipNamespaces: legacy, sandbox\n",
		},
		"skipNamespaces as a YAML list": {
			spec: "  skipNamespaces: [legacy, sandbox]\n",
			data: "  skipNamespaces: \"[legacy, sandbox]\"\n",
		},
		"default deny directions": {
			spec: "  defaultDeny: {ingress: true, egress: false}\n",
			data: "  defaultDeny.ingress: \"true\"\n  defaultDeny.egress: \"false\"\n",
		},
		"dns nodelocal with an address": {
			spec: "  dns: {profile: nodelocal, nodeLocalIP: 169.254.25.10}\n",
			data: "  dns.profile: nodelocal\n  dns.nodeLocalIP: 169.254.25.10\n",
		},
		"dns custom, labels as k=v": {
			spec: "  dns:\n    profile: custom\n    namespace: dns\n    podLabels: {app: coredns, tier: dns}\n    ports: [53, 8053]\n    cidrs: [10.0.0.10/32]\n",
			data: "  dns.profile: custom\n  dns.namespace: dns\n  dns.podLabels: app=coredns, tier=dns\n  dns.ports: 53,8053\n  dns.cidrs: 10.0.0.10/32\n",
		},
		"dns custom, labels and ports as YAML": {
			spec: "  dns:\n    profile: custom\n    namespace: dns\n    podLabels: {app.kubernetes.io/name: coredns}\n    ports: [53, 8053]\n",
			data: "  dns.profile: custom\n  dns.namespace: dns\n  dns.podLabels: |\n    app.kubernetes.io/name: coredns\n  dns.ports: \"[53, 8053]\"\n",
		},
		"monitoring": {
			spec: "  monitoring: {enabled: true, namespace: observability, podLabels: {app: prom}, ports: [\"9090\", metrics]}\n",
			data: "  monitoring.enabled: \"true\"\n  monitoring.namespace: observability\n  monitoring.podLabels: app=prom\n  monitoring.ports: 9090,metrics\n",
		},
		"monitoring off": {
			spec: "  monitoring: {enabled: false}\n",
			data: "  monitoring.enabled: \"false\"\n",
		},
		"kube api": {
			spec: "  kubeAPI: {enabled: true, cidrs: [10.0.0.1/32, 172.18.0.2/32], ports: [443], podLabels: {kube-api: \"true\"}}\n",
			data: "  kubeAPI.enabled: \"true\"\n  kubeAPI.cidrs: 10.0.0.1/32,172.18.0.2/32\n  kubeAPI.ports: \"443\"\n  kubeAPI.podLabels: kube-api=true\n",
		},
		"a whole struct as one YAML value": {
			spec: "  dns: {profile: gke-cloud-dns}\n",
			data: "  dns: |\n    profile: gke-cloud-dns\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tw, _, err := v1alpha1.Load(parse(t, "apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec:\n"+tc.spec))
			require.NoError(t, err)
			cm, _, err := v1alpha1.Load(parse(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: function-input}\ndata:\n"+tc.data))
			require.NoError(t, err)
			assert.Equal(t, tw, cm)

			def, _, err := v1alpha1.Load(nil)
			require.NoError(t, err)
			assert.NotEqual(t, def, tw, "the settings must change something, or the case proves nothing")
		})
	}
}

func TestLoadValues(t *testing.T) {
	tests := map[string]struct {
		spec  string
		check func(t *testing.T, s *v1alpha1.Spec)
	}{
		"nodelocal adds the default address": {
			spec: "  dns: {profile: nodelocal}\n",
			check: func(t *testing.T, s *v1alpha1.Spec) {
				assert.Equal(t, "kube-system", s.DNS.Namespace)
				assert.Equal(t, map[string]string{"k8s-app": "kube-dns"}, s.DNS.PodLabels)
				assert.Equal(t, "169.254.20.10", s.DNS.NodeLocalIP)
				assert.Equal(t, []string{"169.254.20.10/32"}, s.DNS.CIDRs)
				assert.Equal(t, []int32{53}, s.DNS.Ports)
			},
		},
		"nodelocal with an IPv6 address is a /128": {
			spec: "  dns: {profile: nodelocal, nodeLocalIP: \"fd00::a\"}\n",
			check: func(t *testing.T, s *v1alpha1.Spec) {
				assert.Equal(t, []string{"fd00::a/128"}, s.DNS.CIDRs)
			},
		},
		"nodelocal with explicit cidrs keeps them": {
			spec: "  dns: {profile: nodelocal, cidrs: [169.254.25.10/32]}\n",
			check: func(t *testing.T, s *v1alpha1.Spec) {
				assert.Equal(t, []string{"169.254.25.10/32"}, s.DNS.CIDRs)
			},
		},
		"openshift": {
			spec: "  dns: {profile: openshift}\n",
			check: func(t *testing.T, s *v1alpha1.Spec) {
				assert.Equal(t, "openshift-dns", s.DNS.Namespace)
				assert.Equal(t, map[string]string{"dns.operator.openshift.io/daemonset-dns": "default"}, s.DNS.PodLabels)
				assert.Equal(t, []int32{5353}, s.DNS.Ports)
				assert.Empty(t, s.DNS.CIDRs)
			},
		},
		"gke-cloud-dns has no pods, only the metadata address": {
			spec: "  dns: {profile: gke-cloud-dns}\n",
			check: func(t *testing.T, s *v1alpha1.Spec) {
				assert.Empty(t, s.DNS.Namespace)
				assert.Empty(t, s.DNS.PodLabels)
				assert.Equal(t, []string{"169.254.169.254/32"}, s.DNS.CIDRs)
				assert.Equal(t, []int32{53}, s.DNS.Ports)
			},
		},
		"custom keeps what was given and defaults the port": {
			spec: "  dns: {profile: custom, cidrs: [10.96.0.10/32]}\n",
			check: func(t *testing.T, s *v1alpha1.Spec) {
				assert.Empty(t, s.DNS.Namespace)
				assert.Equal(t, []string{"10.96.0.10/32"}, s.DNS.CIDRs)
				assert.Equal(t, []int32{53}, s.DNS.Ports)
			},
		},
		"user values are never overridden": {
			spec: "  skipSystemNamespaces: false\n  defaultDeny: {egress: false}\n  dns: {namespace: dns, podLabels: {app: dns}, ports: [1053]}\n  monitoring: {enabled: false, namespace: prom}\n  kubeAPI: {ports: [6443]}\n",
			check: func(t *testing.T, s *v1alpha1.Spec) {
				assert.False(t, *s.SkipSystemNamespaces)
				assert.True(t, *s.DefaultDeny.Ingress)
				assert.False(t, *s.DefaultDeny.Egress)
				assert.Equal(t, v1alpha1.DNS{Profile: "kube-dns", Namespace: "dns", PodLabels: map[string]string{"app": "dns"}, Ports: []int32{1053}}, s.DNS)
				assert.False(t, *s.Monitoring.Enabled)
				assert.Equal(t, "prom", s.Monitoring.Namespace)
				assert.Equal(t, []int32{6443}, s.KubeAPI.Ports)
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec, _, err := v1alpha1.Load(parse(t, "apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec:\n"+tc.spec))
			require.NoError(t, err)
			tc.check(t, spec)
			// Default is idempotent.
			again := *spec
			again.Default()
			assert.Equal(t, *spec, again)
		})
	}
}

// TestLoadErrors checks every error path: the field path of each problem and
// a word of its message, all problems of a config reported at once.
func TestLoadErrors(t *testing.T) {
	type fe struct{ path, msg string }
	const tw = "apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\n"
	const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: function-input}\n"
	tests := map[string]struct {
		config string
		want   []fe
	}{
		"another kind": {
			config: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
			want:   []fe{{"kind", `functionConfig is apps/v1/Deployment "web": tierwall takes tierwall.io/v1alpha1/TierWall or a v1/ConfigMap`}},
		},
		"another version of the kind": {
			config: "apiVersion: tierwall.io/v1beta1\nkind: TierWall\nmetadata: {name: tw}\n",
			want:   []fe{{"kind", "tierwall.io/v1beta1/TierWall"}},
		},
		"a ConfigMap of another apiVersion": {
			config: "apiVersion: v2\nkind: ConfigMap\nmetadata: {name: x}\n",
			want:   []fe{{"kind", "v2/ConfigMap"}},
		},
		"unknown top-level field": {
			config: tw + "dns: {profile: nodelocal}\n",
			want:   []fe{{"dns", "unknown field (settings go under spec)"}},
		},
		"spec not a mapping": {
			config: tw + "spec: [a]\n",
			want:   []fe{{"spec", "must be a mapping, got a list"}},
		},
		"unknown spec field": {
			config: tw + "spec: {skipNamespace: [x]}\n",
			want:   []fe{{"spec.skipNamespace", "unknown field"}},
		},
		"unknown nested field": {
			config: tw + "spec: {dns: {profiles: nodelocal}}\n",
			want:   []fe{{"spec.dns.profiles", "unknown field"}},
		},
		"wrong types": {
			config: tw + "spec:\n  skipSystemNamespaces: \"yes\"\n  skipNamespaces: legacy\n  dns: {ports: [dns], podLabels: {version: 1.0}}\n  monitoring: nope\n",
			want: []fe{
				{"spec.dns.podLabels.version", "must be a string, got 1 (quote it)"},
				{"spec.dns.ports[0]", `must be an integer, got "dns"`},
				{"spec.monitoring", `must be a mapping, got "nope"`},
				{"spec.skipNamespaces", `must be a list, got "legacy"`},
				{"spec.skipSystemNamespaces", `must be true or false, got "yes"`},
			},
		},
		"nulls in lists and maps": {
			config: tw + "spec: {skipNamespaces: [null], monitoring: {podLabels: {app: null}}}\n",
			want: []fe{
				{"spec.monitoring.podLabels.app", "must not be null"},
				{"spec.skipNamespaces[0]", "must not be null"},
			},
		},
		"integer out of int32 range": {
			config: tw + "spec: {dns: {ports: [4294967349]}}\n",
			want:   []fe{{"spec.dns.ports[0]", "4294967349 is out of range"}},
		},
		"negative port": {
			config: tw + "spec: {kubeAPI: {ports: [-1]}}\n",
			want:   []fe{{"spec.kubeAPI.ports[0]", "-1 is out of range"}},
		},
		"invalid namespaces": {
			config: tw + "spec: {namespace: Shop, skipNamespaces: [ok, under_score], dns: {namespace: -dns}, monitoring: {namespace: \"\"}}\n",
			want: []fe{
				{"spec.dns.namespace", `"-dns" is not a valid namespace name`},
				{"spec.namespace", `"Shop" is not a valid namespace name`},
				{"spec.skipNamespaces[1]", `"under_score" is not a valid namespace name`},
			},
		},
		"unknown DNS profile": {
			config: tw + "spec: {dns: {profile: coredns}}\n",
			want:   []fe{{"spec.dns.profile", `unknown DNS profile "coredns": must be one of kube-dns, nodelocal, openshift, gke-cloud-dns, custom`}},
		},
		"nodeLocalIP on another profile": {
			config: tw + "spec: {dns: {nodeLocalIP: 169.254.25.10}}\n",
			want:   []fe{{"spec.dns.nodeLocalIP", `only applies to the nodelocal profile, not "kube-dns"`}},
		},
		"nodeLocalIP not an address": {
			config: tw + "spec: {dns: {profile: nodelocal, nodeLocalIP: 169.254.25}}\n",
			want:   []fe{{"spec.dns.nodeLocalIP", `"169.254.25" is not an IP address`}},
		},
		"dns namespace without pod labels": {
			config: tw + "spec: {dns: {profile: custom, namespace: dns}}\n",
			want:   []fe{{"spec.dns", "namespace and podLabels must be set together"}},
		},
		"custom dns with nothing to reach": {
			config: tw + "spec: {dns: {profile: custom}}\n",
			want:   []fe{{"spec.dns", "the custom profile needs namespace and podLabels, or cidrs"}},
		},
		"invalid CIDRs": {
			config: tw + "spec: {dns: {profile: custom, cidrs: [10.0.0.10, \"fd00::a\", 10.0.0.0/33, dns]}}\n",
			want: []fe{
				{"spec.dns.cidrs[0]", `"10.0.0.10" is not a CIDR (write a single address as 10.0.0.10/32)`},
				{"spec.dns.cidrs[1]", `"fd00::a" is not a CIDR (write a single address as fd00::a/128)`},
				{"spec.dns.cidrs[2]", `"10.0.0.0/33" is not a CIDR`},
				{"spec.dns.cidrs[3]", `"dns" is not a CIDR`},
			},
		},
		"ports out of range": {
			config: tw + "spec: {dns: {ports: [0, 53, 65536]}, kubeAPI: {ports: [70000]}}\n",
			want: []fe{
				{"spec.dns.ports[0]", "port 0 is out of range 1-65535"},
				{"spec.dns.ports[2]", "port 65536 is out of range 1-65535"},
				{"spec.kubeAPI.ports[0]", "port 70000 is out of range 1-65535"},
			},
		},
		"monitoring ports": {
			config: tw + "spec: {monitoring: {ports: [\"0\", \"9090\", metrics, \"http metrics\", this-name-is-too-long]}}\n",
			want: []fe{
				{"spec.monitoring.ports[0]", "port 0 is out of range 1-65535"},
				{"spec.monitoring.ports[3]", `"http metrics" is neither a port number nor a valid port name`},
				{"spec.monitoring.ports[4]", `"this-name-is-too-long" is neither a port number nor a valid port name`},
			},
		},
		"kube api without cidrs": {
			config: tw + "spec: {kubeAPI: {enabled: true}}\n",
			want:   []fe{{"spec.kubeAPI.cidrs", "required when kubeAPI.enabled is true"}},
		},
		"invalid labels": {
			config: tw + "spec: {dns: {podLabels: {\"k8s app\": kube-dns}}, monitoring: {podLabels: {app: \"prom etheus\"}}, kubeAPI: {podLabels: {a: -x-}}}\n",
			want: []fe{
				{"spec.dns.podLabels", `label key "k8s app" is invalid`},
				{"spec.kubeAPI.podLabels.a", `label value "-x-" is invalid`},
				{"spec.monitoring.podLabels.app", `label value "prom etheus" is invalid`},
			},
		},
		"every stage at once": {
			config: tw + "extra: 1\nspec:\n  bogus: true\n  skipSystemNamespaces: maybe\n  dns: {profile: coredns, cidrs: [1.2.3.4]}\n  kubeAPI: {enabled: true, ports: [0]}\n",
			want: []fe{
				{"extra", "unknown field (settings go under spec)"},
				{"spec.bogus", "unknown field"},
				{"spec.dns.cidrs[0]", `"1.2.3.4" is not a CIDR`},
				{"spec.dns.profile", "unknown DNS profile"},
				{"spec.kubeAPI.cidrs", "required when kubeAPI.enabled is true"},
				{"spec.kubeAPI.ports[0]", "port 0 is out of range"},
				{"spec.skipSystemNamespaces", `must be true or false, got "maybe"`},
			},
		},
		"a validation error does not hide those beneath it": {
			config: tw + "spec: {dns: {profile: custom, namespace: dns, cidrs: [10.0.0.10]}, kubeAPI: {podLabels: {\"a b\": x, c: -y}}}\n",
			want: []fe{
				{"spec.dns", "namespace and podLabels must be set together"},
				{"spec.dns.cidrs[0]", `"10.0.0.10" is not a CIDR`},
				{"spec.kubeAPI.podLabels", `label key "a b" is invalid`},
				{"spec.kubeAPI.podLabels.c", `label value "-y" is invalid`},
			},
		},
		"a misfit list element is reported once, its siblings still checked": {
			config: tw + "spec: {kubeAPI: {cidrs: [null, 10.0.0.1, [a]]}}\n",
			want: []fe{
				{"spec.kubeAPI.cidrs[0]", "must not be null"},
				{"spec.kubeAPI.cidrs[1]", `"10.0.0.1" is not a CIDR`},
				{"spec.kubeAPI.cidrs[2]", "must be a string, got a list"},
			},
		},
		"ConfigMap unknown key": {
			config: cm + "data: {dns.profiles: nodelocal, skipNamespace: x}\n",
			want: []fe{
				{"data.dns.profiles", "unknown field"},
				{"data.skipNamespace", "unknown field"},
			},
		},
		"ConfigMap bad booleans and integers": {
			config: cm + "data: {skipSystemNamespaces: \"yes\", monitoring.enabled: \"on\", dns.ports: \"53,dns\", kubeAPI.ports: \"[443, x]\"}\n",
			want: []fe{
				{"data.dns.ports", `must be a list of integers, got "53,dns"`},
				{"data.kubeAPI.ports[1]", `must be an integer, got "x"`},
				{"data.monitoring.enabled", `must be true or false, got "on"`},
				{"data.skipSystemNamespaces", `must be true or false, got "yes"`},
			},
		},
		"ConfigMap bad map": {
			config: cm + "data: {dns.podLabels: \"k8s-app\"}\n",
			want:   []fe{{"data.dns.podLabels", "must be key=value pairs separated by commas"}},
		},
		"ConfigMap non-string value": {
			config: cm + "data: {skipSystemNamespaces: false}\n",
			want:   []fe{{"data.skipSystemNamespaces", "ConfigMap data values must be strings, got false"}},
		},
		"ConfigMap invalid YAML value": {
			config: cm + "data: {dns.cidrs: \"[a, b\"}\n",
			want:   []fe{{"data.dns.cidrs", "not valid YAML"}},
		},
		"ConfigMap parse and validation errors together": {
			config: cm + "data: {foo: x, dns.profile: coredns, kubeAPI.cidrs: 10.0.0.1}\n",
			want: []fe{
				{"data.dns.profile", "unknown DNS profile"},
				{"data.foo", "unknown field"},
				{"data.kubeAPI.cidrs[0]", `"10.0.0.1" is not a CIDR`},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec, _, err := v1alpha1.Load(parse(t, tc.config))
			require.Error(t, err)
			assert.Nil(t, spec, "no spec beside an error")
			var errs v1alpha1.Errors
			require.ErrorAs(t, err, &errs, "a config error is a v1alpha1.Errors")
			var paths, wantPaths []string
			for _, e := range errs {
				paths = append(paths, e.Path)
			}
			for _, w := range tc.want {
				wantPaths = append(wantPaths, w.path)
			}
			require.Equal(t, wantPaths, paths, "%v", err)
			for i, w := range tc.want {
				assert.Contains(t, errs[i].Message, w.msg, "at %s", w.path)
				assert.Contains(t, err.Error(), w.path+": "+errs[i].Message)
			}
			assert.Regexp(t, `^invalid tierwall configuration: `, err.Error())
		})
	}
}

func TestLoadNotAnObject(t *testing.T) {
	_, _, err := v1alpha1.Load(parse(t, "[a, b]\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reading functionConfig")
}
