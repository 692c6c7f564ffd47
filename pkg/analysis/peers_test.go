package analysis_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/bench"
	"github.com/tierwall/tierwall/pkg/cli"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/stream"
)

const grafanaIngress = `  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {name: monitoring}}
      podSelector: {matchLabels: {app: grafana}}
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
    - namespaceSelector: {}
    - podSelector: {matchLabels: {app: db}}
    - podSelector: {matchExpressions: [{key: app, operator: In, values: [batch, cron]}]}
    - namespaceSelector: {matchLabels: {team: payments}}
      podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [x]}, {key: tier, operator: Exists}]}
    ports: [{port: 8080}]`

// TestSelectorPeers: each peer no endpoint matches becomes an endpoint of
// its own, and so do peers naming whole namespaces beyond the input; a peer
// an input workload matches does not.
func TestSelectorPeers(t *testing.T) {
	objs := objects(t, webPod, dbPod, policy("web-in", grafanaIngress))
	m := analysis.New(objs, analysis.Options{SelectorPeers: true})
	findings := m.Findings
	require.Empty(t, findings)
	var peers []string
	for _, e := range m.Endpoints {
		if e.Role == analysis.RoleSelector || e.Role == analysis.RoleNamespace {
			peers = append(peers, e.String()+" | "+e.Describe())
		}
	}
	assert.Equal(t, []string{
		"every pod in namespace kube-system | a whole namespace, not in the input",
		"pods app in (batch,cron) in namespace shop | pods a policy names, not in the input",
		"every pod in every namespace | a whole namespace, not in the input",
		"pods app=grafana in namespaces name=monitoring | pods a policy names, not in the input",
		"pods app notin (x),tier in namespaces team=payments | pods a policy names, not in the input",
	}, peers)
	web := endpoint(t, m, "shop/web")
	for _, from := range []string{"pods app=grafana in namespaces name=monitoring", "every pod in namespace kube-system",
		"every pod in every namespace", "pods app notin (x),tier in namespaces team=payments"} {
		assert.Equal(t, "TCP/8080", m.Between(endpoint(t, m, from), web).Ports.String(), from)
	}
	// Pods of the policy's own namespace are subject to its policies: this
	// one has none for egress.
	assert.Equal(t, "TCP/8080", m.Between(endpoint(t, m, "pods app in (batch,cron) in namespace shop"), web).Ports.String())
	var flowsTo []string
	for _, f := range m.Flows() {
		if f.To == web {
			flowsTo = append(flowsTo, f.From.String())
		}
	}
	assert.Contains(t, flowsTo, "pods app=grafana in namespaces name=monitoring")
	assert.Contains(t, flowsTo, "shop/db")
	assert.NotContains(t, flowsTo, "pods app=db in namespace shop", "shop/db stands for that peer")
}

// TestSelectorPeersKeepVerdicts: adding the peers changes nothing between
// the endpoints that exist without them, on the realistic benchmark set
// after tierwall added its policies, and shuffled input adds the same
// peers.
func TestSelectorPeersKeepVerdicts(t *testing.T) {
	spec, _, err := v1alpha1.Load(nil)
	require.NoError(t, err)
	out, _, err := cli.RenderStream(bench.Realistic(4, 5, false), spec)
	require.NoError(t, err)
	mine := strings.ReplaceAll(policy("web-in", grafanaIngress), "namespace: shop", "namespace: team-001")
	s, err := stream.Parse(append(out, []byte("---\n"+mine+"\n")...))
	require.NoError(t, err)
	plain := analysis.New(s.Objects, analysis.Options{Spec: spec})
	withPeers := analysis.New(s.Objects, analysis.Options{Spec: spec, SelectorPeers: true})
	require.Greater(t, len(withPeers.Endpoints), len(plain.Endpoints)+3)
	byID := map[string]*analysis.Endpoint{}
	for _, e := range withPeers.Endpoints {
		byID[e.ID] = e
	}
	for _, a := range plain.Endpoints {
		for _, b := range plain.Endpoints {
			va, vb := plain.Between(a, b), withPeers.Between(byID[a.ID], byID[b.ID])
			require.True(t, va.Ports.Equal(vb.Ports), "%s -> %s", a, b)
		}
	}
	reversed := append([]manifest.Object{}, s.Objects...)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	again := analysis.New(reversed, analysis.Options{Spec: spec, SelectorPeers: true})
	ids := func(m *analysis.Model) (out []string) {
		for _, e := range m.Endpoints {
			out = append(out, e.ID)
		}
		return out
	}
	assert.Equal(t, ids(withPeers), ids(again))
}

func TestPortSetMinus(t *testing.T) {
	set := func(ranges ...analysis.PortRange) analysis.PortSet { return analysis.PortSet{ranges} }
	tests := map[string]struct{ a, b, want analysis.PortSet }{
		"disjoint":       {set(analysis.PortRange{Lo: 80, Hi: 80}), set(analysis.PortRange{Lo: 443, Hi: 443}), set(analysis.PortRange{Lo: 80, Hi: 80})},
		"equal":          {set(analysis.PortRange{Lo: 80, Hi: 80}), set(analysis.PortRange{Lo: 80, Hi: 80}), analysis.PortSet{}},
		"hole":           {set(analysis.PortRange{Lo: 1, Hi: 65535}), set(analysis.PortRange{Lo: 53, Hi: 53}), set(analysis.PortRange{Lo: 1, Hi: 52}, analysis.PortRange{Lo: 54, Hi: 65535})},
		"two holes":      {set(analysis.PortRange{Lo: 8000, Hi: 8100}), set(analysis.PortRange{Lo: 8000, Hi: 8009}, analysis.PortRange{Lo: 8050, Hi: 8050}), set(analysis.PortRange{Lo: 8010, Hi: 8049}, analysis.PortRange{Lo: 8051, Hi: 8100})},
		"other protocol": {analysis.Port("UDP", 53), analysis.Port("TCP", 53), analysis.Port("UDP", 53)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want.String(), tc.a.Minus(tc.b).String())
			assert.True(t, tc.a.Covers(tc.a.Minus(tc.b)))
		})
	}
}

// TestPodSets checks the class-held sets against the lists: a rule's
// PeerPods are the pods among its Peers, a policy's SelectedPods its
// Selected, in the same order, and First finds the first of them in an
// EndpointSet.
func TestPodSets(t *testing.T) {
	m := analysis.New(largeStream(t, 3, 6), analysis.Options{})
	// Every other pod of the model, for First.
	some := m.NewEndpointSet()
	var pods []*analysis.Endpoint
	for _, e := range m.Endpoints {
		if e.Kind == analysis.Workload || e.Kind == analysis.Virtual {
			pods = append(pods, e)
		}
	}
	inSome := map[*analysis.Endpoint]bool{}
	for i, e := range pods {
		if i%2 == 1 {
			some.Add(e)
			inSome[e] = true
		}
	}
	check := func(what string, set analysis.PodSet, list []*analysis.Endpoint) {
		var want []*analysis.Endpoint
		var first *analysis.Endpoint
		for _, e := range list {
			if e.Kind == analysis.Workload || e.Kind == analysis.Virtual {
				want = append(want, e)
				if first == nil && inSome[e] {
					first = e
				}
			}
		}
		got := set.List()
		assert.Equal(t, want, got, what)
		assert.Equal(t, len(want) == 0, set.Empty(), what)
		assert.Equal(t, first, set.First(some), what)
		assert.Nil(t, set.First(nil), what)
	}
	rules := 0
	for _, p := range m.Policies {
		check(p.Ref()+" selected", m.SelectedPods(p), m.Selected(p))
		for _, r := range append(append([]*analysis.Rule{}, p.IngressRules...), p.EgressRules...) {
			check(p.Ref()+" "+r.Field(), m.PeerPods(r), m.Peers(r))
			rules++
		}
	}
	assert.Greater(t, rules, 30)
}

// TestDuplicateEndpointsOrder: endpoints that sort alike (an object given
// twice) keep the order the classes gather them in, as a stable sort by
// endpoint name would: the pods of the class met first come first.
func TestDuplicateEndpointsOrder(t *testing.T) {
	deployment := func(name, app string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: shop}\nspec:\n  selector: {matchLabels: {app: " + app + "}}\n  template:\n    metadata: {labels: {app: " + app + ", tier: back}}\n    spec: {containers: [{name: x}]}"
	}
	m := analysis.New(objects(t,
		deployment("api", "b"), deployment("api", "a"), deployment("api", "c"), deployment("aaa", "c"),
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec: {podSelector: {matchLabels: {tier: back}}, ingress: [{from: [{podSelector: {matchLabels: {tier: back}}}]}]}",
	), analysis.Options{})
	// Classes: c (aaa, and the third api), b, a.
	want := []string{"aaa c", "api c", "api b", "api a"}
	p := m.Policies[0]
	for _, list := range [][]*analysis.Endpoint{m.Selected(p), m.Peers(p.IngressRules[0]), m.SelectedPods(p).List()} {
		var got []string
		for _, e := range list {
			if e.Kind == analysis.Workload {
				got = append(got, e.Name+" "+e.Labels["app"])
			}
		}
		assert.Equal(t, want, got)
	}
	var got []string
	for _, f := range m.Flows() {
		if f.From.Kind == analysis.Workload && f.To.Kind == analysis.Workload && f.To.Name == "aaa" {
			got = append(got, f.From.Name+" "+f.From.Labels["app"])
		}
	}
	assert.Equal(t, want, got)
}
