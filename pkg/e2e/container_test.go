package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/testutil"
)

// containerImage is the image examples/container runs.
const containerImage = "tierwall:dev"

// containerEnv puts the directory of the docker CLI named by DOCKER first on
// PATH, as kustomize runs `docker`: the podman shim of scripts/tools.sh, or a
// real Docker.
func containerEnv(t *testing.T, docker string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	return append(env, "PATH="+filepath.Dir(docker)+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// buildImage builds the function image the way make image does.
func buildImage(t *testing.T, docker string, env []string) {
	t.Helper()
	root := repoRoot(t)
	out, stderr, err := helmRun(t, append(env, "CONTAINER_ENGINE="+docker), root, nil,
		filepath.Join(root, "scripts", "image.sh"), containerImage)
	require.NoError(t, err, "scripts/image.sh: %s", stderr)
	assert.Equal(t, containerImage, strings.TrimSpace(out))
}

// TestContainerFunction builds the image with podman (or Docker) and runs it
// as a container KRM function through the real kustomize.
func TestContainerFunction(t *testing.T) {
	docker := tool(t, "DOCKER")
	kustomize := tool(t, "KUSTOMIZE")
	execBin := tierwallBin(t, "tierwall")
	root := repoRoot(t)
	env := containerEnv(t, docker)
	buildImage(t, docker, env)

	t.Run("image", func(t *testing.T) {
		out, stderr, err := helmRun(t, env, "", nil, docker, "image", "inspect", containerImage,
			"--format", "{{.Config.User}} {{json .Config.Entrypoint}} {{.Size}}")
		require.NoError(t, err, stderr)
		fields := strings.Fields(out)
		require.Len(t, fields, 3, out)
		assert.Equal(t, "65534:65534", fields[0], "runs as nobody")
		assert.Equal(t, `["/tierwall"]`, fields[1], "the entrypoint is the function")
		size, err := strconv.ParseInt(fields[2], 10, 64)
		require.NoError(t, err)
		assert.Less(t, size, int64(50<<20), "a small static image")
	})

	t.Run("read-only, no network, as nobody", func(t *testing.T) {
		rl := []byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" +
			"- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: shop\n")
		// --read-only with a tmpfs /tmp: the function writes nothing elsewhere.
		out, stderr, err := helmRun(t, env, "", rl, docker, "run", "--rm", "-i", "--read-only", "--tmpfs", "/tmp",
			"--network", "none", "--user", "nobody", "--security-opt=no-new-privileges", containerImage)
		require.NoError(t, err, stderr)
		assert.Contains(t, out, "name: default-deny-all")
		assert.Contains(t, out, "namespace: shop")
	})

	t.Run("kustomize", func(t *testing.T) {
		out, stderr, err := helmRun(t, env, root, nil, kustomize, "build", "--enable-alpha-plugins", filepath.Join("examples", "container"))
		require.NoError(t, err, stderr)
		assert.Contains(t, out, "kind: NetworkPolicy")
		testutil.Golden(t, filepath.Join(root, "testdata", "e2e", "container", "container.yaml"), []byte(out))

		// The image runs the same engine as the exec function: the same
		// kustomization with an exec function gives the same output.
		dir := filepath.Join(t.TempDir(), "exec")
		require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(root, "examples", "container"))))
		cfg := filepath.Join(dir, "tierwall.yaml")
		data, err := os.ReadFile(cfg)
		require.NoError(t, err)
		text := strings.Replace(string(data), "container:\n        image: "+containerImage, "exec:\n        path: "+execBin, 1)
		require.NotEqual(t, string(data), text, "examples/container/tierwall.yaml names %s", containerImage)
		require.NoError(t, os.WriteFile(cfg, []byte(text), 0o644))
		viaExec, stderr, err := helmRun(t, env, root, nil, kustomize, "build", "--enable-alpha-plugins", "--enable-exec", dir)
		require.NoError(t, err, stderr)
		assert.Equal(t, viaExec, out)
	})

	// kubectl kustomize cannot run exec functions, but runs container ones.
	t.Run("kubectl kustomize", func(t *testing.T) {
		kubectl := tool(t, "KUBECTL")
		out, stderr, err := helmRun(t, env, root, nil, kubectl, "kustomize", "--enable-alpha-plugins", filepath.Join("examples", "container"))
		require.NoError(t, err, stderr)
		testutil.Golden(t, filepath.Join(root, "testdata", "e2e", "container", "container.yaml"), []byte(out))
	})
}
