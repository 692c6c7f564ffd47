//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVerifyImage builds the tierwall verify image with scripts/verify-image.sh (make
// verify-image) from the enforcers, kube-apiserver and etcd the tests use and this machine's
// ip, iptables and ipset, and runs it privileged on the three-tier example with kube-router:
// the sandbox (network namespaces, iptables, kube-apiserver) runs inside the container.
func TestVerifyImage(t *testing.T) {
	docker := tool(t, "DOCKER")
	root := repoRoot(t)
	env := containerEnv(t, docker)
	for _, name := range []string{"KUBE_ROUTER", "KUBE_NETWORK_POLICIES", "KUBE_APISERVER", "ETCD", "BUSYBOX"} {
		env = append(env, name+"="+tool(t, name))
	}
	if os.Geteuid() != 0 {
		t.Fatal("the verify image runs with --privileged: network namespaces and iptables need a rootful engine (run as root)")
	}
	image := fmt.Sprintf("localhost/tierwall-verify:e2e-%d", os.Getpid())
	out, stderr, err := helmRun(t, append(env, "CONTAINER_ENGINE="+docker), root, nil,
		filepath.Join(root, "scripts", "verify-image.sh"), image)
	require.NoError(t, err, "scripts/verify-image.sh: %s", stderr)
	require.Equal(t, image, strings.TrimSpace(out))
	t.Cleanup(func() { _, _, _ = helmRun(t, env, "", nil, docker, "rmi", image) })

	t.Run("image", func(t *testing.T) {
		cfg := inspectImage(t, docker, image)
		assert.Equal(t, []string{"/usr/local/bin/tierwall-verify", "verify", "--apiserver-script=/opt/tierwall/scripts/apiserver.sh"},
			cfg.Config.Entrypoint)
		for _, kv := range []string{"KUBE_ROUTER=/usr/local/bin/kube-router", "KUBE_NETWORK_POLICIES=/usr/local/bin/kube-network-policies",
			"KUBE_APISERVER=/usr/local/bin/kube-apiserver", "ETCD=/usr/local/bin/etcd"} {
			assert.Contains(t, cfg.Config.Env, kv)
		}
		version, stderr, err := runCmd(t, root, nil, filepath.Join(root, "scripts", "version.sh"))
		require.NoError(t, err, stderr)
		labels := cfg.Config.Labels
		assert.Equal(t, "tierwall-verify", labels["org.opencontainers.image.title"])
		assert.Equal(t, strings.TrimSpace(version), labels["org.opencontainers.image.version"])
		assert.Equal(t, "https://github.com/tierwall/tierwall", labels["org.opencontainers.image.source"])
		assert.NotEmpty(t, labels["org.opencontainers.image.revision"])

		out, stderr, err := helmRun(t, env, "", nil, docker, "run", "--rm", "--network", "none",
			"--entrypoint", "/usr/local/bin/tierwall-verify", image, "version")
		require.NoError(t, err, "%s%s", out, stderr)
		assert.True(t, strings.HasPrefix(out, "tierwall "+strings.TrimSpace(version)+" "), out)
		// The image's programs start: their libraries and loader are there.
		out, stderr, err = helmRun(t, env, "", nil, docker, "run", "--rm", "--network", "none", "--entrypoint", "/bin/bash", image,
			"-c", "iptables --version && ipset help >/dev/null && ip -V && openssl version && curl --version && nft --version")
		require.NoError(t, err, "%s%s", out, stderr)
	})

	input := filepath.Join(root, "testdata", "e2e", "kustomize")
	t.Run("mounted file", func(t *testing.T) {
		out, stderr, err := helmRun(t, env, "", nil, docker, "run", "--rm", "--privileged", "-v", input+":/work:ro",
			image, "--enforcer", "kube-router", "three-tier.yaml")
		require.NoError(t, err, "%s%s", out, stderr)
		assert.Regexp(t, `(?m)^kube-router: \d+ probes, \d+ allowed, 0 differ from tierwall report$`, out)
	})

	t.Run("stdin", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(input, "three-tier.yaml"))
		require.NoError(t, err)
		out, stderr, err := helmRun(t, env, "", data, docker, "run", "--rm", "-i", "--privileged",
			image, "--enforcer", "kube-router", "-")
		require.NoError(t, err, "%s%s", out, stderr)
		assert.Regexp(t, `(?m)^kube-router: \d+ probes, \d+ allowed, 0 differ from tierwall report$`, out)
	})
}
