package check_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/check"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
)

const casesDir = "../../testdata/check"

// runCase checks the input of a case folder: input.yaml, with config.yaml
// (a TierWall) and options.yaml (clusterCIDRs) when present.
func runCase(t *testing.T, dir string) framework.Results {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
	require.NoError(t, err)
	nodes := testutil.Docs(t, data)
	objs := make([]manifest.Object, len(nodes))
	for i, n := range nodes {
		objs[i] = manifest.FromNode(i, n)
	}
	var fc *yaml.RNode
	if cfg, err := os.ReadFile(filepath.Join(dir, "config.yaml")); err == nil {
		fc, err = yaml.Parse(string(cfg))
		require.NoError(t, err)
	}
	spec, _, err := v1alpha1.Load(fc)
	require.NoError(t, err)
	var opts check.Options
	if o, err := os.ReadFile(filepath.Join(dir, "options.yaml")); err == nil {
		var raw struct {
			ClusterCIDRs []string `yaml:"clusterCIDRs"`
		}
		require.NoError(t, yaml.Unmarshal(o, &raw))
		for _, c := range raw.ClusterCIDRs {
			opts.ClusterCIDRs = append(opts.ClusterCIDRs, netip.MustParsePrefix(c))
		}
	}
	m := analysis.New(objs, analysis.Options{Spec: spec})
	return check.Run(m, opts)
}

// expectations reads findings.txt: one regular expression per finding, in
// the order of the sorted findings; blank lines and # comments are skipped.
func expectations(t *testing.T, dir string) []*regexp.Regexp {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "findings.txt"))
	require.NoError(t, err, "each case states its findings in findings.txt (none: an empty file)")
	var out []*regexp.Regexp
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, regexp.MustCompile(l))
	}
	return out
}

// TestCases runs every folder of testdata/check: each finding must match the
// regular expression on the same line of findings.txt, and there must be as
// many findings as expressions.
func TestCases(t *testing.T) {
	for _, name := range testutil.Cases(t, casesDir) {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(casesDir, name)
			rs := runCase(t, dir)
			var got []string
			for _, r := range rs {
				got = append(got, r.String())
			}
			want := expectations(t, dir)
			require.Len(t, got, len(want), "findings:\n%s", strings.Join(got, "\n"))
			for i, re := range want {
				assert.Regexp(t, re, got[i])
			}
		})
	}
}

// TestEveryCheckHasACase keeps the cases complete: each check named in the
// package fires in at least one case, tagged with its name.
func TestEveryCheckHasACase(t *testing.T) {
	fired := map[string]bool{}
	for _, name := range testutil.Cases(t, casesDir) {
		for _, r := range runCase(t, filepath.Join(casesDir, name)) {
			fired[r.Tags["check"]] = true
		}
	}
	for _, c := range []string{check.InvalidPolicy, check.NotDefaultDenied, check.HostNetwork, check.OpenRule, check.WholeInternet,
		check.AllNamespaces, check.SplitPeer, check.NoDNS, check.SelectsNoPod, check.UnknownNamedPort, check.ServicePort, check.InClusterIPBlock} {
		assert.True(t, fired[c], "no case of testdata/check shows check %s", c)
	}
}

func TestSeverities(t *testing.T) {
	rs := runCase(t, filepath.Join(casesDir, "in-cluster-ipblock"))
	require.Len(t, rs, 1)
	assert.Equal(t, result.Warning, rs[0].Severity, "a guessed cluster range gives a warning")
	rs = runCase(t, filepath.Join(casesDir, "in-cluster-ipblock-given-ranges"))
	require.Len(t, rs, 1)
	assert.Equal(t, result.Error, rs[0].Severity, "a given cluster range gives an error")
}

func TestObjects(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(casesDir, "no-dns", "input.yaml"))
	require.NoError(t, err)
	nodes := testutil.Docs(t, data)
	objs := make([]manifest.Object, len(nodes))
	for i, n := range nodes {
		objs[i] = manifest.FromNode(i, n)
	}
	spec, _, err := v1alpha1.Load(nil)
	require.NoError(t, err)
	rs := check.Objects(objs, spec, check.Options{})
	require.NotEmpty(t, rs)
	assert.True(t, result.HasErrors(rs))
	assert.Equal(t, check.NoDNS, rs[0].Tags["check"])
}

// TestDestinations covers the findings on a rule's destination pods, which
// the checks look up in indexes rather than in lists of the pods: the
// first pod in order names the other protocol and the Service, the list
// shows three pods and a count, exposed pods take any address, and a
// policy that selects hostNetwork pods only is told apart.
func TestDestinations(t *testing.T) {
	var b strings.Builder
	doc := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteString("\n---\n")
	}
	doc("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}")
	for i, n := range []string{"e", "b", "d", "a", "c", "f"} {
		metrics := "UDP"
		if i%2 == 0 {
			metrics = "SCTP"
		}
		ports := fmt.Sprintf("[{name: metrics, containerPort: 9090, protocol: %s}, {name: http, containerPort: 8080}]", metrics)
		switch n {
		case "b":
			ports = "[{name: http, containerPort: 80}]"
		case "a":
			ports = "[{name: metrics, containerPort: 9090, protocol: UDP}, {name: http, containerPort: 8080}, {containerPort: 80}]"
		}
		doc("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: %s, namespace: shop}\nspec:\n  selector: {matchLabels: {app: %s}}\n  template:\n    metadata: {labels: {app: %s, tier: back}}\n    spec: {containers: [{name: x, ports: %s}]}", n, n, n, ports)
		doc("apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: shop}\nspec: {selector: {app: %s}, ports: [{port: 80, targetPort: http}]}", n, n)
	}
	doc("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: lb, namespace: shop}\nspec:\n  selector: {matchLabels: {app: lb}}\n  template:\n    metadata: {labels: {app: lb}}\n    spec: {containers: [{name: x, ports: [{name: http, containerPort: 8080}]}]}")
	doc("apiVersion: v1\nkind: Service\nmetadata: {name: lb, namespace: shop}\nspec: {type: LoadBalancer, selector: {app: lb}, ports: [{port: 443, targetPort: http}]}")
	doc("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: shop}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec: {hostNetwork: true, containers: [{name: x}]}")
	policy := func(name, spec string) {
		doc("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: %s, namespace: shop}\nspec: %s", name, spec)
	}
	policy("deny", "{podSelector: {}, policyTypes: [Ingress, Egress]}")
	policy("to-back", "{podSelector: {matchLabels: {app: lb}}, egress: [{to: [{podSelector: {matchLabels: {tier: back}}}], ports: [{port: metrics}, {port: 80}, {port: grpc}, {port: http, protocol: UDP}]}]}")
	policy("back-in", "{podSelector: {matchLabels: {tier: back}}, ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}], ports: [{port: metrics}, {port: 80}, {port: grpc}]}]}")
	policy("lb-in", "{podSelector: {matchLabels: {app: lb}}, ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}], ports: [{port: 443}, {port: http}]}]}")
	policy("agent", "{podSelector: {matchLabels: {app: agent}}, ingress: [{from: [{podSelector: {}}]}]}")
	policy("none", "{podSelector: {matchLabels: {app: zzz}}, ingress: [{from: [{podSelector: {}}]}]}")
	policy("all-out", "{podSelector: {matchLabels: {app: a}}, egress: [{ports: [{port: metrics}, {port: 80}]}, {to: [{ipBlock: {cidr: 0.0.0.0/0}}], ports: [{port: metrics}, {port: 80}]}, {to: [{ipBlock: {cidr: 1.2.3.0/24}}], ports: [{port: metrics}]}]}")
	nodes := testutil.Docs(t, []byte(b.String()))
	objs := make([]manifest.Object, len(nodes))
	for i, n := range nodes {
		objs[i] = manifest.FromNode(i, n)
	}
	spec, _, err := v1alpha1.Load(nil)
	require.NoError(t, err)
	var got []string
	for _, r := range check.Run(analysis.New(objs, analysis.Options{Spec: spec}), check.Options{}) {
		switch r.Tags["check"] {
		case check.UnknownNamedPort, check.ServicePort, check.SelectsNoPod, check.WholeInternet:
			got = append(got, r.ResourceRef.Name+" "+r.Field.Path+": "+r.Message)
		}
	}
	want := []string{
		`all-out spec.egress[1].to[0].ipBlock: NetworkPolicy shop/all-out: ipBlock 0.0.0.0/0 without except`,
		`all-out spec.egress[2].ports[0].port: NetworkPolicy shop/all-out: named port "metrics" cannot resolve on ipBlock destinations`,
		`all-out spec.egress[0].ports[0].port: NetworkPolicy shop/all-out: port "metrics" is declared over UDP, not TCP, by the pods this rule reaches (shop/a, shop/b, shop/c, and 7 more)`,
		`all-out spec.egress[1].ports[0].port: NetworkPolicy shop/all-out: port "metrics" is declared over UDP, not TCP, by the pods this rule reaches (shop/a, shop/b, shop/c, and 7 more)`,
		`all-out spec.egress[1].ports[1].port: NetworkPolicy shop/all-out: port 80/TCP is the port of Service shop/c, whose pods (shop/c) listen on 8080 (http)`,
		`back-in spec.ingress[0].from[0].ipBlock: NetworkPolicy shop/back-in: ipBlock 0.0.0.0/0 without except`,
		`back-in spec.ingress[0].ports[2].port: NetworkPolicy shop/back-in: no container port named "grpc" is declared by the pods this rule protects (shop/a, shop/b, shop/c, and 3 more)`,
		`back-in spec.ingress[0].ports[0].port: NetworkPolicy shop/back-in: port "metrics" is declared over UDP, not TCP, by the pods this rule protects (shop/a, shop/b, shop/c, and 3 more)`,
		`back-in spec.ingress[0].ports[1].port: NetworkPolicy shop/back-in: port 80/TCP is the port of Service shop/c, whose pods (shop/c) listen on 8080 (http)`,
		`lb-in spec.ingress[0].ports[0].port: NetworkPolicy shop/lb-in: port 443/TCP is the port of Service shop/lb, whose pods (shop/lb) listen on 8080 (http)`,
		`to-back spec.egress[0].ports[2].port: NetworkPolicy shop/to-back: no container port named "grpc" is declared by the pods this rule reaches (shop/a, shop/b, shop/c, and 3 more)`,
		`to-back spec.egress[0].ports[3].port: NetworkPolicy shop/to-back: port "http" is declared over TCP, not UDP, by the pods this rule reaches (shop/a, shop/b, shop/c, and 3 more)`,
		`to-back spec.egress[0].ports[0].port: NetworkPolicy shop/to-back: port "metrics" is declared over UDP, not TCP, by the pods this rule reaches (shop/a, shop/b, shop/c, and 3 more)`,
		`to-back spec.egress[0].ports[1].port: NetworkPolicy shop/to-back: port 80/TCP is the port of Service shop/c, whose pods (shop/c) listen on 8080 (http)`,
		`agent spec.podSelector: NetworkPolicy shop/agent selects only hostNetwork pods`,
		`none spec.podSelector: NetworkPolicy shop/none selects no pod`,
	}
	require.Len(t, got, len(want), "findings:\n%s", strings.Join(got, "\n"))
	for i, w := range want {
		assert.True(t, strings.HasPrefix(got[i], w), "finding %d:\n got %s\nwant %s...", i, got[i], w)
	}
}
