//go:build verify

package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVerifyCommand runs tierwall verify on the three-tier example as
// kustomize renders it, with both enforcers: every probe agrees with the
// report. It runs under make test (TIERWALL_E2E=1, root); a missing program
// fails it there.
func TestVerifyCommand(t *testing.T) {
	if os.Getenv("TIERWALL_E2E") != "1" {
		t.Skip("TIERWALL_E2E=1 runs it (make test)")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	for _, env := range []string{"KUBE_ROUTER", "KUBE_NETWORK_POLICIES", "KUBE_APISERVER", "ETCD"} {
		require.NotEmpty(t, os.Getenv(env), "%s names a program tierwall verify runs", env)
	}
	in, err := os.ReadFile(filepath.Join(root, "testdata", "e2e", "kustomize", "three-tier.yaml"))
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	c := Command{Stdin: bytes.NewReader(in), Stdout: &out, Stderr: &errOut, Getenv: os.Getenv, ReadFile: os.ReadFile}
	code := c.Main([]string{"verify", "--apiserver-script", filepath.Join(root, "scripts", "apiserver.sh")})
	require.Equal(t, ExitOK, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	for _, e := range []string{"kube-router", "kube-network-policies"} {
		assert.Contains(t, out.String(), e+": ")
	}
	assert.Equal(t, 2, strings.Count(out.String(), "0 differ from tierwall report"), out.String())
}
