package v1alpha1_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
)

func TestLoadWithOverrides(t *testing.T) {
	tests := map[string]struct {
		config string
		o      v1alpha1.Overrides
		check  func(t *testing.T, s *v1alpha1.Spec)
	}{
		"no config, no overrides: defaults": {
			check: func(t *testing.T, s *v1alpha1.Spec) {
				assert.Empty(t, s.Namespace)
				assert.Equal(t, v1alpha1.DNSProfileKubeDNS, s.DNS.Profile)
			},
		},
		"no config: flags alone": {
			o: v1alpha1.Overrides{Namespace: "shop", DNSProfile: v1alpha1.DNSProfileOpenShift, DisableMonitoring: true, DisableTiers: true},
			check: func(t *testing.T, s *v1alpha1.Spec) {
				assert.Equal(t, "shop", s.Namespace)
				// Defaults follow the overridden profile.
				assert.Equal(t, "openshift-dns", s.DNS.Namespace)
				assert.Equal(t, []int32{5353}, s.DNS.Ports)
				assert.False(t, *s.Monitoring.Enabled)
				assert.False(t, *s.Tiers.Enabled)
			},
		},
		"TierWall: scalars replaced, lists extended": {
			config: `apiVersion: tierwall.io/v1alpha1
kind: TierWall
metadata: {name: tw}
spec:
  namespace: from-file
  skipNamespaces: [legacy]
  dns: {profile: nodelocal}
  kubeAPI: {cidrs: [10.0.0.1/32]}
`,
			o: v1alpha1.Overrides{Namespace: "shop", DNSProfile: "kube-dns", SkipNamespaces: []string{"legacy", "batch"}, KubeAPICIDRs: []string{"10.96.0.1/32"}},
			check: func(t *testing.T, s *v1alpha1.Spec) {
				assert.Equal(t, "shop", s.Namespace)
				assert.Equal(t, v1alpha1.DNSProfileKubeDNS, s.DNS.Profile)
				assert.Empty(t, s.DNS.CIDRs, "no nodelocal defaults left over")
				assert.Equal(t, []string{"legacy", "batch"}, s.SkipNamespaces)
				assert.True(t, s.KubeAPI.Enabled)
				assert.Equal(t, []string{"10.0.0.1/32", "10.96.0.1/32"}, s.KubeAPI.CIDRs)
			},
		},
		"TierWall without spec": {
			config: "apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\n",
			o:      v1alpha1.Overrides{SkipNamespaces: []string{"batch"}},
			check: func(t *testing.T, s *v1alpha1.Spec) {
				assert.Equal(t, []string{"batch"}, s.SkipNamespaces)
			},
		},
		"ConfigMap: data keys": {
			config: `apiVersion: v1
kind: ConfigMap
metadata: {name: function-input}
data:
  skipNamespaces: "[legacy]"
  monitoring.namespace: prom
`,
			o: v1alpha1.Overrides{Namespace: "shop", SkipNamespaces: []string{"batch"}, DisableMonitoring: true, KubeAPICIDRs: []string{"10.96.0.1/32"}},
			check: func(t *testing.T, s *v1alpha1.Spec) {
				assert.Equal(t, "shop", s.Namespace)
				assert.Equal(t, []string{"legacy", "batch"}, s.SkipNamespaces)
				assert.False(t, *s.Monitoring.Enabled)
				assert.Equal(t, "prom", s.Monitoring.Namespace)
				assert.True(t, s.KubeAPI.Enabled)
				assert.Equal(t, []string{"10.96.0.1/32"}, s.KubeAPI.CIDRs)
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var fc *yaml.RNode
			if tc.config != "" {
				fc = yaml.MustParse(tc.config)
			}
			before := ""
			if fc != nil {
				before = fc.MustString()
			}
			s, _, err := v1alpha1.LoadWithOverrides(fc, tc.o)
			require.NoError(t, err)
			tc.check(t, s)
			if fc != nil {
				assert.Equal(t, before, fc.MustString(), "the functionConfig must not change")
			}
		})
	}
}

func TestLoadWithOverridesErrors(t *testing.T) {
	flags := map[string]string{"dns.profile": "set by --dns-profile", "skipNamespaces": "from the config file or --skip-namespace"}
	tests := map[string]struct {
		config string
		o      v1alpha1.Overrides
		want   []string
	}{
		"bad flag value names its flag": {
			o:    v1alpha1.Overrides{DNSProfile: "nope", Flags: flags},
			want: []string{`spec.dns.profile: unknown DNS profile "nope".*\(set by --dns-profile\)`},
		},
		"bad list value in a ConfigMap": {
			config: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {skipNamespaces: ok}\n",
			o:      v1alpha1.Overrides{SkipNamespaces: []string{"Not_A_Namespace"}, Flags: flags},
			want:   []string{`data.skipNamespaces\[1\]: "Not_A_Namespace" is not a valid namespace name.*\(from the config file or --skip-namespace\)`},
		},
		"config errors are still reported": {
			config: "apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec: {bogus: 1}\n",
			o:      v1alpha1.Overrides{Namespace: "shop"},
			want:   []string{`spec.bogus: unknown field`},
		},
		"spec of the wrong shape": {
			config: "apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec: [1]\n",
			o:      v1alpha1.Overrides{Namespace: "shop"},
			want:   []string{`spec: must be a mapping`},
		},
		"ConfigMap data of the wrong shape": {
			config: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: text\n",
			o:      v1alpha1.Overrides{Namespace: "shop"},
			want:   []string{`data: must be a mapping of settings`},
		},
		"wrong kind": {
			config: "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
			o:      v1alpha1.Overrides{Namespace: "shop"},
			want:   []string{`tierwall takes tierwall.io/v1alpha1/TierWall or a v1/ConfigMap`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var fc *yaml.RNode
			if tc.config != "" {
				fc = yaml.MustParse(tc.config)
			}
			s, _, err := v1alpha1.LoadWithOverrides(fc, tc.o)
			require.Error(t, err)
			assert.Nil(t, s)
			for _, w := range tc.want {
				assert.Regexp(t, w, err.Error())
			}
		})
	}
}
