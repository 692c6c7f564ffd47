package plumbing

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/workload"
)

var portInValue = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\):([0-9]{1,5})`)

// nodeAgents gives a container whose env takes the node's address
// (fieldRef status.hostIP: APM agents, collectors, StatsD) egress to the
// nodes on the ports its env names: a *PORT* variable with a number, or
// $(HOST_VAR):port in a value.
func (r *reader) nodeAgents() {
	c := r.spec.Cluster
	for i := range r.in.Workloads {
		w := &r.in.Workloads[i]
		if !selectable(w) || !r.inScope(w.Namespace) {
			continue
		}
		for _, ct := range w.Containers {
			if len(ct.HostIPEnv) == 0 {
				continue
			}
			hostVars := map[string]bool{}
			for _, h := range ct.HostIPEnv {
				hostVars[h] = true
			}
			var ports []networkingv1.NetworkPolicyPort
			var names []string
			seen := map[string]bool{}
			add := func(proto string, n int, name string) {
				if n < 1 || n > 65535 || seen[proto+strconv.Itoa(n)] {
					return
				}
				seen[proto+strconv.Itoa(n)] = true
				ports = append(ports, policy.Port(proto, int32(n)))
				names = append(names, fmt.Sprintf("%s/%d (%s)", proto, n, name))
			}
			for _, e := range ct.Env {
				if !e.HasValue {
					continue
				}
				up := strings.ToUpper(e.Name)
				if strings.Contains(up, "PORT") {
					if n, err := strconv.Atoi(strings.TrimSpace(e.Value)); err == nil {
						proto := "TCP"
						if strings.Contains(up, "STATSD") {
							proto = "UDP"
						}
						add(proto, n, "env "+e.Name)
					}
				}
				for _, m := range portInValue.FindAllStringSubmatch(e.Value, -1) {
					if hostVars[m[1]] {
						n, _ := strconv.Atoi(m[2])
						add("TCP", n, "env "+e.Name)
					}
				}
			}
			field := w.TemplateField("spec", fmt.Sprintf("%s[%d]", ct.Group, ct.Index), "env")
			if len(ports) == 0 {
				r.note(result.Warning, w.Object, field, "container %s of %s %s takes the node's address (%s from status.hostIP) but names no port with it: no allow to a node-local agent is written; add spec.allows or an env *_PORT with the agent's port",
					ct.Name, w.Kind, w.Name, strings.Join(ct.HostIPEnv, ", "))
				continue
			}
			from := graph.FromWorkload(w, r.spec.Zones.Key)
			var tos []graph.Endpoint
			wide, where := "", ""
			if len(c.NodeCIDRs) > 0 {
				for _, cidr := range c.NodeCIDRs {
					tos = append(tos, graph.Endpoint{Kind: graph.CIDR, CIDR: cidr, Name: "nodes"})
				}
				where = "the nodes at " + strings.Join(c.NodeCIDRs, ", ") + " (config spec.cluster.nodeCIDRs)"
			} else {
				tos = []graph.Endpoint{{Kind: graph.Anywhere, Name: "the node (any address)"}}
				wide = WideNodeEgress
				where = "any address on those ports, since spec.cluster.nodeCIDRs is not set"
			}
			for _, to := range tos {
				r.out.Edges = append(r.out.Edges, graph.Edge{From: from, To: to, Ports: ports, Source: SourceNodeAgent, Policy: "node-agent", Wide: wide, SkipIngress: true,
					Reason: fmt.Sprintf("node-agent: container %s of %s %s sends to a node-local agent at %s from status.hostIP on %s: it may reach %s",
						ct.Name, w.Kind, w.Name, strings.Join(ct.HostIPEnv, ", "), strings.Join(names, ", "), where)})
			}
		}
	}
}

// CloudIdentity is what one cloud's workload identity needs, keyed by the
// ServiceAccount annotation that turns it on.
type CloudIdentity struct {
	Annotation, Cloud string
	// CIDRs and Ports are the endpoint reached; Public means any public
	// address (the identity provider's token endpoint on the internet).
	CIDRs  []string
	Ports  []int32
	Public bool
	What   string
}

// CloudIdentities are the workload identity schemes tierwall reads.
var CloudIdentities = []CloudIdentity{
	{Annotation: "iam.gke.io/gcp-service-account", Cloud: "gke", CIDRs: []string{"169.254.169.254/32"}, Ports: []int32{80},
		What: "GKE Workload Identity: the GKE metadata server at 169.254.169.254 on TCP/80 (the default egress excepts link-local addresses, so it is allowed here, for these pods only)"},
	{Annotation: "iam.gke.io/gcp-service-account", Cloud: "gke", CIDRs: []string{"169.254.169.252/32"}, Ports: []int32{988},
		What: "GKE Workload Identity on GKE Dataplane V2: the metadata server at 169.254.169.252 on TCP/988"},
	{Annotation: "eks.amazonaws.com/role-arn", Cloud: "eks", Public: true, Ports: []int32{443},
		What: "EKS IAM roles for service accounts: AWS STS on TCP/443 at any public address, not only sts.amazonaws.com (an STS VPC endpoint resolves to private addresses: add it with spec.externalEgress)"},
	{Annotation: "azure.workload.identity/client-id", Cloud: "aks", Public: true, Ports: []int32{443},
		What: "Azure Workload Identity: Microsoft Entra ID (login.microsoftonline.com) on TCP/443 at any public address"},
}

// PublicExcept are the IPv4 ranges a "public address" allow leaves out:
// private, CGNAT, loopback and link-local (with the metadata endpoint).
var PublicExcept = []string{"10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"}

// PublicExcept6 are the IPv6 ranges a "public address" allow leaves out:
// loopback, unique-local and link-local.
var PublicExcept6 = []string{"::1/128", "fc00::/7", "fe80::/10"}

// cloudIdentity gives workloads whose ServiceAccount is annotated for cloud
// workload identity the endpoint the scheme needs.
func (r *reader) cloudIdentity() {
	for i := range r.in.Workloads {
		w := &r.in.Workloads[i]
		if !selectable(w) || !r.inScope(w.Namespace) {
			continue
		}
		sa, ok := r.serviceAccount(w)
		if !ok {
			continue
		}
		for _, ci := range CloudIdentities {
			v := sa.Annotations[ci.Annotation]
			if v == "" {
				continue
			}
			var ports []networkingv1.NetworkPolicyPort
			for _, p := range ci.Ports {
				ports = append(ports, policy.Port("TCP", p))
			}
			var tos []graph.Endpoint
			if ci.Public {
				tos = []graph.Endpoint{
					{Kind: graph.CIDR, CIDR: "0.0.0.0/0", Except: PublicExcept, Name: "public"},
					{Kind: graph.CIDR, CIDR: "::/0", Except: PublicExcept6, Name: "public"},
				}
			}
			for _, cidr := range ci.CIDRs {
				tos = append(tos, graph.Endpoint{Kind: graph.CIDR, CIDR: cidr, Name: "metadata"})
			}
			for _, to := range tos {
				r.out.Edges = append(r.out.Edges, graph.Edge{From: graph.FromWorkload(w, r.spec.Zones.Key), To: to, Ports: ports, Source: SourceCloudIdentity, SkipIngress: true,
					Reason: fmt.Sprintf("cloud-identity: ServiceAccount %s of %s %s is annotated %s=%s: %s", sa.Name, w.Kind, w.Name, ci.Annotation, v, ci.What)})
			}
		}
	}
}

// serviceAccount finds the ServiceAccount object of a workload in the input.
func (r *reader) serviceAccount(w *workload.Workload) (manifest.Object, bool) {
	sas := r.serviceAccounts(w)
	if len(sas) == 0 {
		return manifest.Object{}, false
	}
	return sas[0], true
}

// serviceAccounts are the ServiceAccount objects of the input that may be a
// workload's: the one of its name in its namespace, or, for a workload of
// the unnamed release namespace, also those of namespaces the set does not
// name.
func (r *reader) serviceAccounts(w *workload.Workload) []manifest.Object {
	var out []manifest.Object
	for _, ns := range r.saNamespaces[w.ServiceAccount] {
		if r.sameNamespace(ns, w.Namespace) {
			out = append(out, r.sas[ns+"/"+w.ServiceAccount])
		}
	}
	return out
}
