package cli

import (
	"fmt"

	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/stream"
)

// readContext reads the --context files and folders: objects that resolve
// references without being owned or emitted.
func readContext(paths []string) ([]manifest.Object, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	objs, err := stream.ReadObjects(paths, nil)
	if err != nil {
		return nil, fmt.Errorf("reading --context: %w", err)
	}
	return objs, nil
}
