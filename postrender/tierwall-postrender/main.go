// Command tierwall-postrender is tierwall's Helm post-renderer (Helm 3
// --post-renderer, Helm 4 postrenderer/v1 plugin; pkg/cli).
package main

import (
	"os"

	"github.com/tierwall/tierwall/pkg/cli"
)

func main() {
	os.Exit(cli.PostRender(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
