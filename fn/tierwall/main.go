// Command tierwall is the tierwall KRM function and CLI (pkg/cli).
package main

import (
	"os"

	"github.com/tierwall/tierwall/pkg/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
