//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/check"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/plumbing"
	"github.com/tierwall/tierwall/pkg/stream"
)

// The plumbing end to end (issue 13): testdata/e2e/charts/edge-ingress is an
// ingress controller release of our own, rendered with zero configuration.
// Its controller is bound by RBAC and serves a validating admission webhook
// (failurePolicy Fail) behind a ClusterIP Service; two hook Jobs, bound by
// hook RBAC, create the webhook's certificate (pre-install, pre-upgrade) and
// patch its caBundle (post-install, post-upgrade); a backend app is routed
// through the chart's IngressClass. Every need is asserted through the
// analysis of the final object set, independently of the generator.
const (
	edgeRelease   = "edge-ingress"
	edgeNamespace = "edge-system"

	edgeController = "edge-ingress-controller"
	edgeBackend    = "edge-ingress-backend"
	edgeCreateJob  = "edge-ingress-admission-create"
	edgePatchJob   = "edge-ingress-admission-patch"

	// edgeWebhookPort is the controller's webhook container port, behind
	// Service port 443; edgeBackendPort is the backend's pod port, behind
	// Service port 80.
	edgeWebhookPort = 9443
	edgeBackendPort = 5678
)

// edgeHookJobs are the chart's hook Jobs.
var edgeHookJobs = []string{edgeCreateJob, edgePatchJob}

func edgeChart(t *testing.T) string {
	return filepath.Join(repoRoot(t), "testdata", "e2e", "charts", "edge-ingress")
}

// renderEdgeHelm4 renders the chart with the real Helm 4 through the
// installed tierwall plugin, with zero configuration.
func renderEdgeHelm4(t *testing.T) string {
	t.Helper()
	helm := tool(t, "HELM4")
	tierwallBin(t, "tierwall-postrender")
	env := helm4WithPlugin(t, helm)
	out, stderr, err := helmRun(t, env, "", nil, helm, "template", edgeRelease, edgeChart(t), "-n", edgeNamespace,
		"--post-renderer", "tierwall")
	require.NoError(t, err, stderr)
	return out
}

// edgeModel parses a rendered stream and analyses it with the defaults, as
// `tierwall check` without --config does.
func edgeModel(t *testing.T, out string) (*analysis.Model, []manifest.Object) {
	t.Helper()
	s, err := stream.Parse([]byte(out))
	require.NoError(t, err)
	m := analysis.New(s.Objects, analysis.Options{})
	findings := m.Findings
	require.Empty(t, findings, "the analysis rejected objects of the output")
	return m, s.Objects
}

// edgeWorkload returns the endpoint of a workload of the chart.
func edgeWorkload(t *testing.T, m *analysis.Model, kind, name string) *analysis.Endpoint {
	t.Helper()
	for _, e := range m.Endpoints {
		if e.Kind == analysis.Workload && e.WorkloadKind == kind && e.Name == name {
			return e
		}
	}
	require.Failf(t, "workload missing", "no %s %s in the rendered output", kind, name)
	return nil
}

// edgeRole returns the one endpoint of a role (the API server, the control
// plane).
func edgeRole(t *testing.T, m *analysis.Model, role string) *analysis.Endpoint {
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

func edgePolicy(m *analysis.Model, name string) *analysis.Policy {
	for _, p := range m.Policies {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func policyNames(ps []*analysis.Policy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

// edgeNeeds lists the needs tierwall reads from the output as "kind
// Kind/name ports", so that a need it stopped seeing fails the test, not
// only a need it sees but leaves unmet.
func edgeNeeds(m *analysis.Model, objs []manifest.Object) []string {
	var out []string
	for _, n := range check.ReadNeeds(objs, m.Spec) {
		s := string(n.Kind) + " " + n.Workload.Kind + "/" + n.Workload.Name
		for _, p := range n.Ports {
			s += " " + p.Protocol + "/" + strconv.Itoa(int(p.Port))
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// assertEdgeNeedsMet asserts through the analysis that the controller, its
// webhook and its backend work under the policies; with hooks, that the hook
// Jobs do too and that their policies exist in time.
func assertEdgeNeedsMet(t *testing.T, m *analysis.Model, objs []manifest.Object, hooks bool) {
	t.Helper()
	api := edgeRole(t, m, analysis.RoleAPIServer)
	cp := edgeRole(t, m, analysis.RoleControlPlane)
	internet := edgeRole(t, m, analysis.RoleInternet)
	ctrl := edgeWorkload(t, m, "Deployment", edgeController)
	backend := edgeWorkload(t, m, "Deployment", edgeBackend)

	// The output holds the hook Jobs either way (helm template prints the
	// hooks Helm 3 does not post-render), so the needs are the same.
	want := []string{
		"api-server Deployment/" + edgeController,
		"webhook Deployment/" + edgeController + " TCP/" + strconv.Itoa(edgeWebhookPort),
	}
	for _, j := range edgeHookJobs {
		want = append(want, "api-server Job/"+j)
	}
	sort.Strings(want)
	assert.Equal(t, want, edgeNeeds(m, objs), "the needs tierwall reads from the output")

	ingress, egress := m.Isolation(ctrl)
	require.True(t, ingress && egress, "the controller is default-denied both ways: the allows below are what lets it work")

	// RBAC: the controller's ServiceAccount is bound, so it must reach the
	// API server on both the Service port and the endpoint port.
	v := m.Between(ctrl, api)
	for _, port := range []int32{443, 6443} {
		assert.True(t, v.Ports.Contains("TCP", port), "the controller must reach the API server on TCP/%d", port)
	}
	assert.Contains(t, policyNames(v.Egress.Policies), edgeController+"-kube-api")

	// The webhook: the control plane calls Service port 443, which arrives on
	// the pod port; an allow on the Service port would block it.
	v = m.Between(cp, ctrl)
	assert.True(t, v.Ports.Contains("TCP", edgeWebhookPort), "the control plane must reach the webhook's pod port")
	assert.Contains(t, policyNames(v.Ingress.Policies), edgeController+"-webhook")
	assert.False(t, v.Ports.Contains("TCP", 443), "the Service port is not the pod port")

	// Routing: the Ingress of the chart's class names the backend's Service
	// port 80; the controller reaches the pod port, and only the controller.
	v = m.Between(ctrl, backend)
	assert.True(t, v.Ports.Contains("TCP", edgeBackendPort), "the controller must reach the backend's pod port")
	assert.Contains(t, policyNames(v.Ingress.Policies), edgeBackend+"-ingress")
	assert.False(t, m.Allowed(internet, backend, "TCP", edgeBackendPort), "the backend is reached through the controller only")
	assert.False(t, m.Allowed(backend, api, "TCP", 443), "the backend has no RBAC and no token: no API access")

	for _, name := range edgeHookJobs {
		job := edgeWorkload(t, m, "Job", name)
		pol := edgePolicy(m, name+"-kube-api")
		if !hooks {
			assert.Nil(t, pol, "no policy for hook Job %s", name)
			_, egress := m.Isolation(job)
			assert.True(t, egress, "the release's default-deny selects the hook's pods too")
			assert.False(t, m.Allowed(job, api, "TCP", 443), "hook Job %s gets no API access", name)
			continue
		}
		v := m.Between(job, api)
		assert.True(t, v.Ports.Contains("TCP", 443), "hook Job %s must reach the API server", name)
		assert.True(t, v.Ports.Contains("TCP", 6443), "hook Job %s must reach the API server", name)
		if !assert.NotNil(t, pol, "hook Job %s has its own API policy", name) {
			continue
		}
		assert.Contains(t, policyNames(v.Egress.Policies), pol.Name)
		// The policy must exist before the Job's pods start: a hook of the
		// same events, one weight lower, replaced on every run.
		jobAnn, polAnn := job.Workload.Object.Annotations, pol.Object.Annotations
		require.NotEmpty(t, jobAnn[graph.HookAnnotation], "%s is a hook", name)
		assert.Equal(t, jobAnn[graph.HookAnnotation], polAnn[graph.HookAnnotation], "policy %s", pol.Name)
		jw, err := strconv.Atoi(jobAnn[graph.HookWeightAnnotation])
		require.NoError(t, err)
		pw, err := strconv.Atoi(polAnn[graph.HookWeightAnnotation])
		require.NoError(t, err, "policy %s has a hook weight", pol.Name)
		assert.Less(t, pw, jw, "policy %s must be created before Job %s", pol.Name, name)
		assert.Equal(t, "before-hook-creation", polAnn[graph.HookDeletePolicyAnnotation])
		assert.Equal(t, plumbing.WideAPIEgress, polAnn[manifest.WideAnnotation])
	}

	// Policies of non-hook pods are not hooks: they are part of the release.
	for _, name := range []string{edgeController + "-kube-api", edgeController + "-webhook", edgeBackend + "-ingress", edgeRelease + "-default-deny-all"} {
		p := edgePolicy(m, name)
		if assert.NotNil(t, p, "policy %s", name) {
			assert.NotContains(t, p.Object.Annotations, graph.HookAnnotation, "policy %s", name)
		}
	}
	kubeAPI := edgePolicy(m, edgeController+"-kube-api")
	if assert.NotNil(t, kubeAPI) {
		assert.Equal(t, plumbing.WideAPIEgress, kubeAPI.Object.Annotations[manifest.WideAnnotation])
		require.Len(t, kubeAPI.EgressRules, 1)
		assert.True(t, kubeAPI.EgressRules[0].AllPeers(), "no addresses configured: ports only, no to")
	}
	if p := edgePolicy(m, edgeController+"-webhook"); assert.NotNil(t, p) {
		assert.Equal(t, plumbing.WideWebhook, p.Object.Annotations[manifest.WideAnnotation])
	}
}

// runCheck runs tierwall check on a rendered stream and returns its text
// output, its results (from -o yaml) and its exit code.
func runCheck(t *testing.T, rendered string) (string, framework.Results, int) {
	t.Helper()
	bin := tierwallBin(t, "tierwall")
	text, stderr, err := runCmd(t, "", []byte(rendered), bin, "check")
	code := exitCode(t, err)
	assert.Empty(t, stderr)
	out, stderr, err := runCmd(t, "", []byte(rendered), bin, "check", "-o", "yaml")
	require.Equal(t, code, exitCode(t, err), "check -o yaml exits as check does")
	assert.Empty(t, stderr)
	var rs framework.Results
	require.NoError(t, yaml.Unmarshal([]byte(out), &rs), out)
	return text, rs, code
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	require.NoError(t, err)
	return 0
}

// checkIDs returns the check ids of results of a severity, each with the
// names of the objects it names: "needs-api Job/edge-ingress-admission-create".
func checkIDs(rs framework.Results, sev framework.Severity) []string {
	var out []string
	for _, r := range rs {
		if r.Severity != sev {
			continue
		}
		s := r.Tags["check"]
		if r.ResourceRef != nil {
			s += " " + r.ResourceRef.Kind + "/" + r.ResourceRef.Name
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func hasCheck(rs framework.Results, id string) bool {
	for _, r := range rs {
		if r.Tags["check"] == id {
			return true
		}
	}
	return false
}

// withoutPolicies returns a rendered stream less tierwall's NetworkPolicies
// whose name ends with suffix, and how many it removed.
func withoutPolicies(t *testing.T, rendered, suffix string) (string, int) {
	t.Helper()
	s, err := stream.Parse([]byte(rendered))
	require.NoError(t, err)
	var out bytes.Buffer
	removed := 0
	for _, d := range s.Documents {
		if len(d.Nodes) == 1 {
			o := manifest.FromNode(0, d.Nodes[0])
			if o.IsNetworkPolicy() && o.ManagedByTierwall() && strings.HasSuffix(o.Name, suffix) {
				removed++
				continue
			}
		}
		out.Write(d.Raw)
	}
	return out.String(), removed
}

// TestPlumbingHelm4 renders the chart with the real Helm 4 and the tierwall
// plugin, with zero configuration. Helm 4 sends the hooks, so every need is
// met, the hook Jobs' included, and the output passes tierwall's own check
// with the wide defaults as warnings. Without the generated API policies the
// same check fails: it catches the breakage.
func TestPlumbingHelm4(t *testing.T) {
	out := renderEdgeHelm4(t)
	m, objs := edgeModel(t, out)

	t.Run("needs met", func(t *testing.T) {
		assertEdgeNeedsMet(t, m, objs, true)
	})

	t.Run("check passes", func(t *testing.T) {
		text, rs, code := runCheck(t, out)
		assert.Equal(t, 0, code, "tierwall check must pass on the zero-config output:\n%s", text)
		assert.Regexp(t, `(?m)^tierwall check passed: 0 errors, `, text)
		assert.Empty(t, checkIDs(rs, "error"))
		for _, id := range []string{check.APIEgressUnscoped, check.OpenWebhookPort} {
			assert.True(t, hasCheck(rs, id), "check must name the wide default %s:\n%s", id, text)
		}
		assert.Contains(t, checkIDs(rs, "warning"), check.APIEgressUnscoped+" NetworkPolicy/"+edgeCreateJob+"-kube-api")
	})

	t.Run("check fails without the API policies", func(t *testing.T) {
		broken, removed := withoutPolicies(t, out, "-kube-api")
		require.Equal(t, 1+len(edgeHookJobs), removed, "the controller's and the hook Jobs' API policies")
		text, rs, code := runCheck(t, broken)
		assert.Equal(t, 1, code, "tierwall check must fail:\n%s", text)
		assert.Regexp(t, `(?m)^tierwall check failed: `, text)
		var want []string
		for _, w := range append([]string{"Deployment/" + edgeController}, prefixed("Job/", edgeHookJobs)...) {
			want = append(want, check.NeedsAPI+" "+w)
		}
		sort.Strings(want)
		assert.Equal(t, want, checkIDs(rs, "error"))
	})
}

func prefixed(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

// TestPlumbingKustomize renders the chart with Helm (no post-renderer; helm
// template prints the hooks too) into a kustomization that sets the
// namespace and runs tierwall as an exec function through the real
// kustomize: the same needs are met, now with explicit namespaces.
func TestPlumbingKustomize(t *testing.T) {
	helm := tool(t, "HELM4")
	kustomize := tool(t, "KUSTOMIZE")
	bin := tierwallBin(t, "tierwall")
	rendered, stderr, err := helmRun(t, helmEnv(t), "", nil, helm, "template", edgeRelease, edgeChart(t), "-n", edgeNamespace)
	require.NoError(t, err, stderr)
	require.NotContains(t, rendered, "kind: NetworkPolicy")

	dir := t.TempDir()
	files := map[string]string{
		"rendered.yaml": rendered,
		"kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ` + edgeNamespace + `
resources: [rendered.yaml]
transformers: [tierwall.yaml]
`,
		"tierwall.yaml": `apiVersion: tierwall.io/v1alpha1
kind: TierWall
metadata:
  name: tierwall
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ` + bin + `
spec: {}
`,
	}
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	out, stderr, err := runCmd(t, dir, nil, kustomize, "build", "--enable-alpha-plugins", "--enable-exec", ".")
	require.NoError(t, err, stderr)

	m, objs := edgeModel(t, out)
	for _, p := range m.Policies {
		assert.Equal(t, edgeNamespace, p.Namespace, "policy %s", p.Name)
	}
	assertEdgeNeedsMet(t, m, objs, true)
	text, rs, code := runCheck(t, out)
	assert.Equal(t, 0, code, "tierwall check must pass on the kustomize output:\n%s", text)
	assert.Empty(t, checkIDs(rs, "error"))
}

// TestPlumbingHelm3 records the Helm 3 outcome: Helm 3 never sends hooks to
// a post-renderer, so tierwall sees neither the admission Jobs nor their
// hook RBAC, and writes them no allow. helm template still prints the hooks
// after the post-rendered manifest, so the analysis shows them default-denied
// and tierwall check fails on them (needs-api), while the controller's API
// and webhook policies are there. In a cluster, the hook Jobs of the first
// install run before any policy exists; on upgrade the pre-upgrade
// admission-create Job runs under the release's default-deny and cannot
// reach the API server. The fix is configuration: spec.allows, or spec.kubeAPI
// with podLabels selecting the hook pods (the docs say so).
func TestPlumbingHelm3(t *testing.T) {
	helm := tool(t, "HELM3")
	pr := tierwallBin(t, "tierwall-postrender")
	out, stderr, err := helmRun(t, helmEnv(t), "", nil, helm, "template", edgeRelease, edgeChart(t), "-n", edgeNamespace,
		"--post-renderer", pr)
	require.NoError(t, err, stderr)

	_, policies := splitOutput(t, out)
	require.NotEmpty(t, policies)
	for _, p := range policies {
		assert.NotContains(t, p.Annotations, "helm.sh/hook", "policy %s", p.Name)
		for _, j := range edgeHookJobs {
			assert.NotContains(t, p.Annotations[manifest.ReasonAnnotation], j, "policy %s: tierwall never saw the hooks", p.Name)
		}
		assert.NotContains(t, p.Annotations[manifest.ReasonAnnotation], "ServiceAccount edge-ingress-admission", "policy %s: nor their RBAC", p.Name)
	}
	for _, name := range []string{edgeController + "-kube-api", edgeController + "-webhook"} {
		assert.NotNil(t, policyNamed(policies, name), "policy %s", name)
	}

	m, objs := edgeModel(t, out)
	assertEdgeNeedsMet(t, m, objs, false)

	text, rs, code := runCheck(t, out)
	assert.Equal(t, 1, code, "tierwall check must fail on the hooks Helm 3 hid:\n%s", text)
	assert.Equal(t, prefixed(check.NeedsAPI+" Job/", edgeHookJobs), checkIDs(rs, "error"))
}

// TestPlumbingAPIServerDryRun sends every object of the Helm 4 output, the
// chart's and tierwall's, through a real kube-apiserver with
// `kubectl apply --dry-run=server --validate=strict`.
func TestPlumbingAPIServerDryRun(t *testing.T) {
	kubectl := tool(t, "KUBECTL")
	apiserver, etcd := tool(t, "KUBE_APISERVER"), tool(t, "ETCD")
	out := renderEdgeHelm4(t)
	objs, err := (&kio.ByteReader{Reader: strings.NewReader(out), OmitReaderAnnotations: true}).Read()
	require.NoError(t, err)
	generated := 0
	for _, o := range objs {
		if o.GetLabels()[managedByLabel] == "tierwall" {
			generated++
		}
	}
	require.NotZero(t, generated)

	k := startAPIServer(t, repoRoot(t), apiserver, etcd, kubectl)
	_, stderr, err := k.run([]byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+edgeNamespace+"\n"), "apply", "-f", "-")
	require.NoError(t, err, stderr)
	names, stderr, err := k.dryRunApply(objs, edgeNamespace)
	require.NoError(t, err, "kube-apiserver rejected objects of the Helm 4 output:\n%s%s", names, stderr)
	assert.Len(t, strings.Fields(names), len(objs), "kubectl must report every object sent:\n%s", names)
	assert.Empty(t, stderr, "kube-apiserver warned about objects of the Helm 4 output")
	t.Logf("kube-apiserver accepted %d objects, %d of them tierwall's", len(objs), generated)
}
