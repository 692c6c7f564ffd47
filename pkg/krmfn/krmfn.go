// Package krmfn is the KRM function front end: it reads a ResourceList,
// loads the functionConfig, runs the engine and writes the ResourceList back
// with every input item unchanged, the generated policies after them and the
// findings as results. Errors give a non-zero exit, error results and the same
// text on stderr (kustomize ignores results but shows stderr).
package krmfn

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
)

// ResourceList identity.
const (
	ResourceListAPIVersion = "config.kubernetes.io/v1"
	ResourceListKind       = "ResourceList"
)

// IsResourceList reports whether a parsed document is a ResourceList.
func IsResourceList(doc *yaml.Node) bool {
	return manifest.String(doc, "kind") == ResourceListKind &&
		(manifest.String(doc, "apiVersion") == ResourceListAPIVersion || manifest.String(doc, "apiVersion") == "config.kubernetes.io/v1alpha1")
}

// Run processes the ResourceList in doc and writes the output ResourceList
// to stdout, findings to stderr. It returns the exit code.
func Run(doc *yaml.Node, stdout, stderr io.Writer) int {
	root := manifest.Lookup(doc)
	items := manifest.Lookup(root, "items")
	if items != nil && items.Kind != yaml.SequenceNode && !(items.Kind == yaml.ScalarNode && items.Tag == "!!null") {
		return fail(stdout, stderr, nil, fmt.Errorf("reading ResourceList: items must be a list"))
	}
	var itemNodes []*yaml.Node
	if items != nil && items.Kind == yaml.SequenceNode {
		itemNodes = items.Content
	}
	objs := make([]manifest.Object, len(itemNodes))
	for i, it := range itemNodes {
		if manifest.Lookup(it) == nil || manifest.Lookup(it).Kind != yaml.MappingNode {
			return fail(stdout, stderr, itemNodes, fmt.Errorf("reading ResourceList: items[%d] is not an object", i))
		}
		objs[i] = manifest.FromNode(i, it)
	}
	var fc *yaml.RNode
	if n := manifest.Lookup(root, "functionConfig"); n != nil && !(n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		fc = yaml.NewRNode(n)
	}
	spec, src, err := v1alpha1.Load(fc)
	if err != nil {
		return failConfig(stdout, stderr, itemNodes, src, err)
	}
	out, err := inject.Engine{Spec: spec}.Run(objs)
	if errors.Is(err, inject.ErrFindings) {
		result.Print(stderr, out.Results, result.Warning)
		_ = write(stdout, itemNodes, nil, out.Results)
		return 1
	}
	if err != nil {
		return fail(stdout, stderr, itemNodes, err)
	}
	engine := inject.Engine{Spec: spec}
	checked, failed := engine.Verify(objs, out)
	out.Results = append(out.Results, checked...)
	result.Sort(out.Results)
	result.Print(stderr, out.Results, result.Warning)
	if failed {
		// Fail closed: nothing generated goes out beside a failing check.
		fmt.Fprintf(stderr, "tierwall: the checks of the output failed (spec.check.failOn: %s)\n", spec.Check.FailOn)
		_ = write(stdout, itemNodes, nil, out.Results)
		return 1
	}
	all := append(append([]*yaml.Node{}, itemNodes...), out.Nodes...)
	if err := write(stdout, all, fc, out.Results); err != nil {
		fmt.Fprintf(stderr, "tierwall: writing ResourceList: %v\n", err)
		return 1
	}
	return 0
}

// fail writes the input items unchanged with one error result and returns 1.
func fail(stdout, stderr io.Writer, items []*yaml.Node, err error) int {
	rs := framework.Results{result.New(result.Error, nil, "", "%v", err)}
	result.Print(stderr, rs, result.Error)
	_ = write(stdout, items, nil, rs)
	return 1
}

func failConfig(stdout, stderr io.Writer, items []*yaml.Node, src v1alpha1.Source, err error) int {
	var rs framework.Results
	ref := &result.Ref{APIVersion: src.APIVersion, Kind: src.Kind, Name: src.Name, Namespace: src.Namespace}
	var fes v1alpha1.Errors
	if errors.As(err, &fes) {
		for _, fe := range fes {
			rs = append(rs, result.New(result.Error, ref, fe.Path, "invalid functionConfig %s: %s: %s", src, fe.Path, fe.Message))
		}
	} else {
		rs = append(rs, result.New(result.Error, ref, "", "%v", err))
	}
	result.Print(stderr, rs, result.Error)
	_ = write(stdout, items, nil, rs)
	return 1
}

func write(w io.Writer, items []*yaml.Node, fc *yaml.RNode, rs framework.Results) error {
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
	root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	add := func(k string, v *yaml.Node) {
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, v)
	}
	add("apiVersion", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ResourceListAPIVersion})
	add("kind", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ResourceListKind})
	add("items", seq)
	if fc != nil {
		add("functionConfig", fc.YNode())
	}
	if len(rs) > 0 {
		var n yaml.Node
		if err := n.Encode(rs); err != nil {
			return err
		}
		add("results", &n)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(root); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
