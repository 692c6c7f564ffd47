// Package postrender is the Helm post-renderer's framing: it reads the
// multi-document stream Helm renders, runs the same engine as the KRM
// function, and writes the stream back byte for byte with the generated
// policies after it. As a Helm 4 plugin, which loses stderr, a failure
// travels in the output as a document Helm rejects, naming it (see
// ErrorDocument). The command itself (flags, --config, exit codes) is
// pkg/cli's.
package postrender

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/emit"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/stream"
)

// HookAnnotation marks a Helm hook.
const HookAnnotation = "helm.sh/hook"

// emptyComment is the Helm 4 plugin's output for blank input.
const emptyComment = "# tierwall-postrender: no objects in the input, no policies\n"

// Render returns the output stream for input: input byte for byte (with a
// final newline added when missing), then the generated policies, each
// after a "---" line, sorted by namespace and name. Blank input gives empty
// output (helm template --output-dir sends none).
func Render(input []byte, spec *v1alpha1.Spec) ([]byte, framework.Results, error) {
	in, err := Read(input, spec)
	if err != nil {
		return nil, nil, err
	}
	plan, err := in.Plan()
	if err != nil {
		return nil, nil, err
	}
	if plan.Failed {
		return nil, plan.Results, plan.Failure()
	}
	var out bytes.Buffer
	if err := plan.Write(&out); err != nil {
		return nil, nil, err
	}
	return out.Bytes(), plan.Results, nil
}

// Output is what a run writes: the input, then the generated objects.
type Output struct {
	input []byte
	// docs are the input's documents, and dropped the positions of those
	// that are tierwall's own unedited earlier output (regenerated).
	docs    []stream.Document
	dropped map[int]bool
	objects []emit.Object
	// Summary is the run's summary, the first "# tierwall:" comment.
	Summary   string
	separator bool // the input ends with a bare "---" line
	// Results are the run's findings, sorted.
	Results framework.Results
	// Failed is set when the run failed (an error result, or a finding at
	// or above spec.check.failOn): there is nothing to write.
	Failed bool
}

// Failure sums up the error results of a failed run, for stderr and for
// Helm 4's error document.
func (o Output) Failure() error { return findingsError(o.Results) }

// Empty reports whether the output is empty (blank input).
func (o Output) Empty() bool { return len(o.input) == 0 && len(o.objects) == 0 }

// WritePlugin writes what the Helm 4 plugin writes: as Write, but a comment
// for blank output, since Helm 4 fails a post-renderer whose output is blank
// (a chart that renders no object would hit it): a comment is not blank.
func (o Output) WritePlugin(w io.Writer) error {
	if o.Empty() {
		_, err := io.WriteString(w, emptyComment)
		return err
	}
	return o.Write(w)
}

// Write writes the input byte for byte (a final newline added when
// missing), then each generated object after a "---" line.
func (o Output) Write(w io.Writer) error {
	if len(o.input) == 0 {
		return nil
	}
	if len(o.dropped) == 0 {
		if _, err := w.Write(o.input); err != nil {
			return err
		}
	} else {
		// Every document but tierwall's own unedited earlier output, byte
		// for byte.
		last := byte('\n')
		for _, d := range o.docs {
			if o.dropped[d.Position] || len(d.Raw) == 0 {
				continue
			}
			if last != '\n' {
				if _, err := io.WriteString(w, "\n"); err != nil {
					return err
				}
			}
			if _, err := w.Write(d.Raw); err != nil {
				return err
			}
			last = d.Raw[len(d.Raw)-1]
		}
		if last != '\n' {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		return o.writeObjects(w, false)
	}
	if o.input[len(o.input)-1] != '\n' {
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
	}
	return o.writeObjects(w, o.separator)
}

// writeObjects writes each generated object after a "---" line (none before
// the first when the input ends with one), the summary and the warnings as
// comments above the first.
func (o Output) writeObjects(w io.Writer, separator bool) error {
	for i, obj := range o.objects {
		if i > 0 || !separator {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if i == 0 {
			// Helm shows no stderr of a post-renderer that succeeds: the
			// summary and the warnings travel as comments above the first
			// policy, where helm template and helm get manifest show them.
			if o.Summary != "" {
				if _, err := io.WriteString(w, "# tierwall: summary: "+oneLine(o.Summary)+"\n"); err != nil {
					return err
				}
			}
			for _, r := range o.Results {
				if r.Severity == result.Warning {
					if _, err := io.WriteString(w, "# tierwall: "+oneLine(r.String())+"\n"); err != nil {
						return err
					}
				}
			}
		}
		if err := emit.Write(w, obj.Node); err != nil {
			return fmt.Errorf("writing %s %s: %w", obj.Kind, obj.Name, err)
		}
	}
	return nil
}

// Input is Helm's rendered stream, read.
type Input struct {
	raw  []byte
	s    *stream.Stream
	spec *v1alpha1.Spec
	// Context are objects that resolve references without being owned or
	// emitted (--context).
	Context []manifest.Object
}

// Read parses the stream Helm sends for the engine run with spec. Its
// error means the input is unreadable (not YAML, a document that is no
// object), as opposed to a run that fails.
func Read(input []byte, spec *v1alpha1.Spec) (Input, error) {
	extra := inject.ExtraKinds(spec)
	s, err := stream.ParseWith(input, stream.Options{Prepare: func(o *manifest.Object) { inject.Prepare(o, extra) }})
	if err != nil {
		return Input{}, fmt.Errorf("reading the manifests on stdin: %w", err)
	}
	return Input{raw: input, s: s, spec: spec}, nil
}

// Plan runs the engine and derives what to add to the input, without
// writing anything. Its error, as the engine's, means the input cannot be
// trusted (an object without apiVersion or kind); a run that fails its
// checks gives an Output with Failed set.
func (in Input) Plan() (Output, error) {
	input, s, spec := in.raw, in.s, in.spec
	if s.Blank() {
		return Output{}, nil
	}
	if onlyHooks(s.Objects) {
		return Output{input: input, Results: framework.Results{result.New(result.Warning, nil, "",
			"the input holds only Helm hooks (Helm 4 post-render strategy \"separate\"): no policies are generated for them, the run with the release's manifests generates them")}}, nil
	}
	res, failed, err := inject.Engine{Spec: spec, Context: in.Context}.Process(s.Objects)
	if err != nil {
		return Output{}, err
	}
	if failed {
		return Output{Results: res.Results, Failed: true}, nil
	}
	results := append(res.Results, releaseNamespaceClash(spec, res)...)
	result.Sort(results)
	out := Output{input: input, objects: res.Objects, separator: s.EndsWithSeparator(), Results: results, Summary: res.Summary.Text()}
	if len(res.Drop) > 0 {
		// A document goes only when every object it holds goes.
		out.docs, out.dropped = s.Documents, map[int]bool{}
		count := map[int]int{}
		for _, doc := range s.DocumentOf {
			count[doc]++
		}
		for _, i := range res.Drop {
			count[s.DocumentOf[i]]--
		}
		for doc, n := range count {
			if n == 0 {
				out.dropped[doc] = true
			}
		}
	}
	return out, nil
}

// findingsError sums up the error results of a failed run, for stderr and
// for Helm 4's error document.
func findingsError(rs framework.Results) error {
	var msgs []string
	for _, r := range rs {
		if r.Severity == result.Error {
			msgs = append(msgs, r.String())
		}
	}
	if len(msgs) == 0 {
		return errors.New("the checks of the output failed (spec.check.failOn)")
	}
	return fmt.Errorf("%d error(s):\n  %s", len(msgs), strings.Join(msgs, "\n  "))
}

// onlyHooks reports whether objs is not empty and every object is a Helm hook.
func onlyHooks(objs []manifest.Object) bool {
	for _, o := range objs {
		if _, ok := o.Annotations[HookAnnotation]; !ok {
			return false
		}
	}
	return len(objs) > 0
}

// releaseNamespaceClash warns when policies go both to the unnamed release
// namespace and to named namespaces: charts that set metadata.namespace on
// some objects only ({{ .Release.Namespace }}) would get every policy twice
// in the release namespace.
func releaseNamespaceClash(spec *v1alpha1.Spec, out inject.Output) framework.Results {
	if spec.Namespace != "" {
		return nil
	}
	named := map[string]bool{}
	release := false
	for _, g := range out.Policies {
		if g.Policy.Namespace == "" {
			release = true
		} else {
			named[g.Policy.Namespace] = true
		}
	}
	if !release || len(named) == 0 {
		return nil
	}
	names := make([]string, 0, len(named))
	for n := range named {
		names = append(names, n)
	}
	sort.Strings(names)
	return framework.Results{result.New(result.Warning, nil, "spec.namespace",
		"policies are generated for objects without metadata.namespace (written without a namespace, for the release namespace) and for namespace %s: if the release namespace is one of them, pass --namespace NAME so that its policies are not generated twice",
		strings.Join(names, ", "))}
}

// oneLine keeps a message on one comment line.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
