//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/cli"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// The microservices example comes out with exactly the call graph its
// README writes down (examples/microservices/expected-flows.yaml), plus DNS
// and monitoring, however it is rendered: the policies are evaluated with
// pkg/analysis and every allowed flow is compared with the list, both ways.

const (
	msExample   = "microservices"
	msNamespace = "shop"
	// msCredential marks every credential of the example's Secrets and DSNs.
	msCredential = "s3cr3t"
)

// callGraph is examples/microservices/expected-flows.yaml.
type callGraph struct {
	Workloads []string `json:"workloads"`
	Flows     []struct {
		From  string   `json:"from"`
		To    string   `json:"to"`
		Ports []string `json:"ports"`
		Hook  bool     `json:"hook"`
		Via   string   `json:"via"`
	} `json:"flows"`
}

func msDir(t *testing.T) string {
	return filepath.Join(repoRoot(t), "examples", msExample)
}

func loadCallGraph(t *testing.T) callGraph {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(msDir(t), "expected-flows.yaml"))
	require.NoError(t, err)
	var g callGraph
	require.NoError(t, sigsyaml.UnmarshalStrict(data, &g))
	require.NotEmpty(t, g.Flows)
	require.GreaterOrEqual(t, len(g.Workloads), 10)
	return g
}

// want lists the flows of the call graph as "from -> to: ports" lines;
// withHooks false leaves out the flows of Helm hooks (Helm 3).
func (g callGraph) want(withHooks bool) []string {
	var out []string
	for _, f := range g.Flows {
		if f.Hook && !withHooks {
			continue
		}
		ports := append([]string{}, f.Ports...)
		sort.Strings(ports)
		froms := []string{f.From}
		if f.From == "*" {
			froms = g.Workloads
		}
		for _, from := range froms {
			out = append(out, fmt.Sprintf("%s -> %s: %s", from, f.To, strings.Join(ports, ",")))
		}
	}
	sort.Strings(out)
	return out
}

// endpointName names an endpoint as expected-flows.yaml does.
func endpointName(e *analysis.Endpoint) string {
	if e.Kind == analysis.Workload && e.Namespace == msNamespace {
		return e.Name
	}
	return e.String()
}

// allowedFlows evaluates every pair of endpoints of which one at least is a
// workload (the model's virtual pods and address ranges included) and lists
// the flows the policies allow, and the workloads.
func allowedFlows(t *testing.T, rendered []byte, spec *v1alpha1.Spec) ([]string, []string) {
	t.Helper()
	var objs []manifest.Object
	for i, n := range testutil.Docs(t, rendered) {
		objs = append(objs, manifest.FromNode(i, n))
	}
	m := analysis.New(objs, analysis.Options{Spec: spec})
	findings := m.Findings
	for _, f := range findings {
		assert.NotEqual(t, "error", string(f.Severity), "analysis finding: %s", f.Message)
	}
	var flows, workloads []string
	for _, src := range m.Endpoints {
		if src.Kind == analysis.Workload {
			workloads = append(workloads, endpointName(src))
		}
		for _, dst := range m.Endpoints {
			if src.Kind != analysis.Workload && dst.Kind != analysis.Workload {
				continue
			}
			v := m.Between(src, dst)
			if v.Ports.Empty() {
				continue
			}
			ports := v.Ports.Strings()
			sort.Strings(ports)
			flows = append(flows, fmt.Sprintf("%s -> %s: %s", endpointName(src), endpointName(dst), strings.Join(ports, ",")))
		}
	}
	sort.Strings(flows)
	sort.Strings(workloads)
	return flows, workloads
}

// checkCallGraph compares the flows the rendered policies allow with the
// call graph, and checks that no credential reached a generated policy.
func checkCallGraph(t *testing.T, rendered []byte, spec *v1alpha1.Spec, withHooks bool) {
	t.Helper()
	g := loadCallGraph(t)
	flows, workloads := allowedFlows(t, rendered, spec)
	wantWorkloads := append([]string{}, g.Workloads...)
	sort.Strings(wantWorkloads)
	assert.Equal(t, wantWorkloads, workloads, "the workloads of the example")
	assert.Equal(t, strings.Join(g.want(withHooks), "\n"), strings.Join(flows, "\n"),
		"allowed flows differ from examples/%s/expected-flows.yaml", msExample)

	policies := 0
	for _, n := range testutil.Docs(t, rendered) {
		o := manifest.FromNode(0, n)
		if o.IsNetworkPolicy() && o.ManagedByTierwall() {
			policies++
			assert.NotContains(t, testutil.String(t, n), msCredential, "NetworkPolicy %s carries a credential", o.Name)
		}
	}
	assert.Greater(t, policies, 10)
	assert.Contains(t, string(rendered), msCredential, "the example's Secrets come out unchanged")
}

// msSpec loads a config file of the example the way the function does; ns
// names the namespace of objects without one (Helm's release namespace).
func msSpec(t *testing.T, file, ns string) *v1alpha1.Spec {
	t.Helper()
	fc, err := kyaml.ReadFile(filepath.Join(msDir(t), file))
	require.NoError(t, err)
	spec, _, err := v1alpha1.Load(fc)
	require.NoError(t, err)
	if ns != "" {
		spec.Namespace = ns
	}
	return spec
}

// chartStream is the chart's templates (plain YAML) in the kustomization's
// order, as one stream: what Helm renders, hooks included.
func chartStream(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(msDir(t), "kustomization.yaml"))
	require.NoError(t, err)
	var k struct {
		Resources []string `json:"resources"`
	}
	require.NoError(t, sigsyaml.Unmarshal(data, &k))
	var b bytes.Buffer
	for _, r := range k.Resources {
		if !strings.HasPrefix(r, "chart/templates/") {
			continue
		}
		doc, err := os.ReadFile(filepath.Join(msDir(t), r))
		require.NoError(t, err)
		b.WriteString("---\n# Source: shop/templates/" + filepath.Base(r) + "\n")
		b.Write(doc)
	}
	return b.Bytes()
}

// TestMicroservicesCallGraph runs the engine in process on the chart's
// objects (as the post-renderer gets them from Helm 4, hooks included) with
// the example's default config, and compares the allowed flows with the
// call graph. It needs no external binary.
func TestMicroservicesCallGraph(t *testing.T) {
	var stdout, stderr bytes.Buffer
	cmd := cli.Command{Stdin: bytes.NewReader(chartStream(t)), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(string) string { return "" }, ReadFile: os.ReadFile}
	code := cmd.PostRender([]string{"--namespace=" + msNamespace, "--config=" + filepath.Join(msDir(t), "tierwall.yaml")})
	require.Equal(t, 0, code, stderr.String())
	// With zero config the example renders with one warning, the assumed
	// home of the nginx class's controller; its summary names no fallback.
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if strings.HasPrefix(line, "tierwall: summary: ") {
			assert.Contains(t, line, "no fallback")
			assert.Contains(t, line, "; 1 warning(s)")
			continue
		}
		if strings.Contains(line, "spec.inference.ingressClasses: Ingresses of class nginx are assumed") {
			continue
		}
		assert.NotContains(t, line, "warning", "the example renders with no other warning")
	}
	checkCallGraph(t, stdout.Bytes(), msSpec(t, "tierwall.yaml", msNamespace), true)
}

// TestMicroservicesCallGraphEndToEnd renders the example with the real
// kustomize (the KRM function, defaults only), Helm 3 and Helm 4 (the
// post-renderer), and compares the allowed flows with the call graph. Helm 3
// never shows hooks to a post-renderer: the db-migrate hook gets its allow
// only with tierwall-helm3-hooks.yaml.
func TestMicroservicesCallGraphEndToEnd(t *testing.T) {
	chart := filepath.Join(msDir(t), "chart")
	t.Run("kustomize", func(t *testing.T) {
		kustomize := tool(t, "KUSTOMIZE")
		tierwallBin(t, "tierwall")
		out, stderr, err := runCmd(t, repoRoot(t), nil, kustomize, "build", "--enable-alpha-plugins", "--enable-exec", filepath.Join("examples", msExample))
		require.NoError(t, err, stderr)
		checkCallGraph(t, []byte(out), msSpec(t, "tierwall.yaml", ""), true)
	})
	t.Run("helm3", func(t *testing.T) {
		helm := tool(t, "HELM3")
		pr := tierwallBin(t, "tierwall-postrender")
		out, stderr, err := helmRun(t, helmEnv(t), "", nil, helm, "template", helmRelease, chart, "-n", msNamespace,
			"--post-renderer", pr, "--post-renderer-args=--namespace="+msNamespace)
		require.NoError(t, err, stderr)
		assert.Contains(t, out, "name: db-migrate", "helm template prints the hook, unseen by the post-renderer")
		checkCallGraph(t, []byte(out), msSpec(t, "tierwall.yaml", msNamespace), false)
	})
	t.Run("helm3-hooks-config", func(t *testing.T) {
		helm := tool(t, "HELM3")
		pr := tierwallBin(t, "tierwall-postrender")
		config := filepath.Join(msDir(t), "tierwall-helm3-hooks.yaml")
		out, stderr, err := helmRun(t, helmEnv(t), "", nil, helm, "template", helmRelease, chart, "-n", msNamespace,
			"--post-renderer", pr, "--post-renderer-args=--namespace="+msNamespace, "--post-renderer-args=--config="+config)
		require.NoError(t, err, stderr)
		checkCallGraph(t, []byte(out), msSpec(t, "tierwall-helm3-hooks.yaml", msNamespace), true)
	})
	t.Run("helm4", func(t *testing.T) {
		helm := tool(t, "HELM4")
		tierwallBin(t, "tierwall-postrender")
		env := helm4WithPlugin(t, helm)
		out, stderr, err := helmRun(t, env, "", nil, helm, "template", helmRelease, chart, "-n", msNamespace,
			"--post-renderer", "tierwall", "--post-renderer-args=--namespace="+msNamespace)
		require.NoError(t, err, stderr)
		checkCallGraph(t, []byte(out), msSpec(t, "tierwall.yaml", msNamespace), true)
	})
}
