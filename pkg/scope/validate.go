package scope

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/tierwall/tierwall/pkg/api/v1alpha1"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/workload"
)

// validate reports, as errors, the input objects whose identity tierwall
// would copy into its policies but the API server refuses: tierwall would
// otherwise write policies that fail to apply (a namespace "Shop_Prod", a
// policy named "-ingress", a selector with a 64-character label value), or
// miss what it cannot see (the items of a List). Each error names the
// document, the object and the field.
func validate(spec *v1alpha1.Spec, objs []manifest.Object) framework.Results {
	var rs framework.Results
	bad := func(o manifest.Object, field, format string, args ...any) {
		rs = append(rs, result.New(result.Error, result.RefOf(o), field, "document %d (%s): %s",
			o.Index, describe(o), fmt.Sprintf(format, args...)))
	}
	extra := workload.ConfigKinds(spec.WorkloadKinds)
	memo := labelMemo{keys: map[string][]string{}, values: map[string][]string{}}
	for _, o := range objs {
		if o.LocalConfig() || o.Kind == "" || o.APIVersion == "" {
			continue // the engine reports objects without apiVersion or kind
		}
		if isList(o) {
			bad(o, "items", "a %s/%s wraps objects that tierwall does not read: policies would miss its workloads; list them as documents of their own", o.APIVersion, o.Kind)
			continue
		}
		if o.Name == "" && o.GenerateName == "" {
			bad(o, "metadata.name", "no metadata.name: the API server refuses it, and tierwall names and selects objects by name")
			continue
		}
		if o.Namespace != "" {
			for _, msg := range validation.IsDNS1123Label(o.Namespace) {
				bad(o, "metadata.namespace", "metadata.namespace %q is not a valid namespace name: %s", o.Namespace, msg)
			}
		}
		if o.Kind == "Namespace" && o.APIVersion == "v1" {
			for _, msg := range validation.IsDNS1123Label(o.Name) {
				bad(o, "metadata.name", "%q is not a valid namespace name: %s", o.Name, msg)
			}
			continue
		}
		if o.ManagedByTierwall() {
			continue
		}
		w, ok := workload.Extract(o, o.Namespace, extra)
		if !ok {
			continue
		}
		for _, msg := range validation.IsDNS1123Subdomain(o.StableName()) {
			bad(o, "metadata.name", "%q is not a valid name (tierwall names its policies after it): %s", o.StableName(), msg)
		}
		memo.labels(bad, o, w.TemplateField("metadata", "labels"), w.PodLabels)
		if sel := selectorField(o, extra); sel != "" {
			memo.labels(bad, o, sel, w.Selector)
		}
	}
	return rs
}

// labelMemo remembers the verdicts on label keys and values: inputs repeat
// the same few thousand, and each check runs regular expressions.
type labelMemo struct {
	keys, values map[string][]string
}

func (c labelMemo) key(k string) []string {
	msgs, ok := c.keys[k]
	if !ok {
		msgs = validation.IsQualifiedName(k)
		c.keys[k] = msgs
	}
	return msgs
}

func (c labelMemo) value(v string) []string {
	msgs, ok := c.values[v]
	if !ok {
		msgs = validation.IsValidLabelValue(v)
		c.values[v] = msgs
	}
	return msgs
}

// labels reports the invalid keys and values of a label map at field.
func (c labelMemo) labels(bad func(manifest.Object, string, string, ...any), o manifest.Object, field string, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, msg := range c.key(k) {
			bad(o, field, "label key %q is invalid: %s", k, msg)
		}
		for _, msg := range c.value(m[k]) {
			bad(o, field+"."+k, "label value %q is invalid: %s", m[k], msg)
		}
	}
}

// selectorField is the path of a workload's own selector, or "" when its
// selector is its pod labels (Pod, Job, CronJob), already checked.
func selectorField(o manifest.Object, extra []workload.Kind) string {
	for _, k := range append(append([]workload.Kind{}, workload.Kinds...), extra...) {
		if k.Kind == o.Kind && k.Group == o.Group() {
			if len(k.Selector) == 0 {
				return ""
			}
			if k.PlainSelector {
				return strings.Join(k.Selector, ".")
			}
			return strings.Join(k.Selector, ".") + ".matchLabels"
		}
	}
	return ""
}

// isList reports whether o wraps other objects: a List, a ResourceList, or
// a typed list (DeploymentList) with items.
func isList(o manifest.Object) bool {
	if o.Kind == "List" || o.Kind == "ResourceList" {
		return true
	}
	return o.ListItems
}

func describe(o manifest.Object) string {
	if o.Name == "" {
		if o.Namespace == "" {
			return o.Kind
		}
		return o.Kind + " in namespace " + o.Namespace
	}
	return o.Ref()
}
