// Command gen writes a synthetic benchmark stream of namespaces x apps, as a
// plain multi-document stream or as a ResourceList: -set realistic (the
// default) is bench.Realistic, modelled on real Helm charts; -set simple is
// bench.Stream, a Deployment, a Service and a ConfigMap per tier and nothing
// between them.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tierwall/tierwall/pkg/bench"
)

func main() {
	set := flag.String("set", "realistic", "data set: realistic or simple")
	namespaces := flag.Int("namespaces", 50, "number of namespaces")
	apps := flag.Int("apps", 20, "apps per namespace")
	rl := flag.Bool("resourcelist", false, "wrap the objects in a ResourceList")
	count := flag.Bool("count", false, "print the number of objects instead of the stream")
	flag.Parse()
	var out []byte
	var n int
	switch *set {
	case "realistic":
		n = bench.RealisticCount(*namespaces, *apps)
		if !*count {
			out = bench.Realistic(*namespaces, *apps, *rl)
		}
	case "simple":
		n = *namespaces * *apps * 9
		if !*count {
			out = bench.Stream(*namespaces, *apps, *rl)
		}
	default:
		fmt.Fprintf(os.Stderr, "gen: -set %q: want realistic or simple\n", *set)
		os.Exit(2)
	}
	if *count {
		out = []byte(fmt.Sprintln(n))
	}
	if _, err := os.Stdout.Write(out); err != nil {
		os.Exit(1)
	}
}
