package analysis

import (
	"math/bits"
	"slices"
)

// PodSet is the pods (workloads and virtual pods) that a policy selects or
// that a rule's peers match, held as their classes: it is built, counted
// and tested against an EndpointSet without listing the pods, which a wide
// rule (every pod, every address) makes as many as the model holds.
type PodSet struct {
	m       *Model
	all     bool // every class: a rule without peers
	classes bitset
}

// SelectedPods is Selected as a PodSet.
func (m *Model) SelectedPods(p *Policy) PodSet { return PodSet{m: m, classes: p.selects} }

// PeerPods is the pods among Peers: what a rule's peers match, less the
// addresses.
func (m *Model) PeerPods(r *Rule) PodSet {
	if r.allPeers {
		return PodSet{m: m, all: true}
	}
	return PodSet{m: m, classes: r.matched}
}

// each calls f for every pod class of the set, in class order.
func (s PodSet) each(f func(*class)) {
	if s.all {
		for _, c := range s.m.classes {
			if c.pods {
				f(c)
			}
		}
		return
	}
	s.classes.each(func(i int) {
		if c := s.m.classes[i]; c.pods {
			f(c)
		}
	})
}

// Empty reports whether the set holds no pod.
func (s PodSet) Empty() bool {
	if s.all {
		return !slices.ContainsFunc(s.m.classes, func(c *class) bool { return c.pods })
	}
	for w, word := range s.classes.words {
		for ; word != 0; word &= word - 1 {
			if s.m.classes[(s.classes.off+w)*64+bits.TrailingZeros64(word)].pods {
				return false
			}
		}
	}
	return true
}

// List returns the pods of the set, sorted like Model.Endpoints (and as
// Peers and Selected sort them).
func (s PodSet) List() []*Endpoint {
	var out []*Endpoint
	s.each(func(c *class) { out = append(out, c.endpoints...) })
	sortByRank(out)
	return out
}

// First returns the first pod of the set, in List's order, that es holds
// (nil: no endpoint); nil when none. It looks at the classes the two share
// only.
func (s PodSet) First(es *EndpointSet) *Endpoint {
	if es == nil {
		return nil
	}
	var best *Endpoint
	visit := func(c *class) {
		if !c.pods {
			return
		}
		// A class's endpoints are in model order: its first member of es is
		// its earliest. List sorts stably by rank what it gathers class by
		// class: rank, then class, is its order.
		for _, e := range c.endpoints {
			if es.members.has(e.order) {
				if best == nil || e.rank < best.rank || (e.rank == best.rank && e.class < best.class) {
					best = e
				}
				return
			}
		}
	}
	// The words of the pods' span (short, mostly one namespace), each met
	// with es's; those of es when the pods are every class.
	span := s.classes
	if s.all {
		span = es.classes
	}
	for w, word := range span.words {
		w += span.off
		if !s.all {
			word &= es.classes.word(w)
		}
		for ; word != 0; word &= word - 1 {
			visit(s.m.classes[w*64+bits.TrailingZeros64(word)])
		}
	}
	return best
}

// EndpointSet is a set of the model's endpoints (hostNetwork pods left
// out), for PodSet.First: it keeps the classes that hold a member beside
// the members, so that a test against a PodSet meets the two class by
// class.
type EndpointSet struct {
	classes bitset // classes holding a member
	members bitset // Endpoint.order of each member
}

// NewEndpointSet returns an empty set of the model's endpoints.
func (m *Model) NewEndpointSet() *EndpointSet {
	return &EndpointSet{classes: newBitset(len(m.classes)), members: newBitset(len(m.Endpoints))}
}

// Add adds e to the set; an endpoint outside the analysis (hostNetwork) is
// left out.
func (es *EndpointSet) Add(e *Endpoint) {
	if e.class < 0 {
		return
	}
	es.classes.set(e.class)
	es.members.set(e.order)
}

// sortByRank sorts endpoints stably with endpointLess.
func sortByRank(es []*Endpoint) {
	slices.SortStableFunc(es, func(a, b *Endpoint) int { return a.rank - b.rank })
}
