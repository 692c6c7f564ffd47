package workload

import (
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/manifest"
)

// Container is what tierwall reads of one container: where its values come
// from, for inference. Init containers come first, as in the pod spec.
type Container struct {
	Name  string
	Image string
	// Group is "initContainers" or "containers"; Index the position in it.
	Group   string
	Index   int
	Env     []EnvVar
	EnvFrom []EnvFrom
	Command []string
	Args    []string
	// HostIPEnv are the env names set from fieldRef status.hostIP (the
	// node's address, where node-local agents listen).
	HostIPEnv []string
}

// EnvVar is one env entry: a literal value or a key of a ConfigMap or Secret.
type EnvVar struct {
	Name string
	// Value is set when HasValue (a literal value, maybe empty).
	Value    string
	HasValue bool
	// ConfigMapKey and SecretKey are valueFrom references.
	ConfigMapKey, SecretKey *KeyRef
}

// KeyRef names a key of a ConfigMap or Secret.
type KeyRef struct{ Name, Key string }

// EnvFrom imports every key of a ConfigMap or a Secret, with a prefix.
type EnvFrom struct{ Prefix, ConfigMap, Secret string }

// Volume is a pod volume backed by ConfigMaps or Secrets (directly or
// projected).
type Volume struct {
	Index   int
	Sources []VolumeSource
}

// VolumeSource is one ConfigMap or Secret a volume mounts.
type VolumeSource struct{ Kind, Name string }

func readPodSpec(w *Workload, spec *yaml.Node) {
	for _, group := range []string{"initContainers", "containers"} {
		for ci, c := range manifest.Items(spec, group) {
			ct := Container{Name: manifest.String(c, "name"), Image: manifest.String(c, "image"), Group: group, Index: ci}
			for _, e := range manifest.Items(c, "env") {
				ev := EnvVar{Name: manifest.String(e, "name")}
				if v := manifest.Lookup(e, "value"); v != nil {
					ev.Value, ev.HasValue = v.Value, true
				}
				if ref := manifest.Lookup(e, "valueFrom", "configMapKeyRef"); ref != nil {
					ev.ConfigMapKey = &KeyRef{Name: manifest.String(ref, "name"), Key: manifest.String(ref, "key")}
				}
				if ref := manifest.Lookup(e, "valueFrom", "secretKeyRef"); ref != nil {
					ev.SecretKey = &KeyRef{Name: manifest.String(ref, "name"), Key: manifest.String(ref, "key")}
				}
				if fp := manifest.String(e, "valueFrom", "fieldRef", "fieldPath"); fp == "status.hostIP" || fp == "status.hostIPs" {
					ct.HostIPEnv = append(ct.HostIPEnv, ev.Name)
				}
				ct.Env = append(ct.Env, ev)
			}
			for _, e := range manifest.Items(c, "envFrom") {
				ct.EnvFrom = append(ct.EnvFrom, EnvFrom{
					Prefix:    manifest.String(e, "prefix"),
					ConfigMap: manifest.String(e, "configMapRef", "name"),
					Secret:    manifest.String(e, "secretRef", "name"),
				})
			}
			for _, a := range manifest.Items(c, "command") {
				ct.Command = append(ct.Command, a.Value)
			}
			for _, a := range manifest.Items(c, "args") {
				ct.Args = append(ct.Args, a.Value)
			}
			w.Containers = append(w.Containers, ct)
		}
	}
	w.ServiceAccount = manifest.String(spec, "serviceAccountName")
	if w.ServiceAccount == "" {
		w.ServiceAccount = manifest.String(spec, "serviceAccount") // the deprecated alias
	}
	if w.ServiceAccount == "" {
		w.ServiceAccount = "default"
	}
	switch manifest.String(spec, "automountServiceAccountToken") {
	case "true":
		w.AutomountToken = Yes
	case "false":
		w.AutomountToken = No
	}
	for vi, v := range manifest.Items(spec, "volumes") {
		for _, p := range manifest.Items(v, "projected", "sources") {
			if manifest.Lookup(p, "serviceAccountToken") != nil {
				w.ProjectedToken = true
			}
		}
		vol := Volume{Index: vi}
		if name := manifest.String(v, "configMap", "name"); name != "" {
			vol.Sources = append(vol.Sources, VolumeSource{"ConfigMap", name})
		}
		if name := manifest.String(v, "secret", "secretName"); name != "" {
			vol.Sources = append(vol.Sources, VolumeSource{"Secret", name})
		}
		for _, p := range manifest.Items(v, "projected", "sources") {
			if name := manifest.String(p, "configMap", "name"); name != "" {
				vol.Sources = append(vol.Sources, VolumeSource{"ConfigMap", name})
			}
			if name := manifest.String(p, "secret", "name"); name != "" {
				vol.Sources = append(vol.Sources, VolumeSource{"Secret", name})
			}
		}
		if len(vol.Sources) > 0 {
			w.Volumes = append(w.Volumes, vol)
		}
	}
}
