package cli_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/cli"
	"github.com/tierwall/tierwall/pkg/internal/testutil"
	"github.com/tierwall/tierwall/pkg/manifest"
)

// FuzzFunction runs the KRM function on arbitrary input: the fuzz bytes'
// documents wrapped as the items of a ResourceList (what kustomize sends),
// or, when raw is set or they are no YAML, the bytes themselves as stdin.
// On every input: no panic; a failure says why on stderr and writes
// nothing, or the input items unchanged with an error result; a success
// writes one ResourceList whose first items are the input's, unchanged,
// followed by tierwall's policies only, with no error result, and running
// the function on its output changes nothing.
func FuzzFunction(f *testing.F) {
	for _, s := range []string{
		"",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web, tier: frontend}}\n    spec: {containers: [{name: web, ports: [{name: http, containerPort: 8080}]}]}\n",
		"apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec: {selector: {app: api}, ports: [{port: 80, targetPort: http}]}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec: {selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api, tier: api}}, spec: {containers: [{name: a, ports: [{name: http, containerPort: 9000}]}]}}}\n",
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny-all, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n",
		"apiVersion: v1\nkind: List\nitems: []\n",
		"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n",
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {tierwall.io/ignore: \"true\"}}\n",
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c, namespace: shop}\nfunctionConfig: {apiVersion: tierwall.io/v1alpha1, kind: TierWall, metadata: {name: tw}, spec: {defaultDeny: {egress: false}}}\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		stdin := data
		var items []*yaml.Node
		isList := false
		if docs, err := decode(data); err == nil && !raw {
			stdin, items, isList = testutil.ResourceList(t, docs, nil), docs, true
		} else if err == nil && len(docs) == 1 && manifest.String(docs[0], "kind") == "ResourceList" {
			if n := manifest.Lookup(docs[0], "items"); n == nil || n.Kind == yaml.SequenceNode || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
				items, isList = manifest.Items(docs[0], "items"), true
			}
		}
		var stdout, stderr bytes.Buffer
		code := cli.Main(nil, bytes.NewReader(stdin), &stdout, &stderr)
		if code != 0 {
			if strings.TrimSpace(stderr.String()) == "" {
				t.Fatalf("exit %d with nothing on stderr", code)
			}
			if stdout.Len() == 0 {
				return
			}
			out := resourceList(t, stdout.Bytes())
			got := manifest.Items(out, "items")
			if !isList {
				if len(got) > 0 {
					t.Fatalf("a failed run wrote items it was not given:\n%s", stdout.String())
				}
			} else if content(t, got) != content(t, items) {
				t.Fatalf("a failed run changed the items:\n%s\n---\n%s", content(t, items), content(t, got))
			}
			if !hasError(out) {
				t.Fatalf("a failed run without an error result:\n%s", stdout.String())
			}
			return
		}
		if !isList {
			t.Fatalf("exit 0 without a ResourceList on stdin:\n%q\n%s", stdin, stdout.String())
		}
		out := resourceList(t, stdout.Bytes())
		got := manifest.Items(out, "items")
		if len(got) < len(items) {
			t.Fatalf("items were dropped: %d in, %d out", len(items), len(got))
		}
		for i, in := range items {
			if a, b := content(t, []*yaml.Node{in}), content(t, got[i:i+1]); a != b {
				t.Fatalf("item %d changed:\n%s\n---\n%s", i, a, b)
			}
		}
		for _, it := range got[len(items):] {
			o := manifest.FromNode(0, it)
			if !strings.HasSuffix(o.Kind, "NetworkPolicy") || !o.ManagedByTierwall() {
				t.Fatalf("added %s %s, not a tierwall policy", o.Kind, o.Name)
			}
		}
		if hasError(out) {
			t.Fatalf("exit 0 beside an error result:\n%s", stdout.String())
		}

		// Idempotence: the output's items come back unchanged.
		var again, stderr2 bytes.Buffer
		fc := manifest.Lookup(out, "functionConfig")
		if code := cli.Main(nil, bytes.NewReader(testutil.ResourceList(t, got, fc)), &again, &stderr2); code != 0 {
			t.Fatalf("the output fed back fails (exit %d): %s", code, stderr2.String())
		}
		if a, b := content(t, got), content(t, manifest.Items(resourceList(t, again.Bytes()), "items")); a != b {
			t.Fatalf("a second run changed the items:\n%s\n---\n%s", a, b)
		}
	})
}

// decode parses a stream into its documents' roots, null documents left
// out, as kustomize's reader does.
func decode(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			continue
		}
		out = append(out, n.Content[0])
	}
}

// resourceList parses what the function wrote: one ResourceList.
func resourceList(t *testing.T, out []byte) *yaml.Node {
	t.Helper()
	docs, err := decode(out)
	if err != nil || len(docs) != 1 || manifest.String(docs[0], "kind") != "ResourceList" {
		t.Fatalf("stdout is not one ResourceList (%v):\n%s", err, out)
	}
	return docs[0]
}

func hasError(rl *yaml.Node) bool {
	for _, r := range manifest.Items(rl, "results") {
		if manifest.String(r, "severity") == "error" {
			return true
		}
	}
	return false
}

// content encodes nodes without their comments: they are not content, and
// encoders move some of them.
func content(t *testing.T, nodes []*yaml.Node) string {
	t.Helper()
	out := make([]*yaml.Node, len(nodes))
	for i, n := range nodes {
		out[i] = stripComments(yaml.CopyYNode(n))
	}
	return testutil.Stream(t, out)
}

func stripComments(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		stripComments(c)
	}
	return n
}
