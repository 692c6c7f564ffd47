package v1alpha1

import (
	"encoding/json"
	"errors"
	"fmt"
	"k8s.io/apimachinery/pkg/util/validation"
	"sort"
	"strconv"
	"strings"

	sigsyaml "sigs.k8s.io/yaml"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Source says where a configuration came from, for messages and results.
type Source struct {
	APIVersion, Kind, Name, Namespace string
}

// String names the object: "tierwall.io/v1alpha1/TierWall tierwall".
func (s Source) String() string {
	if s.Kind == "" {
		return "defaults (no functionConfig)"
	}
	return fmt.Sprintf("%s/%s %s", s.APIVersion, s.Kind, s.Name)
}

// Load turns a functionConfig into a defaulted, validated Spec. A nil or empty
// node gives all defaults. It accepts a TierWall object or a v1 ConfigMap
// whose data keys are the Spec's fields (dotted for nested ones, such as
// dns.profile). Every problem is reported at once, each with its field path;
// unknown fields are errors.
func Load(fc *yaml.RNode) (*Spec, Source, error) {
	return LoadWithOverrides(fc, Overrides{})
}

// LoadWithOverrides is the one config path: decode the functionConfig, apply
// the command-line overrides to the typed Spec, Default, Validate. The
// overrides come before the defaults, so that defaults follow them (a
// --dns-profile picks that profile's DNS namespace and ports), and before
// validation, so that it covers them; errors on an overridden field carry
// the Flags text for that field. fc is not modified; it may be nil.
func LoadWithOverrides(fc *yaml.RNode, o Overrides) (*Spec, Source, error) {
	spec, src, prefix, errs, err := decode(fc)
	if err != nil {
		return nil, src, err
	}
	o.apply(spec)
	spec.Default()
	var verrs Errors
	if err := spec.Validate(prefix); err != nil && !errors.As(err, &verrs) {
		return nil, src, err
	}
	shape := errs[:len(errs):len(errs)]
	for _, fe := range verrs {
		if !underAny(fe.Path, shape) {
			errs = append(errs, fe)
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Path < errs[j].Path })
		return nil, src, o.explain(errs)
	}
	if spec.Release == "" && o.ReleaseFallback != "" && len(validation.IsDNS1123Label(o.ReleaseFallback)) == 0 {
		spec.Release = o.ReleaseFallback
	}
	return spec, src, nil
}

// decode reads a functionConfig into an undefaulted Spec: a nil or empty
// node is the zero Spec. errs are the problems with fields (every one, each
// with its path, the misfits left out of the Spec); err means the node is
// no config at all. prefix is the path of the settings ("spec." or "data.").
func decode(fc *yaml.RNode) (spec *Spec, src Source, prefix string, errs Errors, err error) {
	spec = &Spec{}
	if fc == nil || fc.IsNilOrEmpty() {
		return spec, Source{}, "spec.", nil, nil
	}
	root := fc.YNode()
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, Source{}, "", nil, fmt.Errorf("reading functionConfig: it holds %s, not an object: tierwall takes a %s/%s or a v1/ConfigMap",
			nodeText(root), APIVersion, Kind)
	}
	meta, err := fc.GetMeta()
	if err != nil {
		return nil, Source{}, "", nil, fmt.Errorf("reading functionConfig: %w", err)
	}
	src = Source{APIVersion: meta.APIVersion, Kind: meta.Kind, Name: meta.Name, Namespace: meta.Namespace}
	if dups := badKeys(root, ""); len(dups) > 0 {
		// Decoding would stop at the first duplicate without its path
		// (readers disagree on which value wins) and drop null keys
		// silently: report them all.
		sort.SliceStable(dups, func(i, j int) bool { return dups[i].Path < dups[j].Path })
		return nil, src, "", nil, dups
	}
	var raw map[string]any
	if err := fc.YNode().Decode(&raw); err != nil {
		return nil, src, "", nil, fmt.Errorf("reading functionConfig %s: %w", src, err)
	}
	// Problems are collected across every stage (top-level fields, shape,
	// values), so one run reports them all: a value that does not fit its
	// field is reported and left out, and the rest is still defaulted and
	// validated.
	var specMap any
	switch {
	case meta.APIVersion == APIVersion && meta.Kind == Kind:
		prefix = "spec."
		for _, k := range sortedKeys(raw) {
			switch k {
			case "apiVersion", "kind", "metadata", "spec":
			default:
				errs = append(errs, FieldError{Path: fieldPath("", k), Message: "unknown field (settings go under spec)"})
			}
		}
		specMap = raw["spec"]
		if specMap == nil {
			specMap = map[string]any{}
		}
	case meta.APIVersion == "v1" && meta.Kind == "ConfigMap":
		prefix = "data."
		data, isMap := raw["data"].(map[string]any)
		if raw["data"] != nil && !isMap {
			errs = append(errs, FieldError{Path: "data", Message: fmt.Sprintf("must be a mapping of settings, got %s", describe(raw["data"]))})
		}
		m, cmErrs := configMapToSpec(data)
		errs = append(errs, cmErrs...)
		specMap = m
	default:
		return nil, src, "", nil, Errors{{Path: "kind", Message: fmt.Sprintf(
			"functionConfig is %s/%s %q: tierwall takes %s/%s or a v1/ConfigMap",
			meta.APIVersion, meta.Kind, meta.Name, APIVersion, Kind)}}
	}
	v := &validator{prefix: prefix}
	if !checkShape(v, "", specMap, specShape()) {
		specMap = map[string]any{}
	}
	errs = append(errs, v.errs...)
	b, err := json.Marshal(specMap)
	if err == nil {
		err = sigsyaml.Unmarshal(b, spec)
	}
	if err != nil {
		return nil, src, "", nil, fmt.Errorf("decoding functionConfig %s: %w", src, err)
	}
	return spec, src, prefix, errs, nil
}

// checkShape walks a decoded YAML value against the Go type it must fit and
// records every unknown field and wrong type, so that one run reports them all.
// It returns false when val does not fit; the caller leaves it out, and
// checkShape itself removes the misfits inside mappings and lists, so what
// remains decodes.
func checkShape(v *validator, path string, val any, t *shape) bool {
	if val == nil {
		return true
	}
	join := fieldPath
	switch t.kind() {
	case "intOrString":
		switch val.(type) {
		case string, int:
			return true
		}
		v.add(path, "must be a port number or name, got %s", describe(val))
		return false
	case "struct":
		m, ok := val.(map[string]any)
		if !ok {
			if path == "" {
				// The whole spec: its path is the prefix itself ("spec").
				v.errs = append(v.errs, FieldError{Path: strings.TrimSuffix(v.prefix, "."),
					Message: fmt.Sprintf("must be a mapping, got %s", describe(val))})
			} else {
				v.add(path, "must be a mapping, got %s", describe(val))
			}
			return false
		}
		for _, k := range sortedKeys(m) {
			ft, ok := t.Properties[k]
			if !ok {
				v.add(join(path, k), "unknown field%s", didYouMean(k, t.Properties))
				delete(m, k)
				continue
			}
			if !checkShape(v, join(path, k), m[k], ft) {
				delete(m, k)
			}
		}
	case "map":
		m, ok := val.(map[string]any)
		if !ok {
			v.add(path, "must be a mapping, got %s", describe(val))
			return false
		}
		elem := t.AdditionalProperties
		for _, k := range sortedKeys(m) {
			if m[k] == nil {
				// A null would silently become "" (a label value that
				// selects nothing the user meant).
				v.add(join(path, k), "must not be null")
				delete(m, k)
			} else if elem != nil && !checkShape(v, join(path, k), m[k], elem) {
				delete(m, k)
			}
		}
	case "list":
		l, ok := val.([]any)
		if !ok {
			v.add(path, "must be a list, got %s", describe(val))
			return false
		}
		for i, e := range l {
			p := fmt.Sprintf("%s[%d]", path, i)
			if e == nil {
				v.add(p, "must not be null")
			} else if t.Items != nil && !checkShape(v, p, e, t.Items) {
				// Decoded as the zero value, so that the other elements
				// keep their indexes and are still validated; Load drops
				// the validation errors at this path.
				l[i] = nil
			}
		}
	case "string":
		if _, ok := val.(string); !ok {
			v.add(path, "must be a string, got %s (quote it)", describe(val))
			return false
		}
	case "bool":
		if _, ok := val.(bool); !ok {
			v.add(path, "must be true or false, got %s", describe(val))
			return false
		}
	case "int":
		n, ok := val.(int)
		if !ok {
			v.add(path, "must be an integer, got %s", describe(val))
			return false
		} else if n < 0 || n > 1<<31-1 {
			v.add(path, "%d is out of range", n)
			return false
		}
	}
	return true
}

// underAny reports whether path is, or lies under, the path of one of errs:
// a value already reported as misshapen is not reported again.
func underAny(path string, errs Errors) bool {
	for _, fe := range errs {
		if path == fe.Path || strings.HasPrefix(path, fe.Path+".") || strings.HasPrefix(path, fe.Path+"[") {
			return true
		}
	}
	return false
}

func describe(val any) string {
	switch x := val.(type) {
	case string:
		return strconv.Quote(x)
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	default:
		return fmt.Sprintf("%v", x)
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// configMapToSpec turns ConfigMap data (string values, dotted keys) into the
// nested form of a Spec, leaving out (and reporting) the keys it cannot read.
// Lists are written "a,b" or as a YAML flow list, mappings as "k=v,k2=v2" or
// YAML, booleans and numbers as usual.
func configMapToSpec(data map[string]any) (map[string]any, Errors) {
	v := &validator{prefix: "data."}
	out := map[string]any{}
	for _, key := range sortedKeys(data) {
		s, ok := data[key].(string)
		if !ok {
			v.add(fieldPath("", key), "ConfigMap data values must be strings, got %s", describe(data[key]))
			continue
		}
		parts := strings.Split(key, ".")
		t, ok := specShape().field(parts)
		if !ok {
			v.add(fieldPath("", key), "unknown field")
			continue
		}
		val, err := parseScalar(s, t)
		if err != nil {
			v.add(fieldPath("", key), "%v", err)
			continue
		}
		m := out
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = val
	}
	return out, v.errs
}

func parseScalar(s string, t *shape) (any, error) {
	trimmed := strings.TrimSpace(s)
	switch t.kind() {
	case "string":
		return s, nil
	case "bool":
		b, err := strconv.ParseBool(trimmed)
		if err != nil {
			return nil, fmt.Errorf("must be true or false, got %q", s)
		}
		return b, nil
	case "int":
		n, err := strconv.Atoi(trimmed)
		if err != nil {
			return nil, fmt.Errorf("must be an integer, got %q", s)
		}
		return n, nil
	case "list":
		if strings.HasPrefix(trimmed, "[") || strings.Contains(trimmed, "\n") {
			return parseYAML(s)
		}
		var l []any
		for _, item := range strings.Split(trimmed, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			if t.Items != nil && t.Items.kind() == "int" {
				n, err := strconv.Atoi(item)
				if err != nil {
					return nil, fmt.Errorf("must be a list of integers, got %q", s)
				}
				l = append(l, n)
			} else {
				l = append(l, item)
			}
		}
		return l, nil
	case "map":
		if strings.Contains(trimmed, ":") {
			return parseYAML(s)
		}
		m := map[string]any{}
		for _, kv := range strings.Split(trimmed, ",") {
			if strings.TrimSpace(kv) == "" {
				continue
			}
			k, val, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("must be key=value pairs separated by commas, got %q", s)
			}
			m[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
		return m, nil
	default:
		return parseYAML(s)
	}
}

func parseYAML(s string) (any, error) {
	var out any
	if err := yaml.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	return out, nil
}

// nodeText says what a node holds, for messages.
func nodeText(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		if len(n.Value) > 40 {
			return fmt.Sprintf("the scalar %q...", n.Value[:40])
		}
		return fmt.Sprintf("the scalar %q", n.Value)
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

// badKeys reports every mapping key under n that appears twice, and every
// key that is no string (a null key, which decoding drops without a word,
// or an alias), at its field path.
func badKeys(n *yaml.Node, path string) Errors {
	var errs Errors
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := fieldPath(path, k.Value)
			switch {
			case k.Kind == yaml.AliasNode:
				p = fieldPath(path, "*"+k.Value)
				errs = append(errs, FieldError{Path: p, Message: "a key must be a string, not an alias"})
			case k.Kind == yaml.ScalarNode && k.Tag == "!!null":
				p = fieldPath(path, "~")
				errs = append(errs, FieldError{Path: p, Message: fmt.Sprintf(
					"a key must be a string, got null (line %d): quote it, or remove it", k.Line)})
			case k.Kind == yaml.ScalarNode && k.Tag != "!!merge":
				if line, ok := seen[k.Value]; ok {
					errs = append(errs, FieldError{Path: p, Message: fmt.Sprintf(
						"duplicate key (lines %d and %d): readers disagree on which value wins", line, k.Line)})
				} else {
					seen[k.Value] = k.Line
				}
			}
			errs = append(errs, badKeys(n.Content[i+1], p)...)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			errs = append(errs, badKeys(c, fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return errs
}

// fieldPath joins a field path and a mapping key: "spec.dns" and "profile"
// give "spec.dns.profile". An empty key is written [""], so that every
// field error points somewhere.
func fieldPath(parent, key string) string {
	switch {
	case key == "":
		return parent + `[""]`
	case parent == "":
		return key
	}
	return parent + "." + key
}

// didYouMean names the known field closest to a misspelt one (at most two
// edits away, or the same but for case), as ", did you mean \"x\"?".
func didYouMean(k string, fields map[string]*shape) string {
	best, bestD := "", 3
	for f := range fields {
		d := editDistance(strings.ToLower(k), strings.ToLower(f))
		if d < bestD || (d == bestD && f < best) {
			best, bestD = f, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(", did you mean %q?", best)
}

// editDistance is the Levenshtein distance of two strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
