package analysis

import (
	"cmp"
	"slices"
	"sort"
)

// Side is what one direction of a flow says: the source's egress or the
// destination's ingress.
type Side struct {
	// Isolated is false when no policy selects the pods for this direction,
	// so that everything is allowed on this side.
	Isolated bool
	// Policies are the policies whose rules allow some of the flow's ports
	// on this side, sorted.
	Policies []*Policy
}

// Verdict is what the policies allow from one endpoint to another.
type Verdict struct {
	// Ports on which the source may open connections to the destination:
	// allowed by the source's egress and by the destination's ingress.
	Ports PortSet
	// Egress is the source's side, Ingress the destination's.
	Egress, Ingress Side
}

// Isolation reports whether policies isolate the endpoint's pods for
// ingress and for egress. hostNetwork pods and addresses are never isolated.
func (m *Model) Isolation(e *Endpoint) (ingress, egress bool) {
	if e.class < 0 {
		return false, false
	}
	c := m.classes[e.class]
	return c.ingressIsolated, c.egressIsolated
}

// Selecting returns the policies that select the endpoint's pods for a
// direction, sorted.
func (m *Model) Selecting(e *Endpoint, dir Direction) []*Policy {
	if e.class < 0 {
		return nil
	}
	var out []*Policy
	for _, p := range m.Policies {
		if p.selects.has(e.class) && ((dir == Ingress && p.Ingress) || (dir == Egress && p.Egress)) {
			out = append(out, p)
		}
	}
	return out
}

// Selected returns the endpoints a policy's podSelector selects (workloads
// and virtual pods of its namespace; never hostNetwork pods).
func (m *Model) Selected(p *Policy) []*Endpoint {
	var out []*Endpoint
	p.selects.each(func(ci int) { out = append(out, m.classes[ci].endpoints...) })
	sortByRank(out)
	return out
}

// Peers returns the endpoints a rule's peers match: its sources for an
// ingress rule, its destinations for an egress rule. A rule without peers
// matches every endpoint.
func (m *Model) Peers(r *Rule) []*Endpoint {
	var out []*Endpoint
	if r.allPeers {
		for _, c := range m.classes {
			out = append(out, c.endpoints...)
		}
	} else {
		// Only the matched classes, a word of the bitset at a time.
		r.matched.each(func(i int) { out = append(out, m.classes[i].endpoints...) })
	}
	sortByRank(out)
	return out
}

// Between returns what the policies allow from src to dst. hostNetwork
// pods are outside NetworkPolicy and get an empty verdict.
func (m *Model) Between(src, dst *Endpoint) Verdict {
	if src.class < 0 || dst.class < 0 {
		return Verdict{}
	}
	sc, dc := m.classes[src.class], m.classes[dst.class]
	eg, egRules := m.side(sc.egressIsolated, sc.egress, dc.index, dst)
	in, inRules := m.side(dc.ingressIsolated, dc.ingress, sc.index, dst)
	v := Verdict{Ports: eg.Intersect(in)}
	v.Egress = Side{Isolated: sc.egressIsolated, Policies: contributing(egRules, v.Ports)}
	v.Ingress = Side{Isolated: dc.ingressIsolated, Policies: contributing(inRules, v.Ports)}
	return v
}

// Allowed reports whether src may connect to dst on port of proto.
func (m *Model) Allowed(src, dst *Endpoint, proto string, port int32) bool {
	return m.Between(src, dst).Ports.Contains(proto, port)
}

type ruleContribution struct {
	rule  *Rule
	ports PortSet
}

// side computes the ports one side allows towards (egress) or from
// (ingress) the class other; ports resolve on the destination dst.
func (m *Model) side(isolated bool, rules []*Rule, other int, dst *Endpoint) (PortSet, []ruleContribution) {
	if !isolated {
		return AllPorts(), nil
	}
	var ports PortSet
	var contrib []ruleContribution
	for _, r := range rules {
		if !r.allPeers && !r.matched.has(other) {
			continue
		}
		rp := resolve(r.ports, r.allPorts, dst.Ports)
		if rp.Empty() {
			continue
		}
		ports = ports.Union(rp)
		contrib = append(contrib, ruleContribution{r, rp})
	}
	return ports, contrib
}

func contributing(cs []ruleContribution, allowed PortSet) []*Policy {
	var out []*Policy
	for _, c := range cs {
		// A side has few policies: out is where they are looked up.
		if slices.Contains(out, c.rule.Policy) || c.ports.Intersect(allowed).Empty() {
			continue
		}
		out = append(out, c.rule.Policy)
	}
	sortPolicies(out)
	return out
}

func sortPolicies(ps []*Policy) {
	if len(ps) < 2 {
		return // most sides have one policy: not worth sort.Slice's swapper
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Namespace != ps[j].Namespace {
			return ps[i].Namespace < ps[j].Namespace
		}
		return ps[i].Name < ps[j].Name
	})
}

// Flow is an allowed flow. From or To is AnyEndpoint in a wildcard flow:
// "any source may reach To" when To's ingress is not isolated or a rule of
// it has no from; "From may reach any destination" likewise for egress. A
// wildcard flow still needs the other end's own policies to agree.
type Flow struct {
	From, To *Endpoint
	Ports    PortSet
	// NamedPorts of a wildcard egress flow: port names that resolve on each
	// destination ("TCP/http").
	NamedPorts []string
	Egress     Side
	Ingress    Side
}

// Flows returns every allowed flow between the endpoints, sorted by source
// then destination: explicit flows wherever a policy decides one side, and
// wildcard flows for the workloads that admit any source or reach any
// destination. Flows that no policy of the input governs on either side
// (between two addresses, say) are left out. The cost grows
// with the flows the rules allow, not with the endpoints squared.
func (m *Model) Flows() []Flow {
	var out []Flow
	n := len(m.classes)
	pairs := make([]bitset, n) // pairs[src] = destination classes to evaluate
	add := func(s, d int) {
		if pairs[s].words == nil {
			pairs[s] = newBitset(n)
		}
		pairs[s].set(d)
	}
	for _, c := range m.classes {
		if c.ingressIsolated {
			for _, r := range c.ingress {
				if !r.allPeers {
					r.matched.each(func(s int) { add(s, c.index) })
				}
			}
		}
		if c.egressIsolated {
			for _, r := range c.egress {
				if !r.allPeers {
					r.matched.each(func(d int) { add(c.index, d) })
				}
			}
		}
	}
	for s, dsts := range pairs {
		dsts.each(func(d int) {
			for _, src := range m.classes[s].endpoints {
				for _, dst := range m.classes[d].endpoints {
					v := m.Between(src, dst)
					if v.Ports.Empty() {
						continue
					}
					out = append(out, Flow{From: src, To: dst, Ports: v.Ports, Egress: v.Egress, Ingress: v.Ingress})
				}
			}
		})
	}
	for _, e := range m.Endpoints {
		if e.Kind != Workload || e.class < 0 {
			continue
		}
		c := m.classes[e.class]
		if f, ok := wildcardIngress(c, e); ok {
			out = append(out, f)
		}
		if f, ok := wildcardEgress(c, e); ok {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b Flow) int {
		if a.From != b.From {
			return cmp.Compare(flowEndRank(a.From), flowEndRank(b.From))
		}
		return cmp.Compare(flowEndRank(a.To), flowEndRank(b.To))
	})
	return out
}

// flowEndRank sorts the ends of flows: any first, then as endpointLess.
func flowEndRank(e *Endpoint) int {
	if e.Kind == Any {
		return -1
	}
	return e.rank
}

func wildcardIngress(c *class, e *Endpoint) (Flow, bool) {
	f := Flow{From: AnyEndpoint, To: e, Ingress: Side{Isolated: c.ingressIsolated}}
	if !c.ingressIsolated {
		f.Ports = AllPorts()
		return f, true
	}
	var cs []ruleContribution
	for _, r := range c.ingress {
		if r.allPeers {
			rp := resolve(r.ports, r.allPorts, e.Ports)
			f.Ports = f.Ports.Union(rp)
			cs = append(cs, ruleContribution{r, rp})
		}
	}
	f.Ingress.Policies = contributing(cs, f.Ports)
	return f, !f.Ports.Empty()
}

func wildcardEgress(c *class, e *Endpoint) (Flow, bool) {
	f := Flow{From: e, To: AnyEndpoint, Egress: Side{Isolated: c.egressIsolated}}
	if !c.egressIsolated {
		f.Ports = AllPorts()
		return f, true
	}
	var policies []*Policy
	seen := map[*Policy]bool{}
	names := map[string]bool{}
	for _, r := range c.egress {
		if !r.allPeers {
			continue
		}
		rp := resolve(r.ports, r.allPorts, nil)
		found := !rp.Empty()
		for _, p := range r.ports {
			if p.name != "" {
				names[p.proto+"/"+p.name] = true
				found = true
			}
		}
		f.Ports = f.Ports.Union(rp)
		if found && !seen[r.Policy] {
			seen[r.Policy] = true
			policies = append(policies, r.Policy)
		}
	}
	for k := range names {
		f.NamedPorts = append(f.NamedPorts, k)
	}
	sort.Strings(f.NamedPorts)
	sortPolicies(policies)
	f.Egress.Policies = policies
	return f, !f.Ports.Empty() || len(f.NamedPorts) > 0
}
