//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/check"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/stream"
)

// Several releases in one namespace, end to end (issue 15, docs/releases.md):
// two releases of one chart installed side by side into a real kube-apiserver
// with Helm 3 and Helm 4, two Argo CD applications and two kustomize overlays
// rendered into one namespace. Each render must install beside the other,
// keep its own allows, and leave every pod default-denied whichever of them
// is removed. Every claim is read from the final object set through
// pkg/analysis, which shares no code with the generator.

// podinfoPort is the pod and Service port of testdata/e2e/charts/podinfo-like.
const podinfoPort = 9898

// podinfoCallsBackend is the frontend release's value that makes it call the
// backend release's Service by its in-cluster name.
const podinfoCallsBackend = "backendURL=http://backend-podinfo:9898"

// podinfoPolicies are the policies tierwall writes for one release of the
// chart, with no caller named: its namespace-wide policies carry the release.
func podinfoPolicies(release string) []string {
	return []string{
		release + "-allow-dns",
		release + "-default-deny-all",
		release + "-fallback-egress",
		release + "-podinfo-fallback-ingress",
	}
}

// TestReleasesHelmInstall installs two releases of the chart, backend then
// frontend (which calls backend, resolved with --context from backend's
// installed manifest), into one namespace of a real kube-apiserver with Helm 3
// and the post-renderer, and with Helm 4 and the installed plugin, each in a
// namespace of its own. A bare Pod of neither release stands for the other
// pods of the namespace. There are no nodes and no controllers: the objects
// are stored, nothing runs, and the chart has no hooks to wait for.
func TestReleasesHelmInstall(t *testing.T) {
	helm3 := tool(t, "HELM3")
	helm4 := tool(t, "HELM4")
	kubectl := tool(t, "KUBECTL")
	apiserver, etcd := tool(t, "KUBE_APISERVER"), tool(t, "ETCD")
	pr := tierwallBin(t, "tierwall-postrender")
	root := repoRoot(t)
	chart := filepath.Join(root, "testdata", "e2e", "charts", "podinfo-like")
	k := startAPIServer(t, root, apiserver, etcd, kubectl)

	for _, tc := range []struct {
		name, helm, namespace, postRenderer string
		env                                 []string
	}{
		{name: "helm3", helm: helm3, namespace: "test-helm3", postRenderer: pr, env: helmEnv(t, "KUBECONFIG="+k.kubeconfig)},
		{name: "helm4", helm: helm4, namespace: "test-helm4", postRenderer: "tierwall", env: append(helm4WithPlugin(t, helm4), "KUBECONFIG="+k.kubeconfig)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := tc.namespace
			helm := func(args ...string) string {
				t.Helper()
				out, stderr, err := helmRun(t, tc.env, "", nil, tc.helm, append(args, "-n", ns)...)
				require.NoError(t, err, "helm %s: %s%s", strings.Join(args, " "), out, stderr)
				return out
			}
			_, stderr, err := k.run([]byte(strayPod(ns)), "apply", "-f", "-")
			require.NoError(t, err, stderr)

			helm("install", "backend", chart, "--post-renderer", tc.postRenderer)
			// What a user passes to resolve backend's Service: its installed manifest,
			// tierwall's policies included (context objects are read, never owned).
			backendManifest := filepath.Join(t.TempDir(), "backend.yaml")
			require.NoError(t, os.WriteFile(backendManifest, []byte(helm("get", "manifest", "backend")), 0o644))
			// The second install must not fail on an object the first one owns.
			helm("install", "frontend", chart, "--set", podinfoCallsBackend,
				"--post-renderer", tc.postRenderer, "--post-renderer-args=--context="+backendManifest)

			t.Run("both installed", func(t *testing.T) {
				objs := liveObjects(t, k, ns)
				want := append(podinfoPolicies("backend"), podinfoPolicies("frontend")...)
				want = append(want, "frontend-podinfo-egress")
				sort.Strings(want)
				assert.Equal(t, want, liveTierwallPolicies(t, objs), "the union of both releases' policies")

				m := liveModel(t, objs)
				fe := namedWorkload(t, m, ns, "Deployment", "frontend-podinfo")
				be := namedWorkload(t, m, ns, "Deployment", "backend-podinfo")
				stray := namedWorkload(t, m, ns, "Pod", "stray")
				dns := roleEndpoint(t, m, analysis.RoleDNS)
				for _, e := range []*analysis.Endpoint{fe, be, stray} {
					in, eg := m.Isolation(e)
					assert.True(t, in && eg, "%s must be default-denied both ways", e)
					assert.True(t, m.Allowed(e, dns, "UDP", 53) && m.Allowed(e, dns, "TCP", 53), "%s must resolve names", e)
					// Each release's fallback: the pods of the namespace reach its port.
					for _, dst := range []*analysis.Endpoint{fe, be} {
						assert.True(t, m.Allowed(e, dst, "TCP", podinfoPort), "%s must reach %s on %d", e, dst, podinfoPort)
					}
					assert.False(t, m.Allowed(e, stray, "TCP", podinfoPort), "no release opens the stray pod")
				}
				assert.Contains(t, policyNames(m.Between(fe, be).Egress.Policies), "frontend-podinfo-egress",
					"the context turns frontend's call into an exact allow")
				assert.Contains(t, policyNames(m.Between(stray, be).Ingress.Policies), "backend-podinfo-fallback-ingress")
				assert.Contains(t, policyNames(m.Between(stray, fe).Ingress.Policies), "frontend-podinfo-fallback-ingress")
				assert.False(t, m.Allowed(fe, be, "TCP", 22), "a port no release opened")
				assert.False(t, m.Allowed(fe, roleEndpoint(t, m, analysis.RoleInternet), "TCP", 443), "no release opens the internet")
				assertCheckDenied(t, objs)
			})

			helm("uninstall", "frontend")
			t.Run("frontend uninstalled", func(t *testing.T) {
				objs := liveObjects(t, k, ns)
				assert.Equal(t, podinfoPolicies("backend"), liveTierwallPolicies(t, objs), "frontend's policies leave with it")
				m := liveModel(t, objs)
				be := namedWorkload(t, m, ns, "Deployment", "backend-podinfo")
				stray := namedWorkload(t, m, ns, "Pod", "stray")
				dns := roleEndpoint(t, m, analysis.RoleDNS)
				for _, e := range []*analysis.Endpoint{be, stray} {
					in, eg := m.Isolation(e)
					assert.True(t, in && eg, "%s must stay default-denied both ways", e)
					for _, dir := range []analysis.Direction{analysis.Ingress, analysis.Egress} {
						assert.Contains(t, policyNames(m.Selecting(e, dir)), "backend-default-deny-all", "%s: backend's own baseline", e)
					}
					assert.True(t, m.Allowed(e, dns, "UDP", 53) && m.Allowed(e, dns, "TCP", 53), "%s must resolve names", e)
					assert.True(t, m.Allowed(e, be, "TCP", podinfoPort), "%s must still reach backend", e)
				}
				for _, e := range m.Endpoints {
					assert.NotEqual(t, "frontend-podinfo", e.Name, "frontend's Deployment is gone")
				}
				assertCheckDenied(t, objs)
			})

			helm("uninstall", "backend")
			assert.Empty(t, liveTierwallPolicies(t, liveObjects(t, k, ns)), "the last release takes the last policies")
		})
	}
}

// strayPod is namespace ns with a Pod of neither release in it (Pending for
// ever: no scheduler), and the ServiceAccount that admission wants for it,
// which a controller would otherwise create.
func strayPod(ns string) string {
	return strings.ReplaceAll(`apiVersion: v1
kind: Namespace
metadata:
  name: NS
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: default
  namespace: NS
---
apiVersion: v1
kind: Pod
metadata:
  name: stray
  namespace: NS
  labels:
    run: stray
spec:
  automountServiceAccountToken: false
  containers:
    - name: shell
      image: registry.example.com/busybox:1.37
      command: [sleep, infinity]
`, "NS", ns)
}

// liveObjects reads the Deployments, Pods, Services and NetworkPolicies of
// namespace ns back from the API server, as stored.
func liveObjects(t *testing.T, k kube, ns string) []manifest.Object {
	t.Helper()
	out, stderr, err := k.run(nil, "get", "deployments,pods,services,networkpolicies", "-n", ns, "-o", "yaml")
	require.NoError(t, err, stderr)
	docs := testutil.Docs(t, []byte(out))
	require.Len(t, docs, 1)
	require.Equal(t, "List", manifest.String(docs[0], "kind"))
	var objs []manifest.Object
	for _, n := range manifest.Items(docs[0], "items") {
		objs = append(objs, manifest.FromNode(len(objs), n))
	}
	return objs
}

// liveTierwallPolicies returns the sorted names of the NetworkPolicies among
// live objects, after checking that each is tierwall's (its source and hash
// annotations) and belongs to the release its name starts with.
//
// Helm 3 and Helm 4 both set app.kubernetes.io/managed-by: Helm on every
// object they install, tierwall's policies included: in the cluster, the
// label tierwall writes (and reads to know its own objects) is gone; only the
// annotations and the release manifest (helm get manifest) keep it.
func liveTierwallPolicies(t *testing.T, objs []manifest.Object) []string {
	t.Helper()
	var names []string
	for _, o := range objs {
		if !o.IsNetworkPolicy() {
			continue
		}
		assert.NotEmpty(t, o.Annotations[manifest.SourceAnnotation], "NetworkPolicy %s names its source", o.Name)
		assert.NotEmpty(t, o.Annotations[manifest.HashAnnotation], "NetworkPolicy %s carries its hash", o.Name)
		assert.Equal(t, "Helm", o.Labels[manifest.ManagedByLabel],
			"NetworkPolicy %s: Helm keeps tierwall's managed-by label now; tierwall's objects can be told apart by it in the cluster", o.Name)
		release := o.Annotations["meta.helm.sh/release-name"]
		assert.True(t, release != "" && strings.HasPrefix(o.Name, release+"-"), "NetworkPolicy %s is owned by release %q", o.Name, release)
		names = append(names, o.Name)
	}
	sort.Strings(names)
	return names
}

// liveModel analyses live objects with the defaults.
func liveModel(t *testing.T, objs []manifest.Object) *analysis.Model {
	t.Helper()
	m := analysis.New(objs, analysis.Options{})
	findings := m.Findings
	require.Empty(t, findings, "the analysis rejected live objects")
	return m
}

// assertCheckDenied runs tierwall's own checks over a final object set: no
// pod is left undenied and no object comes twice.
func assertCheckDenied(t *testing.T, objs []manifest.Object) {
	t.Helper()
	spec := &v1alpha1.Spec{}
	spec.Default()
	for _, r := range check.Objects(objs, spec, check.Options{}) {
		assert.NotEqual(t, check.NotDefaultDenied, r.Tags["check"], r.Message)
		assert.NotEqual(t, check.DuplicateObject, r.Tags["check"], r.Message)
	}
}

// namedWorkload returns the endpoint of a workload.
func namedWorkload(t *testing.T, m *analysis.Model, ns, kind, name string) *analysis.Endpoint {
	t.Helper()
	for _, e := range m.Endpoints {
		if e.Kind == analysis.Workload && e.Namespace == ns && e.WorkloadKind == kind && e.Name == name {
			return e
		}
	}
	require.Failf(t, "workload missing", "no %s %s/%s", kind, ns, name)
	return nil
}

// roleEndpoint returns the one endpoint of a role.
func roleEndpoint(t *testing.T, m *analysis.Model, role string) *analysis.Endpoint {
	t.Helper()
	var found []*analysis.Endpoint
	for _, e := range m.Endpoints {
		if e.Role == role {
			found = append(found, e)
		}
	}
	require.Len(t, found, 1, "endpoints of role %s", role)
	return found[0]
}

// TestReleasesArgoCDApps renders two Argo CD applications into namespace
// shop as a Config Management Plugin's generate step would, through
// tierwall-postrender with the application's name in ARGOCD_APP_NAME and no
// --release. app-b's objects carry an instance label of their own
// (shop-api): the application's name comes first.
func TestReleasesArgoCDApps(t *testing.T) {
	pr := tierwallBin(t, "tierwall-postrender")
	const ns = "shop"
	dir := filepath.Join(repoRoot(t), "testdata", "e2e", "releases", "argocd-two-apps")
	outs := map[string]string{}
	for _, app := range []string{"app-a", "app-b"} {
		in, err := os.ReadFile(filepath.Join(dir, app, "input.yaml"))
		require.NoError(t, err)
		out, stderr, err := helmRun(t, argoGenerateEnv(app, ns), "", in, pr, "--namespace", ns)
		require.NoError(t, err, stderr)
		assert.True(t, strings.HasPrefix(out, string(in)), "%s: the rendered manifests come out byte for byte", app)
		assert.Contains(t, stderr, "release "+app, "%s: the summary names the release", app)
		_, policies := splitOutput(t, out)
		for _, name := range []string{"default-deny-all", "allow-dns", "fallback-egress"} {
			assert.NotNil(t, policyNamed(policies, app+"-"+name), "%s: %s carries the application's name", app, name)
		}
		for _, p := range policies {
			assert.False(t, strings.HasPrefix(p.Name, "shop-api-"), "%s: ARGOCD_APP_NAME comes before the instance label", p.Name)
		}
		testutil.Golden(t, filepath.Join(dir, app, "expected.yaml"), []byte(out))
		outs[app] = out
	}
	assertSideBySide(t, ns, outs["app-a"], outs["app-b"], []string{"api", "web"})

	m, _ := sideBySideModel(t, ns, outs["app-a"], outs["app-b"])
	web := namedWorkload(t, m, ns, "Deployment", "web")
	api := namedWorkload(t, m, ns, "Deployment", "api")
	assert.True(t, m.Allowed(web, api, "TCP", 8080), "web reaches app-b's api through app-b's fallback")
	assert.True(t, m.Allowed(api, web, "TCP", 8080), "app-a's fallback opens web's pod port to the namespace")
}

// argoGenerateEnv is the environment of a CMP generate step for application
// app: the process's, less Helm's and Argo CD's variables, plus the
// application's name and destination namespace (tierwall reads the first).
func argoGenerateEnv(app, ns string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HELM_") && !strings.HasPrefix(kv, "ARGOCD_") {
			env = append(env, kv)
		}
	}
	return append(env, "ARGOCD_APP_NAME="+app, "ARGOCD_APP_NAMESPACE="+ns)
}

// TestReleasesKustomizeOverlays renders two overlays of one base
// (testdata/e2e/overlays: nameSuffix -blue and -green, a selector label
// each, namespace test) with the real kustomize, each running tierwall as an
// exec function with spec.release set to the overlay's name.
func TestReleasesKustomizeOverlays(t *testing.T) {
	kustomize := tool(t, "KUSTOMIZE")
	tierwallBin(t, "tierwall")
	root := repoRoot(t)
	require.FileExists(t, filepath.Join(root, "bin", "tierwall"), "the overlays run bin/tierwall: make build writes it")
	const ns = "test"
	outs := map[string]string{}
	for _, overlay := range []string{"blue", "green"} {
		out, stderr, err := runCmd(t, root, nil, kustomize, "build", "--enable-alpha-plugins", "--enable-exec",
			filepath.Join("testdata", "e2e", "overlays", overlay))
		require.NoError(t, err, stderr)
		assert.Contains(t, stderr, "release "+overlay, "%s: the summary names the release", overlay)
		_, policies := splitOutput(t, out)
		for _, name := range []string{"default-deny-all", "allow-dns", "fallback-egress"} {
			assert.NotNil(t, policyNamed(policies, overlay+"-"+name), "%s: %s carries spec.release", overlay, name)
		}
		testutil.Golden(t, filepath.Join(root, "testdata", "e2e", "releases", "kustomize-two-overlays", overlay+".yaml"), []byte(out))
		outs[overlay] = out
	}
	assertSideBySide(t, ns, outs["blue"], outs["green"], []string{"podinfo-blue", "podinfo-green"})

	m, _ := sideBySideModel(t, ns, outs["blue"], outs["green"])
	blue := namedWorkload(t, m, ns, "Deployment", "podinfo-blue")
	green := namedWorkload(t, m, ns, "Deployment", "podinfo-green")
	assert.True(t, m.Allowed(blue, green, "TCP", podinfoPort))
	assert.True(t, m.Allowed(green, blue, "TCP", podinfoPort))
}

// assertSideBySide checks two renders into namespace ns (objects without a
// namespace land there): no object identity is in both, so that neither
// apply overwrites or refuses the other's; together, every workload (the
// names given) is default-denied both ways and tierwall's own check finds no
// undenied pod and no duplicate; and each render alone, as after removing
// the other, still denies its own workloads.
func assertSideBySide(t *testing.T, ns, a, b string, workloads []string) {
	t.Helper()
	ids := map[string]bool{}
	for _, o := range parseRender(t, a) {
		ids[identity(o, ns)] = true
	}
	for _, o := range parseRender(t, b) {
		assert.False(t, ids[identity(o, ns)], "both renders hold %s: the second apply would take it over or fail", identity(o, ns))
	}

	m, objs := sideBySideModel(t, ns, a, b)
	var names []string
	for _, e := range m.Endpoints {
		if e.Kind != analysis.Workload {
			continue
		}
		names = append(names, e.Name)
		in, eg := m.Isolation(e)
		assert.True(t, in && eg, "%s must be default-denied both ways", e)
	}
	sort.Strings(names)
	assert.Equal(t, workloads, names, "the workloads of both renders")
	spec := &v1alpha1.Spec{Namespace: ns}
	spec.Default()
	for _, r := range check.Objects(objs, spec, check.Options{}) {
		assert.NotEqual(t, check.NotDefaultDenied, r.Tags["check"], r.Message)
		assert.NotEqual(t, check.DuplicateObject, r.Tags["check"], r.Message)
	}

	for _, render := range []string{a, b} {
		m, _ := sideBySideModel(t, ns, render)
		n := 0
		for _, e := range m.Endpoints {
			if e.Kind == analysis.Workload {
				n++
				in, eg := m.Isolation(e)
				assert.True(t, in && eg, "%s must be default-denied by its own render alone", e)
			}
		}
		assert.NotZero(t, n)
	}
}

// sideBySideModel analyses renders together, objects without a namespace in ns.
func sideBySideModel(t *testing.T, ns string, renders ...string) (*analysis.Model, []manifest.Object) {
	t.Helper()
	var objs []manifest.Object
	for _, r := range renders {
		for _, o := range parseRender(t, r) {
			objs = append(objs, manifest.FromNode(len(objs), o.Node))
		}
	}
	spec := &v1alpha1.Spec{Namespace: ns}
	spec.Default()
	m := analysis.New(objs, analysis.Options{Spec: spec})
	findings := m.Findings
	require.Empty(t, findings, "the analysis rejected objects of the renders")
	return m, objs
}

func parseRender(t *testing.T, out string) []manifest.Object {
	t.Helper()
	s, err := stream.Parse([]byte(out))
	require.NoError(t, err)
	require.NotEmpty(t, s.Objects)
	return s.Objects
}

// identity is what the API server tells objects apart by: group, kind,
// namespace (ns for none) and name.
func identity(o manifest.Object, ns string) string {
	if o.Namespace != "" {
		ns = o.Namespace
	}
	return strings.Join([]string{o.Group(), o.Kind, ns, o.Name}, "/")
}
