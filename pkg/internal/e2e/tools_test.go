//go:build e2e

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// repoRoot is the repository's top folder.
func repoRoot(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// tool returns the path of an external binary named by env. Outside make
// (TIERWALL_E2E unset) the test is skipped with a note; under make test a
// missing binary is a failure.
func tool(t testing.TB, env string) string {
	t.Helper()
	if os.Getenv("TIERWALL_E2E") != "1" {
		t.Skipf("end-to-end test: run it with make e2e or make test (TIERWALL_E2E=1 and %s set)", env)
	}
	p := os.Getenv(env)
	if p == "" {
		t.Fatalf("%s is not set: make test installs and names the binary", env)
	}
	if _, err := exec.LookPath(p); err != nil {
		t.Fatalf("%s=%s: %v (make tools installs it)", env, p, err)
	}
	return p
}

// tierwallBin returns the path of one of our own built binaries.
func tierwallBin(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("TIERWALL_BIN")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "bin")
	}
	p := filepath.Join(dir, name)
	if os.Getenv("TIERWALL_E2E") != "1" {
		t.Skipf("end-to-end test: run it with make e2e or make test")
	}
	_, err := os.Stat(p)
	require.NoError(t, err, "make build writes %s", p)
	return p
}

// runCmd runs a command and returns stdout, stderr and any error.
func runCmd(t testing.TB, dir string, stdin []byte, name string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}
