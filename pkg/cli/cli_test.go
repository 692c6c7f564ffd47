package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, ports: [{name: http, containerPort: 8080}]}]}
`
	denyAll = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-all, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
`
	allowDNS = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-dns, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
`
)

func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestReportCommand(t *testing.T) {
	tests := map[string]struct {
		stdin    string
		args     []string
		code     int
		contains string // in stdout, or stderr when code != 0
	}{
		"text from stdin":         {deployment, []string{"report"}, 0, "Namespace shop: protected by tierwall"},
		"markdown with mermaid":   {deployment, []string{"report", "-o", "markdown"}, 0, "```mermaid\nflowchart LR"},
		"long flag after a path":  {deployment, []string{"report", "-", "--output", "dot"}, 0, "digraph connectivity"},
		"json":                    {deployment, []string{"report", "-o=json"}, 0, `"id": "shop/Deployment/api"`},
		"yaml":                    {deployment, []string{"report", "-o", "yaml"}, 0, "id: shop/Deployment/api"},
		"md is markdown":          {deployment, []string{"report", "-o", "md"}, 0, "```mermaid\nflowchart LR"},
		"go-style single dash":    {deployment, []string{"report", "-output=dot"}, 0, "digraph connectivity"},
		"unknown format":          {deployment, []string{"report", "-o", "html"}, 2, `-o "html": use one of text, markdown, json, yaml, dot`},
		"unknown flag":            {deployment, []string{"report", "--colour"}, 2, "tierwall report: unknown flag: --colour\nUsage: tierwall report [FILE|DIR|-]... [flags]\n"},
		"empty namespace":         {deployment, []string{"report", "--namespace="}, 2, "--namespace needs a namespace name"},
		"invalid namespace":       {deployment, []string{"report", "-n", "Bad_NS"}, 2, `spec.namespace: "Bad_NS" is not a valid namespace name`},
		"help":                    {"", []string{"report", "-h"}, 0, ""},
		"bad external":            {deployment, []string{"report", "--external", "db"}, 2, "want NAME=CIDR"},
		"named external range":    {deployment, []string{"report", "--external", "billing=198.51.100.0/24", "-o", "json"}, 0, ""},
		"missing config":          {deployment, []string{"report", "--config", "/nonexistent.yaml"}, 2, "reading --config"},
		"invalid YAML names line": {"apiVersion: v1\nkind: [", []string{"report"}, 3, "reading stdin: document 0 (line 1"},
		"missing file":            {"", []string{"report", "/nonexistent/file.yaml"}, 3, "no such file"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := run(t, tc.stdin, tc.args...)
			assert.Equal(t, tc.code, code, "stderr: %s", errOut)
			if tc.code == 0 {
				assert.Contains(t, out, tc.contains)
			} else {
				assert.Contains(t, errOut, tc.contains)
				assert.Empty(t, out)
			}
		})
	}
}

func TestReportWarnsAboutInvalidPolicies(t *testing.T) {
	bad := "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: shop}\nspec: {podSelector: {}, ingres: []}\n"
	out, errOut, code := run(t, deployment+"---\n"+bad, "report")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Namespace shop")
	assert.Contains(t, errOut, `tierwall: [error] networking.k8s.io/v1/NetworkPolicy/shop/bad spec: NetworkPolicy shop/bad is invalid`)
}

func TestCheckCommand(t *testing.T) {
	clean := deployment + "---\n" + denyAll + "---\n" + allowDNS
	selectsNothing := clean + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: typo, namespace: shop}\nspec: {podSelector: {matchLabels: {app: apl}}}\n"
	tests := map[string]struct {
		stdin string
		args  []string
		code  int
		lines []string // expected lines of stdout, in order
	}{
		"passes": {clean, []string{"check"}, 0, []string{
			"tierwall: checked 1 workload and 2 policies in 1 namespace",
			"tierwall check passed: 0 errors, 0 warnings (--fail-on error)",
		}},
		"open pod fails": {deployment, []string{"check"}, 1, []string{
			"tierwall: [error] apps/v1/Deployment/shop/api spec.template.metadata.labels: Deployment shop/api is not default-denied for ingress and egress: no NetworkPolicy selects its pods for it, so all its ingress and egress is allowed [not-default-denied]",
			"tierwall: checked 1 workload and 0 policies in 1 namespace",
			"tierwall check failed: 1 error, 0 warnings (--fail-on error)",
		}},
		"a warning passes by default": {selectsNothing, []string{"check"}, 0, []string{
			"tierwall: [warning] networking.k8s.io/v1/NetworkPolicy/shop/typo spec.podSelector: NetworkPolicy shop/typo selects no pod: its podSelector matches no workload of namespace shop in the input [selects-no-pod]",
			"tierwall: checked 1 workload and 3 policies in 1 namespace",
			"tierwall check passed: 0 errors, 1 warning (--fail-on error)",
		}},
		"a warning fails with --fail-on warning": {selectsNothing, []string{"check", "--fail-on", "warning"}, 1, []string{
			"tierwall: [warning] networking.k8s.io/v1/NetworkPolicy/shop/typo spec.podSelector: NetworkPolicy shop/typo selects no pod: its podSelector matches no workload of namespace shop in the input [selects-no-pod]",
			"tierwall: checked 1 workload and 3 policies in 1 namespace",
			"tierwall check failed: 0 errors, 1 warning (--fail-on warning)",
		}},
		"empty input fails": {"", []string{"check"}, 1, []string{
			"tierwall: [error]: the input holds no workload and no NetworkPolicy: nothing to check, and a failed render piped into tierwall check must not pass (--allow-empty accepts it) [empty-input]",
			"tierwall: checked 0 workloads and 0 policies in 0 namespaces",
			"tierwall check failed: 1 error, 0 warnings (--fail-on error)",
		}},
		"comments only are empty": {"# Source: chart/templates/none.yaml\n---\n", []string{"check"}, 1, []string{
			"tierwall: [error]: the input holds no workload and no NetworkPolicy: nothing to check, and a failed render piped into tierwall check must not pass (--allow-empty accepts it) [empty-input]",
			"tierwall: checked 0 workloads and 0 policies in 0 namespaces",
			"tierwall check failed: 1 error, 0 warnings (--fail-on error)",
		}},
		"a ConfigMap alone is empty": {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n", []string{"check"}, 1, []string{
			"tierwall: [error]: the input holds no workload and no NetworkPolicy: nothing to check, and a failed render piped into tierwall check must not pass (--allow-empty accepts it) [empty-input]",
			"tierwall: checked 0 workloads and 0 policies in 1 namespace",
			"tierwall check failed: 1 error, 0 warnings (--fail-on error)",
		}},
		"--allow-empty passes empty input": {"", []string{"check", "--allow-empty"}, 0, []string{
			"tierwall: checked 0 workloads and 0 policies in 0 namespaces",
			"tierwall check passed: 0 errors, 0 warnings (--fail-on error)",
		}},
		"policies alone are not empty": {denyAll, []string{"check"}, 0, []string{
			"tierwall: checked 0 workloads and 1 policy in 1 namespace",
			"tierwall check passed: 0 errors, 0 warnings (--fail-on error)",
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := run(t, tc.stdin, tc.args...)
			assert.Equal(t, tc.code, code)
			assert.Empty(t, errOut)
			assert.Equal(t, strings.Join(tc.lines, "\n")+"\n", out)
		})
	}
}

func TestCheckYAMLResults(t *testing.T) {
	out, _, code := run(t, deployment, "check", "-o", "yaml")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "severity: error")
	assert.Contains(t, out, "check: not-default-denied")
	assert.Contains(t, out, "path: spec.template.metadata.labels")
}

// TestCheckFlags runs tierwall check with flags among paths and bad flag
// values: what the command line says reaches the check.
func TestCheckFlags(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app.yaml")
	require.NoError(t, os.WriteFile(app, []byte(deployment), 0o644))
	policies := filepath.Join(dir, "policies")
	require.NoError(t, os.MkdirAll(policies, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(policies, "p.yaml"), []byte(denyAll+"---\n"+allowDNS), 0o644))
	tests := map[string]struct {
		args []string
		code int
		want string // in stdout, or stderr when code is 2
	}{
		"flags among paths": {args: []string{app, "--fail-on=warning", policies, "--cluster-cidr", "10.100.0.1/16", "--namespace", "shop"},
			want: "tierwall: checked 1 workload and 2 policies in 1 namespace\ntierwall check passed: 0 errors, 0 warnings (--fail-on warning)\n"},
		"go-style single dashes": {args: []string{app, "-fail-on=warning", policies, "-namespace", "shop"},
			want: "(--fail-on warning)"},
		"stdin as dash path": {args: []string{"-", policies}, want: "checked 0 workloads and 2 policies"},
		"-n is --namespace":  {args: []string{"-n", "Bad_NS", app}, code: 2, want: `spec.namespace: "Bad_NS" is not a valid namespace name`},
		"bad fail-on":        {args: []string{"--fail-on", "info"}, code: 2, want: `--fail-on "info": use error or warning`},
		"bad cluster cidr":   {args: []string{"--cluster-cidr", "10.0.0.0"}, code: 2, want: `--cluster-cidr "10.0.0.0" is not a CIDR`},
		"bad output":         {args: []string{"-o", "dot"}, code: 2, want: `-o "dot": use one of text, json, yaml`},
		"missing flag value": {args: []string{"--fail-on"}, code: 2, want: "flag needs an argument: --fail-on"},
		"empty config":       {args: []string{"--config="}, code: 2, want: "--config needs a file name"},
		"unknown shorthand":  {args: []string{"-x"}, code: 2, want: "unknown shorthand flag: 'x' in -x"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := run(t, "", append([]string{"check"}, tc.args...)...)
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			if tc.code == 2 {
				assert.Contains(t, errOut, tc.want)
				assert.Empty(t, out)
				return
			}
			assert.Contains(t, out, tc.want)
		})
	}
}

func TestCheckJSON(t *testing.T) {
	out, _, code := run(t, deployment, "check", "-o", "json")
	assert.Equal(t, 1, code)
	var rs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rs), out)
	require.Len(t, rs, 1)
	assert.Equal(t, "error", rs[0]["severity"])
	assert.Equal(t, map[string]any{"check": "not-default-denied"}, rs[0]["tags"])

	out, _, code = run(t, deployment+"---\n"+denyAll+"---\n"+allowDNS, "check", "-o", "json")
	assert.Equal(t, 0, code)
	assert.Equal(t, "[]\n", out, "no finding is an empty array")

	out, _, code = run(t, "", "check", "-o", "yaml")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "check: empty-input")
}

// TestKRMFunctionStillRuns: with no arguments the command is the KRM
// function, as kustomize runs it.
func TestKRMFunctionStillRuns(t *testing.T) {
	rl := "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- " + strings.ReplaceAll(strings.TrimSpace(deployment), "\n", "\n  ") + "\n"
	out, errOut, code := run(t, rl)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "kind: ResourceList")
	assert.Contains(t, out, "name: default-deny-all")

	report, _, code := run(t, out, "report")
	require.Equal(t, 0, code)
	assert.Contains(t, report, "shop/api (Deployment)  kube-system/kube-dns", "the function's output, a ResourceList, is read by report")

	checked, _, code := run(t, out, "check")
	assert.Equal(t, 0, code, checked)
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tierwall.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec:\n  skipNamespaces: [shop]\n"), 0o644))
	out, _, code := run(t, deployment, "check", "--config", cfg)
	assert.Equal(t, 0, code, "shop is skipped, so its open pod is not a finding: %s", out)

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata: {name: tw}\nspec:\n  dns: {profile: coredns}\n"), 0o644))
	_, errOut, code := run(t, deployment, "check", "--config", bad)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "spec.dns.profile")

	_, errOut, code = run(t, deployment, "report", "--config", filepath.Join(dir, "none.yaml"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "reading --config")
}
