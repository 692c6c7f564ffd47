// Command schema writes the JSON Schema of tierwall's configuration kind to
// docs/tierwall.schema.json (run from the repository root: go run ./scripts/schema).
package main

import (
	"fmt"
	"os"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
)

func main() {
	out, err := v1alpha1.Schema(".")
	if err == nil {
		err = os.WriteFile("docs/tierwall.schema.json", out, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schema:", err)
		os.Exit(1)
	}
}
