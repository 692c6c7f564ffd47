// Package cli is the tierwall command: with no subcommand it is the KRM
// function (a ResourceList on stdin); "report" shows who may talk to whom in
// rendered manifests, "check" fails when their policies leave pods open or
// cannot work; "version" prints the version.
package cli

import (
	"fmt"
	"io"

	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/krmfn"
	"github.com/tierwall/tierwall/pkg/version"
)

const usage = `tierwall adds zero-trust NetworkPolicies to Kubernetes manifests.

Usage:
  tierwall            KRM function: reads a ResourceList on stdin, writes it back
                      with the generated policies (kustomize, kpt)
  tierwall report     show who may talk to whom in rendered manifests, and why
                      (text, Markdown with Mermaid, JSON, DOT)
  tierwall check      check the policies of rendered manifests; exit 1 on findings
  tierwall version    print the version
  tierwall help       print this help

Run "tierwall report -h" or "tierwall check -h" for their flags.
`

// Main runs the tierwall command and returns its exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "version", "--version":
			fmt.Fprintf(stdout, "tierwall %s\n", version.Version)
			return 0
		case "report":
			return runReport(args[1:], stdin, stdout, stderr)
		case "check":
			return runCheck(args[1:], stdin, stdout, stderr)
		case "help", "-h", "--help":
			fmt.Fprint(stdout, usage)
			return 0
		default:
			fmt.Fprintf(stderr, "tierwall: unknown command %q\n\n%s", args[0], usage)
			return 2
		}
	}
	in, err := io.ReadAll(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "tierwall: reading stdin: %v\n", err)
		return 1
	}
	inject.TuneGC()
	return krmfn.Main(in, stdout, stderr)
}
