//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBenchSmoke runs the whole-process benchmark on a tiny input: it is
// not a measurement (CI machines are noisy; make bench is), only proof that
// make bench works and reports every figure, for both data sets.
func TestBenchSmoke(t *testing.T) {
	tool(t, "KUSTOMIZE") // an end-to-end test: only under make test / make e2e
	if _, err := exec.LookPath("/usr/bin/time"); err != nil {
		t.Fatalf("/usr/bin/time is needed by make bench: %v", err)
	}
	out := filepath.Join(t.TempDir(), "results.txt")
	stdout, stderr, err := runCmd(t, repoRoot(t), nil, "scripts/bench.sh", "-quick", "-out", out)
	require.NoError(t, err, stderr)
	for _, want := range []string{"realistic: post-renderer / do-nothing kyaml: wall", "realistic: KRM function / do-nothing kyaml:  wall",
		"realistic: tierwall report:", "simple: post-renderer / do-nothing kyaml: wall", "simple: KRM function / do-nothing kyaml:  wall"} {
		assert.Contains(t, stdout, want)
	}
	// Realistic first: it is the set the targets are read on.
	assert.Less(t, strings.Index(stdout, "== realistic set"), strings.Index(stdout, "== simple set"))
	assert.NotContains(t, stdout, "== realistic set: 0 objects")
	written, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, stdout, string(written))
}
