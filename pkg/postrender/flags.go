package postrender

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
)

// Usage is the post-renderer's help text.
const Usage = `tierwall-postrender adds zero-trust NetworkPolicies to a Helm release.

It reads the rendered manifests on stdin and writes them to stdout unchanged,
followed by the generated policies.

Helm 3:  helm install REL CHART --post-renderer tierwall-postrender \
           [--post-renderer-args=--config=tierwall.yaml ...]
Helm 4:  helm plugin install <plugin dir>
         helm install REL CHART --post-renderer tierwall \
           [--post-renderer-args=--config=tierwall.yaml ...]

Flags (they override the config file; list flags add to its lists):
  --config FILE          a TierWall object or a v1 ConfigMap (as for the KRM function)
  --namespace NS         the release namespace: objects without metadata.namespace
                         are in NS and their policies name it. Defaults to
                         $HELM_NAMESPACE when set, else policies for those objects
                         carry no namespace and Helm installs them beside the release
  --dns-profile P        kube-dns, nodelocal, openshift, gke-cloud-dns or custom
  --skip-namespace NS    give NS no policies (repeatable)
  --no-monitoring        no Prometheus scrape allows
  --no-tiers             no allows derived from tier labels
  --kube-api-cidr CIDR   allow egress to the API server at CIDR (repeatable)
  --helm4-plugin         report failures in the output, where Helm 4 shows them
                         (Helm 4 drops a post-renderer's stderr); the plugin sets it
  --version              print the version
  -h, --help             print this help
`

// Config is what the command line asks for.
type Config struct {
	// ConfigFile is the --config path, or "".
	ConfigFile string
	// Overrides are the settings given by flags (and HELM_NAMESPACE).
	Overrides v1alpha1.Overrides
	// Helm4Plugin reports failures in-band for Helm 4 (see errorDocument).
	Helm4Plugin bool
	// Version and Help ask for the version or the help text only.
	Version, Help bool
}

// flagText says, for config errors, where an overridden field came from.
var flagText = map[string]string{
	"namespace":      "set by --namespace or HELM_NAMESPACE",
	"dns.profile":    "set by --dns-profile",
	"skipNamespaces": "from the config file or --skip-namespace",
	"kubeAPI.cidrs":  "from the config file or --kube-api-cidr",
}

// ParseArgs reads the command line. getenv reads the environment (os.Getenv
// in the command, a map in tests); only HELM_NAMESPACE is read. It returns an
// error for unknown flags, missing values and positional arguments.
func ParseArgs(args []string, getenv func(string) string) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("tierwall-postrender", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var namespace string
	fs.StringVar(&c.ConfigFile, "config", "", "")
	fs.StringVar(&namespace, "namespace", "", "")
	fs.StringVar(&c.Overrides.DNSProfile, "dns-profile", "", "")
	fs.Func("skip-namespace", "", func(s string) error {
		c.Overrides.SkipNamespaces = append(c.Overrides.SkipNamespaces, s)
		return nil
	})
	fs.BoolVar(&c.Overrides.DisableMonitoring, "no-monitoring", false, "")
	fs.BoolVar(&c.Overrides.DisableTiers, "no-tiers", false, "")
	fs.Func("kube-api-cidr", "", func(s string) error {
		c.Overrides.KubeAPICIDRs = append(c.Overrides.KubeAPICIDRs, s)
		return nil
	})
	fs.BoolVar(&c.Helm4Plugin, "helm4-plugin", false, "")
	fs.BoolVar(&c.Version, "version", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.Help = true
			return c, nil
		}
		return c, fmt.Errorf("%v (see --help)", err)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q: flags only (see --help); with Helm, pass each one as --post-renderer-args=FLAG", fs.Arg(0))
	}
	seen := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { seen[f.Name] = true })
	if seen["config"] && strings.TrimSpace(c.ConfigFile) == "" {
		return c, errors.New("--config needs a file name")
	}
	switch {
	case seen["namespace"]:
		if namespace == "" {
			return c, errors.New("--namespace needs a namespace name (leave the flag out for the release namespace)")
		}
		c.Overrides.Namespace = namespace
	case getenv("HELM_NAMESPACE") != "":
		c.Overrides.Namespace = getenv("HELM_NAMESPACE")
	}
	c.Overrides.Flags = flagText
	return c, nil
}

// wantsHelm4 reports whether args ask for Helm 4 error reporting, for
// command lines that fail to parse.
func wantsHelm4(args []string) bool {
	for _, a := range args {
		if a == "--helm4-plugin" || a == "-helm4-plugin" || a == "--helm4-plugin=true" {
			return true
		}
	}
	return false
}
