package analysis_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// objects parses a multi-document YAML stream.
func objects(t *testing.T, docs ...string) []manifest.Object {
	t.Helper()
	nodes := testutil.Docs(t, []byte(strings.Join(docs, "\n---\n")))
	out := make([]manifest.Object, len(nodes))
	for i, n := range nodes {
		out[i] = manifest.FromNode(i, n)
	}
	return out
}

func endpoint(t *testing.T, m *analysis.Model, name string) *analysis.Endpoint {
	t.Helper()
	for _, e := range m.Endpoints {
		if e.String() == name {
			return e
		}
	}
	require.Failf(t, "no endpoint", "%s", name)
	return nil
}

const (
	webPod = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  containers:
  - name: web
    ports:
    - {name: http, containerPort: 8080}
    - {name: metrics, containerPort: 9090}
    - {name: dns-ish, containerPort: 5353, protocol: UDP}`
	dbPod = `apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec:
  containers:
  - name: db
    ports:
    - {name: pg, containerPort: 5432}`
	denyAll = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]`
)

func policy(name, spec string) string {
	return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + name + ", namespace: shop}\nspec:\n" + spec
}

func TestBetween(t *testing.T) {
	type probe struct {
		from, to string
		ports    string // PortSet.String() of what is allowed
	}
	tests := map[string]struct {
		docs   []string
		probes []probe
	}{
		"no policy: everything open": {
			docs:   []string{webPod, dbPod},
			probes: []probe{{"shop/web", "shop/db", "any"}, {"internet", "shop/web", "any"}},
		},
		"endPort is a range": {
			docs: []string{webPod, dbPod, denyAll,
				policy("db-in", "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - ports: [{port: 5000, endPort: 5500}]"),
				policy("web-out", "  podSelector: {matchLabels: {app: web}}\n  egress:\n  - to: [{podSelector: {}}]\n    ports: [{port: 5400, endPort: 6000}]")},
			probes: []probe{{"shop/web", "shop/db", "TCP/5400-5500"}, {"shop/db", "shop/web", ""}},
		},
		"named port in an egress rule resolves on the destination": {
			docs: []string{webPod, dbPod, denyAll,
				policy("db-in", "  podSelector: {matchLabels: {app: db}}\n  ingress: [{}]"),
				policy("web-out", "  podSelector: {matchLabels: {app: web}}\n  egress:\n  - ports: [{port: pg}, {port: http}]")},
			probes: []probe{{"shop/web", "shop/db", "TCP/5432"}, {"shop/web", "internet", ""}},
		},
		"policyTypes default: egress only when egress rules exist": {
			docs: []string{webPod, dbPod,
				policy("web-in", "  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: db}}}]\n    ports: [{port: 8080}]")},
			probes: []probe{{"shop/db", "shop/web", "TCP/8080"}, {"shop/web", "shop/db", "any"}, {"internet", "shop/web", ""}},
		},
		"ingress from an ipBlock admits the internet, not the pods": {
			docs: []string{webPod, dbPod,
				policy("web-in", "  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]\n    ports: [{port: http}]")},
			probes: []probe{{"internet", "shop/web", "TCP/8080"}, {"shop/db", "shop/web", ""}},
		},
		"egress to a named CIDR": {
			docs: []string{webPod, denyAll,
				policy("web-out", "  podSelector: {}\n  egress:\n  - to: [{ipBlock: {cidr: 203.0.113.0/24}}]\n    ports: [{port: 443}, {port: 53, protocol: UDP}]")},
			probes: []probe{{"shop/web", "203.0.113.0/24", "TCP/443, UDP/53"}, {"shop/web", "internet", ""}},
		},
		"protocol without port is every port of it": {
			docs: []string{webPod, dbPod,
				policy("web-in", "  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - ports: [{protocol: UDP}]")},
			probes: []probe{{"shop/db", "shop/web", "UDP/any"}},
		},
		"rules of several policies add up": {
			docs: []string{webPod, dbPod, denyAll,
				policy("a", "  podSelector: {matchLabels: {app: db}}\n  ingress: [{ports: [{port: 1}]}]"),
				policy("b", "  podSelector: {matchLabels: {app: db}}\n  ingress: [{ports: [{port: 2}]}]"),
				policy("c", "  podSelector: {matchLabels: {app: web}}\n  egress: [{ports: [{port: 2}, {port: 3}]}]")},
			probes: []probe{{"shop/web", "shop/db", "TCP/2"}},
		},
		"default-deny reaches DNS through allow rules only": {
			docs: []string{webPod, denyAll,
				policy("dns", "  podSelector: {}\n  egress:\n  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]\n    ports: [{port: 53, protocol: UDP}, {port: 53}]")},
			probes: []probe{{"shop/web", "kube-system/kube-dns", "TCP/53, UDP/53"}, {"shop/web", "monitoring/prometheus", ""}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := analysis.New(objects(t, tc.docs...), analysis.Options{})
			rs := m.Findings
			require.Empty(t, rs)
			for _, p := range tc.probes {
				v := m.Between(endpoint(t, m, p.from), endpoint(t, m, p.to))
				got := v.Ports.String()
				if v.Ports.Empty() {
					got = ""
				}
				assert.Equal(t, p.ports, got, "%s -> %s", p.from, p.to)
			}
		})
	}
}

func TestVerdictNamesPolicies(t *testing.T) {
	m := analysis.New(objects(t, webPod, dbPod, denyAll,
		policy("db-in", "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: pg}]"),
		policy("db-in-other", "  podSelector: {matchLabels: {app: db}}\n  ingress: [{ports: [{port: 1234}]}]"),
		policy("web-out", "  podSelector: {matchLabels: {app: web}}\n  egress: [{to: [{podSelector: {matchLabels: {app: db}}}]}]"),
	), analysis.Options{})
	require.Empty(t, m.Findings)
	v := m.Between(endpoint(t, m, "shop/web"), endpoint(t, m, "shop/db"))
	assert.Equal(t, "TCP/1234, TCP/5432", v.Ports.String())
	refs := func(ps []*analysis.Policy) (out []string) {
		for _, p := range ps {
			out = append(out, p.Ref())
		}
		return out
	}
	assert.Equal(t, []string{"shop/db-in", "shop/db-in-other"}, refs(v.Ingress.Policies))
	assert.Equal(t, []string{"shop/web-out"}, refs(v.Egress.Policies))
	assert.True(t, v.Ingress.Isolated)
	assert.True(t, v.Egress.Isolated)
}

func TestHostNetworkIsLeftOut(t *testing.T) {
	m := analysis.New(objects(t, denyAll, `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: shop}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {hostNetwork: true, containers: [{name: a}]}`), analysis.Options{})
	agent := endpoint(t, m, "shop/agent")
	assert.True(t, agent.HostNetwork)
	in, eg := m.Isolation(agent)
	assert.False(t, in)
	assert.False(t, eg)
	for _, f := range m.Flows() {
		assert.NotEqual(t, agent, f.From)
		assert.NotEqual(t, agent, f.To)
	}
	p := m.Policies[0]
	assert.Empty(t, m.Selected(p))
}

func TestVirtualEndpointsFollowTheConfig(t *testing.T) {
	spec := &v1alpha1.Spec{DNS: v1alpha1.DNS{Profile: v1alpha1.DNSProfileNodeLocal}, KubeAPI: v1alpha1.KubeAPI{CIDRs: []string{"172.18.0.2/32"}}}
	spec.Default()
	m := analysis.New(objects(t, webPod), analysis.Options{Spec: spec,
		External: []analysis.NamedCIDR{{Name: "billing", CIDR: mustPrefix(t, "198.51.100.0/24")}}})
	var got []string
	for _, e := range m.Endpoints {
		got = append(got, string(e.Kind)+" "+e.String())
	}
	assert.Equal(t, []string{
		"workload shop/web",
		"virtual ingress-nginx/ingress-controller",
		"virtual kube-system/kube-dns",
		"virtual monitoring/prometheus",
		"external billing",
		"external control-plane",
		"external dns 169.254.20.10/32",
		"external internet",
		"external kube-apiserver",
	}, got)
	ns, ok := m.Namespace("kube-system")
	require.True(t, ok)
	assert.False(t, ns.InStream)
	assert.Equal(t, "kube-system", ns.Labels[analysis.NamespaceNameLabel])
}

func TestVirtualEndpointGivesWayToTheInput(t *testing.T) {
	m := analysis.New(objects(t, webPod, `apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec:
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec: {containers: [{name: coredns}]}`), analysis.Options{})
	for _, e := range m.Endpoints {
		assert.NotEqual(t, "virtual/kube-system/kube-dns", e.ID)
	}
	endpoint(t, m, "kube-system/coredns")
}

func TestWildcardFlows(t *testing.T) {
	m := analysis.New(objects(t, webPod, dbPod, denyAll,
		policy("web-in", "  podSelector: {matchLabels: {app: web}}\n  ingress: [{ports: [{port: http}]}]"),
		policy("db-out", "  podSelector: {matchLabels: {app: db}}\n  egress: [{ports: [{port: http}, {port: 443}]}]"),
	), analysis.Options{})
	var got []string
	for _, f := range m.Flows() {
		line := f.From.String() + " -> " + f.To.String() + " " + f.Ports.String()
		if len(f.NamedPorts) > 0 {
			line += " " + strings.Join(f.NamedPorts, ",")
		}
		got = append(got, line)
	}
	// Two rules without peers meet only through the wildcard rows; the pair
	// itself is still evaluated exactly.
	assert.Equal(t, []string{
		"any -> shop/web TCP/8080",
		"shop/db -> any TCP/443 TCP/http",
	}, got)
	assert.Equal(t, "TCP/8080", m.Between(endpoint(t, m, "shop/db"), endpoint(t, m, "shop/web")).Ports.String())
}

func TestInvalidPoliciesAreFindings(t *testing.T) {
	tests := map[string]struct {
		spec, field, message string
	}{
		"unknown field":         {"  podSelector: {}\n  ingres: []", "spec", `unknown field "ingres"`},
		"bad cidr":              {"  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.300/8}}]}]", "spec.egress[0].to[0].ipBlock.cidr", "not a CIDR"},
		"except outside cidr":   {"  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/8]}}]}]", "spec.egress[0].to[0].ipBlock.except[0]", "strict subset"},
		"ipBlock and selector":  {"  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]", "spec.ingress[0].from[0]", "cannot be combined"},
		"empty peer":            {"  podSelector: {}\n  ingress: [{from: [{}]}]", "spec.ingress[0].from[0]", "must set"},
		"lower-case protocol":   {"  podSelector: {}\n  ingress: [{ports: [{port: 80, protocol: tcp}]}]", "spec.ingress[0].ports[0].protocol", "not a protocol"},
		"endPort with a name":   {"  podSelector: {}\n  ingress: [{ports: [{port: http, endPort: 90}]}]", "spec.ingress[0].ports[0].endPort", "named port"},
		"endPort below port":    {"  podSelector: {}\n  ingress: [{ports: [{port: 90, endPort: 80}]}]", "spec.ingress[0].ports[0].endPort", "between"},
		"bad operator":          {"  podSelector: {matchExpressions: [{key: a, operator: Is, values: [b]}]}", "spec.podSelector", "operator"},
		"bad policy type":       {"  podSelector: {}\n  policyTypes: [ingress]", "spec.policyTypes[0]", "not a policy type"},
		"port number as string": {"  podSelector: {}\n  ingress: [{ports: [{port: \"80\"}]}]", "spec.ingress[0].ports[0].port", "not a valid port name"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := analysis.New(objects(t, webPod, policy("bad", tc.spec)), analysis.Options{})
			rs := m.Findings
			require.Len(t, rs, 1)
			assert.Equal(t, "error", string(rs[0].Severity))
			require.NotNil(t, rs[0].Field)
			assert.Equal(t, tc.field, rs[0].Field.Path)
			assert.Contains(t, rs[0].Message, tc.message)
			assert.Contains(t, rs[0].Message, "shop/bad")
			assert.Empty(t, m.Policies, "an invalid policy is left out")
		})
	}
}

func TestPortSet(t *testing.T) {
	a := analysis.Port("TCP", 80).Union(analysis.Port("TCP", 81)).Union(analysis.Port("UDP", 53))
	assert.Equal(t, "TCP/80-81, UDP/53", a.String())
	assert.Equal(t, "TCP/81", a.Intersect(analysis.Port("TCP", 81).Union(analysis.Port("TCP", 82))).String())
	assert.True(t, a.Intersect(analysis.Port("SCTP", 80)).Empty())
	assert.Equal(t, "any", analysis.AllPorts().String())
	assert.True(t, analysis.AllPorts().Contains("SCTP", 65535))
	assert.False(t, a.Contains("TCP", 82))
}

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	require.NoError(t, err)
	return p
}
