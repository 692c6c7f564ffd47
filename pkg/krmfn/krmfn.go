// Package krmfn is the KRM function front end: it reads a ResourceList,
// loads the functionConfig, runs the engine and writes the ResourceList back
// with every input item unchanged, the generated policies after them and the
// findings as results. A run that fails says how (a Status, which pkg/cli
// turns into the exit code) and writes error results and the same text on
// stderr (kustomize ignores results but shows stderr).
//
// The items of a ResourceList in the usual block layout are copied to the
// output as the bytes they came in, and each is parsed once, in parallel,
// and kept as a summary: large inputs cost little more than reading them.
// Other layouts (flow style, aliases across items) take the general path,
// which parses the whole document and encodes the items again.
package krmfn

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/emit"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/stream"
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

// resourceList is a read ResourceList: its items, as the text to write back
// and as objects, and its functionConfig.
type resourceList struct {
	// items writes the input items, unchanged, as the lines of a block
	// sequence at indent.
	items func(w *bufio.Writer) error
	// drop, when set, writes the items but those at the given indexes
	// (tierwall's own unedited earlier output, regenerated).
	drop   func(w *bufio.Writer, dropped map[int]bool) error
	indent string
	objs   []manifest.Object
	fc     *yaml.Node
}

// Status is how a run ended; the command turns it into its exit code.
type Status int

// The ends of a run.
const (
	// OK: the output ResourceList holds the input items and the policies.
	OK Status = iota
	// Failed: an error result (a finding at or above spec.check.failOn),
	// or the output could not be written; the items come back unchanged
	// with the results.
	Failed
	// BadConfig: the functionConfig, or a command-line setting, is invalid.
	BadConfig
	// BadInput: stdin holds no readable ResourceList, or items that are no
	// objects or that the engine cannot trust (no apiVersion or kind).
	BadInput
)

// Run processes the ResourceList in input (the whole of stdin) with the
// command-line settings o merged into its functionConfig, writes the output
// ResourceList to stdout and findings to stderr, and says how it ended.
func Run(input []byte, o v1alpha1.Overrides, stdout, stderr io.Writer) Status {
	return RunWith(input, o, nil, stdout, stderr)
}

// RunWith is Run with context objects: they resolve references (another
// release's Services) without being owned or emitted.
func RunWith(input []byte, o v1alpha1.Overrides, context []manifest.Object, stdout, stderr io.Writer) Status {
	if len(bytes.TrimSpace(input)) == 0 {
		fmt.Fprintf(stderr, "tierwall: no ResourceList on stdin (run me from kustomize or kpt, or see 'tierwall help')\n")
		return BadInput
	}
	head, region, indent, ok := splitItems(input)
	var headDoc *yaml.Node
	var err error
	if ok {
		headDoc, err = parseOne(head)
		ok = err == nil && IsResourceList(headDoc)
	}
	if !ok {
		headDoc, err = parseOne(input)
		if err != nil {
			fmt.Fprintf(stderr, "tierwall: reading ResourceList from stdin: %v\n", err)
			return BadInput
		}
		if !IsResourceList(headDoc) {
			fmt.Fprintf(stderr, "tierwall: stdin is not a %s %s\n", ResourceListAPIVersion, ResourceListKind)
			return BadInput
		}
	}
	var fcNode *yaml.Node
	if n := manifest.Lookup(headDoc, "functionConfig"); n != nil && !(n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		fcNode = n
	}
	var fc *yaml.RNode
	if fcNode != nil {
		fc = yaml.NewRNode(fcNode)
	}
	spec, src, cfgErr := v1alpha1.LoadWithOverrides(fc, o)
	prepare := func(*manifest.Object) {}
	if cfgErr == nil {
		extra := inject.ExtraKinds(spec)
		prepare = func(o *manifest.Object) { inject.Prepare(o, extra) }
	}
	var rl *resourceList
	if ok {
		rl, ok = fastItems(region, indent, prepare)
		if !ok {
			headDoc, err = parseOne(input)
			if err != nil {
				fmt.Fprintf(stderr, "tierwall: reading ResourceList from stdin: %v\n", err)
				return BadInput
			}
		}
	}
	if !ok {
		rl, err = slowItems(headDoc)
		if err != nil {
			fail(stdout, stderr, rl, err)
			return BadInput
		}
		for i := range rl.objs {
			prepare(&rl.objs[i])
		}
	}
	rl.fc = fcNode
	if cfgErr != nil {
		failConfig(stdout, stderr, rl, src, cfgErr)
		return BadConfig
	}
	engine := inject.Engine{Spec: spec, Context: context}
	out, failed, err := engine.Process(rl.objs)
	if err != nil {
		// The engine fails only on items it cannot trust (no apiVersion
		// or kind).
		fail(stdout, stderr, rl, err)
		return BadInput
	}
	// kustomize and kpt stream stderr to the user: the summary first.
	fmt.Fprintf(stderr, "tierwall: summary: %s\n", out.Summary.Text())
	result.Print(stderr, out.Results, result.Warning)
	if failed {
		if spec.Check.Enabled != nil && *spec.Check.Enabled && !result.HasErrors(out.Results) {
			fmt.Fprintf(stderr, "tierwall: the checks of the output failed (spec.check.failOn: %s)\n", spec.Check.FailOn)
		}
		_ = write(stdout, rl, nil, nil, out.Results)
		return Failed
	}
	if len(out.Drop) > 0 && rl.drop != nil {
		dropped := map[int]bool{}
		for _, i := range out.Drop {
			dropped[i] = true
		}
		rl.items = func(w *bufio.Writer) error { return rl.drop(w, dropped) }
	}
	if err := write(stdout, rl, out.Objects, rl.fc, out.Results); err != nil {
		fmt.Fprintf(stderr, "tierwall: writing ResourceList: %v\n", err)
		return Failed
	}
	return OK
}

// parseOne parses the first YAML document of data.
func parseOne(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// splitItems finds the items of a ResourceList written in block layout:
// a top-level "items:" line followed by a block sequence whose dashes stand
// at column 0 or 2. It returns the document without the items (items: [])
// for the other fields, the items' lines, and the sequence's indent. ok is
// false for any other layout.
func splitItems(input []byte) (head, region []byte, indent string, ok bool) {
	start := -1
	for pos := 0; pos < len(input); {
		end := bytes.IndexByte(input[pos:], '\n')
		if end < 0 {
			break
		}
		line := input[pos : pos+end]
		if string(bytes.TrimRight(line, " \r")) == "items:" {
			start = pos + end + 1
			break
		}
		pos += end + 1
	}
	if start < 0 {
		return nil, nil, "", false
	}
	stop := len(input)
	for pos := start; pos < len(input); {
		end := bytes.IndexByte(input[pos:], '\n')
		next := len(input)
		if end >= 0 {
			next = pos + end + 1
		}
		line := input[pos:next]
		if len(bytes.TrimSpace(line)) > 0 && line[0] != ' ' && line[0] != '-' {
			stop = pos
			break
		}
		if bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("...")) {
			return nil, nil, "", false
		}
		pos = next
	}
	region = input[start:stop]
	switch {
	case len(bytes.TrimSpace(region)) == 0:
		return nil, nil, "", false // "items:" alone is null: the general path handles it
	case bytes.HasPrefix(region, []byte("- ")) || bytes.HasPrefix(region, []byte("-\n")):
		indent = ""
	case bytes.HasPrefix(region, []byte("  - ")) || bytes.HasPrefix(region, []byte("  -\n")):
		indent = "  "
	default:
		return nil, nil, "", false
	}
	head = make([]byte, 0, start+len(input)-stop+16)
	head = append(head, input[:start-1]...)
	head = append(bytes.TrimRight(head, " \r"), " []\n"...)
	head = append(head, input[stop:]...)
	if (len(region) > 0 && region[len(region)-1] != '\n') || stream.LoneCR(region) {
		return nil, nil, "", false // a lone CR breaks lines where this cut does not
	}
	return head, region, indent, true
}

// fastItems cuts the items' lines into items, dedents and parses each one,
// in parallel. ok is false when the lines are not plainly one item after
// another at the same indent, or an item does not parse on its own (an
// alias to another item, for instance).
func fastItems(region []byte, indent string, prepare func(*manifest.Object)) (*resourceList, bool) {
	dash, cont := indent+"- ", indent+"  "
	var texts [][]byte
	var starts []int // where each item's lines start in region
	var cur []byte
	for pos := 0; pos < len(region); {
		end := bytes.IndexByte(region[pos:], '\n')
		line := region[pos : pos+end+1]
		start := pos
		pos += end + 1
		switch {
		case bytes.HasPrefix(line, []byte(dash)) || string(line) == indent+"-\n":
			if cur != nil {
				texts = append(texts, cur)
			}
			starts = append(starts, start)
			cur = make([]byte, 0, 512)
			if len(line) > len(dash) {
				cur = append(cur, line[len(dash):]...)
			} else {
				cur = append(cur, '\n')
			}
		case len(bytes.TrimSpace(line)) == 0:
			if cur == nil {
				continue
			}
			cur = append(cur, '\n')
		case bytes.HasPrefix(line, []byte(cont)) && cur != nil:
			cur = append(cur, line[len(cont):]...)
		default:
			return nil, false
		}
	}
	if cur != nil {
		texts = append(texts, cur)
	}
	objs := make([]manifest.Object, len(texts))
	errs := make([]error, len(texts))
	// One parser reads a run of items (a parser per item costs as much as
	// the parsing); each item becomes its object on the core that parsed
	// it, so that a large list is never held as node trees all at once.
	runs := make([][2]int, 0, len(texts)/64+1)
	for a := 0; a < len(texts); a += 64 {
		runs = append(runs, [2]int{a, min(a+64, len(texts))})
	}
	stream.ForEach(len(runs), func(r int) {
		a, b := runs[r][0], runs[r][1]
		var buf bytes.Buffer
		for i := a; i < b; i++ {
			buf.WriteString("---\n")
			buf.Write(texts[i])
			texts[i] = nil
		}
		dec := yaml.NewDecoder(&buf)
		for i := a; i < b; i++ {
			var n yaml.Node
			err := dec.Decode(&n)
			if err == nil && (len(n.Content) != 1 || n.Content[0].Kind != yaml.MappingNode) {
				err = errors.New("not one mapping")
			}
			if err == nil {
				err = stream.CheckDuplicateKeys(&n)
			}
			if err != nil {
				errs[i] = err
				return
			}
			objs[i] = manifest.FromNode(i, n.Content[0])
			prepare(&objs[i])
		}
		var extra yaml.Node
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			errs[a] = errors.New("an item holds more than one document")
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, false // the general path reports it precisely
		}
	}
	rl := &resourceList{indent: indent, objs: objs}
	rl.items = func(w *bufio.Writer) error {
		_, err := w.Write(region)
		return err
	}
	rl.drop = func(w *bufio.Writer, dropped map[int]bool) error {
		if len(starts) > 0 {
			if _, err := w.Write(region[:starts[0]]); err != nil {
				return err
			}
		}
		for i, s := range starts {
			end := len(region)
			if i+1 < len(starts) {
				end = starts[i+1]
			}
			if !dropped[i] {
				if _, err := w.Write(region[s:end]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return rl, true
}

// slowItems reads the items of a fully parsed ResourceList.
func slowItems(doc *yaml.Node) (*resourceList, error) {
	rl := &resourceList{items: func(*bufio.Writer) error { return nil }}
	items := manifest.Lookup(doc, "items")
	if items != nil && items.Kind != yaml.SequenceNode && !(items.Kind == yaml.ScalarNode && items.Tag == "!!null") {
		return rl, fmt.Errorf("reading ResourceList: items must be a list")
	}
	var nodes []*yaml.Node
	if items != nil && items.Kind == yaml.SequenceNode {
		nodes = items.Content
	}
	rl.items = func(w *bufio.Writer) error {
		for _, n := range nodes {
			if err := writeEncoded(w, n, ""); err != nil {
				return err
			}
		}
		return nil
	}
	rl.drop = func(w *bufio.Writer, dropped map[int]bool) error {
		for i, n := range nodes {
			if dropped[i] {
				continue
			}
			if err := writeEncoded(w, n, ""); err != nil {
				return err
			}
		}
		return nil
	}
	rl.objs = make([]manifest.Object, len(nodes))
	for i, it := range nodes {
		if manifest.Lookup(it) == nil || manifest.Lookup(it).Kind != yaml.MappingNode {
			return rl, fmt.Errorf("reading ResourceList: items[%d] is not an object", i)
		}
		if err := stream.CheckDuplicateKeys(it); err != nil {
			o := manifest.FromNode(i, it)
			return rl, fmt.Errorf("reading ResourceList: items[%d] (%s): %w", i, o.Ref(), err)
		}
		rl.objs[i] = manifest.FromNode(i, it)
	}
	return rl, nil
}

// encode encodes a node with the YAML encoder kustomize's own tools use.
func encode(n *yaml.Node) (string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(n); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// writeEncoded encodes a node as an item of a block sequence at indent.
func writeEncoded(w *bufio.Writer, n *yaml.Node, indent string) error {
	text, err := encode(n)
	if err != nil {
		return err
	}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		switch {
		case i == 0:
			_, _ = w.WriteString(indent + "- ")
		case line == "":
			_, _ = w.WriteString("\n")
			continue
		default:
			w.WriteString(indent + "  ")
		}
		w.WriteString(line)
		w.WriteString("\n")
	}
	return nil
}

// fail writes the input items unchanged with one error result.
func fail(stdout, stderr io.Writer, rl *resourceList, err error) {
	rs := framework.Results{result.New(result.Error, nil, "", "%v", err)}
	result.Print(stderr, rs, result.Error)
	_ = write(stdout, rl, nil, nil, rs)
}

// failConfig writes the input items unchanged with an error result per
// problem of the configuration.
func failConfig(stdout, stderr io.Writer, rl *resourceList, src v1alpha1.Source, err error) {
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
	_ = write(stdout, rl, nil, nil, rs)
}

// write writes the output ResourceList: the input items as they came, the
// generated objects, the functionConfig and the results.
func write(w io.Writer, rl *resourceList, generated []emit.Object, fc *yaml.Node, rs framework.Results) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("apiVersion: " + ResourceListAPIVersion + "\nkind: " + ResourceListKind + "\n")
	var items bytes.Buffer
	ib := bufio.NewWriter(&items)
	if err := rl.items(ib); err != nil {
		return err
	}
	ib.Flush()
	if items.Len() == 0 && len(generated) == 0 {
		bw.WriteString("items: []\n")
	} else {
		bw.WriteString("items:\n")
		bw.Write(items.Bytes())
		for _, g := range generated {
			if err := emit.WriteItem(bw, g.Node, rl.indent); err != nil {
				return err
			}
		}
	}
	if fc != nil {
		bw.WriteString("functionConfig:\n")
		if err := writeIndented(bw, explicitNulls(fc), "  "); err != nil {
			return err
		}
	}
	if len(rs) > 0 {
		var n yaml.Node
		if err := n.Encode(rs); err != nil {
			return err
		}
		bw.WriteString("results:\n")
		if err := writeIndented(bw, &n, ""); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeIndented encodes a node with the YAML encoder, each line after indent.
func writeIndented(w *bufio.Writer, n *yaml.Node, indent string) error {
	text, err := encode(n)
	if err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		if line != "\n" {
			w.WriteString(indent)
		}
		w.WriteString(line)
	}
	return nil
}

// explicitNulls returns a copy of n whose empty null scalars read "null":
// the encoder writes an empty null of a flow mapping ({spec}) as an empty
// quoted string, which would not read back as the same functionConfig.
func explicitNulls(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	if c.Kind == yaml.ScalarNode && c.Value == "" && c.ShortTag() == "!!null" {
		c.Value = "null"
	}
	if len(n.Content) > 0 {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, k := range n.Content {
			c.Content[i] = explicitNulls(k)
		}
	}
	return &c
}
