package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// twoNamespaces: shop's api calls payments' api, both default-denied with
// DNS allowed.
var twoNamespaces = deployment + "---\n" + denyAll + "---\n" + allowDNS + "---\n" +
	strings.ReplaceAll(deployment+"---\n"+denyAll+"---\n"+allowDNS, "namespace: shop", "namespace: payments") + "---\n" + `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-to-payments, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: payments}}, podSelector: {matchLabels: {app: api}}}]
    ports: [{port: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-shop, namespace: payments}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}, podSelector: {matchLabels: {app: api}}}]
    ports: [{port: 8080}]
  - from: [{namespaceSelector: {matchLabels: {name: monitoring}}, podSelector: {matchLabels: {app: grafana}}}]
    ports: [{port: 8080}]
`

// TestReportFilters: --in, --from, --to and --hide-baseline narrow the
// report; a namespace or pattern that matches nothing is a usage error, and
// so is a --namespace that changes nothing (meant as --in).
func TestReportFilters(t *testing.T) {
	tests := map[string]struct {
		args       []string
		code       int
		has, lacks []string // in stdout, or has in stderr when code != 0
	}{
		"everything": {args: []string{"report"},
			has: []string{"Namespace payments", "Namespace shop", "kube-system/kube-dns", "pods app=grafana in namespaces name=monitoring"}},
		"--in": {args: []string{"report", "--in", "payments"},
			has: []string{"Namespace payments", "shop/api (Deployment)  ", "payments/api-from-shop"}, lacks: []string{"Namespace shop:"}},
		"--from": {args: []string{"report", "--from", "shop/api"},
			has: []string{"Shown: from shop/api", "shop/api (Deployment)  payments/api (Deployment)"}, lacks: []string{"grafana"}},
		"--to glob": {args: []string{"report", "--to", "payments/*", "-o", "json"},
			has: []string{`"to": [`, `"to": "payments/Deployment/api"`}, lacks: []string{`"to": "virtual/kube-system/kube-dns"`}},
		"--from a selector peer": {args: []string{"report", "--from", "pods app=grafana in namespaces name=monitoring"},
			has: []string{"pods app=grafana in namespaces name=monitoring (pods a policy names, not in the input)  payments/api"}},
		"--hide-baseline": {args: []string{"report", "--hide-baseline"},
			has: []string{"baseline flows (DNS, monitoring) hidden"}, lacks: []string{"kube-dns"}},
		"unknown --in": {args: []string{"report", "--in", "shopp"}, code: ExitUsage,
			has: []string{`--in "shopp": no namespace of the input has that name (it has payments, shop)`}},
		"--from matching nothing": {args: []string{"report", "--from", "shop/apl"}, code: ExitUsage,
			has: []string{`--from "shop/apl" matches no endpoint`}},
		"bad glob": {args: []string{"report", "--to", "shop/["}, code: ExitUsage, has: []string{`--to "shop/[": syntax error in pattern`}},
		"-n that changes nothing": {args: []string{"report", "-n", "shop"}, code: ExitUsage,
			has: []string{"--namespace shop changes nothing: every object of the input has its own namespace", "use --in shop"}},
		"--max-bytes too small": {args: []string{"report", "-o", "markdown", "--max-bytes", "100"}, code: ExitUsage,
			has: []string{"--max-bytes 100: at least 2048"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := run(t, twoNamespaces, tc.args...)
			require.Equal(t, tc.code, code, "stderr: %s", errOut)
			got := out
			if tc.code != 0 {
				got = errOut
				assert.Empty(t, out)
			}
			for _, s := range tc.has {
				assert.Contains(t, got, s)
			}
			for _, s := range tc.lacks {
				assert.NotContains(t, got, s)
			}
		})
	}
	// -n keeps its meaning where objects lack a namespace.
	noNamespace := strings.Replace(deployment, "namespace: shop", "", 1)
	out, errOut, code := run(t, noNamespace, "report", "-n", "shop")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Namespace shop")
}

// TestReportJSONOut: --json-out writes the complete JSON, which Markdown
// cut to its budget names; --json-where overrides how.
func TestReportJSONOut(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "connectivity.json")
	out, errOut, code := run(t, twoNamespaces, "report", "-o", "markdown", "--max-bytes", "2048", "--json-out", file)
	require.Equal(t, 0, code, errOut)
	assert.LessOrEqual(t, len(out), 2048)
	assert.Contains(t, out, "is in `"+file+"`")
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(data, &doc))
	assert.Equal(t, "report.tierwall.io/v1", doc["apiVersion"])

	out, _, code = run(t, twoNamespaces, "report", "-o", "markdown", "--max-bytes", "2048", "--json-out", file, "--json-where", "the run's artifact")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "is in the run's artifact")

	out, _, code = run(t, twoNamespaces, "report", "-o", "markdown", "--max-bytes", "0")
	require.Equal(t, 0, code)
	assert.NotContains(t, out, "aggregated")

	_, errOut, code = run(t, twoNamespaces, "report", "--json-out", filepath.Join(dir, "missing", "x.json"))
	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, errOut, "writing "+filepath.Join(dir, "missing", "x.json"))
}
