// Package v1alpha1 holds tierwall's configuration kind, TierWall in the API
// group tierwall.io/v1alpha1: its types, their defaults and their validation,
// and the one loader that turns a functionConfig (a TierWall object or a
// ConfigMap's data) into a checked Spec.
package v1alpha1
