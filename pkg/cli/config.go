package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/stream"
)

// configFlags are the flags that say which settings a run uses: the
// --config file and --namespace, with the same meaning in every command.
type configFlags struct {
	file      string
	namespace string
	release   string
	context   []string
}

// register adds --namespace (-n), and --config when withFile is set.
func (f *configFlags) register(fs *pflag.FlagSet, withFile bool, namespaceUsage string) {
	if withFile {
		fs.StringVar(&f.file, "config", "", "a `FILE` holding one TierWall object or v1 ConfigMap: the settings used to render (as for the KRM function)")
	}
	fs.StringVarP(&f.namespace, "namespace", "n", "", namespaceUsage)
}

// registerRender adds the flags of the commands that render policies:
// --release and --context.
func (f *configFlags) registerRender(fs *pflag.FlagSet) {
	fs.StringVar(&f.release, "release", "", "the `NAME` of the release, Argo CD application or overlay: the namespace-wide policies carry it, so that several renders share a namespace (default: $ARGOCD_APP_NAME, else the one app.kubernetes.io/instance all workloads share); overrides spec.release")
	fs.StringArrayVar(&f.context, "context", nil, "a `FILE` or folder of objects that resolve references without being owned or emitted (another release's Services); repeatable")
}

// namespaceUsage is what --namespace means wherever it is: as for Helm and
// kubectl, the namespace of the objects that carry none.
const namespaceUsage = "the `NAMESPACE` of the objects that have none (Helm's release namespace); overrides spec.namespace"

// check rejects an explicitly empty --config or --namespace (an unset
// variable in a script, most often) and returns the overrides the flags
// give. flagText says where an overridden field came from, for messages.
func (f *configFlags) check(fs *pflag.FlagSet, flagText map[string]string) (v1alpha1.Overrides, error) {
	o := v1alpha1.Overrides{Flags: flagText}
	if fs.Changed("config") && strings.TrimSpace(f.file) == "" {
		return o, errors.New("--config needs a file name")
	}
	if fs.Changed("namespace") {
		if f.namespace == "" {
			return o, errors.New("--namespace needs a namespace name (an empty one is most often an unset variable: leave the flag out instead)")
		}
		o.Namespace = f.namespace
	}
	if fs.Changed("release") {
		if f.release == "" {
			return o, errors.New("--release needs a name (an empty one is most often an unset variable: leave the flag out instead)")
		}
		o.Release = f.release
	}
	return o, nil
}

// releaseFromEnv names the release from Argo CD's plugin environment for
// when neither --release nor the config names one.
func releaseFromEnv(o *v1alpha1.Overrides, getenv func(string) string) {
	if getenv != nil {
		o.ReleaseFallback = getenv("ARGOCD_APP_NAME")
	}
}

// namespaceFlagText explains an overridden namespace in config errors.
var namespaceFlagText = map[string]string{"namespace": "set by --namespace"}

// loadConfig is the one --config reader, the same for every command: the
// file (read with readFile; "" for none) holds exactly one object, a
// TierWall or a v1 ConfigMap, as the KRM function's functionConfig; the
// overrides are merged into it before defaults and validation, so that they
// are validated too; every problem is reported at once, each on its own
// line with its field path.
func loadConfig(file string, o v1alpha1.Overrides, readFile func(string) ([]byte, error)) (*v1alpha1.Spec, error) {
	var fc *yaml.RNode
	if file != "" {
		data, err := readFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading --config: %w", err)
		}
		s, err := stream.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("reading --config %s: %w", file, err)
		}
		if len(s.Objects) != 1 {
			return nil, fmt.Errorf("reading --config %s: it holds %d objects, want one %s/%s or v1/ConfigMap",
				file, len(s.Objects), v1alpha1.APIVersion, v1alpha1.Kind)
		}
		fc = yaml.NewRNode(s.Objects[0].Node)
	}
	spec, src, err := v1alpha1.LoadWithOverrides(fc, o)
	if err != nil {
		return nil, configError(file, src, err)
	}
	return spec, nil
}

// configError lists every field error on its own line.
func configError(file string, src v1alpha1.Source, err error) error {
	where := "the command-line settings"
	if file != "" {
		where = fmt.Sprintf("--config %s (%s)", file, src)
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
