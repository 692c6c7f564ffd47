package v1alpha1

import (
	_ "embed"
	"encoding/json"
	"sync"
)

// schemaJSON is the JSON Schema of the TierWall kind (scripts/schema writes it
// here and in docs/): the loader checks the shape of a config against it,
// data rather than reflection over the Go types.
//
//go:embed tierwall.schema.json
var schemaJSON []byte

// shape is the part of a JSON Schema the loader reads.
type shape struct {
	Type                 string            `json:"type"`
	Properties           map[string]*shape `json:"-"`
	AdditionalProperties *shape            `json:"-"`
	Items                *shape            `json:"items"`
	OneOf                []*shape          `json:"oneOf"`
}

func (s *shape) UnmarshalJSON(b []byte) error {
	type plain shape
	var raw struct {
		plain
		Properties           map[string]*shape `json:"properties"`
		AdditionalProperties json.RawMessage   `json:"additionalProperties"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*s = shape(raw.plain)
	s.Properties = raw.Properties
	if len(raw.AdditionalProperties) > 0 && raw.AdditionalProperties[0] == '{' {
		s.AdditionalProperties = &shape{}
		if err := json.Unmarshal(raw.AdditionalProperties, s.AdditionalProperties); err != nil {
			return err
		}
	}
	return nil
}

// kind names what a shape holds: struct (fixed fields), map, list, string,
// bool, int, or intOrString.
func (s *shape) kind() string {
	switch {
	case len(s.OneOf) > 0:
		return "intOrString"
	case s.Type == "object" && s.Properties != nil:
		return "struct"
	case s.Type == "object":
		return "map"
	case s.Type == "array":
		return "list"
	case s.Type == "boolean":
		return "bool"
	case s.Type == "integer":
		return "int"
	}
	return "string"
}

var (
	specShapeOnce sync.Once
	specShapeVal  *shape
)

// specShape is the shape of a TierWall's spec.
func specShape() *shape {
	specShapeOnce.Do(func() {
		var root shape
		if err := json.Unmarshal(schemaJSON, &root); err != nil {
			panic("v1alpha1: the embedded schema does not parse: " + err.Error())
		}
		specShapeVal = root.Properties["spec"]
	})
	return specShapeVal
}

// field follows a dotted path of fields from s.
func (s *shape) field(path []string) (*shape, bool) {
	for _, p := range path {
		if s.kind() != "struct" {
			return nil, false
		}
		next, ok := s.Properties[p]
		if !ok {
			return nil, false
		}
		s = next
	}
	return s, true
}
