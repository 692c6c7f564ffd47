package infer

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/workload"
)

// External is a host outside the cluster that a workload's manifests name:
// a real need, met by the engine according to spec.fallback.externalHosts.
type External struct {
	From     graph.Endpoint
	Workload *workload.Workload
	// URL is scheme://host:port, or host:port: never a path, a query or
	// credentials. Empty when the host was read from a Secret.
	URL, Host string
	Port      int32
	// Where names the value ("env PAYMENT_URL of container api").
	Where, Field string
	// Secret is true when the host was read from a Secret: it never appears
	// in any output.
	Secret bool
}

// hostClass is where a host name or address points.
type hostClass int

const (
	inCluster hostClass = iota
	clusterAddress
	privateAddress
	external
)

// classify applies the written rule: IP literals by the cluster profile and
// the private ranges; names ending in .svc or the cluster domain, bare
// names, names whose last label is a namespace of the input, and a.b whose b
// is no public suffix are in the cluster; anything else is outside.
func (x *inferrer) classify(host string) hostClass {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if a, err := netip.ParseAddr(host); err == nil {
		c := x.in.Spec.Cluster
		for _, s := range append(append(append([]string{}, c.PodCIDRs...), c.ServiceCIDRs...), c.NodeCIDRs...) {
			if p, err := netip.ParsePrefix(s); err == nil && p.Contains(a) {
				return clusterAddress
			}
		}
		if a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || netip.MustParsePrefix("100.64.0.0/10").Contains(a) || a.IsUnspecified() {
			return privateAddress
		}
		return external
	}
	domain := x.in.Spec.Inference.ClusterDomain
	if strings.HasSuffix(host, ".svc") || strings.Contains(host, ".svc.") || strings.HasSuffix(host, "."+domain) || !strings.Contains(host, ".") {
		return inCluster
	}
	labels := strings.Split(host, ".")
	last := labels[len(labels)-1]
	if _, ok := x.in.Set.Get(last); ok && last != "" {
		return inCluster
	}
	if len(labels) == 2 {
		if _, icann := publicsuffix.PublicSuffix(last); !icann {
			return inCluster
		}
	}
	return external
}

// unresolved handles a reference that names no Service of the input: an
// external host becomes a need, anything else a finding.
func (x *inferrer) unresolved(w *workload.Workload, r Ref, it item, seen map[string]bool, externalName bool) {
	host := r.Host
	shown := host
	if it.secret {
		shown = "a host"
	}
	once := func(sev string, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if seen[msg] {
			return
		}
		seen[msg] = true
		s := result.Info
		if sev == "warning" {
			s = result.Warning
		}
		x.note(s, w.Object, it.field, "%s", msg)
	}
	class := x.classify(host)
	if externalName {
		class = external
	}
	switch class {
	case inCluster:
		x.unresolvedCount++
		once("warning", "%s of %s %s names %s, an in-cluster name that is no Service of this render: nothing allowed for it (render it here, pass the other release with --context, or allow it with spec.allows)", it.where, w.Kind, w.Name, shown)
		return
	case clusterAddress:
		once("warning", "%s of %s %s names %s, an address in the cluster's ranges: pod and Service addresses change, so nothing is allowed for it (name the Service instead)", it.where, w.Kind, w.Name, shown)
		return
	case privateAddress:
		once("warning", "%s of %s %s names %s, a private address outside the cluster's ranges: nothing allowed for it (allow it with spec.externalEgress and its CIDR)", it.where, w.Kind, w.Name, shown)
		return
	}
	port := r.Port
	if port == 0 && r.Scheme != "" {
		port = DefaultPorts[r.Scheme]
	}
	if port == 0 {
		once("warning", "%s of %s %s names %s, a host outside the cluster, with no port tierwall can tell: nothing allowed for it (write the port, or allow it with spec.externalEgress)", it.where, w.Kind, w.Name, shown)
		return
	}
	from, ok := x.endpoint(w)
	if !ok {
		return
	}
	e := External{From: from, Workload: w, Host: host, Port: port, Where: it.where, Field: it.field, Secret: it.secret}
	if !it.secret {
		e.URL = fmt.Sprintf("%s:%d", host, port)
		if r.Scheme != "" {
			e.URL = r.Scheme + "://" + e.URL
		}
	}
	key := fmt.Sprintf("%s/%s/%s/%s:%d", w.Namespace, w.Kind, w.Name, host, port)
	if seen[key] {
		return
	}
	seen[key] = true
	x.out.External = append(x.out.External, e)
}
