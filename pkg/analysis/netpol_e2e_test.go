package analysis_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/analysis"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// e2eCase is one file of testdata/netpol-e2e (see its README.md).
type e2eCase struct {
	It              string                       `yaml:"it"`
	Ports           []int32                      `yaml:"ports"`
	Protocols       []string                     `yaml:"protocols"`
	PodLabels       map[string]map[string]string `yaml:"podLabels"`
	NamespaceLabels map[string]map[string]string `yaml:"namespaceLabels"`
	Policies        []yaml.Node                  `yaml:"policies"`
	Probes          []struct {
		Port         int32   `yaml:"port"`
		Protocol     string  `yaml:"protocol"`
		Reachability []e2eOp `yaml:"reachability"`
		Expected     string  `yaml:"expected"`
	} `yaml:"probes"`
}

// e2eOp is one call of the suite's Reachability API.
type e2eOp struct {
	ExpectPeer *struct {
		From e2ePeer `yaml:"from"`
		To   e2ePeer `yaml:"to"`
	} `yaml:"expectPeer"`
	ExpectAllIngress string `yaml:"expectAllIngress"`
	ExpectAllEgress  string `yaml:"expectAllEgress"`
	Expect           *struct {
		From string `yaml:"from"`
		To   string `yaml:"to"`
	} `yaml:"expect"`
	Connected bool `yaml:"connected"`
}

type e2ePeer struct {
	Namespace string `yaml:"namespace"`
	Pod       string `yaml:"pod"`
}

func (p e2ePeer) matches(pod string) bool {
	ns, name, _ := strings.Cut(pod, "/")
	return (p.Namespace == "" || p.Namespace == ns) && (p.Pod == "" || p.Pod == name)
}

var e2eNamespaces, e2ePodNames = []string{"x", "y", "z"}, []string{"a", "b", "c"}

func e2ePods() []string {
	var out []string
	for _, ns := range e2eNamespaces {
		for _, p := range e2ePodNames {
			out = append(out, ns+"/"+p)
		}
	}
	return out
}

// truthTable applies the suite's expectations, in order, to an all-true table.
func truthTable(ops []e2eOp) map[string]map[string]bool {
	pods := e2ePods()
	t := map[string]map[string]bool{}
	for _, f := range pods {
		t[f] = map[string]bool{}
		for _, to := range pods {
			t[f][to] = true
		}
	}
	for _, op := range ops {
		for _, f := range pods {
			for _, to := range pods {
				switch {
				case op.ExpectPeer != nil && op.ExpectPeer.From.matches(f) && op.ExpectPeer.To.matches(to),
					op.ExpectAllIngress == to, op.ExpectAllEgress == f,
					op.Expect != nil && op.Expect.From == f && op.Expect.To == to:
					t[f][to] = op.Connected
				}
			}
		}
	}
	return t
}

// parseTable reads a printed truth table (rows from, columns to).
func parseTable(t *testing.T, s string) map[string]map[string]bool {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	require.NotEmpty(t, lines)
	cols := strings.Fields(lines[0])[1:]
	out := map[string]map[string]bool{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		require.Len(t, f, len(cols)+1, "row %q", l)
		out[f[0]] = map[string]bool{}
		for i, c := range cols {
			require.Contains(t, []string{".", "X"}, f[i+1])
			out[f[0]][c] = f[i+1] == "."
		}
	}
	require.Len(t, out, 9)
	return out
}

func printTable(t map[string]map[string]bool) string {
	pods := e2ePods()
	var b strings.Builder
	b.WriteString("-   " + strings.Join(pods, " ") + "\n")
	for _, f := range pods {
		b.WriteString(f)
		for _, to := range pods {
			if t[f][to] {
				b.WriteString(" .  ")
			} else {
				b.WriteString(" X  ")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// e2eObjects builds the suite's namespaces and pods for one case, then its
// policies.
func e2eObjects(t *testing.T, c e2eCase) []manifest.Object {
	var docs []string
	for i, ns := range e2eNamespaces {
		labels := map[string]string{"ns": ns}
		for k, v := range c.NamespaceLabels[ns] {
			labels[k] = v
		}
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels: %s\n", ns, flow(labels)))
		for j, p := range e2ePodNames {
			labels := map[string]string{"pod": p}
			if l, ok := c.PodLabels[ns+"/"+p]; ok {
				labels = l
			}
			var containers strings.Builder
			for _, port := range c.Ports {
				for _, proto := range c.Protocols {
					lp := strings.ToLower(proto)
					fmt.Fprintf(&containers, "  - name: cont-%d-%s\n    image: agnhost\n    ports:\n    - {containerPort: %d, name: serve-%d-%s, protocol: %s}\n",
						port, lp, port, port, lp, proto)
				}
			}
			docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: %s\n  labels: %s\nspec:\n  containers:\n%sstatus:\n  podIP: 10.244.%d.%d\n",
				p, ns, flow(labels), containers.String(), i+1, j+1))
		}
	}
	nodes := testutil.Docs(t, []byte(strings.Join(docs, "---\n")))
	for i := range c.Policies {
		nodes = append(nodes, &c.Policies[i])
	}
	objs := make([]manifest.Object, len(nodes))
	for i, n := range nodes {
		objs[i] = manifest.FromNode(i, n)
	}
	return objs
}

func flow(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%q: %q", k, m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// TestNetpolE2E evaluates the Kubernetes e2e suite's truth tables.
func TestNetpolE2E(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "netpol-e2e")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 30, "the issue asks for at least 30 transcribed cases")
	tests := map[string]string{}
	for _, f := range files {
		tests[strings.TrimSuffix(filepath.Base(f), ".yaml")] = f
	}
	for name, file := range tests {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			var c e2eCase
			require.NoError(t, yaml.Unmarshal(data, &c))
			require.NotEmpty(t, c.Probes)
			m := analysis.New(e2eObjects(t, c), analysis.Options{})
			findings := m.Findings
			require.Empty(t, findings)
			byName := map[string]*analysis.Endpoint{}
			for _, e := range m.Endpoints {
				if e.Kind == analysis.Workload {
					byName[e.String()] = e
				}
			}
			require.Len(t, byName, 9)
			for _, p := range c.Probes {
				expected := parseTable(t, p.Expected)
				require.Equal(t, printTable(truthTable(p.Reachability)), printTable(expected),
					"%s: the expected table does not follow from the transcribed reachability calls", c.It)
				got := map[string]map[string]bool{}
				wrong := 0
				for _, f := range e2ePods() {
					got[f] = map[string]bool{}
					for _, to := range e2ePods() {
						got[f][to] = m.Allowed(byName[f], byName[to], p.Protocol, p.Port)
						if f != to && got[f][to] != expected[f][to] {
							wrong++
						}
					}
				}
				assert.Zero(t, wrong, "%s, %s/%d\nexpected:\n%s\nanalysed:\n%s", c.It, p.Protocol, p.Port, printTable(expected), printTable(got))
			}
		})
	}
}
