//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const (
	// managedByLabel marks the objects tierwall generates.
	managedByLabel = "app.kubernetes.io/managed-by"
	// releaseNamespace receives the generated objects that carry no namespace (the Helm
	// post-renderer leaves the release namespace to Helm), as `helm install -n` would.
	releaseNamespace = "tierwall-release"
)

// TestGeneratedObjectsAcceptedByAPIServer sends every object tierwall generated in every
// golden and end-to-end expected file through a real kube-apiserver with
// `kubectl apply --dry-run=server --validate=strict`: schema, validation, unknown fields and
// admission as a cluster would apply them, without a cluster. Negative controls under
// testdata/apiserver/rejected prove the same check fails on a bad object.
func TestGeneratedObjectsAcceptedByAPIServer(t *testing.T) {
	kubectl := tool(t, "KUBECTL")
	apiserver := tool(t, "KUBE_APISERVER")
	etcd := tool(t, "ETCD")
	ciliumCRDs := crdDir(t, "CILIUM_CRDS")
	root := repoRoot(t)

	files := generatedFiles(t, filepath.Join(root, "testdata"))
	require.NotEmpty(t, files, "found no generated object under testdata/: the walk or the label is wrong")

	k := startAPIServer(t, root, apiserver, etcd, kubectl)

	// Namespaces first: NamespaceLifecycle admission rejects objects in a missing namespace.
	namespaces := map[string]bool{releaseNamespace: true}
	for _, f := range files {
		for _, o := range f.objects {
			if ns := o.GetNamespace(); ns != "" {
				namespaces[ns] = true
			}
		}
	}
	var nsDocs []string
	for _, ns := range slices.Sorted(maps.Keys(namespaces)) {
		nsDocs = append(nsDocs, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+ns+"\n")
	}
	// apply, not create: kube-system and default exist already.
	_, stderr, err := k.run([]byte(strings.Join(nsDocs, "---\n")), "apply", "-f", "-")
	require.NoError(t, err, "creating namespaces: %s", stderr)

	// CRDs for the generated kinds outside the core API: the Cilium flavour's policies.
	k.installCRDs(t, ciliumCRDs)

	t.Run("crd-install-selftest", func(t *testing.T) {
		dir := filepath.Join(root, "testdata", "apiserver", "crd-selftest")
		objs := readObjects(t, filepath.Join(dir, "widget.yaml"))
		_, stderr, err := k.dryRunApply(objs, releaseNamespace)
		require.Error(t, err, "a Widget must be unknown before its CRD is installed")
		assert.Contains(t, stderr, `no matches for kind "Widget"`)
		k.installCRDs(t, filepath.Join(dir, "crds"))
		out, stderr, err := k.dryRunApply(objs, releaseNamespace)
		require.NoError(t, err, stderr)
		assert.Len(t, strings.Fields(out), len(objs), out)
	})

	kinds := map[string]int{}
	for _, f := range files {
		t.Run("generated/"+f.path, func(t *testing.T) {
			// Objects without a namespace go to the release namespace; the others as written.
			groups := map[string][]*yaml.RNode{}
			for _, o := range f.objects {
				groups[o.GetNamespace()] = append(groups[o.GetNamespace()], o)
			}
			for _, ns := range slices.Sorted(maps.Keys(groups)) {
				target := ns
				if target == "" {
					target = releaseNamespace
				}
				out, stderr, err := k.dryRunApply(groups[ns], target)
				//nolint:testifylint // every file is dry-run; one rejected does not stop the others
				if !assert.NoError(t, err, "kube-apiserver rejected objects of %s (namespace %q):\n%s%s", f.path, target, out, stderr) {
					continue
				}
				assert.Len(t, strings.Fields(out), len(groups[ns]), "kubectl must report every object sent:\n%s", out)
				assert.Empty(t, stderr, "kube-apiserver warned about objects of %s", f.path)
				for _, o := range groups[ns] {
					kinds[o.GetKind()]++
				}
			}
		})
	}
	total, perKind := 0, []string{}
	for _, kind := range slices.Sorted(maps.Keys(kinds)) {
		total += kinds[kind]
		perKind = append(perKind, fmt.Sprintf("%d %s", kinds[kind], kind))
	}
	t.Logf("kube-apiserver accepted %d generated objects (%s) from %d expected files",
		total, strings.Join(perKind, ", "), len(files))

	t.Run("rejected", func(t *testing.T) {
		cases, err := filepath.Glob(filepath.Join(root, "testdata", "apiserver", "rejected", "*"))
		require.NoError(t, err)
		require.NotEmpty(t, cases, "the negative controls are missing")
		for _, dir := range cases {
			t.Run(filepath.Base(dir), func(t *testing.T) {
				objs := readObjects(t, filepath.Join(dir, "input.yaml"))
				require.NotEmpty(t, objs)
				ns := objs[0].GetNamespace()
				if ns == "" {
					ns = releaseNamespace
				}
				out, stderr, err := k.dryRunApply(objs, ns)
				require.Error(t, err, "kube-apiserver accepted an object it must reject:\n%s", out)
				for _, re := range errorPatterns(t, filepath.Join(dir, "errors.txt")) {
					assert.Regexp(t, re, stderr)
				}
			})
		}
	})
}

// generatedFile is one golden or end-to-end output and the tierwall objects in it.
type generatedFile struct {
	path    string // relative to testdata/
	objects []*yaml.RNode
}

// generatedFiles walks testdata for expected outputs: every YAML file under testdata/e2e and
// every expected*.yaml elsewhere (golden folders). testdata/apiserver holds this test's own
// inputs and testdata/e2e/charts chart sources (templates, not YAML): both are skipped. Files
// with no generated object are left out.
func generatedFiles(t *testing.T, testdata string) []generatedFile {
	t.Helper()
	var files []generatedFile
	err := filepath.WalkDir(testdata, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(testdata, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "apiserver" || rel == "e2e/charts" {
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(path)
		if ext != ".yaml" && ext != ".yml" {
			return nil
		}
		if !strings.HasPrefix(rel, "e2e/") && !strings.HasPrefix(d.Name(), "expected") {
			return nil
		}
		var gen []*yaml.RNode
		for _, o := range readObjects(t, path) {
			if o.GetLabels()[managedByLabel] == "tierwall" {
				gen = append(gen, o)
			}
		}
		if len(gen) > 0 {
			files = append(files, generatedFile{path: rel, objects: gen})
		}
		return nil
	})
	require.NoError(t, err)
	return files
}

// readObjects parses a ResourceList (its items) or a plain multi-document stream.
func readObjects(t *testing.T, path string) []*yaml.RNode {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	objs, err := (&kio.ByteReader{Reader: bytes.NewReader(data), OmitReaderAnnotations: true}).Read()
	require.NoError(t, err, "parsing %s", path)
	return objs
}

// errorPatterns reads an errors.txt: one regular expression per non-empty line.
func errorPatterns(t *testing.T, path string) []*regexp.Regexp {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var res []*regexp.Regexp
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			res = append(res, regexp.MustCompile(line))
		}
	}
	require.NotEmpty(t, res, "%s lists no pattern", path)
	return res
}

// kube is a kubectl bound to the throw-away API server.
type kube struct {
	kubectl, kubeconfig, cacheDir string
}

// run runs kubectl against the server and returns its stdout and stderr.
func (k kube) run(stdin []byte, args ...string) (string, string, error) {
	args = append([]string{"--kubeconfig", k.kubeconfig, "--cache-dir", k.cacheDir}, args...)
	cmd := exec.Command(k.kubectl, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// dryRunApply sends objects through `kubectl apply --dry-run=server` in namespace ns (which
// only fills in objects without one); strict validation turns unknown fields into errors.
// On success stdout lists one name per object; stderr carries errors and server warnings.
func (k kube) dryRunApply(objs []*yaml.RNode, ns string) (string, string, error) {
	var docs []string
	for _, o := range objs {
		docs = append(docs, o.MustString())
	}
	return k.run([]byte(strings.Join(docs, "---\n")),
		"apply", "--dry-run=server", "--validate=strict", "-o", "name", "-n", ns, "-f", "-")
}

// crdDir returns the folder of CRD manifests named by env (run only under TIERWALL_E2E=1,
// after tool: a missing folder is a failure).
func crdDir(t *testing.T, env string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		t.Fatalf("%s is not set: make test writes the CRDs (scripts/apiserver.sh build) and names the folder", env)
	}
	fi, err := os.Stat(p)
	require.NoError(t, err, "%s=%s (scripts/apiserver.sh build writes it)", env, p)
	require.True(t, fi.IsDir(), "%s=%s is not a folder", env, p)
	return p
}

// installCRDs creates the CustomResourceDefinitions in the YAML files of dir (really, not as
// a dry run) and waits until they are established. A folder without any fails the test.
func (k kube) installCRDs(t *testing.T, dir string) {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		require.NoError(t, err)
		files = append(files, m...)
	}
	sort.Strings(files)
	require.NotEmpty(t, files, "no CRD manifest in %s", dir)
	for _, f := range files {
		// Server-side: Cilium's CRDs are too large for the last-applied annotation.
		_, stderr, err := k.run(nil, "apply", "--server-side", "-f", f)
		require.NoError(t, err, "installing CRDs from %s: %s", f, stderr)
		// kubectl wait fails at once ("accessor error") while a new CRD has no conditions
		// yet, so it is retried.
		deadline := time.Now().Add(60 * time.Second)
		for {
			_, stderr, err = k.run(nil, "wait", "--for=condition=Established", "--timeout=60s", "-f", f)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		require.NoError(t, err, "waiting for CRDs from %s: %s", f, stderr)
	}
	t.Logf("installed the CRDs of %d files from %s", len(files), dir)
}

// startAPIServer starts etcd and kube-apiserver on 127.0.0.1 through scripts/apiserver.sh in
// a temporary folder and stops both by PID when the test ends, passed or failed. The script
// also watches this process: a test binary killed by -timeout runs no cleanup, and the
// server stops itself then.
func startAPIServer(t *testing.T, root, apiserver, etcd, kubectl string) kube {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(root, "scripts", "apiserver.sh")
	pidFiles := []string{"watchdog.pid", "kube-apiserver.pid", "etcd.pid"}
	var pids []int
	// Registered before the start: a half-started server is stopped too. Runs before
	// t.TempDir's removal (cleanups run last-registered first).
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range []string{"etcd.log", "kube-apiserver.log"} {
				if data, err := os.ReadFile(filepath.Join(dir, l)); err == nil {
					t.Logf("last lines of %s:\n%s", l, tail(string(data), 40))
				}
			}
		}
		out, err := exec.Command("bash", script, "stop", dir).CombinedOutput()
		assert.NoError(t, err, "stopping the API server: %s", out)
		for _, pid := range pids {
			assert.False(t, processAlive(pid), "process %d is still running after stop", pid)
		}
	})

	cmd := exec.Command("bash", script, "start", dir)
	cmd.Env = append(os.Environ(),
		"KUBE_APISERVER="+apiserver, "ETCD="+etcd,
		"APISERVER_OWNER_PID="+strconv.Itoa(os.Getpid()))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "starting the API server: %s", out)
	for _, f := range pidFiles {
		data, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		require.NoError(t, err)
		pids = append(pids, pid)
	}
	return kube{kubectl: kubectl, kubeconfig: filepath.Join(dir, "kubeconfig"), cacheDir: filepath.Join(dir, "kubectl-cache")}
}

// processAlive reports whether pid runs and is not a zombie.
func processAlive(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndex(s, ") ")
	return i < 0 || !strings.HasPrefix(s[i+2:], "Z")
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
