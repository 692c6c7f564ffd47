package inject_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/check"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// podinfoRelease is one release of a small web chart, as Helm renders it
// into namespace test: the release name in every name and instance label.
func podinfoRelease(release string) string {
	return strings.ReplaceAll(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: REL-podinfo
  namespace: test
  labels: {app.kubernetes.io/name: podinfo, app.kubernetes.io/instance: REL}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: podinfo, app.kubernetes.io/instance: REL}}
  template:
    metadata: {labels: {app.kubernetes.io/name: podinfo, app.kubernetes.io/instance: REL}}
    spec:
      automountServiceAccountToken: false
      containers:
      - {name: podinfo, image: example/podinfo:6, ports: [{name: http, containerPort: 9898}]}
---
apiVersion: v1
kind: Service
metadata:
  name: REL-podinfo
  namespace: test
  labels: {app.kubernetes.io/name: podinfo, app.kubernetes.io/instance: REL}
spec:
  selector: {app.kubernetes.io/name: podinfo, app.kubernetes.io/instance: REL}
  ports: [{name: http, port: 9898, targetPort: http}]
`, "REL", release)
}

// render runs the engine on one release and returns its input objects and
// what it generated, as nodes.
func render(t *testing.T, in string, spec *v1alpha1.Spec) (input, generated []*yaml.Node) {
	t.Helper()
	docs := testutil.Docs(t, []byte(in))
	objs := make([]manifest.Object, len(docs))
	for i, d := range docs {
		objs[i] = manifest.FromNode(i, d)
	}
	out, failed, err := inject.Engine{Spec: spec}.Process(objs)
	require.NoError(t, err)
	require.False(t, failed, "%v", out.Results)
	return docs, nodes(out)
}

// model analyses the union of several renders as one cluster would hold it.
func model(t *testing.T, spec *v1alpha1.Spec, sets ...[]*yaml.Node) (*analysis.Model, []manifest.Object) {
	t.Helper()
	var objs []manifest.Object
	for _, set := range sets {
		for _, n := range set {
			objs = append(objs, manifest.FromNode(len(objs), n))
		}
	}
	m := analysis.New(objs, analysis.Options{Spec: spec})
	findings := m.Findings
	require.Empty(t, findings)
	return m, objs
}

func endpoint(t *testing.T, m *analysis.Model, name string) *analysis.Endpoint {
	t.Helper()
	for _, e := range m.Endpoints {
		if e.Kind == analysis.Workload && e.Name == name {
			return e
		}
	}
	t.Fatalf("no workload %s", name)
	return nil
}

// TestTwoReleasesOneNamespace: two releases of one chart rendered on their
// own into one namespace (a chart README's frontend and backend) never
// produce colliding objects; applied together they give the union of their
// intent with every pod default-denied; removing one leaves the other
// protected and working.
func TestTwoReleasesOneNamespace(t *testing.T) {
	spec := &v1alpha1.Spec{}
	spec.Default()
	feIn, feGen := render(t, podinfoRelease("frontend"), spec)
	beIn, beGen := render(t, podinfoRelease("backend"), spec)

	names := map[string]bool{}
	for _, n := range feGen {
		names[manifest.FromNode(0, n).Ref()] = true
	}
	for _, n := range beGen {
		ref := manifest.FromNode(0, n).Ref()
		assert.False(t, names[ref], "both releases generate %s: the second install would fail", ref)
	}
	assert.True(t, names["NetworkPolicy test/frontend-default-deny-all"], "the baseline carries the release: %v", names)

	m, objs := model(t, spec, feIn, feGen, beIn, beGen)
	rs := check.Objects(objs, spec, check.Options{})
	for _, r := range rs {
		assert.NotEqual(t, check.DuplicateObject, r.Tags["check"], r.Message)
		assert.NotEqual(t, check.NotDefaultDenied, r.Tags["check"], r.Message)
	}
	fe, be := endpoint(t, m, "frontend-podinfo"), endpoint(t, m, "backend-podinfo")
	// Each release's intent: its port open to its namespace (the fallback).
	assert.True(t, m.Allowed(fe, be, "TCP", 9898))
	assert.True(t, m.Allowed(be, fe, "TCP", 9898))
	assert.False(t, m.Allowed(fe, be, "TCP", 22), "a port no release opened")

	// Uninstall frontend: backend stays default-denied and reachable.
	m2, objs2 := model(t, spec, beIn, beGen)
	for _, r := range check.Objects(objs2, spec, check.Options{}) {
		assert.NotEqual(t, check.NotDefaultDenied, r.Tags["check"], r.Message)
	}
	be2 := endpoint(t, m2, "backend-podinfo")
	in, eg := m2.Isolation(be2)
	assert.True(t, in && eg, "backend is no longer default-denied")
}

// TestNoReleaseSaysSo: without a release the summary says that a second
// render into the namespace would collide, and how to name the release.
func TestNoReleaseSaysSo(t *testing.T) {
	spec := &v1alpha1.Spec{}
	spec.Default()
	in := strings.ReplaceAll(podinfoRelease("x"), "app.kubernetes.io/instance: x", "tier: web")
	docs := testutil.Docs(t, []byte(in))
	objs := make([]manifest.Object, len(docs))
	for i, d := range docs {
		objs[i] = manifest.FromNode(i, d)
	}
	out, _, err := inject.Engine{Spec: spec}.Process(objs)
	require.NoError(t, err)
	assert.Empty(t, out.Summary.Release)
	assert.Contains(t, out.Summary.Text(), "no release named: a second render into these namespaces would collide")
	assert.Contains(t, out.Summary.Text(), "--release or spec.release")
}

// TestContextResolvesAnotherRelease: a reference to another release's
// Service, passed as context, becomes an exact egress allow on its pod port;
// nothing is written for the other release's pods, and nothing of the
// context is emitted. Without the context it is a warning naming both.
func TestContextResolvesAnotherRelease(t *testing.T) {
	spec := &v1alpha1.Spec{}
	spec.Default()
	fe := strings.Replace(podinfoRelease("frontend"), "ports: [{name: http, containerPort: 9898}]}",
		"ports: [{name: http, containerPort: 9898}], env: [{name: BACKEND_URL, value: \"http://backend-podinfo:9898/echo\"}]}", 1)
	require.Contains(t, fe, "BACKEND_URL")
	objs := func(in string) []manifest.Object {
		docs := testutil.Docs(t, []byte(in))
		out := make([]manifest.Object, len(docs))
		for i, d := range docs {
			out[i] = manifest.FromNode(i, d)
		}
		return out
	}
	without, _, err := inject.Engine{Spec: spec}.Process(objs(fe))
	require.NoError(t, err)
	warned := false
	for _, r := range without.Results {
		warned = warned || (strings.Contains(r.Message, "backend-podinfo") && strings.Contains(r.Message, "frontend-podinfo") && r.Severity == "warning")
	}
	assert.True(t, warned, "without context, the reference is a warning naming both")

	out, failed, err := inject.Engine{Spec: spec, Context: objs(podinfoRelease("backend"))}.Process(objs(fe))
	require.NoError(t, err)
	require.False(t, failed, "%v", out.Results)
	var egress string
	for _, g := range out.Policies {
		assert.NotContains(t, g.Policy.Name, "backend", "a policy for the context's pods: %s", g.Policy.Name)
		if g.Policy.Name == "frontend-podinfo-egress" {
			egress = g.Reason
			require.Len(t, g.Policy.Spec.Egress, 1)
			r := g.Policy.Spec.Egress[0]
			require.Len(t, r.To, 1)
			assert.Equal(t, map[string]string{"app.kubernetes.io/instance": "backend", "app.kubernetes.io/name": "podinfo"}, r.To[0].PodSelector.MatchLabels)
			require.Len(t, r.Ports, 1)
			assert.Equal(t, int32(9898), r.Ports[0].Port.IntVal)
		}
	}
	assert.Contains(t, egress, "context, not owned")
}

func nodes(out inject.Output) []*yaml.Node {
	var ns []*yaml.Node
	for _, o := range out.Objects {
		ns = append(ns, o.Node)
	}
	return ns
}
