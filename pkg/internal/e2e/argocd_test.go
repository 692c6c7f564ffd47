//go:build e2e

package e2e

// The Argo CD recipes of docs/pipelines.md, run as they say: the plugin's
// generate command and the repo-server patch's init containers, read from the
// example files and executed with the real binaries.

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
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

// ---------------------------------------------------------------------------------------------
// Shared helpers

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
