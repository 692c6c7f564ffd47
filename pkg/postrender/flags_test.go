package postrender_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/postrender"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestParseArgs(t *testing.T) {
	tests := map[string]struct {
		args []string
		env  map[string]string
		want postrender.Config
	}{
		"nothing": {},
		"every flag": {
			args: []string{"--config=tw.yaml", "--namespace", "shop", "--dns-profile=nodelocal",
				"--skip-namespace=a", "--skip-namespace", "b", "--no-monitoring", "--no-tiers",
				"--kube-api-cidr=10.0.0.1/32", "--helm4-plugin"},
			want: postrender.Config{
				ConfigFile:  "tw.yaml",
				Helm4Plugin: true,
				Overrides: v1alpha1.Overrides{Namespace: "shop", DNSProfile: "nodelocal",
					SkipNamespaces: []string{"a", "b"}, DisableMonitoring: true, DisableTiers: true,
					KubeAPICIDRs: []string{"10.0.0.1/32"}},
			},
		},
		"HELM_NAMESPACE names the release namespace": {
			env:  map[string]string{"HELM_NAMESPACE": "shop"},
			want: postrender.Config{Overrides: v1alpha1.Overrides{Namespace: "shop"}},
		},
		"--namespace wins over HELM_NAMESPACE": {
			args: []string{"--namespace=payments"},
			env:  map[string]string{"HELM_NAMESPACE": "shop"},
			want: postrender.Config{Overrides: v1alpha1.Overrides{Namespace: "payments"}},
		},
		"single dash works too": {
			args: []string{"-namespace=shop"},
			want: postrender.Config{Overrides: v1alpha1.Overrides{Namespace: "shop"}},
		},
		"help":    {args: []string{"--help"}, want: postrender.Config{Help: true}},
		"version": {args: []string{"--version"}, want: postrender.Config{Version: true}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := postrender.ParseArgs(tc.args, env(tc.env))
			require.NoError(t, err)
			got.Overrides.Flags = nil
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"unknown flag":        {args: []string{"--bogus"}, want: `flag provided but not defined: -bogus`},
		"missing value":       {args: []string{"--config"}, want: `flag needs an argument: -config`},
		"empty config":        {args: []string{"--config="}, want: `--config needs a file name`},
		"empty namespace":     {args: []string{"--namespace="}, want: `--namespace needs a namespace name`},
		"positional argument": {args: []string{"tierwall.yaml"}, want: `unexpected argument "tierwall.yaml": flags only`},
		"bad bool":            {args: []string{"--no-tiers=maybe"}, want: `invalid boolean value "maybe"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := postrender.ParseArgs(tc.args, env(nil))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
