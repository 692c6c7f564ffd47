//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/internal/testutil"
)

// reportFormats and the golden file each one is compared with.
var reportFormats = map[string]string{"text": "expected.txt", "markdown": "expected.md", "json": "expected.json", "dot": "expected.dot"}

// renderedExample renders one example with a real binary. Its output is the
// input.yaml of testdata/report/<name>, the case pkg/report's golden test
// reads, so both tests compare with the same expected files.
type renderedExample struct {
	name   string
	config func(t *testing.T) string // the --config file
	render func(t *testing.T) string
}

func kustomizeExample(example string) renderedExample {
	return renderedExample{
		name: example,
		config: func(t *testing.T) string {
			return filepath.Join(repoRoot(t), "examples", example, "tierwall.yaml")
		},
		render: func(t *testing.T) string {
			kustomize := tool(t, "KUSTOMIZE")
			out, stderr, err := runCmd(t, repoRoot(t), nil, kustomize, "build", "--enable-alpha-plugins", "--enable-exec", filepath.Join("examples", example))
			require.NoError(t, err, stderr)
			return out
		},
	}
}

var renderedExamples = []renderedExample{
	kustomizeExample("three-tier"),
	kustomizeExample("multi-namespace"),
	kustomizeExample("cilium"),
	{
		name: "helm-three-tier",
		// The chart's objects carry no namespace: the config names the
		// release namespace, as --namespace would.
		config: func(t *testing.T) string {
			return filepath.Join(repoRoot(t), "testdata", "report", "helm-three-tier", "config.yaml")
		},
		render: func(t *testing.T) string {
			helm := tool(t, "HELM3")
			pr := tierwallBin(t, "tierwall-postrender")
			chart := filepath.Join(repoRoot(t), "examples", "helm", "three-tier")
			out, stderr, err := helmRun(t, helmEnv(t), "", nil, helm, "template", helmRelease, chart, "-n", helmNamespace,
				"--post-renderer", pr, "--post-renderer-args=--namespace="+helmNamespace)
			require.NoError(t, err, stderr)
			return out
		},
	},
}

// TestReportExamples renders each example, then runs tierwall report on the
// output in every format and tierwall check, which must pass.
func TestReportExamples(t *testing.T) {
	bin := tierwallBin(t, "tierwall")
	root := repoRoot(t)
	for _, ex := range renderedExamples {
		t.Run(ex.name, func(t *testing.T) {
			dir := filepath.Join(root, "testdata", "report", ex.name)
			rendered := ex.render(t)
			testutil.Golden(t, filepath.Join(dir, "input.yaml"), []byte(rendered))
			config := ex.config(t)
			if !strings.HasPrefix(config, dir) {
				cfg, err := os.ReadFile(config)
				require.NoError(t, err)
				testutil.Golden(t, filepath.Join(dir, "config.yaml"), cfg)
			}
			for format, file := range reportFormats {
				out, stderr, err := runCmd(t, root, []byte(rendered), bin, "report", "-o", format, "--config", config)
				require.NoError(t, err, stderr)
				assert.Empty(t, stderr)
				testutil.Golden(t, filepath.Join(dir, file), []byte(out))
			}
			out, stderr, err := runCmd(t, root, []byte(rendered), bin, "check", "--config", config)
			require.NoError(t, err, "tierwall check must pass on example %s:\n%s%s", ex.name, out, stderr)
			assert.Contains(t, out, "tierwall check passed")
		})
	}
}

// TestReportFromFolderAndFile reads the same rendered output as a file and
// from a folder: the report is the same as from stdin.
func TestReportFromFolderAndFile(t *testing.T) {
	bin := tierwallBin(t, "tierwall")
	root := repoRoot(t)
	rendered := renderedExamples[0].render(t)
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	file := filepath.Join(dir, "sub", "rendered.yaml")
	require.NoError(t, os.WriteFile(file, []byte(rendered), 0o644))
	config := renderedExamples[0].config(t)
	fromStdin, _, err := runCmd(t, root, []byte(rendered), bin, "report", "--config", config)
	require.NoError(t, err)
	for _, arg := range []string{file, dir} {
		out, stderr, err := runCmd(t, root, nil, bin, "report", arg, "--config", config)
		require.NoError(t, err, stderr)
		assert.Equal(t, fromStdin, out, arg)
	}
}

// TestCheckFailsOnBrokenExamples breaks the rendered three-tier example in
// the ways tierwall check exists for, and expects it to fail with the line
// that says why.
func TestCheckFailsOnBrokenExamples(t *testing.T) {
	bin := tierwallBin(t, "tierwall")
	root := repoRoot(t)
	ex := renderedExamples[0]
	rendered := ex.render(t)
	config := ex.config(t)
	docs := strings.Split(rendered, "\n---\n")
	without := func(name string) string {
		var keep []string
		for _, d := range docs {
			if !(strings.Contains(d, "kind: NetworkPolicy") && strings.Contains(d, "\n  name: "+name+"\n")) {
				keep = append(keep, d)
			}
		}
		require.Less(t, len(keep), len(docs), "no NetworkPolicy %s in the rendered example", name)
		return strings.Join(keep, "\n---\n")
	}
	tests := map[string]struct {
		input string
		args  []string
		want  string // a line of the output, as a regular expression
	}{
		"a user policy open to every source": {
			input: rendered + "---\n" + `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: debug-access, namespace: production}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{ports: [{port: 8080}]}]
`,
			want: `(?m)^tierwall: \[error\] networking\.k8s\.io/v1/NetworkPolicy/production/debug-access spec\.ingress\[0\]: .*has no from, so it admits every source`,
		},
		"DNS no longer allowed": {
			input: without("allow-dns"),
			want:  `(?m)^tierwall: \[error\] apps/v1/Deployment/production/api spec\.template\.metadata\.labels: Deployment production/api cannot resolve names`,
		},
		"a namespace added after rendering": {
			input: rendered + "---\n" + `apiVersion: apps/v1
kind: Deployment
metadata: {name: batch, namespace: reporting}
spec:
  selector: {matchLabels: {app: batch}}
  template:
    metadata: {labels: {app: batch}}
    spec: {containers: [{name: batch, image: example/batch:1}]}
`,
			want: `(?m)^tierwall: \[error\] apps/v1/Deployment/reporting/batch spec\.template\.metadata\.labels: Deployment reporting/batch is not default-denied for ingress and egress`,
		},
		"the Service port instead of the pod port": {
			input: rendered + "---\n" + `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: frontend-from-lb, namespace: production}
spec:
  podSelector: {matchLabels: {app: frontend}}
  ingress:
  - from: [{ipBlock: {cidr: 192.0.2.0/24}}]
    ports: [{port: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-frontend, namespace: production}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: frontend}}}]
    ports: [{port: 80}]
`,
			want: `(?m)^tierwall: \[error\] networking\.k8s\.io/v1/NetworkPolicy/production/api-from-frontend spec\.ingress\[0\]\.ports\[0\]\.port: .*port 80/TCP is the port of Service production/api`,
		},
		"a policy that selects nothing fails with --fail-on warning": {
			input: rendered + "---\n" + `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: worker-egress, namespace: production}
spec:
  podSelector: {matchLabels: {app: worker}}
  policyTypes: [Egress]
`,
			args: []string{"--fail-on", "warning"},
			want: `(?m)^tierwall: \[warning\] networking\.k8s\.io/v1/NetworkPolicy/production/worker-egress spec\.podSelector: .*selects no pod`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"check", "--config", config}, tc.args...)
			out, stderr, err := runCmd(t, root, []byte(tc.input), bin, args...)
			require.Error(t, err, "tierwall check must fail:\n%s", out)
			assert.Regexp(t, tc.want, out)
			assert.Regexp(t, `(?m)^tierwall check failed: `, out)
			assert.Empty(t, stderr)
		})
	}
}
