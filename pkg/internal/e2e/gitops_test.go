//go:build e2e

package e2e

// Helpers of the recipe tests (argocd_test.go, flux_test.go, kpt_test.go)
// and the check that docs/pipelines.md names only tests that exist.

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// ---------------------------------------------------------------------------------------------
// Shared helpers

// sysPath is the PATH the recipes' shell steps get besides the tools under test: the
// shell, coreutils, curl and git of this machine.
const sysPath = "/usr/local/bin:/usr/bin:/bin"

// parseObjects parses a multi-document stream.
func parseObjects(t *testing.T, data string) []*yaml.Node {
	t.Helper()
	return testutil.Docs(t, []byte(data))
}

// readDoc parses a one-document YAML file.
func readDoc(t *testing.T, path string) *yaml.Node {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	docs := parseObjects(t, string(data))
	require.Len(t, docs, 1, path)
	return docs[0]
}

// findObject returns the object of kind whose name is name (or, with a trailing "-*",
// starts with it: generated ConfigMaps carry a hash suffix).
func findObject(t *testing.T, objs []*yaml.Node, kind, name string) *yaml.Node {
	t.Helper()
	for _, o := range objs {
		n := manifest.String(o, "metadata", "name")
		if manifest.String(o, "kind") != kind {
			continue
		}
		if prefix, ok := strings.CutSuffix(name, "-*"); ok && strings.HasPrefix(n, prefix+"-") || n == name {
			return o
		}
	}
	require.Failf(t, "object not found", "%s %s", kind, name)
	return nil
}

// strs returns the values of a sequence of scalars.
func strs(n *yaml.Node, path ...string) []string {
	var out []string
	for _, it := range manifest.Items(n, path...) {
		out = append(out, it.Value)
	}
	return out
}

// named returns the element of a sequence of mappings whose name is name.
func named(t *testing.T, items []*yaml.Node, name string) *yaml.Node {
	t.Helper()
	for _, it := range items {
		if manifest.String(it, "name") == name {
			return it
		}
	}
	require.Failf(t, "not found", "no element named %q", name)
	return nil
}

// podSpec returns the pod template spec of a Deployment.
func podSpec(dep *yaml.Node) *yaml.Node { return manifest.Lookup(dep, "spec", "template", "spec") }

// mountAt returns the volume mount of container c at path.
func mountAt(t *testing.T, c *yaml.Node, path string) *yaml.Node {
	t.Helper()
	for _, m := range manifest.Items(c, "volumeMounts") {
		if manifest.String(m, "mountPath") == path {
			return m
		}
	}
	require.Failf(t, "no mount", "container %s mounts nothing at %s", manifest.String(c, "name"), path)
	return nil
}

// mountOf returns the mount path of volume in container c.
func mountOf(t *testing.T, c *yaml.Node, volume string) string {
	t.Helper()
	for _, m := range manifest.Items(c, "volumeMounts") {
		if manifest.String(m, "name") == volume && manifest.String(m, "subPath") == "" {
			return manifest.String(m, "mountPath")
		}
	}
	require.Failf(t, "no mount", "container %s does not mount volume %s", manifest.String(c, "name"), volume)
	return ""
}

// checkPodVolumes asserts that every volume mount of every container names a volume of
// the pod, so that a patch that relies on a volume of Argo CD's install finds it.
func checkPodVolumes(t *testing.T, dep *yaml.Node) {
	t.Helper()
	volumes := map[string]bool{}
	for _, v := range manifest.Items(podSpec(dep), "volumes") {
		volumes[manifest.String(v, "name")] = true
	}
	for _, list := range []string{"initContainers", "containers"} {
		for _, c := range manifest.Items(podSpec(dep), list) {
			for _, m := range manifest.Items(c, "volumeMounts") {
				assert.True(t, volumes[manifest.String(m, "name")], "%s %s mounts volume %q, which the pod lacks",
					list, manifest.String(c, "name"), manifest.String(m, "name"))
			}
		}
	}
}

// copyExamples copies examples/ into a new folder laid out as the repository, so that
// recipes run in a checkout of their own and may write there.
func copyExamples(t *testing.T) string {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "repo")
	require.NoError(t, os.CopyFS(filepath.Join(repo, "examples"), os.DirFS(filepath.Join(repoRoot(t), "examples"))))
	return repo
}

// binDir returns a folder holding the named binaries (links), for a PATH with exactly them.
func binDir(t *testing.T, bins map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, path := range bins {
		abs, err := filepath.Abs(path)
		require.NoError(t, err)
		require.NoError(t, os.Symlink(abs, filepath.Join(dir, name)))
	}
	return dir
}

// runEnv runs argv in dir with exactly env and returns stdout, stderr and any error.
func runEnv(t *testing.T, dir string, env []string, stdin []byte, argv ...string) (string, string, error) {
	t.Helper()
	return helmRun(t, env, dir, stdin, argv[0], argv[1:]...)
}

// checkPasses runs `tierwall check` on rendered output; it must find nothing.
func checkPasses(t *testing.T, rendered, namespace string) {
	t.Helper()
	args := []string{"check"}
	if namespace != "" {
		args = append(args, "--namespace", namespace)
	}
	out, stderr, err := runCmd(t, "", []byte(rendered), tierwallBin(t, "tierwall"), args...)
	require.NoError(t, err, "tierwall check: %s%s", out, stderr)
}

// checkRendered checks a recipe's output against a plain render of the same source: the
// objects come out byte for byte, then tierwall's policies, all in namespace ns.
func checkRendered(t *testing.T, out, plain, ns string) []manifest.Object {
	t.Helper()
	docs, policies := splitOutput(t, out)
	plainDocs, plainPolicies := splitOutput(t, plain)
	require.Empty(t, plainPolicies, "the plain render has no tierwall policy")
	require.NotEmpty(t, plainDocs)
	assert.Equal(t, plainDocs, docs, "every rendered object must come out byte for byte")
	require.NotEmpty(t, policies, "no tierwall policy in the output")
	require.NotNil(t, policyNamed(policies, "default-deny-all"))
	assert.Equal(t, []string{ns}, policyNamespaces(policies), "the policies are in the destination namespace")
	checkPasses(t, out, ns)
	return policies
}

// serveRelease serves a release folder over HTTP, as GitHub serves release assets.
func serveRelease(t *testing.T, dir string) string {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// ---------------------------------------------------------------------------------------------
// Argo CD

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// ---------------------------------------------------------------------------------------------
// docs/pipelines.md

// TestPipelinesDoc keeps docs/pipelines.md honest: every test it names exists, every
// example path it names exists, and every pipeline has a section.
func TestPipelinesDoc(t *testing.T) {
	root := repoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "pipelines.md"))
	require.NoError(t, err)
	text := string(doc)
	for _, section := range []string{"kustomize, exec function", "kustomize, container function", "kubectl kustomize",
		"kpt", "Helm 3", "Helm 4", "Argo CD, recipe A", "Argo CD, recipe B", "Flux", "Installing a release"} {
		assert.Regexp(t, `(?m)^## `+regexp.QuoteMeta(section)+`\b`, text)
	}
	var src bytes.Buffer
	var files []string
	require.NoError(t, filepath.WalkDir(filepath.Join(root, "pkg"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, "_test.go") {
			files = append(files, p)
		}
		return err
	}))
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		src.Write(data)
	}
	defined := map[string]bool{}
	for _, m := range regexp.MustCompile(`func (Test[A-Za-z0-9]+)\(t \*testing\.T\)`).FindAllStringSubmatch(src.String(), -1) {
		defined[m[1]] = true
	}
	names := regexp.MustCompile("`(Test[A-Za-z0-9]+)`").FindAllStringSubmatch(text, -1)
	require.NotEmpty(t, names)
	for _, m := range names {
		assert.True(t, defined[m[1]], "docs/pipelines.md names %s, which no test defines", m[1])
	}
	for _, m := range regexp.MustCompile(`\]\(\.\./([^)#]+)\)`).FindAllStringSubmatch(text, -1) {
		assert.True(t, fileExists(filepath.Join(root, m[1])), "docs/pipelines.md links to %s", m[1])
	}
}
