package stream_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tierwall/tierwall/pkg/stream"
)

func TestSplitKeepsEveryByte(t *testing.T) {
	tests := map[string]struct {
		in     string
		chunks []string
	}{
		"empty":                    {in: "", chunks: nil},
		"one document, no marker":  {in: "a: 1\n", chunks: []string{"a: 1\n"}},
		"leading marker":           {in: "---\na: 1\n", chunks: []string{"---\na: 1\n"}},
		"two documents":            {in: "a: 1\n---\nb: 2\n", chunks: []string{"a: 1\n", "---\nb: 2\n"}},
		"helm source comments":     {in: "---\n# Source: c/templates/a.yaml\na: 1\n---\n# Source: c/templates/b.yaml\nb: 2", chunks: []string{"---\n# Source: c/templates/a.yaml\na: 1\n", "---\n# Source: c/templates/b.yaml\nb: 2"}},
		"marker with comment":      {in: "a: 1\n--- # next\nb: 2\n", chunks: []string{"a: 1\n", "--- # next\nb: 2\n"}},
		"marker with spaces, CRLF": {in: "a: 1\r\n---  \r\nb: 2\r\n", chunks: []string{"a: 1\r\n", "---  \r\nb: 2\r\n"}},
		"not a marker":             {in: "a: |\n  ---\n----\nb: ---x\n", chunks: []string{"a: |\n  ---\n----\nb: ---x\n"}},
		"trailing marker":          {in: "a: 1\n---\n", chunks: []string{"a: 1\n", "---\n"}},
		"empty documents":          {in: "---\n---\n\n---\na: 1\n", chunks: []string{"---\n", "---\n\n", "---\na: 1\n"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			var joined bytes.Buffer
			for _, c := range stream.Split([]byte(tc.in)) {
				got = append(got, string(c.Raw))
				joined.Write(c.Raw)
			}
			assert.Equal(t, tc.chunks, got)
			assert.Equal(t, tc.in, joined.String(), "chunks must give the input back")
		})
	}
}

func TestSplitLines(t *testing.T) {
	chunks := stream.Split([]byte("a: 1\nb: 2\n---\nc: 3\n---\n# x\n\nd: 4\n"))
	require.Len(t, chunks, 3)
	assert.Equal(t, []int{1, 3, 5}, []int{chunks[0].Line, chunks[1].Line, chunks[2].Line})
}

func TestParse(t *testing.T) {
	in := "---\n# Source: chart/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n" +
		"---\n# only a comment\n" +
		"---\n~\n" +
		"---\n# Source: chart/templates/b.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n  namespace: shop\n"
	s, err := stream.Parse([]byte(in))
	require.NoError(t, err)
	require.Len(t, s.Documents, 4)
	require.Len(t, s.Objects, 2)
	assert.Equal(t, "chart/templates/a.yaml", s.Documents[0].Source)
	assert.Equal(t, "chart/templates/b.yaml", s.Documents[3].Source)
	assert.Empty(t, s.Documents[1].Nodes, "comment-only document")
	assert.Empty(t, s.Documents[2].Nodes, "null document")
	assert.Equal(t, "ConfigMap a", s.Objects[0].Ref())
	assert.Equal(t, "Deployment shop/b", s.Objects[1].Ref())
	assert.Equal(t, []int{0, 1}, []int{s.Objects[0].Index, s.Objects[1].Index})
	assert.Equal(t, []int{0, 3}, s.DocumentOf)
	assert.False(t, s.Blank())
	assert.False(t, s.EndsWithSeparator())
}

func TestParseDocumentEndMarker(t *testing.T) {
	s, err := stream.Parse([]byte("kind: A\n...\n# trailing comment\n---\nkind: B\n"))
	require.NoError(t, err)
	require.Len(t, s.Objects, 2)
	assert.Equal(t, []int{0, 1}, s.DocumentOf)
}

func TestParseErrorsNameTheDocument(t *testing.T) {
	tests := map[string]struct {
		in   string
		want []string
	}{
		"bad YAML with a Helm source": {
			in:   "---\n# Source: c/templates/ok.yaml\nkind: A\n---\n# Source: c/templates/bad.yaml\nkind: B\nmetadata:\n  name: x\n   labels: {}\n",
			want: []string{`document 1 \(line 4, # Source: c/templates/bad.yaml\) is not valid YAML`, `line 9`},
		},
		"list document": {
			in:   "kind: A\n---\n- a\n- b\n",
			want: []string{`document 1 \(line 2\) is not a Kubernetes object: it holds a list`},
		},
		"scalar document": {
			in:   "hello\n",
			want: []string{`document 0 \(line 1\) is not a Kubernetes object: it holds the scalar "hello"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := stream.Parse([]byte(tc.in))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Regexp(t, w, err.Error())
			}
		})
	}
}

func TestBlankAndTrailingSeparator(t *testing.T) {
	for in, want := range map[string][2]bool{
		"":                {true, false},
		" \n\n":           {true, false},
		"---\n":           {false, true},
		"# c\n":           {false, false},
		"a: 1\n---\n":     {false, true},
		"a: 1\n---\n\n  ": {false, true},
		"a: 1\n--- # x\n": {false, false},
		"a: 1\n---\n# x":  {false, false},
	} {
		s, err := stream.Parse([]byte(in))
		require.NoError(t, err, "%q", in)
		assert.Equal(t, want[0], s.Blank(), "Blank %q", in)
		assert.Equal(t, want[1], s.EndsWithSeparator(), "EndsWithSeparator %q", in)
	}
}

// BenchmarkParse measures a stream of the size a big chart renders.
func BenchmarkParse(b *testing.B) {
	var buf bytes.Buffer
	for i := 0; i < 9000; i++ {
		fmt.Fprintf(&buf, "---\n# Source: chart/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%d\n  labels:\n    app: a%d\nspec:\n  selector:\n    app: a%d\n  ports:\n    - port: 80\n      targetPort: http\n", i, i, i)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := stream.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
