package cli

import (
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
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

// commonFlags are the flags report and check share.
type commonFlags struct {
	config    string
	namespace string
	external  []string
}

// analysisOptions loads the configuration and names the extra ranges.
func (c commonFlags) analysisOptions() (analysis.Options, error) {
	var opts analysis.Options
	spec, err := loadSpec(c.config)
	if err != nil {
		return opts, err
	}
	if c.namespace != "" {
		spec.Namespace = c.namespace
	}
	opts.Spec = spec
	for _, e := range c.external {
		name, cidr, ok := strings.Cut(e, "=")
		p, err := netip.ParsePrefix(cidr)
		if !ok || name == "" || err != nil {
			return opts, fmt.Errorf("--external %q: want NAME=CIDR, e.g. payments-db=10.20.0.0/24", e)
		}
		opts.External = append(opts.External, analysis.NamedCIDR{Name: name, CIDR: p})
	}
	return opts, nil
}

// loadSpec reads a TierWall (or ConfigMap) file; "" gives the defaults.
func loadSpec(path string) (*v1alpha1.Spec, error) {
	if path == "" {
		spec, _, err := v1alpha1.Load(nil)
		return spec, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading --config: %w", err)
	}
	nodes, err := parseManifests(data)
	if err != nil {
		return nil, fmt.Errorf("reading --config %s: %w", path, err)
	}
	var found *yaml.Node
	for _, n := range nodes {
		o := manifest.FromNode(0, n)
		if (o.APIVersion == v1alpha1.APIVersion && o.Kind == v1alpha1.Kind) || (o.APIVersion == "v1" && o.Kind == "ConfigMap") {
			if found != nil {
				return nil, fmt.Errorf("--config %s holds more than one configuration", path)
			}
			found = n
		}
	}
	if found == nil {
		return nil, fmt.Errorf("--config %s holds no %s/%s nor v1/ConfigMap", path, v1alpha1.APIVersion, v1alpha1.Kind)
	}
	spec, _, err := v1alpha1.Load(yaml.NewRNode(found))
	if err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	return spec, nil
}
