package cli

import (
	"bytes"
	"net/netip"
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
		"unknown format":          {deployment, []string{"report", "-o", "html"}, 2, `-o "html": use one of text, markdown, json, dot`},
		"unknown flag":            {deployment, []string{"report", "--colour"}, 2, "flag provided but not defined: -colour"},
		"help":                    {"", []string{"report", "-h"}, 0, ""},
		"bad external":            {deployment, []string{"report", "--external", "db"}, 2, "want NAME=CIDR"},
		"named external range":    {deployment, []string{"report", "--external", "billing=198.51.100.0/24", "-o", "json"}, 0, ""},
		"missing config":          {deployment, []string{"report", "--config", "/nonexistent.yaml"}, 2, "reading --config"},
		"invalid YAML names line": {"apiVersion: v1\nkind: [", []string{"report"}, 1, "reading stdin: document 0 (line 1"},
		"missing file":            {"", []string{"report", "/nonexistent/file.yaml"}, 1, "no such file"},
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
		"passes": {clean, []string{"check"}, 0, []string{"tierwall check passed: 0 errors, 0 warnings (--fail-on error)"}},
		"open pod fails": {deployment, []string{"check"}, 1, []string{
			"tierwall: [error] apps/v1/Deployment/shop/api spec.template.metadata.labels: Deployment shop/api is not default-denied for ingress and egress: no NetworkPolicy selects its pods for it, so all its ingress and egress is allowed [not-default-denied]",
			"tierwall check failed: 1 error, 0 warnings (--fail-on error)",
		}},
		"a warning passes by default": {selectsNothing, []string{"check"}, 0, []string{
			"tierwall: [warning] networking.k8s.io/v1/NetworkPolicy/shop/typo spec.podSelector: NetworkPolicy shop/typo selects no pod: its podSelector matches no workload of namespace shop in the input [selects-no-pod]",
			"tierwall check passed: 0 errors, 1 warning (--fail-on error)",
		}},
		"a warning fails with --fail-on warning": {selectsNothing, []string{"check", "--fail-on", "warning"}, 1, []string{
			"tierwall: [warning] networking.k8s.io/v1/NetworkPolicy/shop/typo spec.podSelector: NetworkPolicy shop/typo selects no pod: its podSelector matches no workload of namespace shop in the input [selects-no-pod]",
			"tierwall check failed: 0 errors, 1 warning (--fail-on warning)",
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

func TestParseCheckArgs(t *testing.T) {
	tests := map[string]struct {
		args    []string
		err     string
		failOn  string
		cidrs   []netip.Prefix
		paths   []string
		config  string
		format  string
		nsFlags string
	}{
		"defaults":           {args: nil, failOn: "error", format: "text"},
		"flags among paths":  {args: []string{"a.yaml", "--fail-on=warning", "dir", "--cluster-cidr", "10.100.0.1/16", "--namespace", "shop"}, failOn: "warning", format: "text", paths: []string{"a.yaml", "dir"}, cidrs: []netip.Prefix{netip.MustParsePrefix("10.100.0.0/16")}, nsFlags: "shop"},
		"config and yaml":    {args: []string{"--config", "tw.yaml", "-o", "yaml"}, failOn: "error", format: "yaml", config: "tw.yaml"},
		"bad fail-on":        {args: []string{"--fail-on", "info"}, err: `--fail-on "info": use error or warning`},
		"bad cluster cidr":   {args: []string{"--cluster-cidr", "10.0.0.0"}, err: `--cluster-cidr "10.0.0.0" is not a CIDR`},
		"bad output":         {args: []string{"-o", "json"}, err: `-o "json": use text or yaml`},
		"stdin as dash path": {args: []string{"-"}, failOn: "error", format: "text", paths: []string{"-"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := parseCheckArgs(tc.args, &bytes.Buffer{})
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.failOn, string(c.failOn))
			assert.Equal(t, tc.cidrs, c.clusterCIDRs)
			assert.Equal(t, tc.paths, c.paths)
			assert.Equal(t, tc.config, c.config)
			assert.Equal(t, tc.format, c.format)
			assert.Equal(t, tc.nsFlags, c.namespace)
		})
	}
}

func TestReadObjects(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) string {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	write("b/policies.yml", denyAll)
	write("a/app.yaml", deployment)
	write("a/notes.txt", "not yaml: [")
	resourceList := write("rl.json.yaml", "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- "+strings.ReplaceAll(strings.TrimSpace(denyAll), "\n", "\n  ")+"\n")
	list := write("list.yaml", "apiVersion: v1\nkind: List\nitems:\n- "+strings.ReplaceAll(strings.TrimSpace(deployment), "\n", "\n  ")+"\n")

	tests := map[string]struct {
		paths []string
		stdin string
		want  []string // Kind/name of the objects, in order
	}{
		"folder, lexical order, YAML only": {paths: []string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}, want: []string{"Deployment/api", "NetworkPolicy/default-deny-all"}},
		"ResourceList items":               {paths: []string{resourceList}, want: []string{"NetworkPolicy/default-deny-all"}},
		"v1 List items":                    {paths: []string{list}, want: []string{"Deployment/api"}},
		"stdin and a file":                 {paths: []string{"-", list}, stdin: denyAll, want: []string{"NetworkPolicy/default-deny-all", "Deployment/api"}},
		"stdin by default":                 {stdin: deployment + "---\n" + denyAll, want: []string{"Deployment/api", "NetworkPolicy/default-deny-all"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs, err := readObjects(tc.paths, strings.NewReader(tc.stdin))
			require.NoError(t, err)
			var got []string
			for i, o := range objs {
				assert.Equal(t, i, o.Index)
				got = append(got, o.Kind+"/"+o.Name)
			}
			assert.Equal(t, tc.want, got)
		})
	}
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
