//go:build e2e

package e2e

// The README's Install section, followed literally on a fresh machine for each install path,
// and the other channels of a release: krew, the KRM function image archive, the go command
// through a module proxy. Also: no document names a release that does not exist.

import (
	"archive/zip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/manifest"
)

// modulePath is tierwall's Go module.
const modulePath = "github.com/tierwall/tierwall"

// installSection is the README's Install section: the blocks before its first "###", which
// every release-based path runs first, and the sh blocks of each "###" subsection.
type installSection struct {
	preamble []string
	paths    map[string][]string
	order    []string
}

func readInstallSection(t *testing.T) installSection {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	require.NoError(t, err)
	text := string(data)
	start := strings.Index(text, "\n## Install\n")
	require.GreaterOrEqual(t, start, 0, "README.md has an Install section")
	first := strings.Index(text, "\n## ")
	assert.Equal(t, start, first, "Install is the README's first section")
	text = text[start+len("\n## Install\n"):]
	if end := strings.Index(text, "\n## "); end >= 0 {
		text = text[:end]
	}
	s := installSection{paths: map[string][]string{}}
	block := regexp.MustCompile("(?s)```sh\n(.*?)```")
	parts := strings.Split(text, "\n### ")
	for _, m := range block.FindAllStringSubmatch(parts[0], -1) {
		s.preamble = append(s.preamble, m[1])
	}
	for _, part := range parts[1:] {
		heading, body, _ := strings.Cut(part, "\n")
		for _, m := range block.FindAllStringSubmatch(body, -1) {
			s.paths[heading] = append(s.paths[heading], m[1])
		}
		require.NotEmpty(t, s.paths[heading], "README Install, %s: no sh block", heading)
		s.order = append(s.order, heading)
	}
	return s
}

// withRelease returns the preamble with the line that says where the release is pointed at
// url: the one line the test changes (the README names a folder a user serves).
func (s installSection) withRelease(t *testing.T, url string) string {
	t.Helper()
	line := regexp.MustCompile(`(?m)^TIERWALL_RELEASE=\S+$`)
	script := strings.Join(s.preamble, "\n")
	require.Len(t, line.FindAllString(script, -1), 1, "the preamble sets TIERWALL_RELEASE once")
	return line.ReplaceAllString(script, "TIERWALL_RELEASE="+url)
}

// freshMachine is what a new user's machine has: an empty home, the tools a section names
// (kustomize, helm, docker, go, git, make, curl, gpg), the system's shell and coreutils.
type freshMachine struct {
	home, bin string
	env       []string
}

func newFreshMachine(t *testing.T, tools map[string]string, extraEnv ...string) freshMachine {
	t.Helper()
	m := freshMachine{home: t.TempDir()}
	m.bin = binDir(t, tools)
	goBin, err := exec.LookPath("go")
	require.NoError(t, err)
	path := strings.Join([]string{filepath.Join(m.home, ".local", "bin"), filepath.Join(m.home, "go", "bin"), m.bin,
		filepath.Dir(goBin), sysPath}, ":")
	m.env = append([]string{"HOME=" + m.home, "PATH=" + path, "LANG=C.UTF-8", "GOTOOLCHAIN=local"}, extraEnv...)
	return m
}

// run runs a script as a user pasting it into bash would (stopping at the first failure).
func (m freshMachine) run(t *testing.T, dir, script string) (string, error) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "steps.sh")
	require.NoError(t, os.WriteFile(f, []byte(script), 0o644))
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", f)
	cmd.Dir, cmd.Env = dir, m.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// goEnv is the go command's environment on the fresh machine, offline: modules come from
// proxy (file://...) and then from this machine's module cache as a file proxy. The build
// cache is this machine's, reused through -trimpath (without it, a package's folder is part of
// its cache key, and every module would be compiled again from the fresh module cache).
func goEnv(t *testing.T, proxy string) []string {
	t.Helper()
	out, stderr, err := runCmd(t, "", nil, "go", "env", "GOMODCACHE", "GOCACHE")
	require.NoError(t, err, stderr)
	lines := strings.Fields(out)
	require.Len(t, lines, 2)
	proxies := "file://" + filepath.Join(lines[0], "cache", "download")
	if proxy != "" {
		proxies = proxy + "," + proxies
	}
	return []string{"GOPROXY=" + proxies, "GOSUMDB=off", "GOCACHE=" + lines[1], "GOFLAGS=-modcacherw -trimpath", "CGO_ENABLED=0"}
}

// moduleProxy writes a file-based Go module proxy holding this checkout as tierwall's module
// at version: list, .info, .mod and the module zip (the files git tracks or would track, as a
// commit of the tree would hold them, minus what the go command leaves out of module zips).
func moduleProxy(t *testing.T, version string) string {
	t.Helper()
	root := repoRoot(t)
	out, stderr, err := runCmd(t, root, nil, "git", "ls-files", "--cached", "--others", "--exclude-standard", "-z")
	require.NoError(t, err, stderr)
	dir := filepath.Join(t.TempDir(), "proxy")
	at := filepath.Join(dir, modulePath, "@v")
	require.NoError(t, os.MkdirAll(at, 0o755))
	zf, err := os.Create(filepath.Join(at, version+".zip"))
	require.NoError(t, err)
	zw := zip.NewWriter(zf)
	var n int
	for _, name := range strings.Split(strings.TrimRight(out, "\x00"), "\x00") {
		p := filepath.Join(root, name)
		fi, err := os.Lstat(p)
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		require.NoError(t, err)
		if !fi.Mode().IsRegular() || strings.HasPrefix(name, "vendor/") || strings.Contains(name, "/vendor/") {
			continue // module zips hold regular files only, and no vendor folder
		}
		if dir := filepath.Dir(name); dir != "." && fileExists(filepath.Join(root, dir, "go.mod")) {
			continue // another module
		}
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		w, err := zw.Create(modulePath + "@" + version + "/" + filepath.ToSlash(name))
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
		n++
	}
	require.NoError(t, zw.Close())
	require.NoError(t, zf.Close())
	require.Greater(t, n, 100)
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(at, version+".mod"), gomod, 0o644))
	info, err := json.Marshal(map[string]string{"Version": version, "Time": time.Now().UTC().Format(time.RFC3339)})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(at, version+".info"), info, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(at, "list"), []byte(version+"\n"), 0o644))
	return "file://" + dir
}

// TestInstallFromREADME follows the README's Install section on a fresh machine (an empty
// home, no tierwall), once per install path, against a signed release made by
// scripts/release.sh and served on 127.0.0.1: the section's commands run as written, with the
// release's address (and, for the source path, the clone's) the only change. Each path ends
// by rendering the example as the section says.
func TestInstallFromREADME(t *testing.T) {
	helm4 := tool(t, "HELM4")
	kustomize := tool(t, "KUSTOMIZE")
	docker := tool(t, "DOCKER")
	root := repoRoot(t)
	readme := readInstallSection(t)
	assert.Equal(t, []string{"Release binaries", "Helm 4 plugin", "KRM function image", "go install", "From source"}, readme.order)

	gnupg, key := signingKey(t)
	rel := buildRelease(t, releaseVersion, "GNUPGHOME="+gnupg, "SIGNING_KEY="+key, "IMAGES=1", "CONTAINER_ENGINE="+docker)
	url := serveRelease(t, rel)
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)
	preamble := readme.withRelease(t, url)
	tools := map[string]string{"kustomize": kustomize}

	t.Run("Release binaries", func(t *testing.T) {
		m := newFreshMachine(t, tools)
		out, err := m.run(t, copyExamples(t), preamble+"\n"+strings.Join(readme.paths["Release binaries"], "\n"))
		require.NoError(t, err, out)
		assert.Contains(t, out, "tierwall "+releaseVersion+" (commit ")
		assert.Regexp(t, `: OK\n`, out, "the downloads are checked against SHA256SUMS")
		assert.Contains(t, out, "tierwall check passed")
		for _, cmd := range []string{"tierwall", "tierwall-postrender"} {
			assert.FileExists(t, filepath.Join(m.home, ".local", "bin", cmd))
		}
	})

	t.Run("Helm 4 plugin", func(t *testing.T) {
		m := newFreshMachine(t, map[string]string{"kustomize": kustomize, "helm": helm4})
		out, err := m.run(t, copyExamples(t), preamble+"\n"+strings.Join(readme.paths["Helm 4 plugin"], "\n"))
		require.NoError(t, err, out)
		assert.Contains(t, out, "Signed by: tierwall release test <"+key+">", "Helm verified the signature")
		assert.Contains(t, out, "Installed plugin: tierwall")
		rendered := out[strings.Index(out, "Installed plugin: tierwall"):]
		rendered = rendered[strings.Index(rendered, "\n")+1:]
		_, policies := splitOutput(t, rendered)
		require.NotNil(t, policyNamed(policies, "default-deny-all"), out)
	})

	t.Run("KRM function image", func(t *testing.T) {
		m := newFreshMachine(t, map[string]string{"kustomize": kustomize, "docker": docker}, isolatedContainerStorage(t, docker)...)
		out, err := m.run(t, copyExamples(t), preamble+"\n"+strings.Join(readme.paths["KRM function image"], "\n"))
		require.NoError(t, err, out)
		assert.Contains(t, out, "kind: NetworkPolicy")
		assert.Contains(t, out, "app.kubernetes.io/managed-by: tierwall")
	})

	t.Run("go install", func(t *testing.T) {
		m := newFreshMachine(t, nil, goEnv(t, moduleProxy(t, releaseVersion))...)
		out, err := m.run(t, t.TempDir(), strings.Join(readme.paths["go install"], "\n"))
		require.NoError(t, err, out)
		assert.Contains(t, out, "tierwall "+releaseVersion+" (commit unknown", "the module's tag is the version")
		for _, cmd := range []string{"tierwall", "tierwall-postrender"} {
			assert.FileExists(t, filepath.Join(m.home, "go", "bin", cmd), "go install names the binary %s", cmd)
		}
		pr, stderr, err := runCmd(t, "", nil, filepath.Join(m.home, "go", "bin", "tierwall-postrender"), "--version")
		require.NoError(t, err, stderr)
		assert.True(t, strings.HasPrefix(pr, "tierwall-postrender "+releaseVersion+" "), pr)
	})

	t.Run("From source", func(t *testing.T) {
		make, err := exec.LookPath("make")
		require.NoError(t, err)
		m := newFreshMachine(t, map[string]string{"kustomize": kustomize, "make": make}, goEnv(t, "")...)
		script := strings.Join(readme.paths["From source"], "\n")
		clone := "https://github.com/tierwall/tierwall.git"
		require.Contains(t, script, "git clone "+clone)
		// The clone comes from this checkout's last commit, under the repository's name.
		local := filepath.Join(t.TempDir(), "tierwall.git")
		require.NoError(t, os.Symlink(root, local))
		script = strings.Replace(script, clone, "file://"+local, 1)
		out, err := m.run(t, t.TempDir(), script)
		require.NoError(t, err, out)
		assert.Contains(t, out, "kind: NetworkPolicy")
		assert.Contains(t, out, "name: default-deny-all")
	})
}

// testKrew checks the krew manifest of a release (made with the default RELEASE_URL) and,
// where krew is installed, installs the plugin from it offline and runs `kubectl tierwall`.
func testKrew(t *testing.T, dir string, platforms [][2]string) {
	t.Helper()
	manifestPath := filepath.Join(dir, "tierwall.krew.yaml")
	doc := readDoc(t, manifestPath)
	assert.Equal(t, "krew.googlecontainertools.github.com/v1alpha2", manifest.String(doc, "apiVersion"))
	assert.Equal(t, "Plugin", manifest.String(doc, "kind"))
	assert.Equal(t, "tierwall", manifest.String(doc, "metadata", "name"))
	assert.Equal(t, "v"+releasePluginVersion, manifest.String(doc, "spec", "version"))
	sums := readSums(t, filepath.Join(dir, "SHA256SUMS"))
	entries := manifest.Items(doc, "spec", "platforms")
	require.Len(t, entries, len(platforms))
	for i, p := range platforms {
		e := entries[i]
		archive := "kubectl-tierwall_" + p[0] + "_" + p[1] + ".tar.gz"
		assert.Equal(t, map[string]string{"os": p[0], "arch": p[1]}, manifest.StringMap(e, "selector", "matchLabels"))
		assert.Equal(t, "https://github.com/tierwall/tierwall/releases/download/"+releaseVersion+"/"+archive, manifest.String(e, "uri"))
		assert.Equal(t, sums[archive], manifest.String(e, "sha256"))
		assert.Equal(t, "tierwall", manifest.String(e, "bin"))
		files := readTarGz(t, filepath.Join(dir, archive))
		require.Contains(t, files, "tierwall")
		require.Contains(t, files, "LICENSE")
		assert.Len(t, files, 2)
		bin, err := os.ReadFile(filepath.Join(dir, "tierwall_"+p[0]+"_"+p[1]))
		require.NoError(t, err)
		assert.Equal(t, bin, files["tierwall"].data, "%s holds the released tierwall", archive)
		assert.NotZero(t, files["tierwall"].mode&0o111)
	}

	// Every `kubectl tierwall X` the description shows is a command of the binary.
	host := filepath.Join(dir, "tierwall_"+runtime.GOOS+"_"+runtime.GOARCH)
	named := regexp.MustCompile(`kubectl tierwall (\w+)`).FindAllStringSubmatch(manifest.String(doc, "spec", "description"), -1)
	require.NotEmpty(t, named)
	for _, m := range named {
		_, stderr, err := runCmd(t, "", nil, host, m[1], "--help")
		require.NoError(t, err, "the krew description shows kubectl tierwall %s: %s", m[1], stderr)
	}

	krew := tool(t, "KREW")
	kubectl := tool(t, "KUBECTL")
	krewRoot := t.TempDir()
	env := []string{"HOME=" + t.TempDir(), "KREW_ROOT=" + krewRoot, "PATH=" + filepath.Join(krewRoot, "bin") + ":" + filepath.Dir(kubectl) + ":" + sysPath}
	archive := filepath.Join(dir, "kubectl-tierwall_"+runtime.GOOS+"_"+runtime.GOARCH+".tar.gz")
	out, stderr, err := runEnv(t, "", env, []byte{}, krew, "install", "--manifest="+manifestPath, "--archive="+archive)
	require.NoError(t, err, "krew install: %s%s", out, stderr)
	out, stderr, err = runEnv(t, "", env, nil, kubectl, "tierwall", "version")
	require.NoError(t, err, "kubectl tierwall version: %s", stderr)
	assert.True(t, strings.HasPrefix(out, "tierwall "+releaseVersion+" "), out)
	rendered := filepath.Join(repoRoot(t), "examples", "three-tier", "app")
	out, stderr, err = runEnv(t, "", env, nil, kubectl, "tierwall", "report", rendered)
	require.NoError(t, err, "kubectl tierwall report: %s%s", out, stderr)
	assert.NotEmpty(t, out)
}

// unpublished finds, in text, references to tierwall releases and images that do not exist:
// a download or tag URL, a `go install ...@vX` or an action `tierwall/tierwall@vX` whose tag
// is not among tags, the releases/latest URL while there is no tag, and any published image.
func unpublished(text string, tags map[string]bool) []string {
	var bad []string
	for _, m := range regexp.MustCompile(`github\.com/tierwall/tierwall/releases/(?:download|tag)/([^/\s"'$<>{}()\x60]+)`).FindAllStringSubmatch(text, -1) {
		if !tags[m[1]] {
			bad = append(bad, m[0])
		}
	}
	if len(tags) == 0 {
		bad = append(bad, regexp.MustCompile(`github\.com/tierwall/tierwall/releases/latest\S*`).FindAllString(text, -1)...)
	}
	for _, m := range regexp.MustCompile(`tierwall/tierwall(?:/[\w./-]+)?@(v\d[^\s"'\x60)]*)`).FindAllStringSubmatch(text, -1) {
		if !tags[m[1]] {
			bad = append(bad, m[0])
		}
	}
	bad = append(bad, regexp.MustCompile(`(?:ghcr\.io|docker\.io|quay\.io)/tierwall/\S+`).FindAllString(text, -1)...)
	// A download URL built from a variable: the variable's value names the release.
	if regexp.MustCompile(`github\.com/tierwall/tierwall/releases/download/\$`).MatchString(text) {
		for _, m := range regexp.MustCompile(`\b(?:\w*VERSION|\w*TAG)=(v\d[^\s"';\x60]*)`).FindAllStringSubmatch(text, -1) {
			if !tags[m[1]] {
				bad = append(bad, m[0])
			}
		}
	}
	return bad
}

// TestDocsNameNoUnpublishedRelease: no document, example or script shows the address of a
// release (or image) that does not exist. The repository's tags are the releases.
func TestDocsNameNoUnpublishedRelease(t *testing.T) {
	root := repoRoot(t)
	out, stderr, err := runCmd(t, root, nil, "git", "tag", "--list")
	require.NoError(t, err, stderr)
	tags := map[string]bool{}
	for _, tag := range strings.Fields(out) {
		tags[tag] = true
	}

	// The check itself finds what it must.
	planted := "curl -O https://github.com/tierwall/tierwall/releases/download/v0.1.0/SHA256SUMS\n" +
		"go install github.com/tierwall/tierwall/fn/tierwall@v0.1.0\nuses: tierwall/tierwall@v1.0.0\n" +
		"image: ghcr.io/tierwall/tierwall:v0.1.0\nhttps://github.com/tierwall/tierwall/releases/latest\n"
	assert.Len(t, unpublished(planted, map[string]bool{}), 5)
	assert.Len(t, unpublished(planted, map[string]bool{"v0.1.0": true, "v1.0.0": true}), 1, "only the image: none is published")
	assert.Empty(t, unpublished("base=https://github.com/tierwall/tierwall/releases/download/$VERSION\n"+
		"go install github.com/tierwall/tierwall/fn/tierwall@latest\n", nil), "placeholders name no release")
	assert.Equal(t, []string{"VERSION=v0.1.0"}, unpublished("VERSION=v0.1.0 OS=linux\n"+
		"base=https://github.com/tierwall/tierwall/releases/download/$VERSION\n", nil), "the variable names the release")

	var files []string
	for _, pattern := range []string{"*.md", "action.yml", "Dockerfile*", "docs/*.md", "deploy/*/*", "scripts/*.sh",
		"examples/*/*", "examples/*/*/*", "examples/*/*/*/*"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.Greater(t, len(files), 20)
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.IsDir() {
			continue
		}
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		rel, _ := filepath.Rel(root, f)
		assert.Empty(t, unpublished(string(data), tags), "%s names a release or image that does not exist", rel)
	}
}
