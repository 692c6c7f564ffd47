// Package postrender is the Helm post-renderer front end: it reads the
// multi-document stream Helm renders, runs the same engine as the KRM
// function, and writes the stream back byte for byte with the generated
// policies after it. Errors exit non-zero with the reason on stderr (Helm 3
// shows it); as a Helm 4 plugin, which loses stderr, the reason also travels
// in the output as a document Helm rejects, naming it (see errorDocument).
package postrender

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/emit"
	"github.com/tierwall/tierwall/pkg/inject"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/stream"
	"github.com/tierwall/tierwall/pkg/version"
)

// HookAnnotation marks a Helm hook.
const HookAnnotation = "helm.sh/hook"

// emptyComment is the Helm 4 plugin's output for blank input.
const emptyComment = "# tierwall-postrender: no objects in the input, no policies\n"

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// Main runs the post-renderer with the process's environment and files and
// returns its exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	inject.TuneGC()
	return Command{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv, ReadFile: os.ReadFile}.Run(args)
}

// Command is one run of the post-renderer with its I/O, so that tests run
// exactly what the binary runs.
type Command struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads the environment (HELM_NAMESPACE only).
	Getenv func(string) string
	// ReadFile reads the --config file.
	ReadFile func(string) ([]byte, error)
}

// Run runs the post-renderer and returns its exit code. Nothing reaches
// stdout unless the whole run succeeds (or, as a Helm 4 plugin, fails and
// reports it there).
func (c Command) Run(args []string) int {
	cfg, err := ParseArgs(args, c.Getenv)
	if err != nil {
		return c.fail(wantsHelm4(args), exitUsage, err)
	}
	switch {
	case cfg.Help:
		fmt.Fprint(c.Stdout, Usage)
		return exitOK
	case cfg.Version:
		fmt.Fprintf(c.Stdout, "tierwall-postrender %s\n", version.Version)
		return exitOK
	}
	spec, err := LoadConfig(cfg, c.ReadFile)
	if err != nil {
		return c.fail(cfg.Helm4Plugin, exitError, err)
	}
	in, err := io.ReadAll(c.Stdin)
	if err != nil {
		return c.fail(cfg.Helm4Plugin, exitError, fmt.Errorf("reading stdin: %w", err))
	}
	plan, err := Plan(in, spec)
	if err != nil {
		return c.fail(cfg.Helm4Plugin, exitError, err)
	}
	result.Print(c.Stderr, plan.Results, result.Warning)
	w := bufio.NewWriterSize(c.Stdout, 1<<16)
	if plan.Empty() && cfg.Helm4Plugin {
		// Helm 4 fails a post-renderer whose output is blank, which a chart
		// that renders no object would hit: a comment is not blank.
		w.WriteString(emptyComment)
	} else if err := plan.Write(w); err != nil {
		fmt.Fprintf(c.Stderr, "tierwall-postrender: writing stdout: %v\n", err)
		return exitError
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(c.Stderr, "tierwall-postrender: writing stdout: %v\n", err)
		return exitError
	}
	return exitOK
}

// fail reports err on stderr and returns code; as a Helm 4 plugin it also
// writes the error document to stdout and returns 0, the only way Helm 4
// shows the reason (it discards the stderr and the stdout of a failed plugin).
func (c Command) fail(helm4 bool, code int, err error) int {
	msg := "tierwall-postrender: " + err.Error()
	fmt.Fprintln(c.Stderr, msg)
	if !helm4 {
		return code
	}
	if _, werr := c.Stdout.Write(errorDocument(msg)); werr != nil {
		return code
	}
	return exitOK
}

// LoadConfig reads the --config file, if any, merges the flags into it and
// returns the defaulted, validated Spec.
func LoadConfig(cfg Config, readFile func(string) ([]byte, error)) (*v1alpha1.Spec, error) {
	var fc *yaml.RNode
	if cfg.ConfigFile != "" {
		data, err := readFile(cfg.ConfigFile)
		if err != nil {
			return nil, fmt.Errorf("reading --config: %w", err)
		}
		s, err := stream.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("reading --config %s: %w", cfg.ConfigFile, err)
		}
		if len(s.Objects) != 1 {
			return nil, fmt.Errorf("reading --config %s: it holds %d objects, want one %s/%s or v1/ConfigMap",
				cfg.ConfigFile, len(s.Objects), v1alpha1.APIVersion, v1alpha1.Kind)
		}
		fc = yaml.NewRNode(s.Objects[0].Node)
	}
	spec, src, err := v1alpha1.LoadWithOverrides(fc, cfg.Overrides)
	if err != nil {
		return nil, configError(cfg, src, err)
	}
	return spec, nil
}

// configError lists every field error on its own line.
func configError(cfg Config, src v1alpha1.Source, err error) error {
	where := "the command-line settings"
	if cfg.ConfigFile != "" {
		where = fmt.Sprintf("--config %s (%s)", cfg.ConfigFile, src)
	}
	var fes v1alpha1.Errors
	if !errors.As(err, &fes) {
		return fmt.Errorf("loading %s: %w", where, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration in %s:", where)
	for _, fe := range fes {
		fmt.Fprintf(&b, "\n  %s: %s", fe.Path, fe.Message)
	}
	return errors.New(b.String())
}

// Render returns the output stream for input: input byte for byte (with a
// final newline added when missing), then the generated policies, each
// after a "---" line, sorted by namespace and name. Blank input gives empty
// output (helm template --output-dir sends none).
func Render(input []byte, spec *v1alpha1.Spec) ([]byte, framework.Results, error) {
	plan, err := Plan(input, spec)
	if err != nil {
		return nil, plan.Results, err
	}
	var out bytes.Buffer
	if err := plan.Write(&out); err != nil {
		return nil, nil, err
	}
	return out.Bytes(), plan.Results, nil
}

// Output is what a run writes: the input, then the generated objects.
type Output struct {
	input     []byte
	objects   []emit.Object
	separator bool // the input ends with a bare "---" line
	// Results are the run's findings, sorted.
	Results framework.Results
}

// Empty reports whether the output is empty (blank input).
func (o Output) Empty() bool { return len(o.input) == 0 && len(o.objects) == 0 }

// Write writes the input byte for byte (a final newline added when
// missing), then each generated object after a "---" line.
func (o Output) Write(w io.Writer) error {
	if len(o.input) == 0 {
		return nil
	}
	if _, err := w.Write(o.input); err != nil {
		return err
	}
	if o.input[len(o.input)-1] != '\n' {
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
	}
	for i, obj := range o.objects {
		if i > 0 || !o.separator {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if i == 0 {
			// Helm shows no stderr of a post-renderer that succeeds: the
			// warnings travel as comments above the first policy, where
			// helm template and helm get manifest show them.
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

// Plan reads the input and derives what to add, without writing anything:
// an error leaves nothing to write.
func Plan(input []byte, spec *v1alpha1.Spec) (Output, error) {
	extra := inject.ExtraKinds(spec)
	s, err := stream.ParseWith(input, stream.Options{Prepare: func(o *manifest.Object) { inject.Prepare(o, extra) }})
	if err != nil {
		return Output{}, fmt.Errorf("reading the manifests on stdin: %w", err)
	}
	if s.Blank() {
		return Output{}, nil
	}
	if onlyHooks(s.Objects) {
		return Output{input: input, Results: framework.Results{result.New(result.Warning, nil, "",
			"the input holds only Helm hooks (Helm 4 post-render strategy \"separate\"): no policies are generated for them, the run with the release's manifests generates them")}}, nil
	}
	res, failed, err := inject.Engine{Spec: spec}.Process(s.Objects)
	if err != nil {
		return Output{}, err
	}
	if failed {
		return Output{Results: res.Results}, findingsError(res.Results)
	}
	results := append(res.Results, releaseNamespaceClash(spec, res)...)
	result.Sort(results)
	return Output{input: input, objects: res.Objects, separator: s.EndsWithSeparator(), Results: results}, nil
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
