//go:build e2e

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/stream"
)

// helmRelease and helmNamespace are the release the tests render.
const (
	helmRelease   = "shop"
	helmNamespace = "shop"
)

// helmChart is a chart the tests render: the example in examples/helm and the
// chart `helm create` writes (with its test hook).
type helmChart struct {
	name string
	path func(t *testing.T, helm string) string
}

var helmCharts = []helmChart{
	{name: "three-tier", path: func(t *testing.T, _ string) string {
		return filepath.Join(repoRoot(t), "examples", "helm", "three-tier")
	}},
	{name: "helm-create", path: func(t *testing.T, helm string) string {
		dir := t.TempDir()
		_, stderr, err := helmRun(t, helmEnv(t), dir, nil, helm, "create", "mychart")
		require.NoError(t, err, stderr)
		return filepath.Join(dir, "mychart")
	}},
}

// helmEnv is the environment for Helm: the process's, less every HELM_*
// variable and KUBECONFIG, with a private Helm home under a temporary
// folder, so that the tests never read or write the user's Helm setup.
func helmEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "HELM_") || strings.HasPrefix(kv, "KUBECONFIG=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_PLUGINS="+filepath.Join(home, "data", "plugins"),
		"KUBECONFIG="+filepath.Join(home, "kubeconfig"),
	)
	return append(env, extra...)
}

// helmRun runs a command with env and returns stdout, stderr and any error.
func helmRun(t *testing.T, env []string, dir string, stdin []byte, name string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// splitOutput parses a rendered stream into the chart's documents (as read)
// and tierwall's policies.
func splitOutput(t *testing.T, out string) (chart []string, policies []manifest.Object) {
	t.Helper()
	s, err := stream.Parse([]byte(out))
	require.NoError(t, err)
	for _, d := range s.Documents {
		mine := len(d.Nodes) == 1
		for _, n := range d.Nodes {
			o := manifest.FromNode(0, n)
			if o.IsNetworkPolicy() && o.ManagedByTierwall() {
				policies = append(policies, o)
			} else {
				mine = false
			}
		}
		if !mine {
			chart = append(chart, string(d.Raw))
		}
	}
	return chart, policies
}

// normalized returns every object of documents, re-encoded, keyed by kind,
// namespace and name: Helm 4 re-encodes what a post-renderer returns, so its
// output is compared object by object rather than byte by byte.
func normalized(t *testing.T, documents []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range documents {
		for _, n := range testutil.Docs(t, []byte(d)) {
			o := manifest.FromNode(0, n)
			key := o.APIVersion + "/" + o.Kind + " " + o.Namespace + "/" + o.Name
			_, dup := out[key]
			require.False(t, dup, "%s twice", key)
			out[key] = testutil.String(t, n)
		}
	}
	return out
}

func policyNamespaces(policies []manifest.Object) []string {
	seen := map[string]bool{}
	for _, p := range policies {
		seen[p.Namespace] = true
	}
	var out []string
	for ns := range seen {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

func policyNamed(policies []manifest.Object, name string) *manifest.Object {
	for i := range policies {
		if policies[i].Name == name {
			return &policies[i]
		}
	}
	// A namespace-wide policy carries the release when one is known
	// (<release>-default-deny-all): a render's one such policy.
	var found *manifest.Object
	for i := range policies {
		if strings.HasSuffix(policies[i].Name, "-"+name) && policies[i].Annotations[manifest.SourceAnnotation] == "baseline" {
			if found != nil {
				return nil
			}
			found = &policies[i]
		}
	}
	return found
}

// TestHelm3PostRenderer renders the charts with the real Helm 3 and
// tierwall-postrender: the chart's documents come out byte for byte, the
// policies after them, written without a namespace for the release namespace.
func TestHelm3PostRenderer(t *testing.T) {
	helm := tool(t, "HELM3")
	pr := tierwallBin(t, "tierwall-postrender")
	for _, c := range helmCharts {
		t.Run(c.name, func(t *testing.T) {
			env := helmEnv(t)
			chart := c.path(t, helm)
			plain, stderr, err := helmRun(t, env, "", nil, helm, "template", helmRelease, chart, "-n", helmNamespace)
			require.NoError(t, err, stderr)
			out, stderr, err := helmRun(t, env, "", nil, helm, "template", helmRelease, chart, "-n", helmNamespace, "--post-renderer", pr)
			require.NoError(t, err, stderr)

			docs, policies := splitOutput(t, out)
			plainDocs, _ := splitOutput(t, plain)
			assert.Equal(t, plainDocs, docs, "every chart document must come out byte for byte")
			require.NotEmpty(t, policies)
			require.NotNil(t, policyNamed(policies, "default-deny-all"))
			assert.Equal(t, []string{""}, policyNamespaces(policies), "release-namespace policies carry no namespace")
			testutil.Golden(t, filepath.Join(repoRoot(t), "testdata", "e2e", "helm", "helm3-"+c.name+".yaml"), []byte(out))
		})
	}
}

// TestHelm3Namespace names the release namespace with --namespace, or with
// HELM_NAMESPACE, which Helm reads too.
func TestHelm3Namespace(t *testing.T) {
	helm := tool(t, "HELM3")
	pr := tierwallBin(t, "tierwall-postrender")
	chart := filepath.Join(repoRoot(t), "examples", "helm", "three-tier")

	byFlag, stderr, err := helmRun(t, helmEnv(t), "", nil, helm, "template", helmRelease, chart, "-n", helmNamespace,
		"--post-renderer", pr, "--post-renderer-args=--namespace="+helmNamespace)
	require.NoError(t, err, stderr)
	_, policies := splitOutput(t, byFlag)
	require.NotEmpty(t, policies)
	assert.Equal(t, []string{helmNamespace}, policyNamespaces(policies))

	byEnv, stderr, err := helmRun(t, helmEnv(t, "HELM_NAMESPACE="+helmNamespace), "", nil, helm, "template", helmRelease, chart,
		"--post-renderer", pr)
	require.NoError(t, err, stderr)
	assert.Equal(t, byFlag, byEnv)
}

// TestHelm3Hooks shows what Helm 3 does with hooks: they are not sent, so the
// migration Job gets no allow of its own unless the configuration adds one.
func TestHelm3Hooks(t *testing.T) {
	helm := tool(t, "HELM3")
	pr := tierwallBin(t, "tierwall-postrender")
	root := repoRoot(t)
	chart := filepath.Join(root, "examples", "helm", "three-tier")

	out, stderr, err := helmRun(t, helmEnv(t), "", nil, helm, "template", helmRelease, chart, "--post-renderer", pr)
	require.NoError(t, err, stderr)
	assert.Contains(t, out, "name: shop-migrate", "helm template prints the hook after the post-rendered manifest")
	_, policies := splitOutput(t, out)
	assert.False(t, selectsMigrate(t, policies), "Helm 3 never showed the hook to tierwall")

	cfg := filepath.Join(root, "examples", "helm", "tierwall-helm3-hooks.yaml")
	out, stderr, err = helmRun(t, helmEnv(t), "", nil, helm, "template", helmRelease, chart, "--post-renderer", pr,
		"--post-renderer-args=--config="+cfg)
	require.NoError(t, err, stderr)
	_, policies = splitOutput(t, out)
	assert.True(t, selectsMigrate(t, policies), "the configured allow admits the hook's pods")
	testutil.Golden(t, filepath.Join(root, "testdata", "e2e", "helm", "helm3-three-tier-hook-allow.yaml"), []byte(out))
}

// selectsMigrate reports whether a policy selects the migration Job's pods
// or admits them.
func selectsMigrate(t *testing.T, policies []manifest.Object) bool {
	for _, p := range policies {
		if strings.Contains(testutil.String(t, manifest.Lookup(p.Node, "spec")), "app: migrate") {
			return true
		}
	}
	return false
}

// TestHelm3EmptyStdin: helm template --output-dir runs the post-renderer on
// empty stdin; empty in, empty out, exit 0.
func TestHelm3EmptyStdin(t *testing.T) {
	helm := tool(t, "HELM3")
	pr := tierwallBin(t, "tierwall-postrender")
	dir := t.TempDir()
	chart := filepath.Join(repoRoot(t), "examples", "helm", "three-tier")
	_, stderr, err := helmRun(t, helmEnv(t), "", nil, helm, "template", helmRelease, chart, "--output-dir", dir, "--post-renderer", pr)
	require.NoError(t, err, stderr)
	_, err = os.Stat(filepath.Join(dir, "three-tier", "templates", "api.yaml"))
	require.NoError(t, err)

	out, stderr, err := helmRun(t, nil, "", []byte{}, pr)
	require.NoError(t, err, stderr)
	assert.Empty(t, out)
}

// TestHelm3ShowsErrors: Helm 3 shows the post-renderer's stderr.
func TestHelm3ShowsErrors(t *testing.T) {
	helm := tool(t, "HELM3")
	pr := tierwallBin(t, "tierwall-postrender")
	chart := filepath.Join(repoRoot(t), "examples", "helm", "three-tier")
	out, stderr, err := helmRun(t, helmEnv(t), "", nil, helm, "template", helmRelease, chart,
		"--post-renderer", pr, "--post-renderer-args=--dns-profile=coredns")
	require.Error(t, err)
	assert.Empty(t, out)
	assert.Contains(t, stderr, `unknown DNS profile "coredns"`)
	assert.Contains(t, stderr, "(set by --dns-profile)")
}

// helm4WithPlugin returns an environment whose private Helm home has the
// tierwall plugin installed from the folder make build assembles.
func helm4WithPlugin(t *testing.T, helm string, extra ...string) []string {
	t.Helper()
	dir := os.Getenv("TIERWALL_HELM_PLUGIN")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "dist", "helm-plugin")
	}
	_, err := os.Stat(filepath.Join(dir, "plugin.yaml"))
	require.NoError(t, err, "make build assembles the plugin folder %s", dir)
	env := helmEnv(t, extra...)
	out, stderr, err := helmRun(t, env, "", nil, helm, "plugin", "install", dir)
	require.NoError(t, err, "helm plugin install: %s%s", out, stderr)
	list, stderr, err := helmRun(t, env, "", nil, helm, "plugin", "list")
	require.NoError(t, err, stderr)
	require.Regexp(t, `(?m)^tierwall\s+\S+\s+postrenderer/v1`, list)
	return env
}

// TestHelm4Plugin renders the charts with the real Helm 4 through the
// installed plugin. Helm 4 sends hooks too, and re-encodes the output, so the
// chart's objects are compared with a plain render object by object.
func TestHelm4Plugin(t *testing.T) {
	helm := tool(t, "HELM4")
	tierwallBin(t, "tierwall-postrender")
	for _, c := range helmCharts {
		t.Run(c.name, func(t *testing.T) {
			env := helm4WithPlugin(t, helm)
			chart := c.path(t, helm)
			plain, stderr, err := helmRun(t, env, "", nil, helm, "template", helmRelease, chart, "-n", helmNamespace)
			require.NoError(t, err, stderr)
			out, stderr, err := helmRun(t, env, "", nil, helm, "template", helmRelease, chart, "-n", helmNamespace, "--post-renderer", "tierwall")
			require.NoError(t, err, stderr)

			docs, policies := splitOutput(t, out)
			plainDocs, _ := splitOutput(t, plain)
			assert.Equal(t, normalized(t, plainDocs), normalized(t, docs), "every chart object must come out unchanged")
			assert.NotContains(t, out, "postrenderer.helm.sh/postrender-filename", "Helm removes its annotation again")
			require.NotEmpty(t, policies)
			require.NotNil(t, policyNamed(policies, "default-deny-all"))
			assert.Equal(t, []string{""}, policyNamespaces(policies))
			testutil.Golden(t, filepath.Join(repoRoot(t), "testdata", "e2e", "helm", "helm4-"+c.name+".yaml"), []byte(out))
		})
	}
}

// TestHelm4EmptyChart: Helm 4 fails a plugin whose output is blank; a chart
// that renders no object must still render.
func TestHelm4EmptyChart(t *testing.T) {
	helm := tool(t, "HELM4")
	tierwallBin(t, "tierwall-postrender")
	env := helm4WithPlugin(t, helm)
	chart := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.MkdirAll(filepath.Join(chart, "templates"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(chart, "Chart.yaml"), []byte("apiVersion: v2\nname: empty\nversion: 0.1.0\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(chart, "templates", "off.yaml"), []byte("{{- if false }}\nkind: ConfigMap\n{{- end }}\n"), 0o644))
	out, stderr, err := helmRun(t, env, "", nil, helm, "template", helmRelease, chart, "--post-renderer", "tierwall")
	require.NoError(t, err, stderr)
	assert.Empty(t, strings.TrimSpace(out))
}

// TestHelm4Hooks: Helm 4 sends the pre-install migration Job, and tierwall
// gives it its own allow (it carries the api tier label).
func TestHelm4Hooks(t *testing.T) {
	helm := tool(t, "HELM4")
	tierwallBin(t, "tierwall-postrender")
	env := helm4WithPlugin(t, helm)
	chart := filepath.Join(repoRoot(t), "examples", "helm", "three-tier")
	out, stderr, err := helmRun(t, env, "", nil, helm, "template", helmRelease, chart, "--post-renderer", "tierwall")
	require.NoError(t, err, stderr)
	_, policies := splitOutput(t, out)
	assert.True(t, selectsMigrate(t, policies), "the hook Job's pods must get their own allow")
	assert.Regexp(t, `(?s)# Source: three-tier/templates/migrate-job.yaml\n.*?helm.sh/hook: pre-install,pre-upgrade`, out,
		"the hook comes out as a hook")
}

// TestHelm4Namespace: Helm 4 passes its environment to the plugin, so
// HELM_NAMESPACE names the release namespace for both.
func TestHelm4Namespace(t *testing.T) {
	helm := tool(t, "HELM4")
	tierwallBin(t, "tierwall-postrender")
	env := helm4WithPlugin(t, helm, "HELM_NAMESPACE="+helmNamespace)
	chart := filepath.Join(repoRoot(t), "examples", "helm", "three-tier")
	out, stderr, err := helmRun(t, env, "", nil, helm, "template", helmRelease, chart, "--post-renderer", "tierwall")
	require.NoError(t, err, stderr)
	_, policies := splitOutput(t, out)
	require.NotEmpty(t, policies)
	assert.Equal(t, []string{helmNamespace}, policyNamespaces(policies))

	byArgs, stderr, err := helmRun(t, helmEnvWithout(env, "HELM_NAMESPACE"), "", nil, helm, "template", helmRelease, chart,
		"-n", helmNamespace, "--post-renderer", "tierwall", "--post-renderer-args=--namespace="+helmNamespace)
	require.NoError(t, err, stderr)
	assert.Equal(t, out, byArgs)
}

func helmEnvWithout(env []string, key string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// TestHelm4ShowsErrors: Helm 4 discards a plugin's stderr, so the plugin
// reports the reason in its output, which Helm prints in its error.
func TestHelm4ShowsErrors(t *testing.T) {
	helm := tool(t, "HELM4")
	tierwallBin(t, "tierwall-postrender")
	env := helm4WithPlugin(t, helm)
	chart := filepath.Join(repoRoot(t), "examples", "helm", "three-tier")
	for name, args := range map[string][]string{
		"bad flag value": {"--post-renderer-args=--dns-profile=coredns"},
		"unknown flag":   {"--post-renderer-args=--bogus"},
		"missing config": {"--post-renderer-args=--config=does-not-exist.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			out, stderr, err := helmRun(t, env, t.TempDir(), nil, helm,
				append([]string{"template", helmRelease, chart, "--post-renderer", "tierwall"}, args...)...)
			require.Error(t, err)
			assert.Empty(t, out, "no release, no manifests")
			assert.Contains(t, stderr, "tierwall-postrender: ")
			switch name {
			case "bad flag value":
				assert.Contains(t, stderr, `unknown DNS profile "coredns"`)
			case "unknown flag":
				assert.Contains(t, stderr, "unknown flag: --bogus")
			case "missing config":
				assert.Contains(t, stderr, "does-not-exist.yaml: no such file or directory")
			}
		})
	}
}

// TestHelm4DropsPluginStderr documents why the plugin reports in-band: the
// same plugin without --helm4-plugin fails with Helm 4 showing no reason at
// all, even with --debug.
func TestHelm4DropsPluginStderr(t *testing.T) {
	helm := tool(t, "HELM4")
	tierwallBin(t, "tierwall-postrender")
	src := os.Getenv("TIERWALL_HELM_PLUGIN")
	if src == "" {
		src = filepath.Join(repoRoot(t), "dist", "helm-plugin")
	}
	plain := filepath.Join(t.TempDir(), "plain")
	require.NoError(t, os.CopyFS(plain, os.DirFS(src)))
	manifestFile := filepath.Join(plain, "plugin.yaml")
	data, err := os.ReadFile(manifestFile)
	require.NoError(t, err)
	text := strings.ReplaceAll(string(data), `args: ["--helm4-plugin"]`, `args: []`)
	text = strings.Replace(text, "name: tierwall\n", "name: tierwall-plain\n", 1)
	require.NotEqual(t, string(data), text)
	require.NoError(t, os.WriteFile(manifestFile, []byte(text), 0o644))

	env := helmEnv(t)
	_, stderr, err := helmRun(t, env, "", nil, helm, "plugin", "install", plain)
	require.NoError(t, err, stderr)
	chart := filepath.Join(repoRoot(t), "examples", "helm", "three-tier")
	_, stderr, err = helmRun(t, env, "", nil, helm, "template", helmRelease, chart, "--debug",
		"--post-renderer", "tierwall-plain", "--post-renderer-args=--dns-profile=coredns")
	require.Error(t, err)
	assert.Contains(t, stderr, `plugin "tierwall-plain" exited with error`)
	// --debug logs the plugin's stderr as empty: Helm had already taken it.
	assert.Contains(t, stderr, `stderr=""`)
	assert.NotContains(t, stderr, "unknown DNS profile", "Helm 4 shows the plugin's stderr now: revisit --helm4-plugin")
}

// TestHelmPluginManifest checks plugin.yaml against what Helm 4 needs.
func TestHelmPluginManifest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "postrender", "plugin", "plugin.yaml"))
	require.NoError(t, err)
	n, err := yaml.Parse(string(data))
	require.NoError(t, err)
	doc := n.YNode()
	assert.Equal(t, "postrenderer/v1", manifest.String(doc, "type"))
	assert.Equal(t, "subprocess", manifest.String(doc, "runtime"))
	assert.Regexp(t, `^\d+\.\d+\.\d+$`, manifest.String(doc, "version"))
	cmds := manifest.Items(doc, "runtimeConfig", "platformCommand")
	require.NotEmpty(t, cmds)
	for _, c := range cmds {
		goos, arch := manifest.String(c, "os"), manifest.String(c, "arch")
		want := "${HELM_PLUGIN_DIR}/bin/tierwall-postrender-" + goos + "-" + arch
		if goos == "windows" {
			want += ".exe"
		}
		assert.Equal(t, want, manifest.String(c, "command"))
		args := manifest.Items(c, "args")
		require.Len(t, args, 1)
		assert.Equal(t, "--helm4-plugin", args[0].Value)
	}
}

// TestHelmInstall installs the example chart with Helm 3 and Helm 4 into a
// real API server (no nodes, no controllers: hooks are skipped, as their Job
// would never finish) and checks where the policies land: in the release
// namespace, although tierwall wrote them without one, and that they leave
// with the release.
func TestHelmInstall(t *testing.T) {
	helm3 := tool(t, "HELM3")
	helm4 := tool(t, "HELM4")
	kubectl := tool(t, "KUBECTL")
	apiserver, etcd := tool(t, "KUBE_APISERVER"), tool(t, "ETCD")
	pr := tierwallBin(t, "tierwall-postrender")
	root := repoRoot(t)
	k := startAPIServer(t, root, apiserver, etcd, kubectl)
	chart := filepath.Join(root, "examples", "helm", "three-tier")

	for _, tc := range []struct {
		name, helm, namespace, postRenderer string
		env                                 []string
	}{
		{name: "helm3", helm: helm3, namespace: "shop-helm3", postRenderer: pr, env: helmEnv(t, "KUBECONFIG="+k.kubeconfig)},
		{name: "helm4", helm: helm4, namespace: "shop-helm4", postRenderer: "tierwall", env: append(helm4WithPlugin(t, helm4), "KUBECONFIG="+k.kubeconfig)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// What helm template with the same post-renderer renders.
			rendered, stderr, err := helmRun(t, tc.env, "", nil, tc.helm, "template", helmRelease, chart, "-n", tc.namespace,
				"--no-hooks", "--post-renderer", tc.postRenderer)
			require.NoError(t, err, stderr)
			_, policies := splitOutput(t, rendered)
			require.NotEmpty(t, policies)
			var want []string
			for _, p := range policies {
				require.Empty(t, p.Namespace)
				want = append(want, "networkpolicy.networking.k8s.io/"+p.Name)
			}
			sort.Strings(want)

			out, stderr, err := helmRun(t, tc.env, "", nil, tc.helm, "install", helmRelease, chart, "-n", tc.namespace,
				"--create-namespace", "--no-hooks", "--post-renderer", tc.postRenderer)
			require.NoError(t, err, "%s%s", out, stderr)
			got, stderr, err := k.run(nil, "get", "networkpolicy", "-n", tc.namespace, "-o", "name")
			require.NoError(t, err, stderr)
			names := strings.Fields(got)
			sort.Strings(names)
			assert.Equal(t, want, names, "the policies are in the release namespace")
			elsewhere, stderr, err := k.run(nil, "get", "networkpolicy", "-n", "default", "-o", "name")
			require.NoError(t, err, stderr)
			assert.Empty(t, strings.TrimSpace(elsewhere))

			out, stderr, err = helmRun(t, tc.env, "", nil, tc.helm, "uninstall", helmRelease, "-n", tc.namespace, "--no-hooks")
			require.NoError(t, err, "%s%s", out, stderr)
			left, stderr, err := k.run(nil, "get", "networkpolicy", "-n", tc.namespace, "-o", "name")
			require.NoError(t, err, stderr)
			assert.Empty(t, strings.TrimSpace(left), "the policies leave with the release")
		})
	}
}
