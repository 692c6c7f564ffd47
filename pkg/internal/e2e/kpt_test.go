//go:build e2e

package e2e

// The kpt recipes of docs/pipelines.md: the Kptfile pipelines, with the real
// kpt where it is installed, and the ResourceLists kpt sends.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// ---------------------------------------------------------------------------------------------
// Shared helpers

// kptResourceList builds the ResourceList kpt 1.0.0-beta.56 sends a function in
// `kpt fn render` of the package in dir: every resource of the package's files in
// lexical order, local-config ones (the Kptfile, the function config) included, with
// kpt's path, index and id annotations; fc is the function config as kpt passes it.
func kptResourceList(t *testing.T, dir string, fc *yaml.Node) ([]byte, []*yaml.Node) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var items []*yaml.Node
	for _, e := range entries { // sorted by name: Kptfile before app.yaml
		if e.IsDir() || !(e.Name() == "Kptfile" || strings.HasSuffix(e.Name(), ".yaml")) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		for i, n := range parseObjects(t, string(data)) {
			kptAnnotate(t, n, dir, e.Name(), i, len(items)+1)
			items = append(items, n)
		}
	}
	if fc != nil {
		kptAnnotate(t, fc, dir, "tierwall.yaml", 0, len(items)+1)
	}
	return testutil.ResourceList(t, items, fc), items
}

func kptAnnotate(t *testing.T, n *yaml.Node, dir, file string, index, id int) {
	t.Helper()
	rn := yaml.NewRNode(n)
	for _, kv := range [][2]string{
		{"config.kubernetes.io/index", strconv.Itoa(index)},
		{"config.kubernetes.io/path", file},
		{"internal.config.kubernetes.io/index", strconv.Itoa(index)},
		{"internal.config.kubernetes.io/package-path", dir},
		{"internal.config.kubernetes.io/path", file},
		{"internal.config.kubernetes.io/seqindent", "compact"},
		{"internal.config.kubernetes.io/id", strconv.Itoa(id)},
		{"config.k8s.io/id", strconv.Itoa(id)},
	} {
		require.NoError(t, rn.PipeE(yaml.SetAnnotation(kv[0], kv[1])))
	}
}

// runKptFunction runs the built tierwall on a ResourceList and returns the output's items.
func runKptFunction(t *testing.T, rl []byte) []*yaml.Node {
	t.Helper()
	out, stderr, err := runCmd(t, "", rl, tierwallBin(t, "tierwall"))
	require.NoError(t, err, stderr)
	r := &kio.ByteReader{Reader: strings.NewReader(out), OmitReaderAnnotations: true}
	objs, err := r.Read()
	require.NoError(t, err)
	assert.Equal(t, "ResourceList", r.WrappingKind)
	if r.Results != nil {
		assert.NotContains(t, r.Results.MustString(), "severity: error")
	}
	var items []*yaml.Node
	for _, o := range objs {
		items = append(items, o.YNode())
	}
	return items
}

// kptPolicies checks that output is the input items unchanged followed by tierwall's
// policies only, and returns the policies.
func kptPolicies(t *testing.T, in, out []*yaml.Node) []*yaml.Node {
	t.Helper()
	require.Greater(t, len(out), len(in))
	for i := range in {
		assert.Equal(t, testutil.String(t, in[i]), testutil.String(t, out[i]), "item %d comes back unchanged", i)
	}
	for _, p := range out[len(in):] {
		o := manifest.FromNode(0, p)
		assert.True(t, o.IsNetworkPolicy() && o.ManagedByTierwall(), "only policies are added, not %s %s", o.Kind, o.Name)
	}
	return out[len(in):]
}

// kptFunctionConfig reads the function config a Kptfile's first mutator names.
func kptFunctionConfig(t *testing.T, dir string) (*yaml.Node, *yaml.Node) {
	t.Helper()
	kf := readDoc(t, filepath.Join(dir, "Kptfile"))
	require.Equal(t, "kpt.dev/v1", manifest.String(kf, "apiVersion"))
	mutators := manifest.Items(kf, "pipeline", "mutators")
	require.Len(t, mutators, 1)
	return mutators[0], readDoc(t, filepath.Join(dir, manifest.String(mutators[0], "configPath")))
}

// TestKptResourceList feeds the built function the ResourceLists kpt sends, without kpt:
// the package's resources with kpt's annotations and its local-config files as items,
// the Kptfile's function config or the function-input ConfigMap of `kpt fn eval -- k=v`.
func TestKptResourceList(t *testing.T) {
	tierwallBin(t, "tierwall")
	dir := filepath.Join(repoRoot(t), "examples", "kpt", "exec")
	_, fc := kptFunctionConfig(t, dir)
	assert.Equal(t, "true", manifest.String(fc, "metadata", "annotations", manifest.LocalConfigAnnotation))

	t.Run("kpt fn render", func(t *testing.T) {
		rl, in := kptResourceList(t, dir, fc)
		policies := kptPolicies(t, in, runKptFunction(t, rl))
		var objs []manifest.Object
		for _, p := range policies {
			objs = append(objs, manifest.FromNode(0, p))
		}
		require.NotNil(t, policyNamed(objs, "default-deny-all"))
		assert.Equal(t, []string{"shop"}, policyNamespaces(objs))
		for _, p := range policies {
			assert.Empty(t, manifest.String(p, "metadata", "annotations", "config.kubernetes.io/path"),
				"kpt chooses the file of a new resource")
		}
	})

	t.Run("local-config items get no policies", func(t *testing.T) {
		_, in := kptResourceList(t, dir, fc)
		local := parseObjects(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: tool\n  namespace: local-only\n"+
			"  annotations:\n    config.kubernetes.io/local-config: \"true\"\nspec:\n  selector: {matchLabels: {app: tool}}\n"+
			"  template:\n    metadata: {labels: {app: tool}}\n    spec: {containers: [{name: tool, image: tool}]}\n")[0]
		in = append(in, local)
		rl := testutil.ResourceList(t, in, fc)
		for _, p := range kptPolicies(t, in, runKptFunction(t, rl)) {
			assert.NotEqual(t, "local-only", manifest.String(p, "metadata", "namespace"))
		}
	})

	t.Run("kpt fn eval -- dns.profile=nodelocal", func(t *testing.T) {
		input := parseObjects(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: function-input\n"+
			"  annotations:\n    config.kubernetes.io/local-config: \"true\"\ndata:\n  dns.profile: nodelocal\n")[0]
		rl, in := kptResourceList(t, dir, input)
		var dns *yaml.Node
		for _, p := range kptPolicies(t, in, runKptFunction(t, rl)) {
			if manifest.String(p, "metadata", "name") == "allow-dns" {
				dns = p
			}
		}
		require.NotNil(t, dns)
		assert.Contains(t, testutil.String(t, dns), "cidr: \"169.254.20.10/32\"", "the ConfigMap's dns.profile reached the function")
	})
}

// kptTool returns the kpt binary, or skips: kpt cannot be installed here (its
// dependencies are refused by the Go module proxy, CONTRACTS.md), so TestKpt runs only
// where a kpt is on PATH or named by KPT (a KPT that names nothing fails). This is the one
// documented skip under make test.
func kptTool(t *testing.T) string {
	t.Helper()
	if os.Getenv("TIERWALL_E2E") != "1" {
		t.Skip("end-to-end test: run it with make e2e or make test")
	}
	if p := os.Getenv("KPT"); p != "" {
		path, err := exec.LookPath(p)
		require.NoError(t, err, "KPT=%s", p)
		return path
	}
	path, err := exec.LookPath("kpt")
	if err != nil {
		t.Skipf("kpt is not installed, and cannot be from the Go module proxy (see docs/pipelines.md): "+
			"TestKptResourceList covers the function side without it (%v)", err)
	}
	return path
}

// snapshot returns every file under dir with its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out[rel] = string(data)
		return err
	}))
	return out
}

// TestKpt runs the Kptfile pipelines with the real kpt: kpt fn render --allow-exec with
// tierwall on PATH, kpt fn eval with key=value settings, and the image pipeline with
// podman (or Docker).
func TestKpt(t *testing.T) {
	kpt := kptTool(t)
	tierwall := tierwallBin(t, "tierwall")
	root := repoRoot(t)
	execPkg := filepath.Join(root, "examples", "kpt", "exec")
	mutator, fc := kptFunctionConfig(t, execPkg)
	fnName := manifest.String(mutator, "exec")
	require.NotEmpty(t, fnName)
	require.NotContains(t, fnName, "/", "the Kptfile runs tierwall by name, from the PATH")
	bins := binDir(t, map[string]string{fnName: tierwall})
	env := append(os.Environ(), "PATH="+bins+":"+os.Getenv("PATH"))

	// The policies the function gives the ResourceList of TestKptResourceList.
	rl, in := kptResourceList(t, execPkg, fc)
	want := map[string]string{}
	for _, p := range kptPolicies(t, in, runKptFunction(t, rl)) {
		want[manifest.String(p, "metadata", "name")] = testutil.String(t, p)
	}

	var rendered map[string]string
	t.Run("kpt fn render --allow-exec", func(t *testing.T) {
		pkg := filepath.Join(t.TempDir(), "shop")
		require.NoError(t, os.CopyFS(pkg, os.DirFS(execPkg)))
		before := snapshot(t, pkg)
		out, stderr, err := runEnv(t, "", env, nil, kpt, "fn", "render", "--allow-exec", pkg)
		require.NoError(t, err, "%s%s", out, stderr)
		after := snapshot(t, pkg)
		got := map[string]string{}
		for f, data := range after {
			if old, ok := before[f]; ok {
				assert.Equal(t, old, data, "%s is left as it was", f)
				continue
			}
			docs := parseObjects(t, data)
			require.Len(t, docs, 1, f)
			o := manifest.FromNode(0, docs[0])
			require.True(t, o.IsNetworkPolicy() && o.ManagedByTierwall(), "%s: only policies are added", f)
			assert.Equal(t, filepath.Join(o.Namespace, "networkpolicy_"+o.Name+".yaml"), f)
			got[o.Name] = testutil.String(t, docs[0])
		}
		assert.Equal(t, want, got, "kpt writes the policies the function returns for kpt's ResourceList")
		out, stderr, err = runCmd(t, "", nil, tierwall, "check", pkg)
		require.NoError(t, err, "tierwall check %s: %s%s", pkg, out, stderr)

		_, stderr, err = runEnv(t, "", env, nil, kpt, "fn", "render", "--allow-exec", pkg)
		require.NoError(t, err, stderr)
		assert.Equal(t, after, snapshot(t, pkg), "rendering again changes nothing")
		rendered = after

		_, _, err = runEnv(t, "", env, nil, kpt, "fn", "render", pkg)
		assert.Error(t, err, "an exec function needs --allow-exec")
	})

	t.Run("kpt fn eval --exec", func(t *testing.T) {
		pkg := filepath.Join(t.TempDir(), "shop")
		require.NoError(t, os.CopyFS(pkg, os.DirFS(execPkg)))
		out, stderr, err := runEnv(t, "", env, nil, kpt, "fn", "eval", "--exec", fnName, pkg, "--", "dns.profile=nodelocal")
		require.NoError(t, err, "%s%s", out, stderr)
		dns, err := os.ReadFile(filepath.Join(pkg, "shop", "networkpolicy_allow-dns.yaml"))
		require.NoError(t, err)
		assert.Contains(t, string(dns), "169.254.20.10/32")
	})

	t.Run("image pipeline", func(t *testing.T) {
		docker := tool(t, "DOCKER")
		imagePkg := filepath.Join(root, "examples", "kpt", "image")
		mutator, _ := kptFunctionConfig(t, imagePkg)
		image := manifest.String(mutator, "image")
		require.Contains(t, image, "/", "kpt prefixes images without a registry with gcr.io/kpt-fn/")
		for _, f := range []string{"app.yaml", "tierwall.yaml"} {
			a, err := os.ReadFile(filepath.Join(execPkg, f))
			require.NoError(t, err)
			b, err := os.ReadFile(filepath.Join(imagePkg, f))
			require.NoError(t, err)
			assert.Equal(t, string(a), string(b), "the two packages hold the same %s", f)
		}
		cenv := containerEnv(t, docker)
		out, stderr, err := helmRun(t, append(cenv, "CONTAINER_ENGINE="+docker), root, nil, filepath.Join(root, "scripts", "image.sh"), image)
		require.NoError(t, err, "scripts/image.sh %s: %s", image, stderr)
		assert.Equal(t, image, strings.TrimSpace(out))
		// kpt runs `docker` or `podman` itself (KPT_FN_RUNTIME); the podman shim is no
		// docker to it (kpt wants docker 20.10 or later).
		version, _, _ := runEnv(t, "", cenv, nil, docker, "--version")
		runtimeEnv := []string{"KPT_FN_RUNTIME=docker"}
		if strings.Contains(strings.ToLower(version), "podman") {
			runtimeEnv = []string{"KPT_FN_RUNTIME=podman"}
			if os.Getenv("CONTAINERS_CONF") == "" {
				if conf := filepath.Join(filepath.Dir(docker), "containers.conf"); fileExists(conf) {
					runtimeEnv = append(runtimeEnv, "CONTAINERS_CONF="+conf)
				}
			}
		}
		pkg := filepath.Join(t.TempDir(), "shop")
		require.NoError(t, os.CopyFS(pkg, os.DirFS(imagePkg)))
		out, stderr, err = runEnv(t, "", append(cenv, runtimeEnv...), nil, kpt, "fn", "render", pkg)
		require.NoError(t, err, "%s%s", out, stderr)
		got := snapshot(t, pkg)
		if rendered == nil {
			t.Skip("the exec pipeline failed: nothing to compare with")
		}
		for f, data := range rendered {
			if f == "Kptfile" {
				continue
			}
			assert.Equal(t, data, got[f], "the image renders what the exec function renders: %s", f)
		}
		assert.Len(t, got, len(rendered))
	})
}
