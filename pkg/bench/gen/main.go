// Command gen writes a synthetic stream of namespaces x apps x tiers, each a
// Deployment, a Service and a ConfigMap, as a plain multi-document stream or
// as a ResourceList.
package main

import (
	"flag"
	"os"

	"github.com/tierwall/tierwall/pkg/bench"
)

func main() {
	namespaces := flag.Int("namespaces", 50, "number of namespaces")
	apps := flag.Int("apps", 20, "apps per namespace")
	rl := flag.Bool("resourcelist", false, "wrap the objects in a ResourceList")
	flag.Parse()
	if _, err := os.Stdout.Write(bench.Stream(*namespaces, *apps, *rl)); err != nil {
		os.Exit(1)
	}
}
