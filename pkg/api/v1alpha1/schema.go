package v1alpha1

import (
	"encoding/json"
	"os"
	"reflect"

	"github.com/invopop/jsonschema"
)

// SchemaID is the $id of the configuration's JSON Schema.
const SchemaID = "https://tierwall.io/schemas/v1alpha1/tierwall.json"

// Schema returns the JSON Schema of the TierWall kind, generated from the Go
// types; moduleRoot, when not empty, is the module's root folder, whose
// doc comments in this package become the descriptions. Editors and validators such as
// kubeconform read it to check tierwall.yaml; unknown fields are refused.
func Schema(moduleRoot string) ([]byte, error) {
	r := &jsonschema.Reflector{
		DoNotReference:             true,
		AllowAdditionalProperties:  false,
		RequiredFromJSONSchemaTags: true,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			if t.PkgPath() == "k8s.io/apimachinery/pkg/util/intstr" && t.Name() == "IntOrString" {
				return &jsonschema.Schema{OneOf: []*jsonschema.Schema{{Type: "integer"}, {Type: "string"}}}
			}
			return nil
		},
	}
	if moduleRoot != "" {
		if err := addComments(r, moduleRoot); err != nil {
			return nil, err
		}
	}
	s := r.Reflect(&TierWall{})
	s.ID = SchemaID
	s.Title = "tierwall configuration (" + APIVersion + " " + Kind + ")"
	if p, ok := s.Properties.Get("apiVersion"); ok {
		p.Enum = []any{APIVersion}
	}
	if p, ok := s.Properties.Get("kind"); ok {
		p.Enum = []any{Kind}
	}
	if p, ok := s.Properties.Get("metadata"); ok {
		p.AdditionalProperties = nil // any metadata
	}
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// addComments reads this package's doc comments from the module's source.
func addComments(r *jsonschema.Reflector, moduleRoot string) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	if err := os.Chdir(moduleRoot); err != nil {
		return err
	}
	defer func() { _ = os.Chdir(wd) }()
	return r.AddGoComments("github.com/tierwall/tierwall", "./pkg/api/v1alpha1")
}
