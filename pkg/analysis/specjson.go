package analysis

import (
	"bytes"
	"encoding/json"
	"sort"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// specJSON is a policy's spec as JSON, nil for a null spec: the JSON that
// decoding the node and encoding the result gives, written straight from
// plain nodes (mappings with string keys, sequences, scalars), which is
// most of the time of reading a large input's policies. Anything else
// (aliases, merge keys, other tags) takes the decode-and-encode path.
func specJSON(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	if plainJSON(n, &buf) {
		if bytes.Equal(buf.Bytes(), []byte("null")) {
			return nil, nil
		}
		return buf.Bytes(), nil
	}
	var raw any
	if err := n.Decode(&raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, nil
	}
	return json.Marshal(raw)
}

// plainJSON writes a plain node as json.Marshal writes its decoded value
// (keys sorted); false when the node is not plain.
func plainJSON(n *yaml.Node, buf *bytes.Buffer) bool {
	switch n.Kind {
	case yaml.MappingNode:
		type pair struct {
			key string
			val *yaml.Node
		}
		pairs := make([]pair, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
				return false
			}
			pairs = append(pairs, pair{k.Value, n.Content[i+1]})
		}
		sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].key < pairs[j].key })
		buf.WriteByte('{')
		for i, p := range pairs {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, p.key)
			buf.WriteByte(':')
			if !plainJSON(p.val, buf) {
				return false
			}
		}
		buf.WriteByte('}')
		return true
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if !plainJSON(c, buf) {
				return false
			}
		}
		buf.WriteByte(']')
		return true
	case yaml.ScalarNode:
		var out []byte
		var err error
		switch n.Tag {
		case "!!str":
			writeString(buf, n.Value)
			return true
		case "!!null":
			out = []byte("null")
		case "!!bool", "!!int", "!!float":
			var v any
			if err = n.Decode(&v); err == nil {
				out, err = json.Marshal(v)
			}
		default:
			return false
		}
		if err != nil {
			return false
		}
		buf.Write(out)
		return true
	}
	return false
}

// writeString writes s as json.Marshal does: as it is between quotes when
// it holds only printable ASCII that JSON and json.Marshal's HTML escaping
// leave alone, most labels and names; else through json.Marshal.
func writeString(buf *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			out, _ := json.Marshal(s)
			buf.Write(out)
			return
		}
	}
	buf.WriteByte('"')
	buf.WriteString(s)
	buf.WriteByte('"')
}
