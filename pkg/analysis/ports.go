package analysis

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tierwall/tierwall/pkg/workload"
)

// Protocols NetworkPolicy knows, in the order they are printed.
var Protocols = []string{"TCP", "UDP", "SCTP"}

func protoIndex(p string) int {
	for i, q := range Protocols {
		if q == p {
			return i
		}
	}
	return -1
}

// PortRange is an inclusive range of port numbers.
type PortRange struct{ Lo, Hi int32 }

// PortSet is a set of ports per protocol: for each of TCP, UDP and SCTP, a
// sorted list of disjoint, non-adjacent ranges.
type PortSet [3][]PortRange

// AllPorts is every port of every protocol.
func AllPorts() PortSet {
	var s PortSet
	for i := range s {
		s[i] = []PortRange{{1, 65535}}
	}
	return s
}

// Port is the set holding one port.
func Port(proto string, port int32) PortSet {
	var s PortSet
	if i := protoIndex(proto); i >= 0 {
		s[i] = []PortRange{{port, port}}
	}
	return s
}

// Empty reports whether the set holds no port.
func (s PortSet) Empty() bool {
	for _, r := range s {
		if len(r) > 0 {
			return false
		}
	}
	return true
}

// All reports whether the set holds every port of every protocol.
func (s PortSet) All() bool {
	for i := range s {
		if !s.allOf(i) {
			return false
		}
	}
	return true
}

func (s PortSet) allOf(i int) bool {
	return len(s[i]) == 1 && s[i][0].Lo <= 1 && s[i][0].Hi >= 65535
}

// Contains reports whether the set holds port of proto.
func (s PortSet) Contains(proto string, port int32) bool {
	i := protoIndex(proto)
	if i < 0 {
		return false
	}
	for _, r := range s[i] {
		if port >= r.Lo && port <= r.Hi {
			return true
		}
	}
	return false
}

// Union returns the ports in s or t.
func (s PortSet) Union(t PortSet) PortSet {
	var out PortSet
	for i := range s {
		all := append(append([]PortRange{}, s[i]...), t[i]...)
		out[i] = normalize(all)
	}
	return out
}

// Intersect returns the ports in both s and t.
func (s PortSet) Intersect(t PortSet) PortSet {
	var out PortSet
	for i := range s {
		a, b := s[i], t[i]
		var res []PortRange
		for x, y := 0, 0; x < len(a) && y < len(b); {
			lo, hi := max(a[x].Lo, b[y].Lo), min(a[x].Hi, b[y].Hi)
			if lo <= hi {
				res = append(res, PortRange{lo, hi})
			}
			if a[x].Hi < b[y].Hi {
				x++
			} else {
				y++
			}
		}
		out[i] = res
	}
	return out
}

// Equal reports whether s and t hold the same ports.
func (s PortSet) Equal(t PortSet) bool {
	for i := range s {
		if len(s[i]) != len(t[i]) {
			return false
		}
		for j := range s[i] {
			if s[i][j] != t[i][j] {
				return false
			}
		}
	}
	return true
}

func normalize(rs []PortRange) []PortRange {
	if len(rs) == 0 {
		return nil
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Lo < rs[j].Lo })
	out := []PortRange{rs[0]}
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.Lo <= last.Hi+1 {
			last.Hi = max(last.Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

// Strings lists the set for people: "TCP/8080", "UDP/53", "TCP/8000-8100",
// "TCP/any"; the whole set is "any".
func (s PortSet) Strings() []string {
	if s.All() {
		return []string{"any"}
	}
	var out []string
	for i, rs := range s {
		if s.allOf(i) {
			out = append(out, Protocols[i]+"/any")
			continue
		}
		for _, r := range rs {
			if r.Lo == r.Hi {
				out = append(out, fmt.Sprintf("%s/%d", Protocols[i], r.Lo))
			} else {
				out = append(out, fmt.Sprintf("%s/%d-%d", Protocols[i], r.Lo, r.Hi))
			}
		}
	}
	return out
}

// String joins Strings with ", ".
func (s PortSet) String() string { return strings.Join(s.Strings(), ", ") }

// portSpec is one entry of a rule's ports, as written: a protocol and a port
// number (0: every port), a range up to end, or a port name resolved on the
// destination pod.
type portSpec struct {
	proto string
	port  int32
	end   int32
	name  string
}

func portSpecs(ports []networkingv1.NetworkPolicyPort) []portSpec {
	out := make([]portSpec, 0, len(ports))
	for _, p := range ports {
		ps := portSpec{proto: "TCP"}
		if p.Protocol != nil {
			ps.proto = string(*p.Protocol)
		}
		if p.Port != nil {
			if p.Port.Type == intstr.String {
				ps.name = p.Port.StrVal
			} else {
				ps.port = p.Port.IntVal
			}
		}
		if p.EndPort != nil {
			ps.end = *p.EndPort
		}
		out = append(out, ps)
	}
	return out
}

// resolve turns the rule's ports into numbers on one destination. A nil or
// empty list is every port. Named ports resolve against the ports the
// destination declares with that name and protocol; on a destination that
// declares none (an address outside the cluster) they match nothing.
func resolve(specs []portSpec, all bool, dst []workload.Port) PortSet {
	if all {
		return AllPorts()
	}
	var s PortSet
	for _, p := range specs {
		i := protoIndex(p.proto)
		if i < 0 {
			continue
		}
		switch {
		case p.name != "":
			for _, d := range dst {
				if d.Name == p.name && d.Protocol == p.proto {
					s[i] = append(s[i], PortRange{d.Port, d.Port})
				}
			}
		case p.port == 0:
			s[i] = append(s[i], PortRange{1, 65535})
		case p.end >= p.port:
			s[i] = append(s[i], PortRange{p.port, p.end})
		default:
			s[i] = append(s[i], PortRange{p.port, p.port})
		}
	}
	for i := range s {
		s[i] = normalize(s[i])
	}
	return s
}
