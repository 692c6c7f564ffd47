package tier

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/policy"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/workload"
)

// Annotations a team puts on its own workloads.
const (
	// AllowFromAnnotation holds a YAML list of peers (the fields of a
	// spec.allows[].from entry) admitted to the workload.
	AllowFromAnnotation = "tierwall.io/allow-from"
	// AllowPortsAnnotation lists the ports those peers reach ("8080,http");
	// defaults to the workload's serving ports.
	AllowPortsAnnotation = "tierwall.io/allow-ports"
)

// resolve turns a configured peer into endpoints. ns is the namespace the
// peer means when it names none; name names Pods endpoints in policy names.
// It returns nothing (and warns) for a tier or workload with no pods here:
// an unresolved peer never widens an allow.
func (d *deriver) resolve(p v1alpha1.Peer, ns, name string, owner *workload.Workload) []graph.Endpoint {
	if p.Namespace != "" {
		ns = p.Namespace
	}
	zoneKey := d.in.Spec.Zones.Key
	switch {
	case p.CIDR != "":
		return []graph.Endpoint{{Kind: graph.CIDR, CIDR: p.CIDR, Except: p.Except, Name: name}}
	case p.Tier != "":
		i, _ := d.chainIndex(p.Tier)
		var out []graph.Endpoint
		for _, w := range d.byNS[ns] {
			if j, _, ok := d.tierOf(w); ok && j == i {
				out = append(out, graph.FromWorkload(w, zoneKey))
			}
		}
		if len(out) == 0 {
			d.warn(owner, "", "peer tier %s in namespace %s matches no workload of the input: nothing allowed for it", p.Tier, manifest.DisplayNamespace(ns))
		}
		return out
	case p.Workload != "":
		var out []graph.Endpoint
		for _, w := range d.byNS[ns] {
			if w.Name == p.Workload {
				out = append(out, graph.FromWorkload(w, zoneKey))
			}
		}
		if len(out) == 0 {
			d.warn(owner, "", "peer workload %s in namespace %s is not in the input: nothing allowed for it", p.Workload, manifest.DisplayNamespace(ns))
		}
		return out
	}
	e := graph.Endpoint{Kind: graph.Pods, Namespace: ns, Selector: p.PodLabels, Name: name, Zone: p.PodLabels[zoneKey]}
	if p.NamespaceLabels != nil {
		e.Namespace = ""
		e.NamespaceLabels = p.NamespaceLabels
	}
	return []graph.Endpoint{e}
}

// portsOf turns configured ports into policy ports.
func portsOf(ps []v1alpha1.PortSpec) []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for _, p := range ps {
		proto := p.Protocol
		if proto == "" {
			proto = "TCP"
		}
		var np networkingv1.NetworkPolicyPort
		if n, err := strconv.Atoi(p.Port.String()); err == nil {
			np = policy.Port(proto, int32(n))
			if p.EndPort > 0 {
				end := p.EndPort
				np.EndPort = &end
			}
		} else {
			np = policy.NamedPort(proto, p.Port.String())
		}
		out = append(out, np)
	}
	return out
}

// destPorts are the ports of an allow's destination: configured ones, or the
// serving ports of the destination workload.
func (d *deriver) destPorts(configured []v1alpha1.PortSpec, to graph.Endpoint) ([]networkingv1.NetworkPolicyPort, string, bool) {
	if len(configured) > 0 {
		return portsOf(configured), "configured ports", true
	}
	if to.Kind == graph.Workload {
		ports, via := d.ports(to.Workload)
		return ports, via, len(ports) > 0
	}
	return nil, "", false
}

func (d *deriver) allows() {
	for i, a := range d.in.Spec.Allows {
		name := a.Name
		if name == "" {
			name = fmt.Sprintf("allow-%d", i)
		}
		field := fmt.Sprintf("spec.allows[%d]", i)
		tos := d.resolve(a.To, a.Namespace, name, nil)
		for _, to := range tos {
			ports, via, ok := d.destPorts(a.Ports, to)
			if !ok {
				d.out.Results = append(d.out.Results, result.New(result.Warning, nil, field+".ports",
					"allow %s: %s declares no port and the allow names none: nothing allowed (an allow on every port must name its ports)", name, to.Describe()))
				continue
			}
			for _, p := range a.From {
				for _, from := range d.resolve(p, a.Namespace, name, nil) {
					d.out.Edges = append(d.out.Edges, graph.Edge{From: from, To: to, Ports: ports, Source: "allows", Reason: fmt.Sprintf(
						"allow %s (config %s): %s may reach %s on %s", name, field, from.Describe(), to.Describe(), via)})
				}
			}
		}
	}
}

// annotations reads the allows teams declare on their own workloads.
func (d *deriver) annotations() {
	for _, ns := range d.in.Set.List {
		for _, w := range d.byNS[ns.Name] {
			raw, ok := w.Object.Annotations[AllowFromAnnotation]
			if !ok {
				continue
			}
			field := "metadata.annotations." + AllowFromAnnotation
			var peers []v1alpha1.Peer
			if err := sigsyaml.UnmarshalStrict([]byte(raw), &peers); err != nil || len(peers) == 0 {
				d.out.Results = append(d.out.Results, result.New(result.Error, result.RefOf(w.Object), field,
					"%s must be a YAML list of peers (e.g. [{tier: frontend}, {namespace: monitoring, podLabels: {app: grafana}}]): %v", AllowFromAnnotation, err))
				continue
			}
			var ports []v1alpha1.PortSpec
			if rp, ok := w.Object.Annotations[AllowPortsAnnotation]; ok {
				for _, s := range strings.Split(rp, ",") {
					s = strings.TrimSpace(s)
					proto := "TCP"
					if p, pr, ok := strings.Cut(s, "/"); ok {
						s, proto = p, strings.ToUpper(pr)
					}
					if s != "" {
						ports = append(ports, v1alpha1.PortSpec{Port: intstr.Parse(s), Protocol: proto})
					}
				}
			}
			var errs []string
			for i, p := range peers {
				errs = append(errs, v1alpha1.ValidatePeer(p, fmt.Sprintf("[%d]", i), d.in.Spec)...)
			}
			errs = append(errs, v1alpha1.ValidatePorts(ports, AllowPortsAnnotation)...)
			if len(errs) > 0 {
				d.out.Results = append(d.out.Results, result.New(result.Error, result.RefOf(w.Object), field,
					"invalid %s: %s", AllowFromAnnotation, strings.Join(errs, "; ")))
				continue
			}
			to := graph.FromWorkload(w, d.in.Spec.Zones.Key)
			dports, via, ok := d.destPorts(ports, to)
			if !ok {
				d.warn(w, field, "%s %s declares no port and %s names none: nothing allowed", w.Kind, w.Name, AllowPortsAnnotation)
				continue
			}
			for _, p := range peers {
				for _, from := range d.resolve(p, w.Namespace, w.Name+"-peer", w) {
					d.out.Edges = append(d.out.Edges, graph.Edge{From: from, To: to, Ports: dports, Source: "allow-annotation", Reason: fmt.Sprintf(
						"annotation %s on %s: %s may reach it on %s", AllowFromAnnotation, to.Describe(), from.Describe(), via)})
				}
			}
		}
	}
}

// DefaultExcept are the ranges left out of external egress: private (RFC 1918),
// carrier-grade NAT, loopback, link-local (with the 169.254.169.254 cloud
// metadata address) and IPv6 unique-local, link-local and loopback.
var DefaultExcept = []string{
	"10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
	"::1/128", "fc00::/7", "fe80::/10",
}

func (d *deriver) externalEgress() {
	for i, x := range d.in.Spec.ExternalEgress {
		name := x.Name
		if name == "" {
			name = fmt.Sprintf("external-%d", i)
		}
		cidrs := x.CIDRs
		if len(cidrs) == 0 {
			cidrs = []string{"0.0.0.0/0", "::/0"}
		}
		except := x.Except
		if except == nil {
			except = DefaultExcept
		}
		froms := d.resolve(x.Pods, x.Namespace, name, nil)
		for _, c := range cidrs {
			to := graph.Endpoint{Kind: graph.CIDR, CIDR: c, Except: within(c, except), Name: name}
			for _, from := range froms {
				d.out.Edges = append(d.out.Edges, graph.Edge{From: from, To: to, Ports: portsOf(x.Ports), Source: "external-egress", Reason: fmt.Sprintf(
					"external egress %s (config spec.externalEgress[%d]): %s may reach %s", name, i, from.Describe(), to.Describe())})
			}
		}
	}
}

// within keeps the ranges of except that lie inside cidr (Kubernetes rejects
// an except outside its block), in their given order.
func within(cidr string, except []string) []string {
	_, block, err := net.ParseCIDR(cidr)
	if err != nil {
		return nil
	}
	bits, _ := block.Mask.Size()
	var out []string
	for _, e := range except {
		ip, n, err := net.ParseCIDR(e)
		if err != nil {
			continue
		}
		eb, _ := n.Mask.Size()
		if block.Contains(ip) && eb > bits && (ip.To4() == nil) == (block.IP.To4() == nil) {
			out = append(out, e)
		}
	}
	return out
}
