package inject

import (
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
)

// Filter adds tierwall's policies to a kyaml resource list: every input node
// unchanged and in order, then the generated policies.
type Filter struct {
	Engine Engine
	// Results, when not nil, receives the run's findings.
	Results *framework.Results
}

var _ kio.Filter = Filter{}

// Filter implements kio.Filter.
func (f Filter) Filter(nodes []*yaml.RNode) ([]*yaml.RNode, error) {
	objs := make([]manifest.Object, len(nodes))
	for i, n := range nodes {
		objs[i] = manifest.FromNode(i, n.YNode())
	}
	out, err := f.Engine.Run(objs)
	if err != nil {
		return nil, err
	}
	if f.Results != nil {
		*f.Results = append(*f.Results, out.Results...)
	}
	res := append([]*yaml.RNode{}, nodes...)
	for _, n := range out.Nodes {
		res = append(res, yaml.NewRNode(n))
	}
	return res, nil
}
