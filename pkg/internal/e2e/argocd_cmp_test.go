//go:build e2e

package e2e

// Argo CD, recipe B: the tierwall Config Management Plugin in its sidecar image, installed
// with the plain manifests (examples/argocd/cmp) or the argo-cd Helm chart
// (examples/argocd/helm), run as argocd-cmp-server runs it.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// cmpConfigPath is where argocd-cmp-server reads its plugin's configuration.
const cmpConfigPath = "/home/argocd/cmp-server/config/plugin.yaml"

// cmpImage builds the sidecar image as make image does (scripts/image.sh --argocd-cmp), from
// the binaries of a release and the pinned helm and kustomize, under a name of this test's
// own, and removes it afterwards.
func cmpImage(t *testing.T, docker, release string) string {
	t.Helper()
	root := repoRoot(t)
	image := fmt.Sprintf("localhost/tierwall-argocd-cmp:e2e-%d", os.Getpid())
	env := append(containerEnv(t, docker), "CONTAINER_ENGINE="+docker, "BINARIES="+release, "VERSION="+releaseVersion,
		"HELM="+tool(t, "HELM3"), "KUSTOMIZE="+tool(t, "KUSTOMIZE"), "BUSYBOX="+tool(t, "BUSYBOX"))
	out, stderr, err := helmRun(t, env, root, nil, filepath.Join(root, "scripts", "image.sh"), "--argocd-cmp", image)
	require.NoError(t, err, "scripts/image.sh --argocd-cmp: %s", stderr)
	assert.Equal(t, image, strings.TrimSpace(out))
	t.Cleanup(func() { _, _, _ = helmRun(t, env, "", nil, docker, "rmi", image) })
	return image
}

// checkSidecar checks a repo-server sidecar container against what Argo CD requires of a
// plugin sidecar (docs/operator-manual/config-management-plugins.md): argocd-cmp-server as
// its command, user 999, Argo CD's var-files and plugins volumes, a /tmp of its own.
func checkSidecar(t *testing.T, podSpec, sidecar *yaml.Node) {
	t.Helper()
	assert.Equal(t, []string{"/var/run/argocd/argocd-cmp-server"}, strs(sidecar, "command"))
	assert.Equal(t, "999", manifest.String(sidecar, "securityContext", "runAsUser"), "Argo CD requires user 999")
	assert.Equal(t, "true", manifest.String(sidecar, "securityContext", "readOnlyRootFilesystem"))
	assert.Equal(t, "var-files", manifest.String(mountAt(t, sidecar, "/var/run/argocd"), "name"))
	assert.Equal(t, "plugins", manifest.String(mountAt(t, sidecar, "/home/argocd/cmp-server/plugins"), "name"))
	tmp := manifest.String(mountAt(t, sidecar, "/tmp"), "name")
	assert.NotEqual(t, "tmp", tmp, "not the repo-server's /tmp")
	assert.NotNil(t, manifest.Lookup(named(t, manifest.Items(podSpec, "volumes"), tmp), "emptyDir"), "the sidecar's /tmp is an emptyDir")
	assert.Empty(t, manifest.Items(sidecar, "env"), "the image sets what the plugin needs")
}

// cmpPlugin is a ConfigManagementPlugin as argocd-cmp-server reads it.
type cmpPlugin struct {
	name            string
	init, generate  []string
	announced       []string
	announcedArrays map[string]bool
}

func readCMPPlugin(t *testing.T, text string) cmpPlugin {
	t.Helper()
	docs := parseObjects(t, text)
	require.Len(t, docs, 1)
	p := docs[0]
	require.Equal(t, "argoproj.io/v1alpha1", manifest.String(p, "apiVersion"))
	require.Equal(t, "ConfigManagementPlugin", manifest.String(p, "kind"))
	require.Empty(t, manifest.String(p, "spec", "version"), "with a version, Applications would name it <name>-<version>")
	assert.Nil(t, manifest.Lookup(p, "spec", "discover"), "used only when an Application names it")
	c := cmpPlugin{
		name:            manifest.String(p, "metadata", "name"),
		init:            append(strs(p, "spec", "init", "command"), strs(p, "spec", "init", "args")...),
		generate:        append(strs(p, "spec", "generate", "command"), strs(p, "spec", "generate", "args")...),
		announcedArrays: map[string]bool{},
	}
	require.NotEmpty(t, c.generate)
	for _, a := range manifest.Items(p, "spec", "parameters", "static") {
		name := manifest.String(a, "name")
		c.announced = append(c.announced, name)
		c.announcedArrays[name] = manifest.String(a, "collectionType") == "array"
		assert.NotEmpty(t, manifest.String(a, "title"), "parameter %s has a title for the UI", name)
	}
	return c
}

// cmpRun runs plugins the way argocd-cmp-server does, in a sidecar image: the repository
// unpacked under the sidecar's /tmp (/tmp/_cmp_server/<id>), the command in the application's
// folder, the image's environment plus Argo CD's build environment and the Application's
// parameters, as user 999 with a read-only root and no network.
type cmpRun struct {
	docker, image string
	env           []string
}

// run runs the plugin's init (when it has one) and generate commands for app in a copy of
// repo; it returns generate's stdout and stderr.
func (r cmpRun) run(t *testing.T, p cmpPlugin, repo string, app argoApp) (string, string, error) {
	t.Helper()
	tmp := t.TempDir()
	work := filepath.Join(tmp, "_cmp_server", "0a1b2c3d")
	require.NoError(t, os.CopyFS(work, os.DirFS(repo)))
	// The emptyDir and what argocd-cmp-server (user 999) unpacked into it are the sidecar's.
	require.NoError(t, filepath.WalkDir(tmp, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o666)
		if d.IsDir() {
			mode = 0o777
		}
		return os.Chmod(p, mode)
	}))
	args := []string{"run", "--rm", "--network", "none", "--read-only", "--user", "999", "--security-opt=no-new-privileges",
		"--cap-drop", "ALL", "-v", tmp + ":/tmp", "-w", "/tmp/_cmp_server/0a1b2c3d/" + app.path}
	for _, kv := range app.buildEnv() {
		args = append(args, "-e", kv)
	}
	exec := func(argv []string) (string, string, error) {
		return helmRun(t, r.env, "", nil, r.docker, append(append(args, "--entrypoint", argv[0], r.image), argv[1:]...)...)
	}
	if len(p.init) > 0 {
		out, stderr, err := exec(p.init)
		if err != nil {
			return out, stderr, fmt.Errorf("init: %w", err)
		}
	}
	return exec(p.generate)
}

// plainRender renders app's source as the plugin would without tierwall: helm template with
// the same release, namespace, Kubernetes version and values, or kustomize build.
func plainRender(t *testing.T, helm, kustomize, repo string, app argoApp) string {
	t.Helper()
	dir := filepath.Join(repo, app.path)
	if !fileExists(filepath.Join(dir, "Chart.yaml")) {
		out, stderr, err := runCmd(t, dir, nil, kustomize, "build", ".")
		require.NoError(t, err, stderr)
		return out
	}
	release := app.name
	if r := app.param("release-name"); len(r) > 0 {
		release = r[0]
	}
	args := []string{"template", release, ".", "--namespace", app.namespace, "--include-crds", "--kube-version", "1.32.0"}
	for _, api := range strings.Split("v1,apps/v1,batch/v1,networking.k8s.io/v1,policy/v1", ",") {
		args = append(args, "--api-versions", api)
	}
	for _, f := range app.param("values-files") {
		args = append(args, "--values", f)
	}
	for _, s := range app.param("helm-set") {
		args = append(args, "--set", s)
	}
	out, stderr, err := helmRun(t, helmEnv(t), dir, nil, helm, args...)
	require.NoError(t, err, stderr)
	return out
}

// TestArgoCDPluginRecipe runs recipe B with the plain manifests: the repo-server patch adds
// the sidecar, whose image (built as make image builds it) carries the plugin and its tools;
// then, for each example Application, the plugin's init and generate commands run in that
// image exactly as argocd-cmp-server runs them, with ARGOCD_APP_NAME, ARGOCD_APP_NAMESPACE
// and the Application's parameters, and their output is compared with a plain render.
func TestArgoCDPluginRecipe(t *testing.T) {
	kustomize := tool(t, "KUSTOMIZE")
	helm := tool(t, "HELM3") // the image's Helm
	docker := tool(t, "DOCKER")
	tierwallBin(t, "tierwall")
	root := repoRoot(t)
	objs := buildArgoOverlay(t, kustomize, "cmp")

	dep := findObject(t, objs, "Deployment", "argocd-repo-server")
	checkPodVolumes(t, dep)
	spec := podSpec(dep)
	sidecar := named(t, manifest.Items(spec, "containers"), "tierwall-cmp")
	checkSidecar(t, spec, sidecar)
	assert.Equal(t, "registry.example.com/platform/tierwall-argocd-cmp:dev", manifest.String(sidecar, "image"),
		"the images: transformer names the sidecar image")
	var inits []string
	for _, c := range manifest.Items(spec, "initContainers") {
		inits = append(inits, manifest.String(c, "name"))
	}
	assert.Equal(t, []string{"copyutil"}, inits, "nothing is downloaded at start: Argo CD's own init container only")
	for _, m := range manifest.Items(sidecar, "volumeMounts") {
		assert.NotEqual(t, cmpConfigPath, manifest.String(m, "mountPath"), "the image carries plugin.yaml")
	}

	// The image: what it runs as, what it carries, and the plugin baked into it.
	image := cmpImage(t, docker, buildRelease(t, releaseVersion))
	cenv := containerEnv(t, docker)
	cfg := inspectImage(t, docker, image)
	assert.Equal(t, "999:999", cfg.Config.User)
	assert.Equal(t, []string{"/var/run/argocd/argocd-cmp-server"}, cfg.Config.Entrypoint, "Argo CD's server, from the var-files volume")
	assert.Contains(t, cfg.Config.Env, "HELM_CACHE_HOME=/tmp/helm/cache", "Helm writes under the sidecar's /tmp")
	assert.Equal(t, releaseVersion, cfg.Config.Labels["org.opencontainers.image.version"])
	assert.Equal(t, "https://github.com/tierwall/tierwall", cfg.Config.Labels["org.opencontainers.image.source"])
	shell := func(script string) (string, string, error) {
		return helmRun(t, cenv, "", nil, docker, "run", "--rm", "--network", "none", "--read-only", "--user", "999",
			"--entrypoint", "sh", image, "-c", script)
	}
	out, stderr, err := shell("tierwall-postrender --version && helm version --short && kustomize version && id -u")
	require.NoError(t, err, "%s%s", out, stderr)
	assert.Regexp(t, `^tierwall-postrender `+regexp.QuoteMeta(releaseVersion)+` \(commit .*\)\nv3\.\d+\.\d+\S*\nv5\.\d+\.\d+\n999\n$`, out)
	baked, stderr, err := helmRun(t, cenv, "", nil, docker, "run", "--rm", "--network", "none", "--entrypoint", "cat", image, cmpConfigPath)
	require.NoError(t, err, stderr)
	pluginText, err := os.ReadFile(filepath.Join(root, "examples", "argocd", "cmp", "plugin.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(pluginText), baked, "the image carries examples/argocd/cmp/plugin.yaml")

	p := readCMPPlugin(t, baked)
	// Every parameter the commands read is announced to the UI, and every announced one read.
	script := strings.Join(p.generate, "\n")
	var read []string
	for _, m := range regexp.MustCompile(`PARAM_([A-Z0-9_]+?)(?:_\$i\b|[^A-Z0-9_]|$)`).FindAllStringSubmatch(script, -1) {
		if !slices.Contains(read, m[1]) {
			read = append(read, m[1])
		}
	}
	var announced []string
	for _, a := range p.announced {
		announced = append(announced, regexp.MustCompile(`[^A-Z0-9_]`).ReplaceAllString(strings.ToUpper(a), "_"))
		assert.Equal(t, strings.Contains(script, "PARAM_"+announced[len(announced)-1]+"_$i"), p.announcedArrays[a],
			"parameter %s: read as an array exactly when announced as one", a)
	}
	slices.Sort(read)
	slices.Sort(announced)
	assert.Equal(t, announced, read)

	run := cmpRun{docker: docker, image: image, env: cenv}
	repo := copyExamples(t)
	for _, app := range readArgoApps(t, filepath.Join(root, "examples", "argocd", "cmp", "applications.yaml")) {
		t.Run(app.name, func(t *testing.T) {
			require.Equal(t, p.name, app.plugin, "the Application names the plugin")
			for _, param := range app.params {
				assert.Contains(t, p.announced, param.Name, "the Application sets an announced parameter")
			}
			out, stderr, err := run.run(t, p, repo, app)
			require.NoError(t, err, "generate: %s", stderr)
			plain := plainRender(t, helm, kustomize, repo, app)
			policies := checkRendered(t, out, plain, app.namespace)
			deny := policyNamed(policies, "default-deny-all")
			require.NotNil(t, deny)
			assert.Equal(t, app.name+"-default-deny-all", deny.Name, "the Application's name is the release")
			noMonitoring := slices.Contains(app.param("tierwall-args"), "--no-monitoring")
			assert.Equal(t, noMonitoring, policyNamed(policies, "allow-monitoring") == nil, "tierwall-args reach tierwall-postrender")
			for _, set := range app.param("helm-set") {
				k, v, _ := strings.Cut(set, "=")
				if k == "api.replicas" {
					assert.Contains(t, out, "replicas: "+v, "helm-set reaches helm template")
				}
			}
			if strings.Contains(plain, "helm.sh/hook:") {
				assert.True(t, selectsMigrate(t, policies), "in a pipe tierwall sees the chart's hooks and admits the migration Job")
			}
		})
	}

	chartApp := func(name string, params ...argoParam) argoApp {
		return argoApp{name: name, namespace: "shop", path: "examples/helm/three-tier", params: params}
	}
	str := func(s string) *string { return &s }

	t.Run("parameters: release-name, values-files, config", func(t *testing.T) {
		repo := copyExamples(t)
		chart := filepath.Join(repo, "examples", "helm", "three-tier")
		require.NoError(t, os.WriteFile(filepath.Join(chart, "values-prod.yaml"), []byte("api:\n  replicas: 7\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(chart, "tierwall.yaml"), []byte("apiVersion: tierwall.io/v1alpha1\nkind: TierWall\n"+
			"metadata:\n  name: tierwall\nspec:\n  dns: {profile: nodelocal}\n"), 0o644))
		app := chartApp("shop-prod", argoParam{Name: "release-name", String: str("shop")},
			argoParam{Name: "values-files", Array: []string{"values-prod.yaml"}}, argoParam{Name: "config", String: str("tierwall.yaml")})
		out, stderr, err := run.run(t, p, repo, app)
		require.NoError(t, err, "generate: %s", stderr)
		policies := checkRendered(t, out, plainRender(t, helm, kustomize, repo, app), "shop")
		assert.Contains(t, out, "replicas: 7")
		assert.Contains(t, out, "name: shop-api", "the release name is the parameter's")
		assert.Equal(t, "shop-default-deny-all", policyNamed(policies, "default-deny-all").Name)
		assert.Contains(t, testutil.String(t, policyNamed(policies, "allow-dns").Node), "169.254.20.10/32", "the config file reached tierwall")
	})

	t.Run("parameters: a file outside the source is refused", func(t *testing.T) {
		for _, bad := range []argoParam{
			{Name: "values-files", Array: []string{"values.yaml", "../../three-tier/app/api.yaml"}},
			{Name: "values-files", Array: []string{"/etc/passwd"}},
			{Name: "config", String: str("../tierwall.yaml")},
		} {
			out, stderr, err := run.run(t, p, copyExamples(t), chartApp("shop", bad))
			require.Error(t, err, "%v: %s", bad, out)
			assert.Contains(t, stderr, "a path inside the application's source")
			assert.Empty(t, strings.TrimSpace(out))
		}
	})

	t.Run("a failed render fails the sync", func(t *testing.T) {
		repo := copyExamples(t)
		chart := filepath.Join(repo, "examples", "helm", "three-tier")
		require.NoError(t, os.WriteFile(filepath.Join(chart, "templates", "broken.yaml"), []byte(`{{ fail "the chart is broken" }}`), 0o644))
		out, stderr, err := run.run(t, p, repo, chartApp("broken"))
		require.Error(t, err, "the render's failure is the plugin's")
		assert.Contains(t, stderr, "the chart is broken")
		assert.Empty(t, strings.TrimSpace(out), "no output for Argo CD to prune with")
	})

	t.Run("init fetches chart dependencies", func(t *testing.T) {
		base := t.TempDir()
		require.NoError(t, os.CopyFS(filepath.Join(base, "three-tier"), os.DirFS(filepath.Join(root, "examples", "helm", "three-tier"))))
		umbrella := filepath.Join(base, "umbrella")
		require.NoError(t, os.MkdirAll(filepath.Join(umbrella, "templates"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(umbrella, "Chart.yaml"), []byte("apiVersion: v2\nname: umbrella\nversion: 0.1.0\n"+
			"dependencies:\n  - name: three-tier\n    version: 0.1.0\n    repository: file://../three-tier\n"), 0o644))
		out, stderr, err := run.run(t, p, base, argoApp{name: "umbrella", namespace: "shop", path: "umbrella"})
		require.NoError(t, err, stderr)
		_, policies := splitOutput(t, out)
		assert.NotNil(t, policyNamed(policies, "default-deny-all"))
		assert.Contains(t, out, "# Source: umbrella/charts/three-tier/templates/api.yaml", "init ran helm dependency build")
	})
}

// helmChartRecipe reads examples/argocd/helm/values.yaml.
func helmChartRecipe(t *testing.T) *yaml.Node {
	t.Helper()
	return readDoc(t, filepath.Join(repoRoot(t), "examples", "argocd", "helm", "values.yaml"))
}

// argoChartObjects is what the argo-cd chart makes of the recipe's values, for the parts the
// recipe sets (argoproj/argo-helm: templates/argocd-configs/argocd-cmp-cm.yaml and the
// repo-server Deployment): the ConfigMap argocd-cmp-cm holding <plugin>.yaml, a
// ConfigManagementPlugin named after its key with the values as its spec, and the
// repo-server with repoServer.extraContainers and repoServer.volumes added to its own. (No
// chart is at hand offline: this is a stand-in, on argoInstallExcerpt's repo-server.)
func argoChartObjects(t *testing.T, values *yaml.Node) (configMap, deployment *yaml.Node) {
	t.Helper()
	plugins := manifest.Lookup(values, "configs", "cmp", "plugins")
	require.NotNil(t, plugins)
	data := map[string]string{}
	for i := 0; i+1 < len(plugins.Content); i += 2 {
		name := plugins.Content[i].Value
		spec := testutil.String(t, plugins.Content[i+1])
		cmp := "apiVersion: argoproj.io/v1alpha1\nkind: ConfigManagementPlugin\nmetadata:\n  name: " + name + "\nspec:\n" +
			regexp.MustCompile(`(?m)^(.)`).ReplaceAllString(spec, "  $1")
		data[name+".yaml"] = cmp
	}
	cm := yaml.NewMapRNode(nil)
	require.NoError(t, cm.PipeE(yaml.SetField("apiVersion", yaml.NewStringRNode("v1"))))
	require.NoError(t, cm.PipeE(yaml.SetField("kind", yaml.NewStringRNode("ConfigMap"))))
	require.NoError(t, cm.PipeE(yaml.SetK8sName("argocd-cmp-cm")))
	require.NoError(t, cm.PipeE(yaml.SetField("data", yaml.NewMapRNode(&data))))

	var dep *yaml.Node
	for _, o := range parseObjects(t, argoInstallExcerpt) {
		if manifest.String(o, "kind") == "Deployment" {
			dep = o
		}
	}
	require.NotNil(t, dep)
	spec := yaml.NewRNode(podSpec(dep))
	for _, field := range [][2]string{{"extraContainers", "containers"}, {"volumes", "volumes"}} {
		list, err := spec.Pipe(yaml.Lookup(field[1]))
		require.NoError(t, err)
		for _, item := range manifest.Items(values, "repoServer", field[0]) {
			require.NoError(t, list.PipeE(yaml.Append(item)))
		}
	}
	return cm.YNode(), dep
}

// TestArgoCDHelmChartRecipe runs recipe B as the argo-cd Helm chart installs it: the plugin
// of configs.cmp.plugins is the one of plugin.yaml, the sidecar of repoServer.extraContainers
// meets Argo CD's requirements and mounts it from argocd-cmp-cm, and the commands of the
// ConfigMap's plugin.yaml, run in the sidecar image, give what the baked plugin gives.
func TestArgoCDHelmChartRecipe(t *testing.T) {
	kustomize := tool(t, "KUSTOMIZE")
	docker := tool(t, "DOCKER")
	tierwallBin(t, "tierwall")
	root := repoRoot(t)
	values := helmChartRecipe(t)
	assert.Equal(t, "true", manifest.String(values, "configs", "cmp", "create"), "the chart writes argocd-cmp-cm")
	pluginText, err := os.ReadFile(filepath.Join(root, "examples", "argocd", "cmp", "plugin.yaml"))
	require.NoError(t, err)
	baked := parseObjects(t, string(pluginText))[0]
	assert.Equal(t, testutil.String(t, manifest.Lookup(baked, "spec")),
		testutil.String(t, manifest.Lookup(values, "configs", "cmp", "plugins", "tierwall")),
		"configs.cmp.plugins.tierwall is the spec of examples/argocd/cmp/plugin.yaml")

	cm, dep := argoChartObjects(t, values)
	checkPodVolumes(t, dep)
	spec := podSpec(dep)
	sidecar := named(t, manifest.Items(spec, "containers"), "tierwall-cmp")
	checkSidecar(t, spec, sidecar)
	assert.Regexp(t, `/tierwall-argocd-cmp:`, manifest.String(sidecar, "image"))
	mount := mountAt(t, sidecar, cmpConfigPath)
	key := manifest.String(mount, "subPath")
	assert.Equal(t, "tierwall.yaml", key, "the chart's key for plugin tierwall")
	vol := named(t, manifest.Items(spec, "volumes"), manifest.String(mount, "name"))
	assert.Equal(t, "argocd-cmp-cm", manifest.String(vol, "configMap", "name"))
	chartPlugin := manifest.String(cm, "data", key)
	require.NotEmpty(t, chartPlugin)

	// The chart's plugin.yaml, run in the image: what the baked one gives.
	image := cmpImage(t, docker, buildRelease(t, releaseVersion))
	p := readCMPPlugin(t, chartPlugin)
	assert.Equal(t, "tierwall", p.name)
	bakedPlugin := readCMPPlugin(t, string(pluginText))
	app := readArgoApps(t, filepath.Join(root, "examples", "argocd", "cmp", "applications.yaml"))[0]
	repo := copyExamples(t)
	cenv := containerEnv(t, docker)
	viaChart, stderr, err := cmpRun{docker: docker, image: image, env: cenv}.run(t, p, repo, app)
	require.NoError(t, err, "generate with the chart's plugin.yaml: %s", stderr)
	viaImage, stderr, err := cmpRun{docker: docker, image: image, env: cenv}.run(t, bakedPlugin, repo, app)
	require.NoError(t, err, "generate with the baked plugin.yaml: %s", stderr)
	assert.Equal(t, viaImage, viaChart)
	checkRendered(t, viaChart, plainRender(t, tool(t, "HELM3"), kustomize, repo, app), app.namespace)
}
