package report

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Text writes the report as aligned tables, one per namespace.
func Text(w io.Writer, r Report) error {
	ew := &errWriter{w: w}
	if f := FiltersText(r.Options); f != "" {
		ew.printf("Shown: %s (%s left out).\n\n", f, plural(r.Hidden, "flow"))
	}
	if len(r.Namespaces) == 0 {
		ew.printf("No namespaced objects in the input.\n")
	}
	for i, n := range r.Namespaces {
		if i > 0 {
			ew.printf("\n")
		}
		ew.printf("Namespace %s: %s\n", n.Display(), status(n))
		ew.printf("  Workloads: %s\n", names(n.Workloads))
		if len(n.Flows) == 0 {
			ew.printf("  Allowed flows: none\n")
		} else {
			ew.printf("  Allowed flows:\n")
			tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "    FROM\tTO\tPORTS\tALLOWED BY\n")
			for _, f := range n.Flows {
				fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", endpointText(f.From), endpointText(f.To), portsText(f), via(r.Model, f))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		ew.printf("  No ingress allowed: %s\n", names(n.NoIngress))
		ew.printf("  No egress allowed: %s\n", names(n.NoEgress))
		if len(n.HostNetwork) > 0 {
			ew.printf("  hostNetwork, outside NetworkPolicy: %s\n", names(n.HostNetwork))
		}
	}
	return ew.err
}

// errWriter keeps the first write error so that renderers check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
