//go:build e2e

package e2e

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/internal/testutil"
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

		cfg := inspectImage(t, docker, containerImage)
		version, stderr, err := runCmd(t, root, nil, filepath.Join(root, "scripts", "version.sh"))
		require.NoError(t, err, stderr)
		commit, stderr, err := runCmd(t, root, nil, filepath.Join(root, "scripts", "version.sh"), "commit")
		require.NoError(t, err, stderr)
		labels := cfg.Config.Labels
		assert.Equal(t, strings.TrimSpace(version), labels["org.opencontainers.image.version"])
		assert.Equal(t, strings.TrimSpace(commit), labels["org.opencontainers.image.revision"])
		assert.Equal(t, "https://github.com/tierwall/tierwall", labels["org.opencontainers.image.source"])
		assert.Equal(t, "Apache-2.0", labels["org.opencontainers.image.licenses"])
		assert.Equal(t, "tierwall", labels["org.opencontainers.image.title"])
		assert.NotEmpty(t, labels["org.opencontainers.image.created"])
		// No shell: nothing but the function to run.
		_, _, err = helmRun(t, env, "", nil, docker, "run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", containerImage, "-c", "true")
		assert.Error(t, err, "the image has no shell")
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

// TestImagePlatforms builds the KRM function image for two platforms at once, as make image
// IMAGE_PLATFORMS="linux/amd64 linux/arm64" does, from a release's binaries: a manifest list
// of one image per platform, each with its own binary. (Docker keeps lists in registries:
// podman only.)
func TestImagePlatforms(t *testing.T) {
	docker := tool(t, "DOCKER")
	env := containerEnv(t, docker)
	version, _, _ := runCmd(t, "", nil, docker, "--version")
	if !strings.Contains(strings.ToLower(version), "podman") {
		t.Skip("a local manifest list needs podman")
	}
	root := repoRoot(t)
	rel := buildRelease(t, releaseVersion, "PLATFORMS=linux/amd64 linux/arm64")
	image := fmt.Sprintf("localhost/tierwall-platforms:e2e-%d", os.Getpid())
	out, stderr, err := helmRun(t, append(env, "CONTAINER_ENGINE="+docker, "BINARIES="+rel, "VERSION="+releaseVersion,
		"PLATFORMS=linux/amd64 linux/arm64"), root, nil, filepath.Join(root, "scripts", "image.sh"), image)
	require.NoError(t, err, "scripts/image.sh: %s", stderr)
	assert.Equal(t, image, strings.TrimSpace(out))
	var ids []string // the platforms' images, removed with the list
	t.Cleanup(func() {
		_, _, _ = helmRun(t, env, "", nil, docker, "manifest", "rm", image)
		for _, id := range ids {
			_, _, _ = helmRun(t, env, "", nil, docker, "rmi", id)
		}
	})

	out, stderr, err = helmRun(t, env, "", nil, docker, "manifest", "inspect", image)
	require.NoError(t, err, stderr)
	var list struct {
		Manifests []struct {
			Digest   string `json:"digest"`
			Platform struct {
				Architecture string `json:"architecture"`
				OS           string `json:"os"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &list), out)
	var platforms []string
	for _, m := range list.Manifests {
		platforms = append(platforms, m.Platform.OS+"/"+m.Platform.Architecture)
		ref := strings.Split(image, ":")[0] + "@" + m.Digest
		id, stderr, err := helmRun(t, env, "", nil, docker, "image", "inspect", ref, "--format", "{{.Id}}")
		require.NoError(t, err, stderr)
		ids = append(ids, strings.TrimSpace(id))
		cfg := inspectImage(t, docker, ref)
		assert.Equal(t, m.Platform.Architecture, cfg.Architecture)
		assert.Equal(t, "65534:65534", cfg.Config.User)
		assert.Equal(t, releaseVersion, cfg.Config.Labels["org.opencontainers.image.version"])
	}
	sort.Strings(platforms)
	assert.Equal(t, []string{"linux/amd64", "linux/arm64"}, platforms)

	// This machine's image in the list runs, with the released binary.
	out, stderr, err = helmRun(t, env, "", nil, docker, "run", "--rm", "--network", "none", "--read-only", image, "version")
	require.NoError(t, err, "%s%s", out, stderr)
	assert.True(t, strings.HasPrefix(out, "tierwall "+releaseVersion+" "), out)
}

// inspectImage reads an image's configuration.
func inspectImage(t *testing.T, docker, image string) imageConfig {
	t.Helper()
	out, stderr, err := helmRun(t, containerEnv(t, docker), "", nil, docker, "image", "inspect", image, "--format",
		`{"architecture":{{json .Architecture}},"os":{{json .Os}},"config":{"User":{{json .Config.User}},"Entrypoint":{{json .Config.Entrypoint}},"Env":{{json .Config.Env}},"Labels":{{json .Config.Labels}}}}`)
	require.NoError(t, err, stderr)
	var cfg imageConfig
	require.NoError(t, json.Unmarshal([]byte(out), &cfg), out)
	return cfg
}

// isolatedContainerStorage gives podman a container storage of its own (vfs, in a new folder),
// as a fresh machine has: images loaded there neither see nor replace this machine's
// (tierwall:dev, which other tests build). Docker keeps one storage: nothing to isolate.
func isolatedContainerStorage(t *testing.T, docker string) []string {
	t.Helper()
	version, _, _ := runCmd(t, "", nil, docker, "--version")
	if !strings.Contains(strings.ToLower(version), "podman") {
		return nil
	}
	// A short path: podman puts its containers' sockets under the run root, and a socket path
	// over the limit (a subtest's t.TempDir) costs each `run` a 20 s timeout.
	dir, err := os.MkdirTemp("", "ctr")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	conf := filepath.Join(dir, "storage.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n",
		filepath.Join(dir, "graph"), filepath.Join(dir, "run"))), 0o644))
	return []string{"CONTAINERS_STORAGE_CONF=" + conf}
}

// imageConfig is what the tests read of an image's configuration.
type imageConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Config       struct {
		User       string            `json:"User"`
		Entrypoint []string          `json:"Entrypoint"`
		Env        []string          `json:"Env"`
		Labels     map[string]string `json:"Labels"`
	} `json:"config"`
}

// imageArchiveConfig reads the configuration of the one image in a gzipped docker archive.
func imageArchiveConfig(t *testing.T, path string) imageConfig {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	files := map[string][]byte{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if strings.HasSuffix(h.Name, ".json") {
			data, err := io.ReadAll(tr)
			require.NoError(t, err)
			files[h.Name] = data
		}
	}
	var manifests []struct {
		Config   string   `json:"Config"`
		RepoTags []string `json:"RepoTags"`
	}
	require.NoError(t, json.Unmarshal(files["manifest.json"], &manifests), "%s: manifest.json", path)
	require.Len(t, manifests, 1)
	var cfg imageConfig
	require.NoError(t, json.Unmarshal(files[manifests[0].Config], &cfg))
	assert.Equal(t, "linux", cfg.OS)
	return cfg
}
