package e2e

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBenchSmoke runs the whole-process benchmark on a tiny input: it is
// not a measurement (CI machines are noisy; make bench is), only proof that
// make bench works and reports every figure.
func TestBenchSmoke(t *testing.T) {
	tool(t, "KUSTOMIZE") // an end-to-end test: only under make test / make e2e
	if _, err := exec.LookPath("/usr/bin/time"); err != nil {
		t.Fatalf("/usr/bin/time is needed by make bench: %v", err)
	}
	out := filepath.Join(t.TempDir(), "results.txt")
	stdout, stderr, err := runCmd(t, repoRoot(t), nil, "scripts/bench.sh", "-quick", "-out", out)
	require.NoError(t, err, stderr)
	for _, want := range []string{"post-renderer / do-nothing kyaml: wall", "KRM function / do-nothing kyaml:  wall", "tierwall report:"} {
		assert.Contains(t, stdout, want)
	}
	assert.FileExists(t, out)
}
