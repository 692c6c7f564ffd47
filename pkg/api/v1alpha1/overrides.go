package v1alpha1

import (
	"errors"
	"fmt"
	"k8s.io/apimachinery/pkg/util/validation"
	"reflect"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Overrides are settings given on a command line (the Helm post-renderer's
// flags). A set field replaces the configuration's value; list fields add to
// the configuration's lists. The zero value overrides nothing.
type Overrides struct {
	// Namespace replaces spec.namespace when not empty.
	Namespace string
	// Release replaces spec.release when not empty (--release).
	Release string
	// ReleaseFallback names the release when neither Release nor the
	// config does (Argo CD's ARGOCD_APP_NAME); ignored when it is not a
	// valid release name.
	ReleaseFallback string
	// DNSProfile replaces spec.dns.profile when not empty.
	DNSProfile string
	// SkipNamespaces are added to spec.skipNamespaces.
	SkipNamespaces []string
	// DisableMonitoring sets spec.monitoring.enabled to false.
	DisableMonitoring bool
	// DisableTiers sets spec.tiers.enabled to false.
	DisableTiers bool
	// KubeAPICIDRs, when not empty, are added to spec.kubeAPI.cidrs and set
	// spec.kubeAPI.enabled to true.
	KubeAPICIDRs []string
	// Flags explains, for messages, where an overridden field's value came
	// from, by the field's path under spec ("dns.profile": "set by
	// --dns-profile"). It is appended in parentheses to errors on that field.
	Flags map[string]string
}

// IsZero reports whether o overrides nothing.
func (o Overrides) IsZero() bool {
	return o.Namespace == "" && o.Release == "" && o.DNSProfile == "" && len(o.SkipNamespaces) == 0 &&
		!o.DisableMonitoring && !o.DisableTiers && len(o.KubeAPICIDRs) == 0
}

// LoadWithOverrides is Load with o merged into the functionConfig first, so
// that defaults follow the overridden values (a --dns-profile picks that
// profile's DNS namespace and ports) and validation covers them. fc is not
// modified; it may be nil. Errors about an overridden field carry the
// Flags text for that field.
func LoadWithOverrides(fc *yaml.RNode, o Overrides) (*Spec, Source, error) {
	spec, src, err := loadWithOverrides(fc, o)
	if err == nil && spec != nil && spec.Release == "" && o.ReleaseFallback != "" && len(validation.IsDNS1123Label(o.ReleaseFallback)) == 0 {
		spec.Release = o.ReleaseFallback
	}
	return spec, src, err
}

func loadWithOverrides(fc *yaml.RNode, o Overrides) (*Spec, Source, error) {
	if o.IsZero() {
		return Load(fc)
	}
	var merged *yaml.RNode
	if fc == nil || fc.IsNilOrEmpty() {
		merged = yaml.NewRNode(ovMap(
			"apiVersion", ovStr(APIVersion),
			"kind", ovStr(Kind),
			"metadata", ovMap("name", ovStr("command-line")),
		))
	} else {
		merged = fc.Copy()
	}
	root := merged.YNode()
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	var ok bool
	switch {
	case ovString(root, "kind") == "ConfigMap" && ovString(root, "apiVersion") == "v1":
		ok = o.applyConfigMap(root)
	case ovString(root, "kind") == Kind && ovString(root, "apiVersion") == APIVersion:
		ok = o.applyTierWall(root)
	}
	if !ok {
		// Not a shape overrides can go into: Load reports why, or we do.
		_, src, err := Load(fc)
		if err == nil {
			err = fmt.Errorf("applying command-line settings to functionConfig %s: its fields do not have the shape of a %s or a v1/ConfigMap", src, Kind)
		}
		return nil, src, err
	}
	spec, src, err := Load(merged)
	if fc == nil || fc.IsNilOrEmpty() {
		src = Source{}
	}
	var fes Errors
	if err != nil && errors.As(err, &fes) {
		out := make(Errors, len(fes))
		for i, fe := range fes {
			field := strings.TrimPrefix(strings.TrimPrefix(fe.Path, "spec."), "data.")
			if field, _, _ = strings.Cut(field, "["); o.Flags[field] != "" {
				fe.Message += " (" + o.Flags[field] + ")"
			}
			out[i] = fe
		}
		err = out
	}
	return spec, src, err
}

// applyTierWall merges o into a TierWall object's spec. It returns false when
// the object's shape does not allow it (Load then reports the problem).
func (o Overrides) applyTierWall(root *yaml.Node) bool {
	spec := ovChild(root, "spec")
	if spec == nil {
		return false
	}
	set := func(path []string, v *yaml.Node) bool {
		m := spec
		for _, p := range path[:len(path)-1] {
			if m = ovChild(m, p); m == nil {
				return false
			}
		}
		ovSet(m, path[len(path)-1], v)
		return true
	}
	ok := true
	if o.Release != "" {
		ok = ok && set([]string{"release"}, ovStr(o.Release))
	}
	if o.Namespace != "" {
		ok = ok && set([]string{"namespace"}, ovStr(o.Namespace))
	}
	if o.DNSProfile != "" {
		ok = ok && set([]string{"dns", "profile"}, ovStr(o.DNSProfile))
	}
	if len(o.SkipNamespaces) > 0 {
		ok = ok && ovAppend(spec, "skipNamespaces", o.SkipNamespaces)
	}
	if o.DisableMonitoring {
		ok = ok && set([]string{"monitoring", "enabled"}, ovBool(false))
	}
	if o.DisableTiers {
		ok = ok && set([]string{"tiers", "enabled"}, ovBool(false))
	}
	if len(o.KubeAPICIDRs) > 0 {
		ok = ok && set([]string{"kubeAPI", "enabled"}, ovBool(true))
		ok = ok && ovAppend(ovChild(spec, "kubeAPI"), "cidrs", o.KubeAPICIDRs)
	}
	return ok
}

// ovAppend appends the values missing from the sequence at key of m,
// creating it when missing. It returns false when m is not a mapping or key
// holds something else than a list.
func ovAppend(m *yaml.Node, key string, values []string) bool {
	if m == nil {
		return false
	}
	cur := ovLookup(m, key)
	if cur == nil || ovIsNull(cur) {
		cur = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		ovSet(m, key, cur)
	}
	if cur.Kind != yaml.SequenceNode {
		return false
	}
	have := map[string]bool{}
	for _, c := range cur.Content {
		have[c.Value] = true
	}
	for _, v := range values {
		if !have[v] {
			cur.Content = append(cur.Content, ovStr(v))
			have[v] = true
		}
	}
	return true
}

// applyConfigMap merges o into a ConfigMap's data, whose values are strings
// with dotted keys.
func (o Overrides) applyConfigMap(root *yaml.Node) bool {
	data := ovChild(root, "data")
	if data == nil {
		return false
	}
	list := func(key string, values []string) bool {
		var items []string
		if cur := ovLookup(data, key); cur != nil && !ovIsNull(cur) {
			if cur.Kind != yaml.ScalarNode {
				return false
			}
			parsed, err := parseScalar(cur.Value, reflect.TypeOf([]string{}))
			if err != nil {
				return false
			}
			l, _ := parsed.([]any)
			for _, v := range l {
				s, isString := v.(string)
				if !isString {
					return false
				}
				items = append(items, s)
			}
		}
		have := map[string]bool{}
		for _, s := range items {
			have[s] = true
		}
		for _, v := range values {
			if !have[v] {
				items = append(items, v)
				have[v] = true
			}
		}
		ovSet(data, key, ovStr(strings.Join(items, ",")))
		return true
	}
	ok := true
	if o.Namespace != "" {
		ovSet(data, "namespace", ovStr(o.Namespace))
	}
	if o.DNSProfile != "" {
		ovSet(data, "dns.profile", ovStr(o.DNSProfile))
	}
	if len(o.SkipNamespaces) > 0 {
		ok = ok && list("skipNamespaces", o.SkipNamespaces)
	}
	if o.DisableMonitoring {
		ovSet(data, "monitoring.enabled", ovStr("false"))
	}
	if o.DisableTiers {
		ovSet(data, "tiers.enabled", ovStr("false"))
	}
	if len(o.KubeAPICIDRs) > 0 {
		ovSet(data, "kubeAPI.enabled", ovStr("true"))
		ok = ok && list("kubeAPI.cidrs", o.KubeAPICIDRs)
	}
	return ok
}

// ovChild returns the mapping at key of m, creating it when missing or null,
// or nil when the key holds something else.
func ovChild(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	v := ovLookup(m, key)
	if v == nil || ovIsNull(v) {
		v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		ovSet(m, key, v)
	}
	if v.Kind != yaml.MappingNode {
		return nil
	}
	return v
}

func ovLookup(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func ovSet(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, ovStr(key), v)
}

func ovIsNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func ovString(m *yaml.Node, key string) string {
	if m.Kind != yaml.MappingNode {
		return ""
	}
	if v := ovLookup(m, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

func ovStr(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func ovBool(b bool) *yaml.Node {
	v := "false"
	if b {
		v = "true"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: v}
}

func ovMap(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		n.Content = append(n.Content, ovStr(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}
