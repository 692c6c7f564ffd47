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
)

// readObjects reads rendered manifests: the files and folders named by
// paths (folders recurse over *.yaml and *.yml, in lexical order; "-" is
// stdin), or stdin when there is none. A document may be a plain object, a
// ResourceList (its items) or a v1 List (its items).
func readObjects(paths []string, stdin io.Reader) ([]manifest.Object, error) {
	objs, _, err := (&inputReader{stdin: stdin}).read(paths)
	return objs, err
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

// unwrap returns the objects of one parsed document: the items of a
// ResourceList or a v1 List, or the document itself.
func unwrap(n *yaml.Node) ([]*yaml.Node, error) {
	o := manifest.FromNode(0, n)
	if !krmfn.IsResourceList(n) && (o.Kind != "List" || o.APIVersion != "v1") {
		return []*yaml.Node{n}, nil
	}
	var out []*yaml.Node
	for i, it := range manifest.Items(n, "items") {
		if it == nil || it.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s: items[%d] is not an object", o.Kind, i)
		}
		out = append(out, it)
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
