// Command tierwall-postrender is tierwall's Helm post-renderer (Helm 3
// --post-renderer, Helm 4 postrenderer/v1 plugin).
package main

import (
	"os"

	"github.com/tierwall/tierwall/pkg/postrender"
)

func main() {
	os.Exit(postrender.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
