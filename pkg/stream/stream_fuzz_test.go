package stream_test

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/stream"
)

// errDocument is how every Parse error starts: the document it is about.
var errDocument = regexp.MustCompile(`^document (\d+) \(line (\d+)[,)]`)

// FuzzStream feeds arbitrary bytes to the stream reader. On every input:
// no panic; Split gives every byte back, in chunks that start on separator
// lines at the lines and offsets they claim; an error names a document of
// the stream; a parsed stream keeps every document's bytes, numbers its
// objects in order, holds only mappings, reads the same twice, reads each
// document alone the same as in the stream, and reads its objects again,
// unchanged, once they are written out (parse, write, parse).
func FuzzStream(f *testing.F) {
	for _, s := range []string{
		"",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
		"---\n# Source: chart/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n---\n",
		"a: 1\r\n---  \r\nb: 2\r\n",
		"\ufeffa: 1\n---\n\ufeffb: 2\n",
		"a: &x {k: v}\nb: *x\nc: {<<: *x}\n...\n---\nd: 1\n",
		"a: |\n  ---\n  b\n--- |\n  text\n",
		"%YAML 1.1\n---\na: 1\n",
		"{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": []}\n",
		"a: 1\na: 2\n",
		"- a\n- b\n",
		"a:\n\tb: c\n",
		"a: &x {k: v}\n---\nb: *x\n",
		"a: 1\r\n---   \r\nb:  \n---  \r\r\nb:  \n---  \r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		chunks := stream.Split(data)
		var joined bytes.Buffer
		for i, c := range chunks {
			if c.Offset != joined.Len() {
				t.Fatalf("chunk %d: offset %d, want %d", i, c.Offset, joined.Len())
			}
			if want := 1 + bytes.Count(data[:c.Offset], []byte("\n")); c.Line != want {
				t.Fatalf("chunk %d: line %d, want %d", i, c.Line, want)
			}
			if i > 0 && !bytes.HasPrefix(c.Raw, []byte("---")) {
				t.Fatalf("chunk %d does not start with a separator: %q", i, c.Raw)
			}
			if len(c.Raw) == 0 {
				t.Fatalf("chunk %d is empty", i)
			}
			joined.Write(c.Raw)
		}
		if !bytes.Equal(joined.Bytes(), data) {
			t.Fatalf("Split lost bytes: %q from %q", joined.Bytes(), data)
		}

		s, err := stream.Parse(data)
		if err != nil {
			m := errDocument.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("the error names no document: %v", err)
			}
			if n, _ := strconv.Atoi(m[1]); n >= len(chunks) {
				t.Fatalf("the error names document %d of %d: %v", n, len(chunks), err)
			}
			if _, err2 := stream.Parse(data); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("two reads disagree: %v, then %v", err, err2)
			}
			return
		}
		if len(s.Documents) != len(chunks) {
			t.Fatalf("%d documents from %d chunks", len(s.Documents), len(chunks))
		}
		joined.Reset()
		for i, d := range s.Documents {
			if d.Position != i {
				t.Fatalf("document %d has position %d", i, d.Position)
			}
			joined.Write(d.Raw)
		}
		if !bytes.Equal(joined.Bytes(), data) {
			t.Fatalf("documents lost bytes: %q from %q", joined.Bytes(), data)
		}
		if len(s.DocumentOf) != len(s.Objects) {
			t.Fatalf("%d objects, %d document positions", len(s.Objects), len(s.DocumentOf))
		}
		for i, o := range s.Objects {
			if o.Index != i {
				t.Fatalf("object %d has index %d", i, o.Index)
			}
			if i > 0 && s.DocumentOf[i] < s.DocumentOf[i-1] {
				t.Fatalf("objects out of order: %v", s.DocumentOf)
			}
			if o.Node == nil || o.Node.Kind != yaml.MappingNode {
				t.Fatalf("object %d is not a mapping", i)
			}
		}
		first := encode(t, s)

		// Deterministic: a second read gives the same objects.
		again, err := stream.Parse(data)
		if err != nil {
			t.Fatalf("the second read fails: %v", err)
		}
		if got := encode(t, again); !equal(first, got) {
			t.Fatalf("two reads disagree:\n%q\n%q", first, got)
		}

		// Each document reads alone as it reads in the stream: anchors do not
		// reach across documents, and nothing depends on the neighbours (the
		// API server and Helm read documents one by one).
		for i, d := range s.Documents {
			if directivesOnly(d.Raw) {
				continue // "%YAML 1.1" belongs to the next document
			}
			alone, err := stream.Parse(d.Raw)
			if err != nil {
				t.Fatalf("document %d reads in the stream but not alone: %v\n%q", i, err, d.Raw)
			}
			var want []string
			for j, o := range s.Objects {
				if s.DocumentOf[j] == i {
					want = append(want, yamlString(t, o.Node))
				}
			}
			if got := encode(t, alone); !equal(want, got) {
				t.Fatalf("document %d reads otherwise alone:\n%q\n%q", i, want, got)
			}
		}

		// Parse, write, parse: the objects written out read back the same.
		written := strings.Join(first, "---\n")
		back, err := stream.Parse([]byte(written))
		if err != nil {
			t.Fatalf("the written objects do not read back: %v\n%s", err, written)
		}
		if got := encode(t, back); !equal(first, got) {
			t.Fatalf("written objects read back otherwise:\n%q\n%q", first, got)
		}
	})
}

// directivesOnly reports whether a chunk holds only directives, comments
// and blank lines.
func directivesOnly(raw []byte) bool {
	found := false
	for _, l := range strings.Split(string(raw), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "%"):
			found = true
		case l != "" && !strings.HasPrefix(l, "#"):
			return false
		}
	}
	return found
}

func encode(t *testing.T, s *stream.Stream) []string {
	t.Helper()
	out := make([]string, 0, len(s.Objects))
	for _, o := range s.Objects {
		out = append(out, yamlString(t, o.Node))
	}
	return out
}

// yamlString encodes a node without its comments: they are not content, and
// the encoder moves some of them (a comment after an empty key).
func yamlString(t *testing.T, n *yaml.Node) string {
	t.Helper()
	s, err := yaml.String(stripComments(yaml.CopyYNode(n)))
	if err != nil {
		t.Fatalf("a parsed object does not encode: %v", err)
	}
	return s
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
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
