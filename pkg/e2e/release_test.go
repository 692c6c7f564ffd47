package e2e

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
)

// releaseVersion is the version the tests stamp into a release.
const releaseVersion = "v0.9.0-e2e.1"

// buildRelease runs scripts/release.sh (what make release runs) for this
// machine's platform into a new folder and returns it. Only the host platform:
// the others build the same way and cannot run here.
func buildRelease(t *testing.T, version string) string {
	t.Helper()
	root := repoRoot(t)
	out := filepath.Join(t.TempDir(), "release")
	env := append(os.Environ(), "VERSION="+version, "PLATFORMS="+hostPlatform())
	_, stderr, err := helmRun(t, env, root, nil, filepath.Join(root, "scripts", "release.sh"), out)
	require.NoError(t, err, "scripts/release.sh: %s", stderr)
	return out
}

func hostPlatform() string { return runtime.GOOS + "/" + runtime.GOARCH }

// TestRelease builds a release as make release does and uses it as the docs
// tell a user to: check the sums, run the binaries, install the Helm 4 plugin
// from its archive into a throw-away Helm home and render the example chart
// through it, and run Helm 3 with the released post-renderer.
func TestRelease(t *testing.T) {
	helm4 := tool(t, "HELM4")
	helm3 := tool(t, "HELM3")
	root := repoRoot(t)
	dir := buildRelease(t, releaseVersion)
	goos, arch := runtime.GOOS, runtime.GOARCH
	fnBin := filepath.Join(dir, "tierwall_"+goos+"_"+arch)
	prBin := filepath.Join(dir, "tierwall-postrender_"+goos+"_"+arch)
	archive := filepath.Join(dir, "tierwall-0.9.0-e2e.1-"+goos+"-"+arch+".tgz")

	t.Run("files and SHA256SUMS", func(t *testing.T) {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		want := []string{"SHA256SUMS", filepath.Base(archive), filepath.Base(prBin), filepath.Base(fnBin)}
		sort.Strings(want)
		assert.Equal(t, want, names)

		sums := readSums(t, filepath.Join(dir, "SHA256SUMS"))
		assert.Len(t, sums, len(names)-1, "every artifact but SHA256SUMS is summed")
		for name, sum := range sums {
			data, err := os.ReadFile(filepath.Join(dir, name))
			require.NoError(t, err, name)
			h := sha256.Sum256(data)
			assert.Equal(t, hex.EncodeToString(h[:]), sum, name)
		}
		// What docs/pipelines.md tells users to run after downloading.
		out, stderr, err := runCmd(t, dir, nil, "sha256sum", "--check", "--ignore-missing", "SHA256SUMS")
		require.NoError(t, err, "%s%s", out, stderr)
		assert.Equal(t, len(sums), strings.Count(out, ": OK\n"))
	})

	t.Run("static binaries print the version", func(t *testing.T) {
		out, stderr, err := runCmd(t, "", nil, fnBin, "version")
		require.NoError(t, err, stderr)
		assert.True(t, strings.HasPrefix(out, "tierwall "+releaseVersion+" (commit "), out)
		out, stderr, err = runCmd(t, "", nil, prBin, "--version")
		require.NoError(t, err, stderr)
		assert.True(t, strings.HasPrefix(out, "tierwall-postrender "+releaseVersion+" (commit "), out)
		for _, b := range []string{fnBin, prBin} {
			assertStatic(t, b)
			data, err := os.ReadFile(b)
			require.NoError(t, err)
			assert.False(t, bytes.Contains(data, []byte(root)), "%s holds the build path %s: not built with -trimpath", b, root)
		}
	})

	t.Run("plugin archive", func(t *testing.T) {
		files := readTarGz(t, archive)
		var names []string
		for n := range files {
			names = append(names, n)
		}
		sort.Strings(names)
		bin := "tierwall/bin/tierwall-postrender-" + goos + "-" + arch
		assert.Equal(t, []string{"tierwall/", "tierwall/bin/", bin, "tierwall/plugin.yaml"}, names)
		assert.NotZero(t, files[bin].mode&0o111, "the plugin binary is executable")
		pr, err := os.ReadFile(prBin)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(pr, files[bin].data), "the plugin runs the released tierwall-postrender")

		n, err := yaml.Parse(string(files["tierwall/plugin.yaml"].data))
		require.NoError(t, err)
		doc := n.YNode()
		assert.Equal(t, "tierwall", manifest.String(doc, "name"))
		assert.Equal(t, "0.9.0-e2e.1", manifest.String(doc, "version"), "the release's SemVer")
		cmds := manifest.Items(doc, "runtimeConfig", "platformCommand")
		require.Len(t, cmds, 1, "only this archive's platform")
		assert.Equal(t, goos, manifest.String(cmds[0], "os"))
		assert.Equal(t, arch, manifest.String(cmds[0], "arch"))
		assert.Equal(t, "${HELM_PLUGIN_DIR}/"+strings.TrimPrefix(bin, "tierwall/"), manifest.String(cmds[0], "command"))
	})

	chart := filepath.Join(root, "examples", "helm", "three-tier")
	renderThrough := func(t *testing.T, env []string) {
		t.Helper()
		list, stderr, err := helmRun(t, env, "", nil, helm4, "plugin", "list")
		require.NoError(t, err, stderr)
		assert.Regexp(t, `(?m)^tierwall\s+0\.9\.0-e2e\.1\s+postrenderer/v1`, list)
		plain, stderr, err := helmRun(t, env, "", nil, helm4, "template", helmRelease, chart, "-n", helmNamespace)
		require.NoError(t, err, stderr)
		out, stderr, err := helmRun(t, env, "", nil, helm4, "template", helmRelease, chart, "-n", helmNamespace, "--post-renderer", "tierwall")
		require.NoError(t, err, stderr)
		docs, policies := splitOutput(t, out)
		plainDocs, _ := splitOutput(t, plain)
		assert.Equal(t, normalized(t, plainDocs), normalized(t, docs), "every chart object comes out unchanged")
		require.NotNil(t, policyNamed(policies, "default-deny-all"), out)
		assert.Equal(t, []string{""}, policyNamespaces(policies))
	}

	// helm plugin install of the archive, as docs/pipelines.md says.
	t.Run("helm4 plugin install archive", func(t *testing.T) {
		env := helmEnv(t)
		// Helm 4 verifies archives by default, and the release is not signed.
		_, stderr, err := helmRun(t, env, dir, nil, helm4, "plugin", "install", archive)
		require.Error(t, err)
		assert.Contains(t, stderr, "no provenance file (.prov) found")

		out, stderr, err := helmRun(t, env, dir, nil, helm4, "plugin", "install", archive, "--verify=false")
		require.NoError(t, err, "%s%s", out, stderr)
		assert.Contains(t, out, "Installed plugin: tierwall")
		renderThrough(t, env)

		out, stderr, err = helmRun(t, env, "", nil, helm4, "plugin", "uninstall", "tierwall")
		require.NoError(t, err, "%s%s", out, stderr)
		list, _, _ := helmRun(t, env, "", nil, helm4, "plugin", "list")
		assert.NotContains(t, list, "tierwall")
	})

	// Unpacked, the archive is a plugin folder: installed without --verify=false.
	t.Run("helm4 plugin install unpacked folder", func(t *testing.T) {
		env := helmEnv(t)
		unpacked := t.TempDir()
		_, stderr, err := runCmd(t, unpacked, nil, "tar", "xzf", archive)
		require.NoError(t, err, stderr)
		out, stderr, err := helmRun(t, env, "", nil, helm4, "plugin", "install", filepath.Join(unpacked, "tierwall"))
		require.NoError(t, err, "%s%s", out, stderr)
		renderThrough(t, env)
	})

	// Helm 3 runs the released post-renderer from any path.
	t.Run("helm3 post-renderer", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "tierwall-postrender")
		data, err := os.ReadFile(prBin)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(bin, data, 0o755))
		out, stderr, err := helmRun(t, helmEnv(t), "", nil, helm3, "template", helmRelease, chart, "-n", helmNamespace,
			"--post-renderer", bin, "--post-renderer-args=--namespace="+helmNamespace)
		require.NoError(t, err, stderr)
		_, policies := splitOutput(t, out)
		require.NotNil(t, policyNamed(policies, "default-deny-all"), out)
		assert.Equal(t, []string{helmNamespace}, policyNamespaces(policies))
	})
}

// TestReleaseVersions: a version that is no SemVer (a commit) still gives a
// plugin Helm 4 accepts, named so that Helm installs it as tierwall; and the
// script refuses to replace a folder that is not a release.
func TestReleaseVersions(t *testing.T) {
	helm4 := tool(t, "HELM4")
	root := repoRoot(t)

	dir := buildRelease(t, "0123abc-dirty")
	archive := filepath.Join(dir, "tierwall-0.0.0-dev-0123abc-dirty-"+runtime.GOOS+"-"+runtime.GOARCH+".tgz")
	_, err := os.Stat(archive)
	require.NoError(t, err)
	env := helmEnv(t)
	out, stderr, err := helmRun(t, env, "", nil, helm4, "plugin", "install", archive, "--verify=false")
	require.NoError(t, err, "%s%s", out, stderr)
	list, stderr, err := helmRun(t, env, "", nil, helm4, "plugin", "list")
	require.NoError(t, err, stderr)
	assert.Regexp(t, `(?m)^tierwall\s+0\.0\.0-dev-0123abc-dirty\s+postrenderer/v1`, list)
	out, stderr, err = runCmd(t, "", nil, filepath.Join(dir, "tierwall_"+runtime.GOOS+"_"+runtime.GOARCH), "version")
	require.NoError(t, err, stderr)
	assert.True(t, strings.HasPrefix(out, "tierwall 0123abc-dirty (commit "), "the binaries carry the version as given: %s", out)

	// A failed build leaves the last release as it was, and no half-built folder.
	before, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	require.NoError(t, err)
	_, stderr, err = helmRun(t, append(os.Environ(), "VERSION=v1.0.0", "PLATFORMS="+hostPlatform(), "GOFLAGS=-mod=nonsense"), root, nil,
		filepath.Join(root, "scripts", "release.sh"), dir)
	require.Error(t, err, "the go build must fail with GOFLAGS=-mod=nonsense")
	after, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
	left, err := filepath.Glob(filepath.Join(filepath.Dir(dir), ".release.*"))
	require.NoError(t, err)
	assert.Empty(t, left, "the staging folder is removed")

	precious := t.TempDir()
	keep := filepath.Join(precious, "keep.txt")
	require.NoError(t, os.WriteFile(keep, []byte("mine"), 0o644))
	_, stderr, err = helmRun(t, append(os.Environ(), "VERSION=v1.0.0", "PLATFORMS="+hostPlatform()), root, nil,
		filepath.Join(root, "scripts", "release.sh"), precious)
	require.Error(t, err)
	assert.Contains(t, stderr, "is not a release folder")
	_, err = os.Stat(keep)
	assert.NoError(t, err, "the folder is left alone")
}

// TestMakeRelease checks that make release builds the four platforms the
// issue asks for (make -n: the builds themselves are TestRelease's).
func TestMakeRelease(t *testing.T) {
	tool(t, "HELM4") // an end-to-end test: make test runs it
	root := repoRoot(t)
	out, stderr, err := runCmd(t, root, nil, "make", "-n", "release", "VERSION=v1.2.3")
	require.NoError(t, err, stderr)
	assert.Contains(t, out, `VERSION=v1.2.3 PLATFORMS="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64" scripts/release.sh `+
		filepath.Join(root, "dist", "release", "v1.2.3"))
}

// readSums reads a sha256sum file: name -> hex sum, each name once.
func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	line := regexp.MustCompile(`^([0-9a-f]{64})  (\S+)$`)
	sums := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		m := line.FindStringSubmatch(s.Text())
		require.NotNil(t, m, "SHA256SUMS line %q", s.Text())
		_, dup := sums[m[2]]
		require.False(t, dup, "%s twice", m[2])
		sums[m[2]] = m[1]
	}
	require.NoError(t, s.Err())
	return sums
}

type tarFile struct {
	mode int64
	data []byte
}

// readTarGz returns the entries of a .tgz by name.
func readTarGz(t *testing.T, path string) map[string]tarFile {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	out := map[string]tarFile{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		out[h.Name] = tarFile{mode: h.Mode, data: data}
	}
}

// assertStatic checks that a Linux binary needs no dynamic loader.
func assertStatic(t *testing.T, path string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		return
	}
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "%s asks for a dynamic loader: not built with CGO_ENABLED=0", path)
	}
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	assert.Empty(t, libs, path)
}
