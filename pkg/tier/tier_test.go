package tier_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/scope"
	"github.com/tierwall/tierwall/pkg/service"
	"github.com/tierwall/tierwall/pkg/tier"
	"github.com/tierwall/tierwall/pkg/workload"
)

// threeTier is frontend -> api -> database in namespace shop; the
// frontend is reached through Service web (port 80 -> pod port http).
const threeTier = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: shop}
spec:
  selector: {matchLabels: {app: frontend}}
  template:
    metadata: {labels: {app: frontend, tier: frontend}}
    spec: {containers: [{name: web, image: web, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: frontend}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api, app.kubernetes.io/component: backend}}
    spec: {containers: [{name: api, image: api, ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: database, namespace: shop}
spec:
  selector: {matchLabels: {app: database}}
  template:
    metadata: {labels: {app: database, tier: postgres}}
    spec: {containers: [{name: pg, image: postgres, ports: [{containerPort: 5432}]}]}
`

// apiAndDatabase is the chain without its first tier.
const apiAndDatabase = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api, tier: api}}
    spec: {containers: [{name: api, image: api, ports: [{containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: database, namespace: shop}
spec:
  selector: {matchLabels: {app: database}}
  template:
    metadata: {labels: {app: database, tier: db}}
    spec: {containers: [{name: pg, image: postgres, ports: [{containerPort: 5432}]}]}
`

// input reads docs the way the engine does: scope first, then the
// workloads and Services of every namespaced object.
func input(t *testing.T, spec *v1alpha1.Spec, docs string) tier.Input {
	t.Helper()
	nodes := testutil.Docs(t, []byte(docs))
	objs := make([]manifest.Object, len(nodes))
	for i, n := range nodes {
		objs[i] = manifest.FromNode(i, n)
	}
	set, _ := scope.Find(spec, objs)
	in := tier.Input{Spec: spec, Set: set}
	for _, o := range objs {
		ns, ok := set.Of[o.Index]
		if !ok {
			continue
		}
		if w, ok := workload.Extract(o, ns, nil); ok {
			in.Workloads = append(in.Workloads, w)
		} else if s, ok := service.Extract(o, ns); ok {
			in.Services = append(in.Services, s)
		}
	}
	require.NotEmpty(t, in.Workloads)
	return in
}

func edgeLines(edges []graph.Edge) []string {
	var out []string
	for _, e := range edges {
		out = append(out, fmt.Sprintf("%s -> %s %s (%s)", e.From.Describe(), e.To.Describe(), graph.PortsString(e.Ports), e.Source))
	}
	return out
}

func resultLines(rs framework.Results) []string {
	var out []string
	for _, r := range rs {
		out = append(out, string(r.Severity)+": "+r.Message)
	}
	return out
}

const (
	entryToFrontend = "all pods in namespace ingress-nginx -> Deployment shop/frontend TCP/8080 (tiers)"
	frontendToAPI   = "Deployment shop/frontend -> Deployment shop/api TCP/8080 (tiers)"
	apiToDatabase   = "Deployment shop/api -> StatefulSet shop/database TCP/5432 (tiers)"
)

func TestDerive(t *testing.T) {
	tests := map[string]struct {
		docs        string
		config      func(s *v1alpha1.Spec)
		wantEdges   []string
		wantResults []string
	}{
		"three tiers, the default entry, Service and declared ports": {
			docs:      threeTier,
			wantEdges: []string{entryToFrontend, frontendToAPI, apiToDatabase},
		},
		"entry peers from config": {
			docs: threeTier,
			config: func(s *v1alpha1.Spec) {
				s.Tiers.Entry = []v1alpha1.Peer{
					{Namespace: "gateway", PodLabels: map[string]string{"app": "envoy"}},
					{CIDR: "203.0.113.0/24"},
				}
			},
			wantEdges: []string{
				"pods app=envoy in namespace gateway -> Deployment shop/frontend TCP/8080 (tiers)",
				"203.0.113.0/24 -> Deployment shop/frontend TCP/8080 (tiers)",
				frontendToAPI, apiToDatabase,
			},
		},
		"no entry": {
			docs:      threeTier,
			config:    func(s *v1alpha1.Spec) { s.Tiers.Entry = []v1alpha1.Peer{} },
			wantEdges: []string{frontendToAPI, apiToDatabase},
		},
		"an entry in a default-denied namespace of the input that nothing outside reaches": {
			docs: threeTier,
			config: func(s *v1alpha1.Spec) {
				s.Tiers.Entry = []v1alpha1.Peer{{Namespace: "shop", PodLabels: map[string]string{"app": "gateway"}}}
			},
			wantEdges: []string{"pods app=gateway in namespace shop -> Deployment shop/frontend TCP/8080 (tiers)", frontendToAPI, apiToDatabase},
			wantResults: []string{"warning: namespace shop holds the tier entry pods and is default-denied, but nothing admits traffic from outside the cluster to them: " +
				"include their LoadBalancer or NodePort Service in the input, add an allow, or skip the namespace"},
		},
		"tiers off": {
			docs:   threeTier,
			config: func(s *v1alpha1.Spec) { s.Tiers.Enabled = new(bool) },
		},
		"a custom chain and label": {
			docs: threeTier,
			config: func(s *v1alpha1.Spec) {
				s.Tiers.Labels = []string{"app"}
				s.Tiers.Chain = []v1alpha1.Tier{{Name: "edge", Aliases: []string{"frontend"}}, {Name: "store", Aliases: []string{"DATABASE"}}}
				s.Tiers.Entry = []v1alpha1.Peer{}
			},
			wantEdges: []string{"Deployment shop/frontend -> StatefulSet shop/database TCP/5432 (tiers)"},
			wantResults: []string{
				"info: Deployment api has label app=api, which is no tier of spec.tiers.chain: baseline only",
			},
		},
		"a tier with no predecessor gets no ingress from a tier": {
			docs:      apiAndDatabase,
			wantEdges: []string{apiToDatabase},
			wantResults: []string{
				"info: Deployment api is in tier api but namespace shop has no workload of tier frontend before it: it gets no ingress from a tier",
			},
		},
		"a label of no tier": {
			docs: threeTier + `---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: shop}
spec:
  jobTemplate: {spec: {template: {metadata: {labels: {app: report, tier: batch}}, spec: {containers: [{name: r, image: r}]}}}}
`,
			wantEdges:   []string{entryToFrontend, frontendToAPI, apiToDatabase},
			wantResults: []string{"info: CronJob report has label tier=batch, which is no tier of spec.tiers.chain: baseline only"},
		},
		"a tier workload without ports is still a source": {
			docs: threeTier + `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: static, namespace: shop}
spec:
  selector: {matchLabels: {app: static}}
  template:
    metadata: {labels: {app: static, tier: web}}
    spec: {containers: [{name: s, image: s}]}
`,
			wantEdges: []string{entryToFrontend, frontendToAPI, "Deployment shop/static -> Deployment shop/api TCP/8080 (tiers)", apiToDatabase},
			wantResults: []string{
				"warning: Deployment static is in tier frontend but declares no port: it gets no ingress (declare its container ports)",
			},
		},
		"a host-network workload is left out": {
			docs: threeTier + `---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: shop}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent, tier: api}}
    spec: {hostNetwork: true, containers: [{name: a, image: a, ports: [{containerPort: 8125}]}]}
`,
			wantEdges: []string{entryToFrontend, frontendToAPI, apiToDatabase},
			wantResults: []string{
				"info: DaemonSet agent uses the host network: NetworkPolicy does not apply to its pods and they cannot be selected as peers",
			},
		},
		"allows from config, on the destination's ports or the configured ones": {
			docs: threeTier,
			config: func(s *v1alpha1.Spec) {
				s.Tiers.Enabled = new(bool)
				s.Allows = []v1alpha1.Allow{
					{Name: "reports", Namespace: "shop", From: []v1alpha1.Peer{{Namespace: "analytics", PodLabels: map[string]string{"app": "reporter"}}},
						To: v1alpha1.Peer{Workload: "database"}},
					{Namespace: "shop", From: []v1alpha1.Peer{{Tier: "frontend"}, {NamespaceLabels: map[string]string{"team": "qa"}}},
						To: v1alpha1.Peer{Tier: "api"}, Ports: []v1alpha1.PortSpec{{Port: intstr.FromInt32(9000), EndPort: 9010}, {Port: intstr.FromString("http")}}},
				}
			},
			wantEdges: []string{
				"pods app=reporter in namespace analytics -> StatefulSet shop/database TCP/5432 (allows)",
				"Deployment shop/frontend -> Deployment shop/api TCP/9000-9010, TCP/http (allows)",
				"all pods in namespaces team=qa -> Deployment shop/api TCP/9000-9010, TCP/http (allows)",
			},
		},
		"an allow that resolves to nothing allows nothing": {
			docs: threeTier,
			config: func(s *v1alpha1.Spec) {
				s.Tiers.Enabled = new(bool)
				s.Allows = []v1alpha1.Allow{
					{Namespace: "shop", From: []v1alpha1.Peer{{Tier: "frontend"}}, To: v1alpha1.Peer{Workload: "ghost"}},
					{Namespace: "shop", From: []v1alpha1.Peer{{Tier: "frontend"}}, To: v1alpha1.Peer{PodLabels: map[string]string{"app": "x"}}},
				}
			},
			wantResults: []string{
				"warning: peer workload ghost in namespace shop is not in the input: nothing allowed for it",
				"warning: allow allow-1: pods app=x in namespace shop declares no port and the allow names none: nothing allowed (an allow on every port must name its ports)",
			},
		},
		"external egress, each range with the excepts inside it": {
			docs: threeTier,
			config: func(s *v1alpha1.Spec) {
				s.Tiers.Enabled = new(bool)
				s.ExternalEgress = []v1alpha1.ExternalEgress{{Name: "payments", Namespace: "shop", Pods: v1alpha1.Peer{Workload: "api"},
					Ports: []v1alpha1.PortSpec{{Port: intstr.FromInt32(443)}}}}
			},
			wantEdges: []string{
				"Deployment shop/api -> 0.0.0.0/0 except 10.0.0.0/8,100.64.0.0/10,127.0.0.0/8,169.254.0.0/16,172.16.0.0/12,192.168.0.0/16 TCP/443 (external-egress)",
				"Deployment shop/api -> ::/0 except ::1/128,fc00::/7,fe80::/10 TCP/443 (external-egress)",
			},
		},
		"external egress to configured ranges": {
			docs: threeTier,
			config: func(s *v1alpha1.Spec) {
				s.Tiers.Enabled = new(bool)
				s.ExternalEgress = []v1alpha1.ExternalEgress{{Namespace: "shop", Pods: v1alpha1.Peer{Tier: "database"},
					CIDRs: []string{"192.168.0.0/16"}, Except: []string{"192.168.7.0/24", "10.0.0.0/8"}, Ports: []v1alpha1.PortSpec{{Port: intstr.FromInt32(5432)}}}}
			},
			wantEdges: []string{"StatefulSet shop/database -> 192.168.0.0/16 except 192.168.7.0/24 TCP/5432 (external-egress)"},
		},
		"an allow-from annotation": {
			docs: threeTier + `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: search
  namespace: shop
  annotations:
    tierwall.io/allow-from: "[{tier: api}, {namespace: ops, podLabels: {app: probe}}]"
    tierwall.io/allow-ports: "9200, 9300/udp"
spec:
  selector: {matchLabels: {app: search}}
  template:
    metadata: {labels: {app: search}}
    spec: {containers: [{name: s, image: s, ports: [{containerPort: 9200}]}]}
`,
			config: func(s *v1alpha1.Spec) { s.Tiers.Enabled = new(bool) },
			wantEdges: []string{
				"Deployment shop/api -> Deployment shop/search TCP/9200, UDP/9300 (allow-annotation)",
				"pods app=probe in namespace ops -> Deployment shop/search TCP/9200, UDP/9300 (allow-annotation)",
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := &v1alpha1.Spec{}
			if tc.config != nil {
				tc.config(spec)
			}
			spec.Default()
			out := tier.Derive(input(t, spec, tc.docs))
			assert.Equal(t, tc.wantEdges, edgeLines(out.Edges))
			assert.Equal(t, tc.wantResults, resultLines(out.Results))
		})
	}
}

// TestDeriveReasons: each tier edge says which tiers it links and how the
// destination's port was found.
func TestDeriveReasons(t *testing.T) {
	spec := &v1alpha1.Spec{}
	spec.Default()
	out := tier.Derive(input(t, spec, threeTier))
	require.Len(t, out.Edges, 3)
	want := []string{
		"first tier frontend (label tier=frontend): entry from all pods in namespace ingress-nginx (config spec.tiers.entry) on Service shop/web port 80 -> pod port http (8080)",
		"tier chain frontend -> api: Deployment shop/frontend (label tier=frontend) may reach Deployment shop/api (label app.kubernetes.io/component=backend) on declared container port http (8080)",
		"tier chain api -> database: Deployment shop/api (label app.kubernetes.io/component=backend) may reach StatefulSet shop/database (label tier=postgres) on declared container port 5432",
	}
	for i, e := range out.Edges {
		assert.Equal(t, want[i], e.Reason)
	}
	// The entry is a Pods endpoint named for policy names.
	assert.Equal(t, graph.Pods, out.Edges[0].From.Kind)
	assert.Equal(t, "tier-entry", out.Edges[0].From.Name)
	assert.Equal(t, graph.Workload, out.Edges[0].To.Kind)
}

// TestDeriveIsolation: an isolated namespace gets one policy letting its
// pods talk to each other, in the denied directions.
func TestDeriveIsolation(t *testing.T) {
	tests := map[string]struct {
		egress bool
		want   networkingv1.NetworkPolicySpec
	}{
		"both directions denied": {
			egress: true,
			want: networkingv1.NetworkPolicySpec{
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{policy.Pods(nil)}}},
				Egress:      []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{policy.Pods(nil)}}},
				PolicyTypes: []networkingv1.PolicyType{policy.Ingress, policy.Egress},
			},
		},
		"ingress only": {
			want: networkingv1.NetworkPolicySpec{
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{policy.Pods(nil)}}},
				PolicyTypes: []networkingv1.PolicyType{policy.Ingress},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := &v1alpha1.Spec{IsolateNamespaces: []string{"shop", "elsewhere"}}
			spec.DefaultDeny.Egress = &tc.egress
			spec.Default()
			out := tier.Derive(input(t, spec, threeTier))
			require.Len(t, out.Policies, 1)
			assert.Equal(t, "shop", out.Policies[0].Policy.Namespace)
			assert.Equal(t, "allow-same-namespace", out.Policies[0].Policy.Name)
			assert.Equal(t, tc.want, out.Policies[0].Policy.Spec)
			assert.Contains(t, resultLines(out.Results), "info: namespace elsewhere is not in scope of this input: no isolation policy")
		})
	}
}

// TestDeriveMore: edges from other sources (inference) resolve configured
// peers the way tiers do.
func TestDeriveMore(t *testing.T) {
	spec := &v1alpha1.Spec{}
	spec.Default()
	in := input(t, spec, threeTier)
	var resolved []graph.Endpoint
	in.More = func(resolve tier.Resolver) ([]graph.Edge, framework.Results) {
		resolved = resolve(v1alpha1.Peer{Tier: "database"}, "shop", "more")
		return []graph.Edge{{From: resolved[0], To: resolved[0], Source: "more"}}, nil
	}
	out := tier.Derive(in)
	require.Len(t, resolved, 1)
	assert.Equal(t, "StatefulSet shop/database", resolved[0].Describe())
	assert.Equal(t, []string{entryToFrontend, frontendToAPI, apiToDatabase, "StatefulSet shop/database -> StatefulSet shop/database every port (more)"}, edgeLines(out.Edges))
}

// TestDeriveZones: an edge into an isolated zone is dropped with a warning
// unless spec.zones.allowCrossing names the crossing.
func TestDeriveZones(t *testing.T) {
	tests := map[string]struct {
		crossing  []string
		wantEdges []string
		wantWarn  bool
	}{
		"crossing into an isolated zone is dropped": {
			wantEdges: []string{entryToFrontend, frontendToAPI},
			wantWarn:  true,
		},
		"an allowed crossing is kept": {
			crossing:  []string{"*->postgres"},
			wantEdges: []string{entryToFrontend, frontendToAPI, apiToDatabase},
		},
		"a crossing the other way allows nothing here": {
			crossing:  []string{"postgres->*"},
			wantEdges: []string{entryToFrontend, frontendToAPI},
			wantWarn:  true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// The database's tier label doubles as its zone.
			spec := &v1alpha1.Spec{Zones: v1alpha1.Zones{Key: "tier", Isolated: []string{"postgres"}, AllowCrossing: tc.crossing}}
			spec.Default()
			out := tier.Derive(input(t, spec, threeTier))
			assert.Equal(t, tc.wantEdges, edgeLines(out.Edges))
			var warnings []string
			for _, r := range out.Results {
				if r.Severity == framework.Warning {
					warnings = append(warnings, r.Message)
				}
			}
			if !tc.wantWarn {
				assert.Empty(t, warnings)
				return
			}
			require.Len(t, warnings, 1)
			assert.Equal(t, `zone conflict: Deployment shop/api (zone "") -> StatefulSet shop/database (zone "postgres") crosses isolated zone postgres; `+
				`not allowed (add "*->postgres" to spec.zones.allowCrossing to allow it). Wanted by: tier chain api -> database: `+
				`Deployment shop/api (label app.kubernetes.io/component=backend) may reach StatefulSet shop/database (label tier=postgres) on declared container port 5432`,
				warnings[0])
		})
	}
}

// TestDeriveGroups: more than GroupAbove workloads of one tier with the
// same ports are selected by the tier label they alone share.
func TestDeriveGroups(t *testing.T) {
	tests := map[string]struct {
		frontends int
		want      []string
	}{
		"at GroupAbove, one endpoint per workload": {
			frontends: tier.GroupAbove,
			want: []string{
				"Deployment shop/web-0 -> Deployment shop/api TCP/8080 (tiers)",
				"Deployment shop/web-1 -> Deployment shop/api TCP/8080 (tiers)",
				"Deployment shop/web-2 -> Deployment shop/api TCP/8080 (tiers)",
				"Deployment shop/web-3 -> Deployment shop/api TCP/8080 (tiers)",
			},
		},
		"above it, one endpoint for the tier": {
			frontends: tier.GroupAbove + 1,
			want:      []string{"pods tier=frontend in namespace shop -> Deployment shop/api TCP/8080 (tiers)"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			docs := apiAndDatabase
			for i := 0; i < tc.frontends; i++ {
				docs += fmt.Sprintf(`---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-%d, namespace: shop}
spec:
  selector: {matchLabels: {app: web-%d}}
  template:
    metadata: {labels: {app: web-%d, tier: frontend}}
    spec: {containers: [{name: w, image: w, ports: [{containerPort: 80}]}]}
`, i, i, i)
			}
			spec := &v1alpha1.Spec{}
			spec.Tiers.Entry = []v1alpha1.Peer{}
			spec.Default()
			out := tier.Derive(input(t, spec, docs))
			var got []string
			for _, l := range edgeLines(out.Edges) {
				if l != apiToDatabase {
					got = append(got, l)
				}
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
