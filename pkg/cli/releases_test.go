package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// release is one release of a small chart in namespace test; frontend
// calls the backend release's Service.
func release(name string) string {
	env := ""
	if name == "frontend" {
		env = `, env: [{name: BACKEND_URL, value: "http://backend-podinfo:9898"}]`
	}
	return strings.NewReplacer("REL", name, "ENV", env).Replace(`apiVersion: apps/v1
kind: Deployment
metadata: {name: REL-podinfo, namespace: test, labels: {app.kubernetes.io/instance: REL}}
spec:
  selector: {matchLabels: {app: REL-podinfo}}
  template:
    metadata: {labels: {app: REL-podinfo, app.kubernetes.io/instance: REL}}
    spec: {automountServiceAccountToken: false, containers: [{name: c, image: x, ports: [{name: http, containerPort: 9898}]ENV}]}
---
apiVersion: v1
kind: Service
metadata: {name: REL-podinfo, namespace: test}
spec:
  selector: {app: REL-podinfo}
  ports: [{port: 9898, targetPort: http}]
`)
}

func TestPoliciesCommand(t *testing.T) {
	stdout, stderr, code := run(t, release("frontend"), "policies", "--release", "front")
	require.Equal(t, ExitOK, code, stderr)
	assert.NotContains(t, stdout, "kind: Deployment", "policies prints only the generated objects")
	assert.Contains(t, stdout, "name: front-default-deny-all", "--release names the namespace-wide policies")
	assert.Contains(t, stderr, "tierwall: summary: ")
	assert.Contains(t, stderr, "release front")
}

func TestReleaseFromArgoCD(t *testing.T) {
	var out, errOut bytes.Buffer
	c := Command{Stdin: strings.NewReader(release("backend")), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string {
			if k == "ARGOCD_APP_NAME" {
				return "shop-backend"
			}
			return ""
		}}
	code := c.Main([]string{"policies"})
	require.Equal(t, ExitOK, code, errOut.String())
	assert.Contains(t, out.String(), "name: shop-backend-default-deny-all")
}

func TestContextFlag(t *testing.T) {
	dir := t.TempDir()
	ctx := filepath.Join(dir, "backend.yaml")
	require.NoError(t, os.WriteFile(ctx, []byte(release("backend")), 0o600))
	without, stderr, code := run(t, release("frontend"), "policies")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, stderr, "backend-podinfo, an in-cluster name that is no Service of this render")
	assert.NotContains(t, without, "app: backend-podinfo")

	with, stderr, code := run(t, release("frontend"), "policies", "--context", ctx)
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, with, "name: frontend-podinfo-egress")
	assert.Contains(t, with, "app: backend-podinfo", "an exact egress allow to the other release's pods")
	assert.NotContains(t, with, "name: backend-podinfo", "nothing is written for the context's pods")
}
