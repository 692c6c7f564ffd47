// Package result builds tierwall's findings as KRM function results (kyaml
// framework.Result): a severity, a message, the resource and field concerned.
// It sorts them, prints them for people and computes the exit code.
package result

import (
	"fmt"
	"io"
	"sort"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
)

// Severities.
const (
	Error   = framework.Error
	Warning = framework.Warning
	Info    = framework.Info
)

// Ref is the resource a finding is about.
type Ref struct {
	APIVersion, Kind, Namespace, Name string
}

// RefOf returns the reference of an input object.
func RefOf(o manifest.Object) *Ref {
	return &Ref{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
}

// New builds a result. ref and field may be empty.
func New(sev framework.Severity, ref *Ref, field, format string, args ...any) *framework.Result {
	r := &framework.Result{Severity: sev, Message: fmt.Sprintf(format, args...)}
	if ref != nil {
		r.ResourceRef = &yaml.ResourceIdentifier{
			TypeMeta: yaml.TypeMeta{APIVersion: ref.APIVersion, Kind: ref.Kind},
			NameMeta: yaml.NameMeta{Name: ref.Name, Namespace: ref.Namespace},
		}
	}
	if field != "" {
		r.Field = &framework.Field{Path: field}
	}
	return r
}

// Sort orders results by severity (errors first), then resource, then message,
// so that the same input always gives the same results.
func Sort(rs framework.Results) {
	rank := map[framework.Severity]int{Error: 0, Warning: 1, Info: 2, "": 2}
	key := func(r *framework.Result) string {
		if r.ResourceRef == nil {
			return ""
		}
		return r.ResourceRef.Namespace + "/" + r.ResourceRef.Kind + "/" + r.ResourceRef.Name
	}
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if rank[a.Severity] != rank[b.Severity] {
			return rank[a.Severity] < rank[b.Severity]
		}
		if key(a) != key(b) {
			return key(a) < key(b)
		}
		return a.Message < b.Message
	})
}

// HasErrors reports whether any result is an error.
func HasErrors(rs framework.Results) bool {
	for _, r := range rs {
		if r.Severity == Error {
			return true
		}
	}
	return false
}

// Print writes one line per result at or above min severity ("error",
// "warning" or "info") to w, prefixed with "tierwall: ".
func Print(w io.Writer, rs framework.Results, min framework.Severity) {
	rank := map[framework.Severity]int{Error: 0, Warning: 1, Info: 2, "": 2}
	for _, r := range rs {
		if rank[r.Severity] <= rank[min] {
			fmt.Fprintf(w, "tierwall: %s\n", r.String())
		}
	}
}
