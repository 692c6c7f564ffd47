package enforce

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readPlan(t *testing.T, name string) *Plan {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "enforce", "negative", name))
	require.NoError(t, err)
	return planStream(t, data, "")
}

// TestPlanExpectations pins what the plan of the negative controls' policy
// set expects, with pod addresses (Expect) and without (ExpectManifest).
func TestPlanExpectations(t *testing.T) {
	correct, dropped := readPlan(t, "correct.yaml"), readPlan(t, "broken-dropped-except.yaml")
	web, api, db := "shop/Deployment/web", "shop/Deployment/api", "shop/Deployment/db"
	tests := map[string]struct {
		plan               *Plan
		probe              Probe
		live, fromManifest bool
	}{
		"selector allow":         {correct, Probe{web, api, Port{"TCP", 8080}}, true, true},
		"named port allow":       {correct, Probe{api, db, Port{"TCP", 5432}}, true, true},
		"no rule":                {correct, Probe{api, web, Port{"TCP", 8080}}, false, false},
		"except covers the pod":  {correct, Probe{web, db, Port{"TCP", 5432}}, false, false},
		"except covers the host": {correct, Probe{web, "except 10.0.0.0/8", Port{"TCP", 5432}}, false, false},
		"public address":         {correct, Probe{web, "internet", Port{"TCP", 5432}}, true, true},
		// The report models enforcers that match ipBlocks against pods:
		// the manifest's pods stand at an address of the pod range too.
		"ipBlock matches a pod's address": {dropped, Probe{web, db, Port{"TCP", 5432}}, true, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			require.True(t, slices.Contains(tc.plan.Probes, tc.probe), "%s is probed", tc.probe)
			assert.Equal(t, tc.live, tc.plan.Expect(tc.probe), "Expect")
			assert.Equal(t, tc.fromManifest, tc.plan.ExpectManifest(tc.probe), "ExpectManifest")
		})
	}
	assert.Equal(t, InternetAddr, correct.Addr("internet"))
	assert.Equal(t, netip.MustParseAddr("10.0.0.0"), correct.Addr("except 10.0.0.0/8"))
	assert.Contains(t, correct.Why(Probe{web, db, Port{"TCP", 5432}}), "egress of shop/Deployment/web: shop/default-deny, shop/web-egress")
}

// TestPlanPods checks the pods of a plan: one per workload and virtual peer,
// distinct addresses in PodRange, declared ports kept with their names, and
// a status that places them on the node.
func TestPlanPods(t *testing.T) {
	p := readPlan(t, "correct.yaml")
	seen := map[netip.Addr]bool{}
	names := map[string]bool{}
	for _, pod := range p.Pods {
		assert.True(t, PodRange.Contains(pod.Addr), pod.Endpoint)
		assert.False(t, seen[pod.Addr], "address %s given twice", pod.Addr)
		seen[pod.Addr] = true
		names[pod.Object.Namespace+"/"+pod.Object.Name] = true
		assert.Equal(t, NodeName, pod.Object.Spec.NodeName)
		assert.Equal(t, NodeAddr.String(), pod.Object.Status.HostIP)
		assert.Equal(t, pod.Addr.String(), pod.Object.Status.PodIP)
	}
	assert.True(t, names["shop/deployment-web"] && names["shop/deployment-db"], "workload pods: %v", names)
	assert.True(t, names["kube-system/kube-dns"], "the cluster DNS the configuration names: %v", names)
	for _, pod := range p.Pods {
		if pod.Endpoint == "shop/Deployment/db" {
			require.Len(t, pod.Object.Spec.Containers, 1)
			assert.Equal(t, "pg", pod.Object.Spec.Containers[0].Ports[0].Name)
			assert.Equal(t, []Port{{"TCP", 5432}}, pod.Listen)
		}
		if pod.Endpoint == "virtual/kube-system/kube-dns" {
			assert.ElementsMatch(t, []Port{{"UDP", 53}, {"TCP", 53}}, pod.Listen)
		}
	}
	for _, h := range p.Hosts {
		assert.False(t, PodRange.Contains(h.Addr), h.Name)
		assert.Contains(t, h.Listen, Port{"TCP", 5432}, "hosts listen on the ports of rules that reach addresses")
		assert.Contains(t, h.Listen, Port{"TCP", 80})
	}
}

// TestSuiteCasesPlan plans every case the enforcement suite runs (the golden
// cases of cases.txt and the written ones) without an enforcer: each plans,
// has policies and probes, and every probe has an expectation.
func TestSuiteCasesPlan(t *testing.T) {
	plans := map[string]*Plan{}
	for _, name := range goldenCases(t) {
		plans["fn/"+name] = goldenPlan(t, name)
	}
	written, err := filepath.Glob(filepath.Join(repoRoot(t), "testdata", "enforce", "*.yaml"))
	require.NoError(t, err)
	for _, path := range written {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		plans["enforce/"+strings.TrimSuffix(filepath.Base(path), ".yaml")] = planStream(t, data, "")
	}
	require.GreaterOrEqual(t, len(plans), 25)
	for name, p := range plans {
		t.Run(name, func(t *testing.T) {
			assert.NotEmpty(t, p.Policies)
			assert.NotEmpty(t, p.Probes)
			allowed := 0
			for _, pr := range p.Probes {
				require.True(t, p.Addr(pr.From).IsValid() && p.Addr(pr.To).IsValid(), "%s", pr)
				if p.Expect(pr) {
					allowed++
				}
			}
			assert.NotZero(t, allowed, "a case where nothing is allowed proves little")
			assert.Less(t, allowed, len(p.Probes), "a case where everything is allowed proves little")
		})
	}
}

// TestKnownDifferencesNameCases: every line of known-differences.txt
// names a case the suite runs.
func TestKnownDifferencesNameCases(t *testing.T) {
	cases := map[string]bool{}
	for _, name := range goldenCases(t) {
		cases["fn/"+name] = true
	}
	for _, ex := range examples {
		cases["examples/"+ex] = true
	}
	written, err := filepath.Glob(filepath.Join(repoRoot(t), "testdata", "enforce", "*.yaml"))
	require.NoError(t, err)
	for _, path := range written {
		cases["enforce/"+strings.TrimSuffix(filepath.Base(path), ".yaml")] = true
	}
	for enforcer, byCase := range knownDifferences(t) {
		assert.Contains(t, []string{"kube-network-policies", "kube-router"}, enforcer)
		for c := range byCase {
			assert.True(t, cases[c], "known-differences.txt names %s, which the suite does not run", c)
		}
	}
}
