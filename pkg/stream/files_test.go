package stream_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/stream"
)

const (
	deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, ports: [{name: http, containerPort: 8080}]}]}
`
	denyAll = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-all, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
`
)

func TestReadObjects(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) string {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	write("b/policies.yml", denyAll)
	write("a/app.yaml", deployment)
	write("a/notes.txt", "not yaml: [")
	resourceList := write("rl.json.yaml", "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- "+strings.ReplaceAll(strings.TrimSpace(denyAll), "\n", "\n  ")+"\n")
	list := write("list.yaml", "apiVersion: v1\nkind: List\nitems:\n- "+strings.ReplaceAll(strings.TrimSpace(deployment), "\n", "\n  ")+"\n")

	tests := map[string]struct {
		paths []string
		stdin string
		want  []string // Kind/name of the objects, in order
	}{
		"folder, lexical order, YAML only": {paths: []string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}, want: []string{"Deployment/api", "NetworkPolicy/default-deny-all"}},
		"ResourceList items":               {paths: []string{resourceList}, want: []string{"NetworkPolicy/default-deny-all"}},
		"v1 List items":                    {paths: []string{list}, want: []string{"Deployment/api"}},
		"stdin and a file":                 {paths: []string{"-", list}, stdin: denyAll, want: []string{"NetworkPolicy/default-deny-all", "Deployment/api"}},
		"stdin by default":                 {stdin: deployment + "---\n" + denyAll, want: []string{"Deployment/api", "NetworkPolicy/default-deny-all"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs, err := stream.ReadObjects(tc.paths, strings.NewReader(tc.stdin))
			require.NoError(t, err)
			var got []string
			for i, o := range objs {
				assert.Equal(t, i, o.Index)
				got = append(got, o.Kind+"/"+o.Name)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestDiffParsesSharedDocumentsOnce: the new side read with the old side's
// documents known gives the same objects, lines and sources as read alone,
// whatever it shares (nothing, everything, documents moved, a stream
// without a first separator).
func TestDiffParsesSharedDocumentsOnce(t *testing.T) {
	a := "# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
	b := "---\n# Source: c/templates/b.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
	c := "---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c1}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c2}}\n"
	d := "---\n\n# comment\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n"
	for name, tc := range map[string]struct{ old, new string }{
		"nothing shared":         {a, c + d},
		"everything":             {a + b + c + d, a + b + c + d},
		"moved":                  {a + b + c + d, d + c + "---\n" + a + b},
		"one new, in the middle": {a + b + d, a + c + b + d},
		"empty":                  {a + b, ""},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			oldFile, newFile := filepath.Join(dir, "old.yaml"), filepath.Join(dir, "new.yaml")
			require.NoError(t, os.WriteFile(oldFile, []byte(tc.old), 0o644))
			require.NoError(t, os.WriteFile(newFile, []byte(tc.new), 0o644))
			prev := &stream.Reader{Remember: true}
			_, _, err := prev.Read([]string{oldFile})
			require.NoError(t, err)
			objs, origins, err := (&stream.Reader{Known: prev.Seen()}).Read([]string{newFile})
			require.NoError(t, err)
			wantObjs, wantOrigins, err := (&stream.Reader{}).Read([]string{newFile})
			require.NoError(t, err)
			require.Len(t, objs, len(wantObjs))
			for i := range objs {
				assert.Equal(t, wantObjs[i].Name, objs[i].Name)
				assert.Equal(t, wantObjs[i].Index, objs[i].Index)
				assert.Equal(t, wantOrigins[i].Line, origins[i].Line, objs[i].Name)
				assert.Equal(t, wantOrigins[i].Source, origins[i].Source, objs[i].Name)
				assert.Equal(t, wantOrigins[i].LineOf("metadata.name"), origins[i].LineOf("metadata.name"), objs[i].Name)
				// And that line is the one that names the object.
				lines := strings.Split(tc.new, "\n")
				line := origins[i].LineOf("metadata.name")
				require.Less(t, line-1, len(lines))
				assert.Contains(t, lines[line-1], "name: "+objs[i].Name, "line %d", line)
			}
		})
	}
}
