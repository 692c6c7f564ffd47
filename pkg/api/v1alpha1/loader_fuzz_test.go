package v1alpha1_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
)

// FuzzLoad feeds arbitrary functionConfigs and command-line overrides to
// the loader. On every input: no panic; the functionConfig is not modified;
// the same input loads the same way twice; an error is a list of field
// errors, each with a path and a message (or, for YAML the loader cannot
// decode at all, a message about the functionConfig); a loaded spec holds
// the overrides, is valid, and written out as a TierWall loads back to the
// same spec.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"",
		"apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec: {}\n",
		"apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec:\n  namespace: shop\n  dns: {profile: nodelocal, nodeLocalIP: 169.254.25.10}\n  monitoring: {podLabels: {app: prom}, ports: [metrics, 9090]}\n  kubeAPI: {enabled: true, cidrs: [10.0.0.1/32]}\n",
		"apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec:\n  allows:\n  - {name: a, namespace: shop, from: [{namespace: mon, podLabels: {app: g}}], to: {workload: api}, ports: [{port: http}]}\n  externalEgress:\n  - {namespace: shop, pods: {tier: api}, ports: [{port: 443}], cidrs: [0.0.0.0/0]}\n  zones: {isolated: [pci], allowCrossing: ['*->pci']}\n",
		"apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec:\n  tiers: {chain: [{name: web}, {name: db, aliases: [pg]}], entry: [{cidr: 10.0.0.0/8}]}\n  flavor: cilium\n  check: {failOn: warning, clusterCIDRs: [10.244.0.0/16]}\n  workloadKinds: [{group: argoproj.io, kind: Rollout, template: spec.template, selector: spec.selector}]\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: function-input}\ndata:\n  dns.profile: openshift\n  skipNamespaces: \"legacy,sandbox\"\n  monitoring.podLabels: app=prom,team=obs\n  tiers.enabled: \"false\"\n",
		"apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec: {dns: {ports: [70000]}, defaultDeny: {ingress: yes}}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n",
		"tierwall please\n",
		"apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec: {dns: {}, dns: {}}\n",
	} {
		f.Add([]byte(s), "", "", "", "", false, false)
	}
	f.Add([]byte(""), "shop", "nodelocal", "legacy", "10.0.0.1/32", true, true)
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fi}\ndata: {skipNamespaces: a}\n"), "Bad_NS", "bogus", "b", "not-a-cidr", false, true)
	f.Fuzz(func(t *testing.T, data []byte, namespace, profile, skip, cidr string, noMonitoring, noTiers bool) {
		var fc *yaml.RNode
		if len(data) > 0 {
			var err error
			if fc, err = yaml.Parse(string(data)); err != nil {
				return // not YAML: the readers refuse it before the loader
			}
		}
		o := v1alpha1.Overrides{Namespace: namespace, DNSProfile: profile, DisableMonitoring: noMonitoring, DisableTiers: noTiers}
		if skip != "" {
			o.SkipNamespaces = []string{skip}
		}
		if cidr != "" {
			o.KubeAPICIDRs = []string{cidr}
		}
		before := text(t, fc)

		spec, _, err := v1alpha1.LoadWithOverrides(fc, o)
		if after := text(t, fc); after != before {
			t.Fatalf("the functionConfig was modified:\n%s\n%s", before, after)
		}
		spec2, _, err2 := v1alpha1.LoadWithOverrides(fc, o)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) || !reflect.DeepEqual(spec, spec2) {
			t.Fatalf("two loads disagree: %v / %v", err, err2)
		}
		if err != nil {
			checkError(t, err)
			if spec != nil {
				t.Fatalf("a spec beside an error: %v", err)
			}
			return
		}
		if spec == nil {
			t.Fatal("no spec and no error")
		}
		switch {
		case namespace != "" && spec.Namespace != namespace:
			t.Fatalf("--namespace %q lost: %q", namespace, spec.Namespace)
		case profile != "" && spec.DNS.Profile != profile:
			t.Fatalf("--dns-profile %q lost: %q", profile, spec.DNS.Profile)
		case noMonitoring && *spec.Monitoring.Enabled:
			t.Fatal("--no-monitoring lost")
		case noTiers && *spec.Tiers.Enabled:
			t.Fatal("--no-tiers lost")
		case skip != "" && !contains(spec.SkipNamespaces, skip):
			t.Fatalf("--skip-namespace %q lost: %v", skip, spec.SkipNamespaces)
		case cidr != "" && (!spec.KubeAPI.Enabled || !contains(spec.KubeAPI.CIDRs, cidr)):
			t.Fatalf("--kube-api-cidr %q lost: %v", cidr, spec.KubeAPI)
		}
		if err := spec.Validate("spec."); err != nil {
			t.Fatalf("a loaded spec is invalid: %v", err)
		}

		// Written out as a TierWall, the spec loads back to itself.
		out, err := sigsyaml.Marshal(v1alpha1.TierWall{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind,
			Metadata: map[string]any{"name": "round-trip"}, Spec: *spec})
		if err != nil {
			t.Fatalf("the spec does not encode: %v", err)
		}
		back, _, err := v1alpha1.Load(yaml.MustParse(string(out)))
		if err != nil {
			t.Fatalf("the spec written out does not load: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(spec, back) {
			again, _ := sigsyaml.Marshal(back)
			t.Fatalf("the spec written out loads otherwise:\n%s\n%s", out, again)
		}
	})
}

// checkError: field errors have paths and messages; other errors are about
// the functionConfig as a whole.
func checkError(t *testing.T, err error) {
	t.Helper()
	var fes v1alpha1.Errors
	if errors.As(err, &fes) {
		if len(fes) == 0 {
			t.Fatal("an empty list of errors")
		}
		for _, fe := range fes {
			if strings.TrimSpace(fe.Path) == "" || fe.Message == "" {
				t.Fatalf("a field error without a path or message: %+v in %v", fe, err)
			}
		}
		return
	}
	if !strings.Contains(err.Error(), "functionConfig") && !strings.Contains(err.Error(), "command-line settings") {
		t.Fatalf("an error that names no field and not the functionConfig: %v", err)
	}
}

func text(t *testing.T, n *yaml.RNode) string {
	t.Helper()
	if n == nil {
		return ""
	}
	s, err := n.String()
	if err != nil {
		t.Fatalf("encoding the functionConfig: %v", err)
	}
	return s
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
