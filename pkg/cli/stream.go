package cli

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/stream"
)

// RenderStream is the post-renderer on a rendered stream, as a function:
// input byte for byte (with a final newline added when missing), then the
// generated policies, each after a "---" line, sorted by namespace and
// name. Blank input gives empty output (helm template --output-dir sends
// none). Its error is an unreadable input or a failed run.
func RenderStream(input []byte, spec *v1alpha1.Spec) ([]byte, framework.Results, error) {
	s, err := readStream(input, spec)
	if err != nil {
		return nil, nil, err
	}
	plan, err := planStream(s, spec, nil)
	if err != nil {
		return nil, nil, err
	}
	if plan.failed {
		return nil, plan.results, findingsError(plan.results)
	}
	var out bytes.Buffer
	out.Grow(2 * len(input)) // the input, and policies about as large
	if err := plan.Write(&out); err != nil {
		return nil, nil, err
	}
	return out.Bytes(), plan.results, nil
}

// streamPlan is what a post-renderer run writes, and its findings.
type streamPlan struct {
	stream.Output
	summary string
	// results are the run's findings, sorted.
	results framework.Results
	// failed is set when the run failed (an error result, or a finding at
	// or above spec.check.failOn): there is nothing to write.
	failed bool
}

// readStream parses the stream Helm sends for the engine run with spec.
// Its error means the input is unreadable (not YAML, a document that is no
// object), as opposed to a run that fails.
func readStream(input []byte, spec *v1alpha1.Spec) (*stream.Stream, error) {
	extra := inject.ExtraKinds(spec)
	s, err := stream.ParseWith(input, stream.Options{Prepare: func(o *manifest.Object) { inject.Prepare(o, extra) }})
	if err != nil {
		return nil, fmt.Errorf("reading the manifests on stdin: %w", err)
	}
	return s, nil
}

// planStream runs the engine and derives what to add to the stream,
// without writing anything. Its error, as the engine's, means the input
// cannot be trusted (an object without apiVersion or kind); a run that
// fails its checks gives a plan with failed set.
func planStream(s *stream.Stream, spec *v1alpha1.Spec, context []manifest.Object) (streamPlan, error) {
	if s.Blank() {
		return streamPlan{}, nil
	}
	if onlyHooks(s.Objects) {
		return streamPlan{Output: stream.Output{Input: s}, results: framework.Results{result.New(result.Warning, nil, "",
			"the input holds only Helm hooks (Helm 4 post-render strategy \"separate\"): no policies are generated for them, the run with the release's manifests generates them")}}, nil
	}
	res, failed, err := inject.Engine{Spec: spec, Context: context}.Process(s.Objects)
	if err != nil {
		return streamPlan{}, err
	}
	if failed {
		return streamPlan{results: res.Results, failed: true}, nil
	}
	results := append(res.Results, releaseNamespaceClash(spec, res)...)
	result.Sort(results)
	plan := streamPlan{Output: stream.Output{Input: s, Objects: res.Objects}, results: results, summary: res.Summary.Text()}
	// Helm shows no stderr of a post-renderer that succeeds: the summary
	// and the warnings travel as comments above the first policy, where
	// helm template and helm get manifest show them.
	if plan.summary != "" {
		plan.Comments = append(plan.Comments, "summary: "+plan.summary)
	}
	for _, r := range results {
		if r.Severity == result.Warning {
			plan.Comments = append(plan.Comments, r.String())
		}
	}
	if len(res.Drop) > 0 {
		// A document goes only when every object it holds goes.
		plan.Dropped = map[int]bool{}
		count := map[int]int{}
		for _, doc := range s.DocumentOf {
			count[doc]++
		}
		for _, i := range res.Drop {
			count[s.DocumentOf[i]]--
		}
		for doc, n := range count {
			if n == 0 {
				plan.Dropped[doc] = true
			}
		}
	}
	return plan, nil
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
		if _, ok := o.Annotations[graph.HookAnnotation]; !ok {
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
