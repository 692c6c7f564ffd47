package resourcelist_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/resourcelist"
)

const head = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"

func TestReadAndWrite(t *testing.T) {
	tests := map[string]struct {
		in      string
		names   []string
		fc      bool
		dropped map[int]bool
		want    string // the output's items, when the input is in block layout
	}{
		"block layout, dashes at column 0": {
			in:    head + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}  # kept\n\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: fc}\n",
			names: []string{"a", "b"}, fc: true,
			want: "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}  # kept\n\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n",
		},
		"block layout, indented dashes, one dropped": {
			in:    head + "items:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: a}\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: b}\n",
			names: []string{"a", "b"}, dropped: map[int]bool{0: true},
			want: "items:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: b}\n",
		},
		"flow items (the general path)": {
			in:    head + "items: [{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}]\n",
			names: []string{"a"},
			want:  "items:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n",
		},
		"an alias across items (the general path)": {
			in:    head + "items:\n- &cm {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- *cm\n",
			names: []string{"a", "a"},
		},
		"no items": {in: head + "items: []\n", want: "items: []\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l, err := resourcelist.Read([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.fc, l.FunctionConfig != nil)
			var seen int
			require.NoError(t, l.ReadItems(func(*manifest.Object) { seen++ }))
			assert.GreaterOrEqual(t, seen, len(tc.names), "prepare runs on each item (and on those of a fast path given up)")
			var names []string
			for i, o := range l.Objects {
				assert.Equal(t, i, o.Index)
				names = append(names, o.Name)
			}
			assert.Equal(t, tc.names, names)
			var out bytes.Buffer
			require.NoError(t, l.Write(&out, resourcelist.Output{FunctionConfig: true, Dropped: tc.dropped}))
			assert.Contains(t, out.String(), head)
			if tc.want != "" {
				assert.Contains(t, out.String(), tc.want)
			}
			assert.Equal(t, tc.fc, bytes.Contains(out.Bytes(), []byte("functionConfig:")))
		})
	}
}

func TestReadErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		in       string
		readErr  string
		itemsErr string
		itemErr  bool
	}{
		"blank":                    {in: "\n", readErr: "no ResourceList on stdin"},
		"not YAML":                 {in: "a: [", readErr: "reading ResourceList from stdin"},
		"another kind":             {in: "apiVersion: v1\nkind: List\nitems: []\n", readErr: "stdin is not a config.kubernetes.io/v1 ResourceList"},
		"an item that is text":     {in: head + "items:\n- just text\n", itemsErr: "items[0] is not an object", itemErr: true},
		"items not a list":         {in: head + "items: {a: b}\n", itemsErr: "items must be a list", itemErr: true},
		"a key twice":              {in: head + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  kind: Secret\n", itemsErr: "duplicate key \"kind\"", itemErr: true},
		"an item that is not YAML": {in: head + "items:\n- a: [\n", itemsErr: "reading ResourceList from stdin"},
	} {
		t.Run(name, func(t *testing.T) {
			l, err := resourcelist.Read([]byte(tc.in))
			if tc.readErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.readErr)
				return
			}
			require.NoError(t, err)
			err = l.ReadItems(nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.itemsErr)
			var ie *resourcelist.ItemError
			assert.Equal(t, tc.itemErr, errorsAs(err, &ie))
		})
	}
}

func errorsAs(err error, target **resourcelist.ItemError) bool { return errors.As(err, target) }
