package analysis_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/bench"
	"github.com/tierwall/tierwall/pkg/cli"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/stream"
)

// largeStream renders what tierwall would output for namespaces x workloads
// per namespace, split evenly in three tiers (frontend -> api -> database):
// per namespace default-deny-all, allow-dns and allow-monitoring, and per
// workload an ingress and an egress policy naming the tier before or after
// it, as pkg/tier renders them.
func largeStream(t testing.TB, namespaces, perNamespace int) []manifest.Object {
	tiers := []string{"frontend", "api", "database"}
	var b strings.Builder
	doc := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteString("\n---\n")
	}
	for n := 0; n < namespaces; n++ {
		ns := fmt.Sprintf("team-%02d", n)
		doc("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s, labels: {team: t%d}}", ns, n)
		doc("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny-all, namespace: %s}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}", ns)
		doc(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-dns, namespace: %s}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]`, ns)
		doc(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-monitoring, namespace: %s}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}, podSelector: {matchLabels: {app.kubernetes.io/name: prometheus}}}]
    ports: [{port: metrics}]`, ns)
		for w := 0; w < perNamespace; w++ {
			tier := tiers[w%3]
			app := fmt.Sprintf("%s-%d", tier, w)
			doc(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: %s}
spec:
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s, tier: %s}}
    spec:
      containers:
      - name: main
        ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]`, app, ns, app, app, tier)
			from := `[{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]`
			if w%3 > 0 {
				from = fmt.Sprintf("[{podSelector: {matchLabels: {tier: %s}}}]", tiers[w%3-1])
			}
			doc(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: %s-ingress, namespace: %s}
spec:
  podSelector: {matchLabels: {app: %s}}
  policyTypes: [Ingress]
  ingress: [{from: %s, ports: [{port: http}]}]`, app, ns, app, from)
			if w%3 < 2 {
				doc(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: %s-egress, namespace: %s}
spec:
  podSelector: {matchLabels: {app: %s}}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {matchLabels: {tier: %s}}}], ports: [{port: 8080}]}]`, app, ns, app, tiers[w%3+1])
			}
		}
	}
	nodes := testutil.Docs(t, []byte(b.String()))
	objs := make([]manifest.Object, len(nodes))
	for i, n := range nodes {
		objs[i] = manifest.FromNode(i, n)
	}
	return objs
}

// BenchmarkAnalyze builds the model of 3,000 workloads in 50 namespaces
// with 5,150 policies (baseline and per-workload tier policies) and lists
// every allowed flow.
func BenchmarkAnalyze(b *testing.B) {
	objs := largeStream(b, 50, 60)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := analysis.New(objs, analysis.Options{})
		rs := m.Findings
		if len(rs) > 0 {
			b.Fatal(rs)
		}
		flows := m.Flows()
		b.ReportMetric(float64(len(flows)), "flows")
	}
}

// BenchmarkAnalyzeRealistic builds the model of what tierwall's
// post-renderer outputs for the 9,017-object realistic data set (3,061
// workloads in 51 namespaces, the policies inferred for them) and lists
// every allowed flow: what tierwall report does after reading its input.
func BenchmarkAnalyzeRealistic(b *testing.B) {
	spec, _, err := v1alpha1.Load(nil)
	require.NoError(b, err)
	out, _, err := cli.RenderStream(bench.Realistic(50, 20, false), spec)
	require.NoError(b, err)
	s, err := stream.Parse(out)
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := analysis.New(s.Objects, analysis.Options{Spec: spec})
		flows := m.Flows()
		if len(flows) == 0 {
			b.Fatal("no flows")
		}
		b.ReportMetric(float64(len(flows)), "flows")
	}
}

// TestLargeStream checks what the benchmark measures: every frontend
// reaches every api of its namespace, and nothing crosses namespaces.
func TestLargeStream(t *testing.T) {
	m := analysis.New(largeStream(t, 4, 6), analysis.Options{})
	rs := m.Findings
	require.Empty(t, rs)
	count := map[string]int{}
	for _, f := range m.Flows() {
		if f.From.Kind == analysis.Workload && f.To.Kind == analysis.Workload {
			require.Equal(t, f.From.Namespace, f.To.Namespace)
			count[f.From.Labels["tier"]+"->"+f.To.Labels["tier"]]++
		}
	}
	// 2 workloads per tier and namespace: 2 x 2 pairs per edge, 4 namespaces.
	require.Equal(t, map[string]int{"frontend->api": 16, "api->database": 16}, count)
}
