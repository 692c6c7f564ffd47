// Package diff compares the connectivity of two renders, not their text:
// the flows one allows and the other does not, and the flows whose ports
// or peers grew or shrank, each with the policies that cause it. A flow is
// a source endpoint, a destination endpoint and its ports per protocol;
// endpoints are named by workload (namespace, kind, name), by the selector
// a policy names them with, or by address, so that a renamed or rewritten
// policy with the same effect is no change. It reads two analysis.Models
// and writes text, Markdown (within a size budget) and JSON (schema
// report.tierwall.io/v1, kind ConnectivityDiff).
package diff

import (
	"net/netip"
	"sort"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/report"
)

// Change is the kind of a change.
type Change string

// Changes, in the order they are shown.
const (
	// Added: a flow between two endpoints that had none.
	Added Change = "added"
	// Widened: more ports between the same endpoints, or a broader peer
	// where a narrower one was (pods app=a -> every pod of the namespace).
	Widened Change = "widened"
	// Narrowed: fewer ports, or a narrower peer.
	Narrowed Change = "narrowed"
	// Removed: a flow between two endpoints that now have none.
	Removed Change = "removed"
)

// Changes lists the kinds of change.
var Changes = []Change{Added, Widened, Narrowed, Removed}

// Entry is one change.
type Entry struct {
	Change Change
	// From and To are the flow's ends: in the new render for added and
	// widened flows, in the old one for removed and narrowed flows.
	From, To *analysis.Endpoint
	// Ports and NamedPorts are the ports added (added, widened) or removed
	// (removed, narrowed).
	Ports      analysis.PortSet
	NamedPorts []string
	// Before and After are the flow's ports in the old and new render
	// (empty when it had none).
	Before, After analysis.PortSet
	// Peers are the narrower (widened) or broader (narrowed) ends the flow
	// had in the old render, when a peer changed: the endpoints of the
	// other render the new end covers or was covered by.
	Peers []*analysis.Endpoint
	// PeerSide is "from" or "to": which end of the flow Peers replace.
	PeerSide string
	// AllowedBy are the policies that allow the flow: in the new render for
	// added and widened flows, the old one for removed and narrowed ones.
	AllowedBy analysis.Verdict
	// DeniedBy are, for removed and narrowed flows, the policies of the new
	// render that select the side that now refuses the ports: the source's
	// egress, the destination's ingress (nil when that side is open).
	DeniedEgress, DeniedIngress []*analysis.Policy
	// Gone names an end the new render no longer has.
	Gone []*analysis.Endpoint
}

// Diff is the comparison of two renders.
type Diff struct {
	Old, New *analysis.Model
	Entries  []Entry
	// Options filtered the entries.
	Options report.Options
	// Hidden counts the entries the options left out.
	Hidden int
}

// Count returns the number of entries of a kind.
func (d Diff) Count(c Change) int {
	n := 0
	for _, e := range d.Entries {
		if e.Change == c {
			n++
		}
	}
	return n
}

// flowKey is a flow's identity: its two ends by key.
type flowKey struct{ from, to string }

type flowVal struct{ f analysis.Flow }

// Key is an endpoint's identity across renders: the workload's namespace,
// kind and name, the selector's text, the address's name, "any".
func Key(e *analysis.Endpoint) string { return e.ID }

// Compute compares the flows of two models, keeping the entries the
// options keep (report.Options: In, From, To, HideBaseline; the caller
// checks them with Options.Check).
func Compute(old, new *analysis.Model, o report.Options) Diff {
	d := Diff{Old: old, New: new, Options: o}
	before, after := index(old.Flows()), index(new.Flows())
	newByKey := endpointsByKey(new)
	var added, removed []Entry
	for k, a := range after {
		b, ok := before[k]
		if !ok {
			added = append(added, Entry{Change: Added, From: a.f.From, To: a.f.To, Ports: a.f.Ports, NamedPorts: a.f.NamedPorts,
				After: a.f.Ports, AllowedBy: verdict(a.f)})
			continue
		}
		more, fewer := a.f.Ports.Minus(b.f.Ports), b.f.Ports.Minus(a.f.Ports)
		moreNamed, fewerNamed := minus(a.f.NamedPorts, b.f.NamedPorts), minus(b.f.NamedPorts, a.f.NamedPorts)
		if !more.Empty() || len(moreNamed) > 0 {
			d.Entries = append(d.Entries, Entry{Change: Widened, From: a.f.From, To: a.f.To, Ports: more, NamedPorts: moreNamed,
				Before: b.f.Ports, After: a.f.Ports, AllowedBy: verdict(a.f)})
		}
		if !fewer.Empty() || len(fewerNamed) > 0 {
			e := Entry{Change: Narrowed, From: b.f.From, To: b.f.To, Ports: fewer, NamedPorts: fewerNamed,
				Before: b.f.Ports, After: a.f.Ports, AllowedBy: verdict(b.f)}
			denied(&e, new, a.f.From, a.f.To)
			d.Entries = append(d.Entries, e)
		}
	}
	for k, b := range before {
		if _, ok := after[k]; ok {
			continue
		}
		e := Entry{Change: Removed, From: b.f.From, To: b.f.To, Ports: b.f.Ports, NamedPorts: b.f.NamedPorts,
			Before: b.f.Ports, AllowedBy: verdict(b.f)}
		from, to := newByKey[Key(b.f.From)], newByKey[Key(b.f.To)]
		for _, x := range []struct{ old, new *analysis.Endpoint }{{b.f.From, from}, {b.f.To, to}} {
			if x.new == nil && x.old.Kind != analysis.Any {
				e.Gone = append(e.Gone, x.old)
			}
		}
		if from != nil && to != nil {
			denied(&e, new, from, to)
		}
		removed = append(removed, e)
	}
	added, removed = peerChanges(old, new, added, removed)
	d.Entries = append(d.Entries, added...)
	d.Entries = append(d.Entries, removed...)
	kept := d.Entries[:0]
	for _, e := range d.Entries {
		m := new
		if e.Change == Removed || e.Change == Narrowed {
			m = old
		}
		if o.Keep(m, e.From, e.To) {
			kept = append(kept, e)
		} else {
			d.Hidden++
		}
	}
	d.Entries = kept
	sortEntries(d.Entries)
	return d
}

func index(flows []analysis.Flow) map[flowKey]flowVal {
	out := make(map[flowKey]flowVal, len(flows))
	for _, f := range flows {
		out[flowKey{Key(f.From), Key(f.To)}] = flowVal{f}
	}
	return out
}

func endpointsByKey(m *analysis.Model) map[string]*analysis.Endpoint {
	out := make(map[string]*analysis.Endpoint, len(m.Endpoints)+1)
	for _, e := range m.Endpoints {
		out[Key(e)] = e
	}
	out[Key(analysis.AnyEndpoint)] = analysis.AnyEndpoint
	return out
}

func verdict(f analysis.Flow) analysis.Verdict {
	return analysis.Verdict{Ports: f.Ports, Egress: f.Egress, Ingress: f.Ingress}
}

// denied names the policies of the new render that refuse what an entry
// lost: those that isolate the source's egress, or the destination's
// ingress, where that side does not allow the lost ports (from and to are
// the ends in m).
func denied(e *Entry, m *analysis.Model, from, to *analysis.Endpoint) {
	if from.Kind == analysis.Any || to.Kind == analysis.Any {
		return
	}
	eg, in := m.Sides(from, to)
	if !eg.Covers(e.Ports) {
		e.DeniedEgress = m.Selecting(from, analysis.Egress)
	}
	if !in.Covers(e.Ports) {
		e.DeniedIngress = m.Selecting(to, analysis.Ingress)
	}
}

// peerChanges folds a removed flow and an added flow with the same other
// end into one widened (or narrowed) entry when the added end covers the
// removed one (or is covered by it) on at least its ports: a peer grew or
// shrank.
func peerChanges(old, new *analysis.Model, added, removed []Entry) ([]Entry, []Entry) {
	if len(added) == 0 || len(removed) == 0 {
		return added, removed
	}
	type end struct{ side, key string }
	addedBy := map[end][]int{}
	for i, a := range added {
		addedBy[end{"to", Key(a.To)}] = append(addedBy[end{"to", Key(a.To)}], i)
		addedBy[end{"from", Key(a.From)}] = append(addedBy[end{"from", Key(a.From)}], i)
	}
	usedAdded, usedRemoved := map[int]bool{}, map[int]bool{}
	for ri, r := range removed {
		for _, side := range []string{"from", "to"} {
			other, peer := r.To, r.From
			if side == "to" {
				other, peer = r.From, r.To
			}
			for _, ai := range addedBy[end{map[string]string{"from": "to", "to": "from"}[side], Key(other)}] {
				a := added[ai]
				aPeer := a.From
				if side == "to" {
					aPeer = a.To
				}
				switch {
				case coversEndpoint(new, aPeer, old, peer) && a.Ports.Covers(r.Ports):
					// widened: the new peer covers the old one.
					if !usedAdded[ai] {
						added[ai].Change = Widened
						added[ai].PeerSide = side
					}
					if added[ai].Change == Widened && added[ai].PeerSide == side {
						added[ai].Peers = append(added[ai].Peers, peer)
						added[ai].Before = added[ai].Before.Union(r.Ports)
						usedAdded[ai], usedRemoved[ri] = true, true
					}
				case coversEndpoint(old, peer, new, aPeer) && r.Ports.Covers(a.Ports) && !usedAdded[ai]:
					// narrowed: the old peer covered the new one.
					removed[ri].Change = Narrowed
					removed[ri].PeerSide = side
					removed[ri].Peers = append(removed[ri].Peers, aPeer)
					removed[ri].After = a.Ports
					removed[ri].Gone = nil
					usedAdded[ai], usedRemoved[ri] = true, true
				}
				if usedRemoved[ri] {
					break
				}
			}
			if usedRemoved[ri] {
				break
			}
		}
	}
	var keptAdded, keptRemoved []Entry
	for i, a := range added {
		if !usedAdded[i] || a.Change == Widened {
			keptAdded = append(keptAdded, a)
		}
	}
	for i, r := range removed {
		if !usedRemoved[i] || r.Change == Narrowed {
			keptRemoved = append(keptRemoved, r)
		}
	}
	return keptAdded, keptRemoved
}

// coversEndpoint reports whether endpoint a of model ma stands for every
// pod or address endpoint b of model mb stands for: a is any, a peer
// selector matching b's labels and namespace, or an address range holding
// b's.
func coversEndpoint(ma *analysis.Model, a *analysis.Endpoint, mb *analysis.Model, b *analysis.Endpoint) bool {
	switch {
	case a.Kind == analysis.Any:
		return b.Kind != analysis.Any
	case b.Kind == analysis.Any:
		return false
	case a.Peer != nil && (b.Kind == analysis.Workload || b.Kind == analysis.Virtual):
		if b.Peer != nil {
			// Selector against selector: b's made-up labels stand for its
			// pods only when its own selector pins them; compare texts
			// instead when both name whole namespaces.
			if b.Peer.Pod == "" && a.Peer.Pod != "" {
				return false
			}
		}
		ns, ok := mb.Namespace(b.Namespace)
		if !ok {
			return false
		}
		return a.Peer.Matches(b.Labels, ns.Labels)
	case a.Kind == analysis.External && b.Kind == analysis.External:
		pa, errA := netip.ParsePrefix(a.CIDR)
		pb, errB := netip.ParsePrefix(b.CIDR)
		return errA == nil && errB == nil && pa.Bits() <= pb.Bits() && pa.Contains(pb.Addr()) && pa != pb
	}
	return false
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		found := false
		for _, y := range b {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			out = append(out, x)
		}
	}
	return out
}

var changeRank = map[Change]int{Added: 0, Widened: 1, Narrowed: 2, Removed: 3}

func sortEntries(es []Entry) {
	sort.Slice(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if changeRank[a.Change] != changeRank[b.Change] {
			return changeRank[a.Change] < changeRank[b.Change]
		}
		if Key(a.From) != Key(b.From) {
			return endLess(a.From, b.From)
		}
		return endLess(a.To, b.To)
	})
}

// endLess orders ends as the report does: "any" first, then workloads,
// peers and addresses by namespace and name.
func endLess(a, b *analysis.Endpoint) bool {
	if (a.Kind == analysis.Any) != (b.Kind == analysis.Any) {
		return a.Kind == analysis.Any
	}
	rank := map[analysis.Kind]int{analysis.Workload: 0, analysis.Virtual: 1, analysis.External: 2}
	if rank[a.Kind] != rank[b.Kind] {
		return rank[a.Kind] < rank[b.Kind]
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.ID < b.ID
}
