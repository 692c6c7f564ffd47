//go:build e2e

package e2e

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
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

// releasePluginVersion is releaseVersion as the plugin's SemVer.
const releasePluginVersion = "0.9.0-e2e.1"

// buildRelease runs scripts/release.sh (what make release runs) for this machine's platform
// into a new folder and returns it: unsigned and without image archives unless env says
// otherwise (SIGNING_KEY, GNUPGHOME, IMAGES=1). Only the host platform: TestRelease builds
// the four with make release.
func buildRelease(t *testing.T, version string, env ...string) string {
	t.Helper()
	root := repoRoot(t)
	out := filepath.Join(t.TempDir(), "release")
	full := append(os.Environ(), "VERSION="+version, "PLATFORMS="+hostPlatform(), "IMAGES=0")
	_, stderr, err := helmRun(t, append(full, env...), root, nil, filepath.Join(root, "scripts", "release.sh"), out)
	require.NoError(t, err, "scripts/release.sh: %s", stderr)
	return out
}

func hostPlatform() string { return runtime.GOOS + "/" + runtime.GOARCH }

// signingKey makes a throw-away GnuPG home holding one signing key without a passphrase, as a
// maintainer's release machine holds theirs, and returns the GNUPGHOME and the key's e-mail.
func signingKey(t *testing.T) (string, string) {
	t.Helper()
	_, err := exec.LookPath("gpg")
	require.NoError(t, err, "signing a release needs gpg")
	home := gnupgHome(t)
	const email = "release-test@tierwall.invalid"
	env := append(os.Environ(), "GNUPGHOME="+home)
	_, stderr, err := helmRun(t, env, "", nil, "gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", "",
		"--quick-gen-key", "tierwall release test <"+email+">", "ed25519", "sign", "never")
	require.NoError(t, err, "gpg --quick-gen-key: %s", stderr)
	return home, email
}

// gnupgHome makes an empty GnuPG home, and stops the agent gpg starts in it before removing
// it. Its path is short: gpg-agent's socket lives in it, and socket paths have a length limit,
// which a subtest's t.TempDir can exceed.
func gnupgHome(t *testing.T) string {
	t.Helper()
	home, err := os.MkdirTemp("", "gpg")
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _, _ = helmRun(t, append(os.Environ(), "GNUPGHOME="+home), "", nil, "gpgconf", "--kill", "gpg-agent")
		os.RemoveAll(home)
	})
	return home
}

// releaseFiles lists a release folder's files.
func releaseFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestRelease runs make release as a maintainer would (the four platforms, signed with a
// throw-away key, with the image archives) and uses the release as the docs say: the sums and
// their signature, the binaries, the software bill of materials against `go version -m`,
// the Helm 4 plugin installed from its URL with Helm's signature check on, Helm 3 with the
// released post-renderer, krew, and the KRM function image loaded from its archive.
func TestRelease(t *testing.T) {
	helm4 := tool(t, "HELM4")
	helm3 := tool(t, "HELM3")
	docker := tool(t, "DOCKER")
	root := repoRoot(t)
	gnupg, key := signingKey(t)
	dir := filepath.Join(t.TempDir(), "release")
	env := append(containerEnv(t, docker), "GNUPGHOME="+gnupg, "CONTAINER_ENGINE="+docker)
	_, stderr, err := helmRun(t, env, root, nil, "make", "--no-print-directory", "release", "VERSION="+releaseVersion,
		"RELEASE_DIR="+dir, "SIGNING_KEY="+key, "HELM4="+helm4)
	require.NoError(t, err, "make release: %s", stderr)
	assert.Contains(t, stderr, "helm plugin verify: every plugin archive verifies")

	platforms := [][2]string{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}}
	goos, arch := runtime.GOOS, runtime.GOARCH
	fnBin := filepath.Join(dir, "tierwall_"+goos+"_"+arch)
	prBin := filepath.Join(dir, "tierwall-postrender_"+goos+"_"+arch)
	archiveName := func(os, arch string) string {
		return "tierwall-" + releasePluginVersion + "-" + os + "-" + arch + ".tgz"
	}
	keyFile := filepath.Join(dir, "tierwall-release-key.asc")

	t.Run("files, SHA256SUMS and its signature", func(t *testing.T) {
		want := []string{"SHA256SUMS", "SHA256SUMS.asc", "tierwall-release-key.asc", "tierwall.krew.yaml", "tierwall.spdx.json"}
		for _, p := range platforms {
			want = append(want, "tierwall_"+p[0]+"_"+p[1], "tierwall-postrender_"+p[0]+"_"+p[1], archiveName(p[0], p[1]),
				archiveName(p[0], p[1])+".prov", "kubectl-tierwall_"+p[0]+"_"+p[1]+".tar.gz")
			if p[0] == "linux" {
				want = append(want, "tierwall-image_linux_"+p[1]+".tar.gz")
			}
		}
		sort.Strings(want)
		names := releaseFiles(t, dir)
		assert.Equal(t, want, names)

		sums := readSums(t, filepath.Join(dir, "SHA256SUMS"))
		assert.Len(t, sums, len(names)-2, "every artifact but SHA256SUMS and its signature is summed")
		for name, sum := range sums {
			data, err := os.ReadFile(filepath.Join(dir, name))
			require.NoError(t, err, name)
			h := sha256.Sum256(data)
			assert.Equal(t, hex.EncodeToString(h[:]), sum, name)
		}
		out, stderr, err := runCmd(t, dir, nil, "sha256sum", "--check", "--strict", "SHA256SUMS")
		require.NoError(t, err, "%s%s", out, stderr)
		assert.Equal(t, len(sums), strings.Count(out, ": OK\n"))

		// A user with only the published key verifies the sums' signature.
		venv := append(os.Environ(), "GNUPGHOME="+gnupgHome(t))
		_, stderr, err = helmRun(t, venv, dir, nil, "gpg", "--batch", "--import", keyFile)
		require.NoError(t, err, stderr)
		_, stderr, err = helmRun(t, venv, dir, nil, "gpg", "--batch", "--verify", "SHA256SUMS.asc", "SHA256SUMS")
		require.NoError(t, err, stderr)
		assert.Contains(t, stderr, "Good signature")
	})

	t.Run("binaries: static, trimmed, for their platform, with the version", func(t *testing.T) {
		out, stderr, err := runCmd(t, "", nil, fnBin, "version")
		require.NoError(t, err, stderr)
		assert.True(t, strings.HasPrefix(out, "tierwall "+releaseVersion+" (commit "), out)
		out, stderr, err = runCmd(t, "", nil, prBin, "--version")
		require.NoError(t, err, stderr)
		assert.True(t, strings.HasPrefix(out, "tierwall-postrender "+releaseVersion+" (commit "), out)
		for _, p := range platforms {
			for _, name := range []string{"tierwall_", "tierwall-postrender_"} {
				b := filepath.Join(dir, name+p[0]+"_"+p[1])
				assertPlatform(t, b, p[0], p[1])
				data, err := os.ReadFile(b)
				require.NoError(t, err)
				assert.False(t, bytes.Contains(data, []byte(root)), "%s holds the build path %s: not built with -trimpath", b, root)
				assert.True(t, bytes.Contains(data, []byte(releaseVersion)), "%s is stamped with the version", b)
			}
		}
		assertStatic(t, fnBin)
		assertStatic(t, prBin)
	})

	t.Run("SBOM lists every module go version -m lists", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(dir, "tierwall.spdx.json"))
		require.NoError(t, err)
		var doc struct {
			SPDXVersion string `json:"spdxVersion"`
			Packages    []struct {
				Name        string `json:"name"`
				SPDXID      string `json:"SPDXID"`
				VersionInfo string `json:"versionInfo"`
				Checksums   []struct {
					Algorithm     string `json:"algorithm"`
					ChecksumValue string `json:"checksumValue"`
				} `json:"checksums"`
			} `json:"packages"`
			Relationships []struct {
				From string `json:"spdxElementId"`
				Type string `json:"relationshipType"`
				To   string `json:"relatedSpdxElement"`
			} `json:"relationships"`
		}
		require.NoError(t, json.Unmarshal(data, &doc))
		assert.Equal(t, "SPDX-2.3", doc.SPDXVersion)
		byID := map[string]string{}
		modules := map[string]bool{}
		binaries := map[string]string{}
		for _, p := range doc.Packages {
			byID[p.SPDXID] = p.Name + "@" + p.VersionInfo
			modules[p.Name+"@"+p.VersionInfo] = true
			if len(p.Checksums) > 0 {
				binaries[p.Name] = p.Checksums[0].ChecksumValue
			}
		}
		sums := readSums(t, filepath.Join(dir, "SHA256SUMS"))
		deps := map[string]map[string]bool{} // binary -> module@version it depends on
		for _, r := range doc.Relationships {
			if r.Type == "DEPENDS_ON" || r.Type == "GENERATED_FROM" {
				from := strings.TrimSuffix(byID[r.From], "@"+releaseVersion)
				if deps[from] == nil {
					deps[from] = map[string]bool{}
				}
				deps[from][byID[r.To]] = true
			}
		}
		line := regexp.MustCompile(`^\t(mod|dep|=>)\t(\S+)\t(\S+)`)
		for _, p := range platforms {
			for _, name := range []string{"tierwall_", "tierwall-postrender_"} {
				bin := name + p[0] + "_" + p[1]
				assert.Equal(t, sums[bin], binaries[bin], "the SBOM describes %s with its SHA-256", bin)
				out, stderr, err := runCmd(t, "", nil, "go", "version", "-m", filepath.Join(dir, bin))
				require.NoError(t, err, stderr)
				var n int
				for _, l := range strings.Split(out, "\n") {
					m := line.FindStringSubmatch(l)
					if m == nil {
						continue
					}
					version := m[3]
					if m[1] == "mod" && version == "(devel)" {
						version = releaseVersion // built from the release's checkout
					}
					mod := m[2] + "@" + version
					assert.True(t, modules[mod], "%s: go version -m lists %s, the SBOM does not", bin, mod)
					if m[1] != "dep" || !strings.Contains(out, l+"\n\t=>") {
						assert.True(t, deps[bin][mod], "%s: the SBOM does not say it was built from %s", bin, mod)
					}
					n++
				}
				assert.Greater(t, n, 10, "go version -m lists the modules of %s", bin)
				assert.True(t, deps[bin]["stdlib@"+runtime.Version()], "%s: the standard library", bin)
			}
		}
	})

	t.Run("plugin archives and their signatures", func(t *testing.T) {
		for _, p := range platforms {
			archive := filepath.Join(dir, archiveName(p[0], p[1]))
			files := readTarGz(t, archive)
			var names []string
			for n := range files {
				names = append(names, n)
			}
			sort.Strings(names)
			bin := "tierwall/bin/tierwall-postrender-" + p[0] + "-" + p[1]
			assert.Equal(t, []string{"tierwall/", "tierwall/bin/", bin, "tierwall/plugin.yaml"}, names)
			assert.NotZero(t, files[bin].mode&0o111, "the plugin binary is executable")
			pr, err := os.ReadFile(filepath.Join(dir, "tierwall-postrender_"+p[0]+"_"+p[1]))
			require.NoError(t, err)
			assert.True(t, bytes.Equal(pr, files[bin].data), "the plugin runs the released tierwall-postrender")

			n, err := yaml.Parse(string(files["tierwall/plugin.yaml"].data))
			require.NoError(t, err)
			doc := n.YNode()
			assert.Equal(t, "tierwall", manifest.String(doc, "name"))
			assert.Equal(t, releasePluginVersion, manifest.String(doc, "version"), "the release's SemVer")
			cmds := manifest.Items(doc, "runtimeConfig", "platformCommand")
			require.Len(t, cmds, 1, "only this archive's platform")
			assert.Equal(t, p[0], manifest.String(cmds[0], "os"))
			assert.Equal(t, p[1], manifest.String(cmds[0], "arch"))
			assert.Equal(t, "${HELM_PLUGIN_DIR}/"+strings.TrimPrefix(bin, "tierwall/"), manifest.String(cmds[0], "command"))
			assert.Contains(t, string(files["tierwall/plugin.yaml"].data), "--keyring tierwall-release-key.asc")

			// Helm's own check of the .prov, as the docs tell users to run it.
			out, stderr, err := helmRun(t, helmEnv(t), dir, nil, helm4, "plugin", "verify", archive, "--keyring", keyFile)
			require.NoError(t, err, "helm plugin verify %s: %s%s", archive, out, stderr)
			assert.Contains(t, out, "Signed by: tierwall release test <"+key+">")
		}
	})

	chart := filepath.Join(root, "examples", "helm", "three-tier")
	renderThrough := func(t *testing.T, env []string) {
		t.Helper()
		list, stderr, err := helmRun(t, env, "", nil, helm4, "plugin", "list")
		require.NoError(t, err, stderr)
		assert.Regexp(t, `(?m)^tierwall\s+`+regexp.QuoteMeta(releasePluginVersion)+`\s+postrenderer/v1`, list)
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

	// helm plugin install of the archive's URL, as the README says: Helm fetches the .prov next
	// to it and verifies the signature against the keyring.
	t.Run("helm4 plugin install from the release URL, verified", func(t *testing.T) {
		url := serveRelease(t, dir) + "/" + archiveName(goos, arch)
		env := helmEnv(t)
		_, stderr, err := helmRun(t, env, "", nil, helm4, "plugin", "install", url)
		require.Error(t, err, "without the key, verification fails")
		assert.Contains(t, stderr, "plugin verification failed")

		out, stderr, err := helmRun(t, env, "", nil, helm4, "plugin", "install", url, "--keyring", keyFile)
		require.NoError(t, err, "%s%s", out, stderr)
		assert.Contains(t, out, "Signed by: tierwall release test <"+key+">")
		assert.Contains(t, out, "Installed plugin: tierwall")
		renderThrough(t, env)
		out, stderr, err = helmRun(t, env, "", nil, helm4, "plugin", "uninstall", "tierwall")
		require.NoError(t, err, "%s%s", out, stderr)

		// A changed archive, or one signed by another key, is refused.
		tampered := t.TempDir()
		require.NoError(t, os.CopyFS(tampered, os.DirFS(dir)))
		f := filepath.Join(tampered, archiveName(goos, arch))
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(f, append(data, 0), 0o644))
		_, stderr, err = helmRun(t, helmEnv(t), "", nil, helm4, "plugin", "install", serveRelease(t, tampered)+"/"+archiveName(goos, arch), "--keyring", keyFile)
		require.Error(t, err)
		assert.Contains(t, stderr, "sha256 sum does not match")
		otherHome, _ := signingKey(t)
		otherKey := filepath.Join(t.TempDir(), "other.asc")
		_, stderr, err = helmRun(t, append(os.Environ(), "GNUPGHOME="+otherHome), "", nil, "gpg", "--batch", "--armor", "--export", "--output", otherKey)
		require.NoError(t, err, stderr)
		_, _, err = helmRun(t, helmEnv(t), "", nil, helm4, "plugin", "install", url, "--keyring", otherKey)
		require.Error(t, err, "a key that did not sign the release")
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

	t.Run("krew", func(t *testing.T) {
		testKrew(t, dir, platforms)
	})

	t.Run("KRM function image archives", func(t *testing.T) {
		for _, p := range platforms {
			if p[0] != "linux" {
				continue
			}
			cfg := imageArchiveConfig(t, filepath.Join(dir, "tierwall-image_linux_"+p[1]+".tar.gz"))
			assert.Equal(t, p[1], cfg.Architecture)
			assert.Equal(t, "65534:65534", cfg.Config.User, "runs as nobody")
			assert.Equal(t, []string{"/tierwall"}, cfg.Config.Entrypoint)
			assert.Equal(t, releaseVersion, cfg.Config.Labels["org.opencontainers.image.version"])
			assert.NotEmpty(t, cfg.Config.Labels["org.opencontainers.image.revision"])
		}
		// The host's archive loads and runs, with the released binary in it.
		storage := isolatedContainerStorage(t, docker)
		cenv := append(containerEnv(t, docker), storage...)
		gz, err := os.ReadFile(filepath.Join(dir, "tierwall-image_linux_"+arch+".tar.gz"))
		require.NoError(t, err)
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		require.NoError(t, err)
		archive, err := io.ReadAll(zr)
		require.NoError(t, err)
		out, stderr, err := helmRun(t, cenv, "", archive, docker, "load")
		require.NoError(t, err, "%s%s", out, stderr)
		m := regexp.MustCompile(`(?m)^Loaded image(?:\(s\))?: (\S+)$`).FindStringSubmatch(out)
		require.NotNil(t, m, out)
		assert.Equal(t, "localhost/tierwall:"+releaseVersion, m[1])
		out, stderr, err = helmRun(t, cenv, "", nil, docker, "run", "--rm", "--read-only", "--network", "none", "--user", "nobody", m[1], "version")
		require.NoError(t, err, "%s%s", out, stderr)
		assert.True(t, strings.HasPrefix(out, "tierwall "+releaseVersion+" "), out)
	})
}

// assertPlatform checks that a binary is an executable for os/arch.
func assertPlatform(t *testing.T, path, goos, arch string) {
	t.Helper()
	switch goos {
	case "linux":
		f, err := elf.Open(path)
		require.NoError(t, err, path)
		defer f.Close()
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
		assert.Equal(t, want, f.Machine, path)
	case "darwin":
		f, err := macho.Open(path)
		require.NoError(t, err, path)
		defer f.Close()
		want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[arch]
		assert.Equal(t, want, f.Cpu, path)
	default:
		t.Fatalf("no check for %s", goos)
	}
}

// TestReleaseVersions: an unsigned development release (no SIGNING_KEY) with a version that
// is no SemVer (a commit) still gives a plugin Helm 4 accepts, named so that Helm installs it
// as tierwall, with --verify=false only; and the script refuses to replace a folder that is
// not a release.
func TestReleaseVersions(t *testing.T) {
	helm4 := tool(t, "HELM4")
	root := repoRoot(t)

	dir := buildRelease(t, "0123abc-dirty")
	archive := filepath.Join(dir, "tierwall-0.0.0-dev-0123abc-dirty-"+runtime.GOOS+"-"+runtime.GOARCH+".tgz")
	_, err := os.Stat(archive)
	require.NoError(t, err)
	for _, name := range releaseFiles(t, dir) {
		assert.False(t, strings.HasSuffix(name, ".prov") || strings.HasSuffix(name, ".asc"), "unsigned: %s", name)
	}
	files := readTarGz(t, archive)
	assert.Contains(t, string(files["tierwall/plugin.yaml"].data), "--verify=false   (an unsigned development release)")
	env := helmEnv(t)
	// Helm 4 verifies archives by default, and this release is not signed.
	_, stderr, err := helmRun(t, env, dir, nil, helm4, "plugin", "install", archive)
	require.Error(t, err)
	assert.Contains(t, stderr, "no provenance file (.prov) found")
	out, stderr, err := helmRun(t, env, "", nil, helm4, "plugin", "install", archive, "--verify=false")
	require.NoError(t, err, "%s%s", out, stderr)
	list, stderr, err := helmRun(t, env, "", nil, helm4, "plugin", "list")
	require.NoError(t, err, stderr)
	assert.Regexp(t, `(?m)^tierwall\s+0\.0\.0-dev-0123abc-dirty\s+postrenderer/v1`, list)
	out, stderr, err = runCmd(t, "", nil, filepath.Join(dir, "tierwall_"+runtime.GOOS+"_"+runtime.GOARCH), "version")
	require.NoError(t, err, stderr)
	assert.True(t, strings.HasPrefix(out, "tierwall 0123abc-dirty (commit "), "the binaries carry the version as given: %s", out)
	krew, err := os.ReadFile(filepath.Join(dir, "tierwall.krew.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(krew), "version: v0.0.0-dev-0123abc-dirty", "krew wants v and SemVer")

	// Unpacked, the archive is a plugin folder: installed without --verify=false.
	unpacked := t.TempDir()
	_, stderr, err = runCmd(t, unpacked, nil, "tar", "xzf", archive)
	require.NoError(t, err, stderr)
	env = helmEnv(t)
	out, stderr, err = helmRun(t, env, "", nil, helm4, "plugin", "install", filepath.Join(unpacked, "tierwall"))
	require.NoError(t, err, "%s%s", out, stderr)

	// A failed build leaves the last release as it was, and no half-built folder.
	before, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	require.NoError(t, err)
	_, _, err = helmRun(t, append(os.Environ(), "VERSION=v1.0.0", "PLATFORMS="+hostPlatform(), "IMAGES=0", "GOFLAGS=-mod=nonsense"), root, nil,
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
	_, stderr, err = helmRun(t, append(os.Environ(), "VERSION=v1.0.0", "PLATFORMS="+hostPlatform(), "IMAGES=0"), root, nil,
		filepath.Join(root, "scripts", "release.sh"), precious)
	require.Error(t, err)
	assert.Contains(t, stderr, "is not a release folder")
	_, err = os.Stat(keep)
	require.NoError(t, err, "the folder is left alone")

	// A signing key that is not there stops the release before anything is built.
	_, stderr, err = helmRun(t, append(os.Environ(), "VERSION=v1.0.0", "PLATFORMS="+hostPlatform(), "IMAGES=0",
		"GNUPGHOME="+t.TempDir(), "SIGNING_KEY=nobody@tierwall.invalid"), root, nil,
		filepath.Join(root, "scripts", "release.sh"), filepath.Join(t.TempDir(), "release"))
	require.Error(t, err)
	assert.Contains(t, stderr, "no such secret key")
}

// TestMakeRelease checks that make release builds the four platforms the issue asks for
// (make -n: TestRelease runs it).
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
		if errors.Is(err, io.EOF) {
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
