package cli

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/krmfn"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/stream"
)

// readObjects reads rendered manifests: the files and folders named by
// paths (folders recurse over *.yaml and *.yml, in lexical order; "-" is
// stdin), or stdin when there is none. A document may be a plain object, a
// ResourceList (its items) or a v1 List (its items).
func readObjects(paths []string, stdin io.Reader) ([]manifest.Object, error) {
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	var nodes []*yaml.Node
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("reading stdin: %w", err)
			}
			ns, err := parseManifests(data)
			if err != nil {
				return nil, fmt.Errorf("reading stdin: %w", err)
			}
			nodes = append(nodes, ns...)
			continue
		}
		files, err := manifestFiles(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", f, err)
			}
			ns, err := parseManifests(data)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", f, err)
			}
			nodes = append(nodes, ns...)
		}
	}
	objs := make([]manifest.Object, len(nodes))
	for i, n := range nodes {
		objs[i] = manifest.FromNode(i, n)
	}
	return objs, nil
}

// manifestFiles lists path itself, or the YAML files under a folder.
func manifestFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var out []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// parseManifests parses a stream and unwraps ResourceLists and Lists.
func parseManifests(data []byte) ([]*yaml.Node, error) {
	s, err := stream.Parse(data)
	if err != nil {
		return nil, err
	}
	var out []*yaml.Node
	for _, o := range s.Objects {
		switch {
		case krmfn.IsResourceList(o.Node), o.Kind == "List" && o.APIVersion == "v1":
			for i, it := range manifest.Items(o.Node, "items") {
				if it == nil || it.Kind != yaml.MappingNode {
					return nil, fmt.Errorf("%s: items[%d] is not an object", o.Kind, i)
				}
				out = append(out, it)
			}
		default:
			out = append(out, o.Node)
		}
	}
	return out, nil
}

// readContext reads the --context files and folders: objects that resolve
// references without being owned or emitted.
func readContext(paths []string) ([]manifest.Object, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	objs, err := readObjects(paths, nil)
	if err != nil {
		return nil, fmt.Errorf("reading --context: %w", err)
	}
	return objs, nil
}
