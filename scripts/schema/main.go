// Command schema writes the JSON Schema of tierwall's configuration kind to
// docs/tierwall.schema.json and to pkg/api/v1alpha1/tierwall.schema.json, the copy
// the loader embeds to walk a config (run from the repository root: go run ./scripts/schema).
package main

import (
	"fmt"
	"os"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
)

func main() {
	out, err := v1alpha1.Schema(".")
	for _, path := range []string{"docs/tierwall.schema.json", "pkg/api/v1alpha1/tierwall.schema.json"} {
		if err == nil {
			err = os.WriteFile(path, out, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schema:", err)
		os.Exit(1)
	}
}
