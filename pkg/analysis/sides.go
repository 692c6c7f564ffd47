package analysis

// Sides returns what each side allows from src to dst, apart: the ports
// the source's egress allows towards dst, and those dst's ingress allows
// from src (every port on a side no policy isolates). Between is their
// intersection.
func (m *Model) Sides(src, dst *Endpoint) (egress, ingress PortSet) {
	if src.class < 0 || dst.class < 0 {
		return PortSet{}, PortSet{}
	}
	sc, dc := m.classes[src.class], m.classes[dst.class]
	egress, _ = m.side(sc.egressIsolated, sc.egress, dc.index, dst)
	ingress, _ = m.side(dc.ingressIsolated, dc.ingress, sc.index, dst)
	return egress, ingress
}

// Minus returns the ports in s and not in t.
func (s PortSet) Minus(t PortSet) PortSet {
	var out PortSet
	for i := range s {
		for _, r := range s[i] {
			lo := r.Lo
			for _, c := range t[i] {
				if c.Hi < lo || c.Lo > r.Hi {
					continue
				}
				if c.Lo > lo {
					out[i] = append(out[i], PortRange{lo, c.Lo - 1})
				}
				lo = c.Hi + 1
				if lo > r.Hi {
					break
				}
			}
			if lo <= r.Hi {
				out[i] = append(out[i], PortRange{lo, r.Hi})
			}
		}
	}
	return out
}

// Covers reports whether s holds every port of t.
func (s PortSet) Covers(t PortSet) bool { return t.Minus(s).Empty() }
