//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/internal/testutil"
)

// kustomizeExamples are the examples that run tierwall as an exec function.
var kustomizeExamples = []string{"three-tier", "multi-namespace", "microservices", "cilium"}

func TestKustomizeExamples(t *testing.T) {
	kustomize := tool(t, "KUSTOMIZE")
	tierwallBin(t, "tierwall")
	root := repoRoot(t)
	for _, ex := range kustomizeExamples {
		t.Run(ex, func(t *testing.T) {
			out, stderr, err := runCmd(t, root, nil, kustomize, "build", "--enable-alpha-plugins", "--enable-exec", filepath.Join("examples", ex))
			require.NoError(t, err, stderr)
			assert.Contains(t, out, "kind: NetworkPolicy")
			testutil.Golden(t, filepath.Join(root, "testdata", "e2e", "kustomize", ex+".yaml"), []byte(out))
		})
	}
}

// TestKustomizeWithoutExecSkipsSilently documents the trap the README warns
// about: with --enable-alpha-plugins alone kustomize exits 0 without running
// the function, so no policy comes out.
func TestKustomizeWithoutExecSkipsSilently(t *testing.T) {
	kustomize := tool(t, "KUSTOMIZE")
	root := repoRoot(t)
	out, stderr, err := runCmd(t, root, nil, kustomize, "build", "--enable-alpha-plugins", "examples/three-tier")
	require.NoError(t, err, stderr)
	assert.Contains(t, out, "kind: Deployment")
	assert.NotContains(t, out, "kind: NetworkPolicy")

	_, stderr, err = runCmd(t, root, nil, kustomize, "build", "examples/three-tier")
	require.Error(t, err)
	assert.Contains(t, stderr, "external plugins disabled")
}

// TestKubectlKustomizeCannotExec documents that kubectl kustomize has no
// --enable-exec: the exec function never runs there.
func TestKubectlKustomizeCannotExec(t *testing.T) {
	kubectl := tool(t, "KUBECTL")
	root := repoRoot(t)
	out, stderr, _ := runCmd(t, root, nil, kubectl, "kustomize", "--enable-alpha-plugins", "examples/three-tier")
	assert.NotContains(t, out, "kind: NetworkPolicy", "kubectl kustomize must not have run the exec function")
	_, helpErr, _ := runCmd(t, root, nil, kubectl, "kustomize", "--enable-exec", "examples/three-tier")
	assert.True(t, strings.Contains(helpErr, "unknown flag") || strings.Contains(stderr, "exec"), "kubectl kustomize has no --enable-exec flag: %s", helpErr)
}
