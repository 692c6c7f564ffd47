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
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/fallback"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/stream"
)

// examples/compiled-addresses is a shop whose services find each other only
// through addresses compiled into their images. With zero config every call
// its code makes (calls.yaml) must get through, every fallback must be named
// in the summary and reported, and with spec.fallback.callers: none the run
// must fail with one error per unreachable port.

const compiledNamespace = "socks"

type compiledCalls struct {
	Calls []struct {
		From string `json:"from"`
		To   string `json:"to"`
		Port string `json:"port"`
	} `json:"calls"`
}

// compiledPorts are the Service ports no manifest names a caller of: every
// Service but the LoadBalancer front end's.
var compiledPorts = []string{
	"Deployment carts port 8081", "Deployment catalogue port 8080", "Deployment orders port 8082",
	"Deployment payment port 8083", "Deployment queue-master port 8086", "Deployment shipping port 8085",
	"Deployment user port 8084", "StatefulSet carts-db port 27017", "StatefulSet catalogue-db port 3306",
	"StatefulSet orders-db port 27017", "StatefulSet rabbitmq port 5672", "StatefulSet user-db port 27017",
}

func TestCompiledAddressesZeroConfig(t *testing.T) {
	kustomize := tool(t, "KUSTOMIZE")
	tierwallBin(t, "tierwall")
	root := repoRoot(t)
	out, stderr, err := runCmd(t, root, nil, kustomize, "build", "--enable-alpha-plugins", "--enable-exec", filepath.Join("examples", "compiled-addresses"))
	require.NoError(t, err, stderr)
	s, err := stream.Parse([]byte(out))
	require.NoError(t, err)
	m := analysis.New(s.Objects, analysis.Options{})
	findings := m.Findings
	require.Empty(t, findings)

	byName := map[string]*analysis.Endpoint{}
	for _, e := range m.Endpoints {
		if e.Kind == analysis.Workload {
			byName[e.Name] = e
		}
	}
	data, err := os.ReadFile(filepath.Join(root, "examples", "compiled-addresses", "calls.yaml"))
	require.NoError(t, err)
	var calls compiledCalls
	require.NoError(t, sigsyaml.UnmarshalStrict(data, &calls))
	require.NotEmpty(t, calls.Calls)
	for _, c := range calls.Calls {
		from, to := byName[c.From], byName[c.To]
		require.NotNil(t, from, c.From)
		require.NotNil(t, to, c.To)
		proto, port, _ := strings.Cut(c.Port, "/")
		assert.True(t, m.Allowed(from, to, proto, atoi(t, port)), "the code's call %s -> %s %s is blocked", c.From, c.To, c.Port)
	}
	// Still zero trust: nothing crosses the namespace, and the fallback opens
	// no port the Services do not name.
	other := &analysis.Endpoint{}
	for _, e := range m.Endpoints {
		if e.Kind == analysis.Virtual && e.Role == analysis.RoleMonitoring {
			other = e
		}
	}
	require.NotEmpty(t, other.Name, "the virtual Prometheus endpoint")
	assert.False(t, m.Allowed(other, byName["orders-db"], "TCP", 27017), "a pod of another namespace reaches a database")
	assert.False(t, m.Allowed(byName["front-end"], byName["orders-db"], "TCP", 22), "the fallback opened a port no Service names")

	// The summary on the baseline policy names every fallback.
	var summary string
	for _, o := range s.Objects {
		if o.IsNetworkPolicy() && o.Name == "default-deny-all" && o.Namespace == compiledNamespace {
			summary = o.Annotations[inject.SummaryAnnotation]
		}
	}
	require.NotEmpty(t, summary, "no %s on default-deny-all", inject.SummaryAnnotation)
	assert.Contains(t, summary, "12 fallback(s)")
	for _, p := range compiledPorts[:10] {
		assert.Contains(t, summary, p)
	}
	assert.Contains(t, summary, "and 2 more")

	// The report lists the fallback flows with their policies.
	rep, stderr, err := runCmd(t, root, []byte(out), tierwallBin(t, "tierwall"), "report", "-o", "json")
	require.NoError(t, err, stderr)
	assert.Contains(t, rep, compiledNamespace+"/carts-db-fallback-ingress")
}

func TestCompiledAddressesStrict(t *testing.T) {
	kustomize := tool(t, "KUSTOMIZE")
	root := repoRoot(t)
	out, stderr, err := runCmd(t, root, nil, kustomize, "build", filepath.Join("examples", "compiled-addresses", "app"))
	require.NoError(t, err, stderr)
	objs := parseWithPrepare(t, out)
	spec := &v1alpha1.Spec{Fallback: v1alpha1.Fallback{Callers: v1alpha1.FallbackNone}}
	spec.Default()
	res, failed, err := inject.Engine{Spec: spec}.Process(objs)
	require.NoError(t, err)
	assert.True(t, failed, "strict mode must fail the run")
	assert.Empty(t, res.Objects, "a failed run writes no policy")
	var got []string
	for _, r := range res.Results {
		if r.Tags["check"] == fallback.UnreachableCheck {
			got = append(got, r.Message)
		}
	}
	assert.Len(t, got, len(compiledPorts), "one error per unreachable port:\n%s", strings.Join(got, "\n"))
	sort.Strings(got)
	for _, p := range compiledPorts {
		kind, rest, _ := strings.Cut(p, " ")
		name, port, _ := strings.Cut(rest, " port ")
		found := false
		for _, m := range got {
			found = found || (strings.Contains(m, "pod port "+port+" of "+kind+" "+name+":"))
		}
		assert.True(t, found, "no error for %s", p)
	}
}

func parseWithPrepare(t *testing.T, out string) []manifest.Object {
	t.Helper()
	s, err := stream.Parse([]byte(out))
	require.NoError(t, err)
	return s.Objects
}

func atoi(t *testing.T, s string) int32 {
	t.Helper()
	n := 0
	for _, c := range s {
		require.True(t, c >= '0' && c <= '9', s)
		n = n*10 + int(c-'0')
	}
	return int32(n)
}
