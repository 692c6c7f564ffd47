package e2e

// The GitOps, kpt and CI recipes of docs/pipelines.md, run as the recipes say:
// the commands are read from the example files (the Argo CD plugin's
// generate command, the repo-server patch's init containers, the GitHub
// workflow steps, the Kptfiles) and executed with the real binaries.

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/testutil"
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

// argoInstallExcerpt stands in for Argo CD's install.yaml (no network here): the two
// objects the overlays patch, as upstream writes them (volumes, mounts and the copyutil
// init container the plugin sidecar relies on).
const argoInstallExcerpt = `apiVersion: v1
kind: ConfigMap
metadata:
  labels:
    app.kubernetes.io/name: argocd-cm
    app.kubernetes.io/part-of: argocd
  name: argocd-cm
---
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app.kubernetes.io/component: repo-server
    app.kubernetes.io/name: argocd-repo-server
    app.kubernetes.io/part-of: argocd
  name: argocd-repo-server
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: argocd-repo-server
  template:
    metadata:
      labels:
        app.kubernetes.io/name: argocd-repo-server
    spec:
      automountServiceAccountToken: false
      containers:
      - args:
        - /usr/local/bin/argocd-repo-server
        image: quay.io/argoproj/argocd:v3.1.0
        name: argocd-repo-server
        ports:
        - containerPort: 8081
        - containerPort: 8084
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
          runAsNonRoot: true
          seccompProfile:
            type: RuntimeDefault
        volumeMounts:
        - mountPath: /app/config/ssh
          name: ssh-known-hosts
        - mountPath: /app/config/tls
          name: tls-certs
        - mountPath: /app/config/gpg/source
          name: gpg-keys
        - mountPath: /app/config/gpg/keys
          name: gpg-keyring
        - mountPath: /app/config/reposerver/tls
          name: argocd-repo-server-tls
        - mountPath: /tmp
          name: tmp
        - mountPath: /helm-working-dir
          name: helm-working-dir
        - mountPath: /home/argocd/cmp-server/plugins
          name: plugins
      initContainers:
      - command:
        - /bin/cp
        - -n
        - /usr/local/bin/argocd
        - /var/run/argocd/argocd-cmp-server
        image: quay.io/argoproj/argocd:v3.1.0
        name: copyutil
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
          runAsNonRoot: true
          seccompProfile:
            type: RuntimeDefault
        volumeMounts:
        - mountPath: /var/run/argocd
          name: var-files
      serviceAccountName: argocd-repo-server
      volumes:
      - configMap:
          name: argocd-ssh-known-hosts-cm
        name: ssh-known-hosts
      - configMap:
          name: argocd-tls-certs-cm
        name: tls-certs
      - configMap:
          name: argocd-gpg-keys-cm
        name: gpg-keys
      - emptyDir: {}
        name: gpg-keyring
      - emptyDir: {}
        name: tmp
      - emptyDir: {}
        name: helm-working-dir
      - name: argocd-repo-server-tls
        secret:
          items:
          - key: tls.crt
            path: tls.crt
          - key: tls.key
            path: tls.key
          - key: ca.crt
            path: ca.crt
          optional: true
          secretName: argocd-repo-server-tls
      - emptyDir: {}
        name: var-files
      - emptyDir: {}
        name: plugins
`

// buildArgoOverlay builds examples/argocd/<name> with the real kustomize, its remote
// Argo CD install.yaml replaced by argoInstallExcerpt.
func buildArgoOverlay(t *testing.T, kustomize, name string) []*yaml.Node {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(repoRoot(t), "examples", "argocd", name))))
	kfile := filepath.Join(dir, "kustomization.yaml")
	k := readDoc(t, kfile)
	remote := 0
	for _, r := range manifest.Items(k, "resources") {
		if strings.HasPrefix(r.Value, "https://raw.githubusercontent.com/argoproj/argo-cd/") &&
			strings.HasSuffix(r.Value, "/manifests/install.yaml") {
			r.Value = "argocd-install.yaml"
			remote++
		}
	}
	require.Equal(t, 1, remote, "%s names Argo CD's install.yaml once", kfile)
	require.NoError(t, os.WriteFile(kfile, []byte(testutil.String(t, k)), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "argocd-install.yaml"), []byte(argoInstallExcerpt), 0o644))
	out, stderr, err := runCmd(t, dir, nil, kustomize, "build", ".")
	require.NoError(t, err, stderr)
	objs := parseObjects(t, out)
	for _, o := range objs {
		assert.Equal(t, "argocd", manifest.String(o, "metadata", "namespace"), "everything goes to Argo CD's namespace")
	}
	return objs
}

// argoApp is what Argo CD knows of an Application when it renders it.
type argoApp struct {
	name, namespace, path, repoURL, revision, plugin string
	pluginEnv                                        [][2]string
	params                                           []argoParam
}

// argoParam is a plugin parameter set in an Application (spec.source.plugin.parameters):
// a string, an array or a map.
type argoParam struct {
	Name   string            `json:"name"`
	String *string           `json:"string,omitempty"`
	Array  []string          `json:"array,omitempty"`
	Map    map[string]string `json:"map,omitempty"`
}

func readArgoApps(t *testing.T, path string) []argoApp {
	t.Helper()
	var apps []argoApp
	for _, n := range readObjects(t, path) {
		o := n.YNode()
		require.Equal(t, "argoproj.io/v1alpha1", manifest.String(o, "apiVersion"))
		require.Equal(t, "Application", manifest.String(o, "kind"))
		a := argoApp{
			name:      manifest.String(o, "metadata", "name"),
			namespace: manifest.String(o, "spec", "destination", "namespace"),
			path:      manifest.String(o, "spec", "source", "path"),
			repoURL:   manifest.String(o, "spec", "source", "repoURL"),
			revision:  manifest.String(o, "spec", "source", "targetRevision"),
			plugin:    manifest.String(o, "spec", "source", "plugin", "name"),
		}
		for _, e := range manifest.Items(o, "spec", "source", "plugin", "env") {
			a.pluginEnv = append(a.pluginEnv, [2]string{manifest.String(e, "name"), manifest.String(e, "value")})
		}
		for _, e := range manifest.Items(o, "spec", "source", "plugin", "parameters") {
			p := argoParam{Name: manifest.String(e, "name"), Array: strs(e, "array"), Map: manifest.StringMap(e, "map")}
			if v := manifest.Lookup(e, "string"); v != nil {
				p.String = &v.Value
			}
			if len(p.Map) == 0 {
				p.Map = nil
			}
			a.params = append(a.params, p)
		}
		require.NotEmpty(t, a.namespace, "%s: the policies need the destination namespace", a.name)
		_, err := os.Stat(filepath.Join(repoRoot(t), a.path))
		require.NoError(t, err, "%s: spec.source.path must exist in this repository", a.name)
		apps = append(apps, a)
	}
	require.NotEmpty(t, apps)
	return apps
}

// buildEnv is the environment Argo CD gives tools rendering app (the build environment,
// docs/user-guide/build-environment.md), plus the plugin env as ARGOCD_ENV_<name>.
func (a argoApp) buildEnv() []string {
	env := []string{
		"ARGOCD_APP_NAME=" + a.name,
		"ARGOCD_APP_NAMESPACE=" + a.namespace,
		"ARGOCD_APP_REVISION=0123456789abcdef0123456789abcdef01234567",
		"ARGOCD_APP_REVISION_SHORT=0123456",
		"ARGOCD_APP_SOURCE_PATH=" + a.path,
		"ARGOCD_APP_SOURCE_REPO_URL=" + a.repoURL,
		"ARGOCD_APP_SOURCE_TARGET_REVISION=" + a.revision,
		"KUBE_VERSION=1.32.0",
		"KUBE_API_VERSIONS=v1,apps/v1,batch/v1,networking.k8s.io/v1,policy/v1",
	}
	for _, kv := range a.pluginEnv {
		env = append(env, "ARGOCD_ENV_"+kv[0]+"="+kv[1])
	}
	return append(env, a.paramEnv()...)
}

// paramEnv is how Argo CD hands the plugin parameters over (ApplicationSourcePluginParameters
// .Environ): all of them as JSON in ARGOCD_APP_PARAMETERS, and each as PARAM_<NAME> (a string),
// PARAM_<NAME>_<i> (an array) or PARAM_<NAME>_<KEY> (a map), names upper-cased with every
// other character than A-Z, 0-9 and _ made _. Empty values are not passed (the CMP server
// drops them).
func (a argoApp) paramEnv() []string {
	if len(a.params) == 0 {
		return nil
	}
	data, err := json.Marshal(a.params)
	if err != nil {
		panic(err)
	}
	env := []string{"ARGOCD_APP_PARAMETERS=" + string(data)}
	escape := func(s string) string {
		return regexp.MustCompile(`[^A-Z0-9_]`).ReplaceAllString(strings.ToUpper(s), "_")
	}
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	for _, p := range a.params {
		base := "PARAM_" + escape(p.Name)
		if p.String != nil {
			add(base, *p.String)
		}
		for _, k := range slices.Sorted(maps.Keys(p.Map)) {
			add(base+"_"+escape(k), p.Map[k])
		}
		for i, v := range p.Array {
			add(fmt.Sprintf("%s_%d", base, i), v)
		}
	}
	return env
}

// param returns the values of the parameter name (a string is one value).
func (a argoApp) param(name string) []string {
	for _, p := range a.params {
		if p.Name == name {
			if p.String != nil {
				return []string{*p.String}
			}
			return p.Array
		}
	}
	return nil
}

// staticCopier returns a statically linked program that copies its first argument to its
// second when called as cp: the busybox of this machine when there is a static one (the
// recipe's first init container copies busybox's), else a small Go stand-in.
func staticCopier(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("busybox"); err == nil && isStatic(p) {
		t.Logf("the copier is %s (static busybox)", p)
		return p
	}
	dir := t.TempDir()
	src := "package main\n\nimport (\n\t\"io\"\n\t\"os\"\n)\n\nfunc main() {\n" +
		"\tin, err := os.Open(os.Args[1])\n\tif err != nil {\n\t\tpanic(err)\n\t}\n" +
		"\tfi, err := in.Stat()\n\tif err != nil {\n\t\tpanic(err)\n\t}\n" +
		"\tout, err := os.OpenFile(os.Args[2], os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())\n\tif err != nil {\n\t\tpanic(err)\n\t}\n" +
		"\tif _, err := io.Copy(out, in); err != nil {\n\t\tpanic(err)\n\t}\n\tif err := out.Close(); err != nil {\n\t\tpanic(err)\n\t}\n}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module cp\n\ngo 1.22\n"), 0o644))
	bin := filepath.Join(dir, "cp")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "building the stand-in copier: %s", out)
	t.Logf("no static busybox here: a static Go cp stands in for it")
	return bin
}

func isStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// TestArgoCDExecRecipe runs recipe A: the repo-server patch's init containers copy the
// binary out of the tierwall image (run with podman, as the kubelet would run them), and
// the repo-server's kustomize, with argocd-cm's buildOptions, runs it from its PATH.
func TestArgoCDExecRecipe(t *testing.T) {
	kustomize := tool(t, "KUSTOMIZE")
	docker := tool(t, "DOCKER")
	tierwallBin(t, "tierwall")
	root := repoRoot(t)
	objs := buildArgoOverlay(t, kustomize, "exec")

	cm := findObject(t, objs, "ConfigMap", "argocd-cm")
	buildOptions := strings.Fields(manifest.String(cm, "data", "kustomize.buildOptions"))
	assert.Contains(t, buildOptions, "--enable-alpha-plugins")
	assert.Contains(t, buildOptions, "--enable-exec", "without it kustomize skips the function silently")

	dep := findObject(t, objs, "Deployment", "argocd-repo-server")
	checkPodVolumes(t, dep)
	spec := podSpec(dep)
	inits := manifest.Items(spec, "initContainers")
	require.NotNil(t, named(t, inits, "copyutil"), "Argo CD's own init container stays")
	copier, install := named(t, inits, "tierwall-copier"), named(t, inits, "tierwall-install")
	repoServer := named(t, manifest.Items(spec, "containers"), "argocd-repo-server")

	// The chain: the copier puts cp into the shared volume, the install container runs it
	// to put tierwall next to it, the repo-server mounts that file on its PATH.
	onPath := mountAt(t, repoServer, "/usr/local/bin/tierwall")
	volume := manifest.String(onPath, "name")
	vol := named(t, manifest.Items(spec, "volumes"), volume)
	require.NotNil(t, manifest.Lookup(vol, "emptyDir"), "volume %s is an emptyDir", volume)
	copierCmd, installCmd := strs(copier, "command"), strs(install, "command")
	require.Len(t, copierCmd, 3)
	require.GreaterOrEqual(t, len(installCmd), 3)
	assert.Equal(t, filepath.Join(mountOf(t, copier, volume), filepath.Base(copierCmd[2])), copierCmd[2])
	toolsDir := mountOf(t, install, volume)
	assert.Equal(t, filepath.Join(toolsDir, filepath.Base(copierCmd[2])), installCmd[0], "the install container runs the copied cp")
	dest := installCmd[len(installCmd)-1]
	assert.Equal(t, filepath.Join(toolsDir, manifest.String(onPath, "subPath")), dest, "the repo-server mounts what the install container writes")
	image := manifest.String(install, "image")
	assert.NotEqual(t, "tierwall", image, "the images: transformer names the tierwall image")
	assert.True(t, strings.HasSuffix(strings.Split(image, ":")[0], "/tierwall"), image)

	// The install container, as the kubelet runs it: the local image (the recipe names your
	// registry's copy of it), its command, its user, a read-only root, the shared volume.
	env := containerEnv(t, docker)
	buildImage(t, docker, env)
	tools := t.TempDir()
	require.NoError(t, os.Chmod(tools, 0o777), "an emptyDir is world-writable")
	cp, err := os.ReadFile(staticCopier(t))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(tools, filepath.Base(copierCmd[2])), cp, 0o755))
	user := manifest.String(install, "securityContext", "runAsUser")
	require.NotEmpty(t, user)
	run := []string{docker, "run", "--rm", "--network", "none", "--user", user, "-v", tools + ":" + toolsDir,
		"--entrypoint", installCmd[0]}
	if manifest.String(install, "securityContext", "readOnlyRootFilesystem") == "true" {
		run = append(run, "--read-only")
	}
	run = append(append(append(run, containerImage), installCmd[1:]...), strs(install, "args")...)
	out, stderr, err := runEnv(t, "", env, nil, run...)
	require.NoError(t, err, "the install container: %s%s", out, stderr)
	installed := filepath.Join(tools, filepath.Base(dest))
	out, stderr, err = runCmd(t, "", nil, installed, "version")
	require.NoError(t, err, stderr)
	assert.True(t, strings.HasPrefix(out, "tierwall "), out)

	// The repo-server: `kustomize build <path> <buildOptions>`, tierwall on its PATH.
	for _, app := range readArgoApps(t, filepath.Join(root, "examples", "argocd", "exec", "application.yaml")) {
		t.Run(app.name, func(t *testing.T) {
			assert.Empty(t, app.plugin, "recipe A needs no plugin: Argo CD's own kustomize runs tierwall")
			renv := append([]string{"PATH=" + tools + ":" + sysPath, "HOME=" + t.TempDir()}, app.buildEnv()...)
			out, stderr, err := runEnv(t, root, renv, nil, append([]string{kustomize, "build", app.path}, buildOptions...)...)
			require.NoError(t, err, stderr)
			// The same build without --enable-exec is the plain render: kustomize skips the
			// function (TestKustomizeWithoutExecSkipsSilently).
			plain, stderr, err := runEnv(t, root, renv, nil, kustomize, "build", app.path, "--enable-alpha-plugins")
			require.NoError(t, err, stderr)
			_, plainPolicies := splitOutput(t, plain)
			require.Empty(t, plainPolicies)
			docs, policies := splitOutput(t, out)
			plainDocs, _ := splitOutput(t, plain)
			assert.Equal(t, normalized(t, plainDocs), normalized(t, docs), "every object comes out unchanged")
			require.NotNil(t, policyNamed(policies, "default-deny-all"), out)
			assert.Equal(t, []string{app.namespace}, policyNamespaces(policies), "the app's objects are in its destination namespace")
			checkPasses(t, out, "")
		})
	}
}

// TestArgoCDOverlaysAcceptedByAPIServer sends what the recipes change in Argo CD (the
// repo-server Deployment and argocd-cm of both overlays; the repo-server and argocd-cmp-cm the
// argo-cd chart makes of the Helm recipe's values) through a real API server with strict
// validation.
func TestArgoCDOverlaysAcceptedByAPIServer(t *testing.T) {
	kustomize := tool(t, "KUSTOMIZE")
	kubectl := tool(t, "KUBECTL")
	apiserver, etcd := tool(t, "KUBE_APISERVER"), tool(t, "ETCD")
	k := startAPIServer(t, repoRoot(t), apiserver, etcd, kubectl)
	_, stderr, err := k.run(nil, "create", "namespace", "argocd")
	require.NoError(t, err, stderr)
	for _, overlay := range []string{"exec", "cmp", "helm chart values"} {
		t.Run(overlay, func(t *testing.T) {
			var objs []*yaml.RNode
			if overlay == "helm chart values" {
				cm, dep := argoChartObjects(t, helmChartRecipe(t))
				objs = []*yaml.RNode{yaml.NewRNode(cm), yaml.NewRNode(dep)}
			} else {
				for _, o := range buildArgoOverlay(t, kustomize, overlay) {
					objs = append(objs, yaml.NewRNode(o))
				}
			}
			out, stderr, err := k.dryRunApply(objs, "argocd")
			require.NoError(t, err, "%s%s", out, stderr)
			assert.Len(t, strings.Fields(out), len(objs), out)
			assert.NotContains(t, stderr, "Warning", "no field the server drops or warns about")
		})
	}
}

// ---------------------------------------------------------------------------------------------
// Flux

// workflowStep is a step of a GitHub Actions job.
type workflowStep struct {
	id, run string
	env     map[string]string
}

// readWorkflow returns the steps of the workflow's only job and the environment the
// workflow and the job set.
func readWorkflow(t *testing.T, path string) (map[string]workflowStep, map[string]string) {
	t.Helper()
	wf := readDoc(t, path)
	env := manifest.StringMap(wf, "env")
	jobs := manifest.Lookup(wf, "jobs")
	require.NotNil(t, jobs)
	require.Len(t, jobs.Content, 2, "one job")
	job := jobs.Content[1]
	for k, v := range manifest.StringMap(job, "env") {
		env[k] = v
	}
	steps := map[string]workflowStep{}
	for _, s := range manifest.Items(job, "steps") {
		id := manifest.String(s, "id")
		if id == "" {
			continue
		}
		steps[id] = workflowStep{id: id, run: manifest.String(s, "run"), env: manifest.StringMap(s, "env")}
	}
	return steps, env
}

// runner runs workflow steps the way a GitHub-hosted runner does: bash -eo pipefail in
// the checkout, GITHUB_* and RUNNER_TEMP set, GITHUB_PATH additions on the PATH of the
// following steps.
type runner struct {
	t                        *testing.T
	workspace, temp, ghPath  string
	basePath                 string
	workflowEnv, overrideEnv map[string]string
	lastStdout, lastStderr   string
}

func newRunner(t *testing.T, workspace, basePath string, workflowEnv, override map[string]string) *runner {
	r := &runner{t: t, workspace: workspace, temp: t.TempDir(), basePath: basePath, workflowEnv: workflowEnv, overrideEnv: override}
	r.ghPath = filepath.Join(r.temp, "github_path")
	require.NoError(t, os.WriteFile(r.ghPath, nil, 0o644))
	return r
}

func (r *runner) path() string {
	data, err := os.ReadFile(r.ghPath)
	require.NoError(r.t, err)
	lines := strings.Fields(string(data))
	slices.Reverse(lines) // the last one added comes first
	return strings.Join(append(lines, r.basePath), ":")
}

func (r *runner) run(step workflowStep) error {
	r.t.Helper()
	require.NotEmpty(r.t, step.run, "step %s has no run", step.id)
	script := filepath.Join(r.temp, step.id+".sh")
	require.NoError(r.t, os.WriteFile(script, []byte(step.run), 0o644))
	env := []string{
		"PATH=" + r.path(), "HOME=" + filepath.Join(r.temp, "home"), "RUNNER_TEMP=" + r.temp, "GITHUB_PATH=" + r.ghPath,
		"GITHUB_WORKSPACE=" + r.workspace, "GITHUB_SHA=" + gitHead(r.t, r.workspace), "GITHUB_REF_NAME=main",
		"GITHUB_REPOSITORY=example/shop", "GITHUB_SERVER_URL=https://github.com", "GITHUB_ACTOR=example",
		"GIT_CONFIG_NOSYSTEM=1",
	}
	for _, m := range []map[string]string{r.workflowEnv, step.env, r.overrideEnv} {
		for k, v := range m {
			env = append(env, k+"="+v)
		}
	}
	var err error
	r.lastStdout, r.lastStderr, err = runEnv(r.t, r.workspace, env, nil, "bash", "--noprofile", "--norc", "-eo", "pipefail", script)
	return err
}

func gitHead(t *testing.T, dir string) string {
	out, stderr, err := runCmd(t, dir, nil, "git", "rev-parse", "HEAD")
	require.NoError(t, err, stderr)
	return strings.TrimSpace(out)
}

// git runs git in dir with a private, fixed identity.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	env := append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com")
	out, stderr, err := runEnv(t, dir, env, nil, append([]string{"git"}, args...)...)
	require.NoError(t, err, "git %s: %s", strings.Join(args, " "), stderr)
	return strings.TrimSpace(out)
}

// renderCall is one render.sh line of a workflow's render step.
type renderCall struct {
	env                  map[string]string
	script, src, out, ns string
}

var renderLine = regexp.MustCompile(`^\s*((?:[A-Z_]+=\S*\s+)*)(\S*render\.sh)\s+(\S+)\s+(\S+)\s+(\S+)\s*$`)

func renderCalls(t *testing.T, run string) []renderCall {
	t.Helper()
	var calls []renderCall
	for _, line := range strings.Split(run, "\n") {
		m := renderLine.FindStringSubmatch(line)
		if m == nil {
			require.Empty(t, strings.TrimSpace(line), "the render step runs render.sh lines only: %q", line)
			continue
		}
		c := renderCall{env: map[string]string{}, script: m[2], src: m[3], out: m[4], ns: m[5]}
		for _, kv := range strings.Fields(m[1]) {
			k, v, _ := strings.Cut(kv, "=")
			c.env[k] = v
		}
		calls = append(calls, c)
	}
	require.NotEmpty(t, calls)
	return calls
}

// TestFluxRecipes runs each Flux option's workflow steps (install tierwall from a local
// copy of the release, render, and for the commit option the commit to a local origin),
// then checks the rendered folders and that the Flux objects apply exactly them.
func TestFluxRecipes(t *testing.T) {
	kustomize := tool(t, "KUSTOMIZE")
	helm := tool(t, "HELM3")
	tierwallBin(t, "tierwall")
	_, err := exec.LookPath("git")
	require.NoError(t, err, "the commit option needs git")
	root := repoRoot(t)
	rel := buildRelease(t, releaseVersion)
	releaseURL := serveRelease(t, rel)
	// What the workflows' setup steps install.
	setup := binDir(t, map[string]string{"helm": helm, "kustomize": kustomize})

	for _, option := range []string{"commit", "oci"} {
		t.Run(option, func(t *testing.T) {
			steps, wfEnv := readWorkflow(t, filepath.Join(root, "examples", "flux", option, "workflow.yaml"))
			require.Contains(t, wfEnv, "TIERWALL_RELEASE_URL")
			assert.True(t, strings.HasPrefix(wfEnv["TIERWALL_RELEASE_URL"], "https://"), "the release folder (replaced here by a local copy)")

			// The checkout: this repository's examples, committed, with a local origin.
			repo := copyExamples(t)
			origin := filepath.Join(t.TempDir(), "origin.git")
			git(t, filepath.Dir(origin), "init", "--quiet", "--bare", origin)
			git(t, repo, "init", "--quiet", "-b", "main")
			git(t, repo, "add", ".")
			git(t, repo, "commit", "--quiet", "-m", "app")
			git(t, repo, "remote", "add", "origin", "file://"+origin)
			git(t, repo, "push", "--quiet", "origin", "main")

			r := newRunner(t, repo, setup+":"+sysPath, wfEnv, map[string]string{"TIERWALL_RELEASE_URL": releaseURL})
			require.NoError(t, r.run(steps["install-tierwall"]), "install-tierwall: %s%s", r.lastStdout, r.lastStderr)
			for _, cmd := range []string{"tierwall", "tierwall-postrender"} {
				p, err := exec.LookPath(filepath.Join(strings.Split(r.path(), ":")[0], cmd))
				require.NoError(t, err, "install-tierwall puts %s on the PATH", cmd)
				out, stderr, err := runCmd(t, "", nil, p, map[string]string{"tierwall": "version", "tierwall-postrender": "--version"}[cmd])
				require.NoError(t, err, stderr)
				assert.True(t, strings.HasPrefix(out, cmd+" "+releaseVersion+" (commit "), out)
			}

			require.NoError(t, r.run(steps["render"]), "render: %s%s", r.lastStdout, r.lastStderr)
			calls := renderCalls(t, steps["render"].run)
			rendered := map[string]renderCall{} // by output folder
			for _, c := range calls {
				require.Equal(t, "examples/flux/render.sh", c.script, "the render step runs this repository's render.sh")
				data, err := os.ReadFile(filepath.Join(repo, c.out, "manifests.yaml"))
				require.NoError(t, err, "render.sh writes %s/manifests.yaml", c.out)
				src := filepath.Join(repo, c.src)
				var plain, stderr string
				if _, err := os.Stat(filepath.Join(src, "Chart.yaml")); err == nil {
					release := c.env["RELEASE"]
					if release == "" {
						release = filepath.Base(c.src)
					}
					plain, stderr, err = helmRun(t, helmEnv(t), "", nil, helm, "template", release, src, "--namespace", c.ns, "--include-crds")
					require.NoError(t, err, stderr)
				} else {
					plain, stderr, err = runCmd(t, "", nil, kustomize, "build", src)
					require.NoError(t, err, stderr)
				}
				checkRendered(t, string(data), plain, c.ns)
				rendered[filepath.Clean(c.out)] = c
			}

			// The Flux objects apply each rendered folder, with its namespace.
			fluxObjs := readObjects(t, filepath.Join(root, "examples", "flux", option, "flux.yaml"))
			sourceKind := map[string]string{"commit": "GitRepository", "oci": "OCIRepository"}[option]
			var source *yaml.Node
			namespaces := map[string]bool{}
			var kustomizations []*yaml.Node
			for _, o := range fluxObjs {
				n := o.YNode()
				switch manifest.String(n, "kind") {
				case sourceKind:
					require.Nil(t, source, "one source")
					source = n
				case "Kustomization":
					require.Equal(t, "kustomize.toolkit.fluxcd.io/v1", manifest.String(n, "apiVersion"))
					kustomizations = append(kustomizations, n)
				case "Namespace":
					namespaces[manifest.String(n, "metadata", "name")] = true
				default:
					t.Errorf("unexpected %s in flux.yaml", manifest.String(n, "kind"))
				}
			}
			require.NotNil(t, source, "flux.yaml has a %s", sourceKind)
			assert.Equal(t, "source.toolkit.fluxcd.io/v1", manifest.String(source, "apiVersion"))

			// Where the rendered folders are, seen from the source's root.
			artifactRoot := "."
			if option == "oci" {
				push := steps["push"].run
				m := regexp.MustCompile(`--path=(\S+)`).FindStringSubmatch(push)
				require.NotNil(t, m, "the push step names the folder it pushes")
				artifactRoot = m[1]
				assert.Regexp(t, `flux push artifact "\$artifact:`, push)
				url := manifest.String(source, "spec", "url")
				assert.True(t, strings.HasPrefix(url, "oci://ghcr.io/") && strings.HasSuffix(url, "/manifests"), url)
				assert.Contains(t, push, `artifact="oci://ghcr.io/${GITHUB_REPOSITORY,,}/manifests"`)
				assert.Contains(t, push, "--tag "+manifest.String(source, "spec", "ref", "tag"), "the tag the OCIRepository follows")
			} else {
				m := regexp.MustCompile(`refs/heads/(\S+)"`).FindStringSubmatch(steps["commit"].run)
				require.NotNil(t, m)
				assert.Equal(t, m[1], manifest.String(source, "spec", "ref", "branch"), "Flux watches the branch the workflow pushes")
			}
			applied := map[string]bool{}
			for _, k := range kustomizations {
				name := manifest.String(k, "metadata", "name")
				assert.Equal(t, sourceKind, manifest.String(k, "spec", "sourceRef", "kind"), name)
				assert.Equal(t, manifest.String(source, "metadata", "name"), manifest.String(k, "spec", "sourceRef", "name"), name)
				assert.Equal(t, "true", manifest.String(k, "spec", "prune"), name)
				folder := filepath.Join(artifactRoot, manifest.String(k, "spec", "path"))
				c, ok := rendered[folder]
				require.True(t, ok, "Kustomization %s applies %s, which the workflow does not render", name, folder)
				applied[folder] = true
				// Objects without a namespace (a chart's) need the Kustomization to name it.
				target := manifest.String(k, "spec", "targetNamespace")
				if target != "" {
					assert.Equal(t, c.ns, target, name)
					assert.True(t, namespaces[target], "flux.yaml creates namespace %s: the chart does not", target)
				}
				data, err := os.ReadFile(filepath.Join(repo, folder, "manifests.yaml"))
				require.NoError(t, err)
				var objs []manifest.Object
				for i, n := range parseObjects(t, string(data)) {
					objs = append(objs, manifest.FromNode(i, n))
				}
				scopes := manifest.NewScopes(objs)
				for _, o := range objs {
					if ns, _ := scopes.Namespaced(o); ns && o.Namespace == "" {
						assert.Equal(t, c.ns, target, "%s: %s %s has no namespace: the Kustomization needs targetNamespace", name, o.Kind, o.Name)
					}
				}
			}
			assert.Len(t, applied, len(rendered), "every rendered folder is applied")

			if option == "commit" {
				require.NoError(t, r.run(steps["commit"]), "commit: %s%s", r.lastStdout, r.lastStderr)
				first := git(t, origin, "rev-parse", "rendered")
				files := strings.Fields(git(t, origin, "ls-tree", "-r", "--name-only", "rendered"))
				var want []string
				for folder := range rendered {
					want = append(want, filepath.ToSlash(filepath.Join(folder, "manifests.yaml")))
				}
				sort.Strings(want)
				assert.Equal(t, want, files, "the branch holds rendered/ only")
				for _, f := range files {
					data, err := os.ReadFile(filepath.Join(repo, f))
					require.NoError(t, err)
					assert.Equal(t, strings.TrimSpace(string(data)), git(t, origin, "show", "rendered:"+f))
				}
				assert.Empty(t, git(t, repo, "status", "--porcelain", "--untracked-files=no"), "the checkout is left as it is")

				require.NoError(t, r.run(steps["commit"]), "commit again: %s%s", r.lastStdout, r.lastStderr)
				assert.Equal(t, first, git(t, origin, "rev-parse", "rendered"), "nothing to commit when nothing changed")

				f := filepath.Join(repo, want[0])
				require.NoError(t, os.WriteFile(f, []byte("# changed\n"), 0o644))
				require.NoError(t, r.run(steps["commit"]), "commit a change: %s%s", r.lastStdout, r.lastStderr)
				assert.Equal(t, first, git(t, origin, "rev-parse", "rendered^"), "one commit on top of the last")
			}
		})
	}

	t.Run("render.sh fails closed", func(t *testing.T) {
		repo := copyExamples(t)
		script := filepath.Join(repo, "examples", "flux", "render.sh")
		bins := binDir(t, map[string]string{"helm": helm, "kustomize": kustomize,
			"tierwall": tierwallBin(t, "tierwall"), "tierwall-postrender": tierwallBin(t, "tierwall-postrender")})
		env := []string{"PATH=" + bins + ":" + sysPath, "HOME=" + t.TempDir()}

		// A failed render leaves the last good output alone.
		chart := filepath.Join(repo, "examples", "helm", "three-tier")
		out := filepath.Join(repo, "rendered", "shop")
		require.NoError(t, os.MkdirAll(out, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(out, "manifests.yaml"), []byte("# last good render\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(chart, "templates", "broken.yaml"), []byte(`{{ fail "the chart is broken" }}`), 0o644))
		_, stderr, err := runEnv(t, repo, env, nil, script, chart, out, "shop")
		require.Error(t, err)
		assert.Contains(t, stderr, "the chart is broken")
		data, err := os.ReadFile(filepath.Join(out, "manifests.yaml"))
		require.NoError(t, err)
		assert.Equal(t, "# last good render\n", string(data))
		require.NoError(t, os.Remove(filepath.Join(chart, "templates", "broken.yaml")))

		// A chart that renders nothing would prune the application.
		empty := filepath.Join(repo, "empty")
		require.NoError(t, os.MkdirAll(filepath.Join(empty, "templates"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(empty, "Chart.yaml"), []byte("apiVersion: v2\nname: empty\nversion: 0.1.0\n"), 0o644))
		_, stderr, err = runEnv(t, repo, env, nil, script, empty, filepath.Join(repo, "rendered", "empty"), "shop")
		require.Error(t, err)
		assert.Contains(t, stderr, "rendered no object")

		// A folder it did not write is not its to replace.
		require.NoError(t, os.WriteFile(filepath.Join(out, "kustomization.yaml"), []byte("resources: []\n"), 0o644))
		_, stderr, err = runEnv(t, repo, env, nil, script, chart, out, "shop")
		require.Error(t, err)
		assert.Contains(t, stderr, "not touching it")

		// TIERWALL_CONFIG reaches tierwall-postrender and tierwall check.
		cfg := filepath.Join(repo, "no-monitoring.yaml")
		require.NoError(t, os.WriteFile(cfg, []byte("apiVersion: tierwall.io/v1alpha1\nkind: TierWall\nmetadata:\n  name: tierwall\n"+
			"spec:\n  monitoring: {enabled: false}\n"), 0o644))
		configured := filepath.Join(repo, "rendered", "configured")
		_, stderr, err = runEnv(t, repo, append(env, "TIERWALL_CONFIG="+cfg), nil, script, chart, configured, "shop")
		require.NoError(t, err, stderr)
		data, err = os.ReadFile(filepath.Join(configured, "manifests.yaml"))
		require.NoError(t, err)
		_, policies := splitOutput(t, string(data))
		require.NotNil(t, policyNamed(policies, "default-deny-all"))
		assert.Nil(t, policyNamed(policies, "allow-monitoring"))

		// Findings of tierwall check fail the job: here a policy of the chart's own that
		// admits everyone.
		open := filepath.Join(chart, "templates", "allow-everything.yaml")
		require.NoError(t, os.WriteFile(open, []byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"+
			"metadata:\n  name: allow-everything\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n    - {}\n"), 0o644))
		fresh := filepath.Join(repo, "rendered", "open")
		_, stderr, err = runEnv(t, repo, env, nil, script, chart, fresh, "shop")
		require.Error(t, err, "a policy open to every source is a finding: %s", stderr)
		assert.Contains(t, stderr, "tierwall check failed")
		_, statErr := os.Stat(filepath.Join(fresh, "manifests.yaml"))
		assert.True(t, os.IsNotExist(statErr), "nothing written")
	})
}

// ---------------------------------------------------------------------------------------------
// kpt

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
	files, err := filepath.Glob(filepath.Join(root, "pkg", "*", "*_test.go"))
	require.NoError(t, err)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		src.Write(data)
	}
	names := regexp.MustCompile("`(Test[A-Za-z0-9]+)`").FindAllStringSubmatch(text, -1)
	require.NotEmpty(t, names)
	for _, m := range names {
		assert.Contains(t, src.String(), "func "+m[1]+"(t *testing.T)", "docs/pipelines.md names %s", m[1])
	}
	for _, m := range regexp.MustCompile(`\]\(\.\./([^)#]+)\)`).FindAllStringSubmatch(text, -1) {
		assert.True(t, fileExists(filepath.Join(root, m[1])), "docs/pipelines.md links to %s", m[1])
	}
}
