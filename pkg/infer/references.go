package infer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/tierwall/tierwall/pkg/graph"
	"github.com/tierwall/tierwall/pkg/manifest"
	"github.com/tierwall/tierwall/pkg/result"
	"github.com/tierwall/tierwall/pkg/service"
	"github.com/tierwall/tierwall/pkg/workload"
)

// item is one value a workload's pods consume, with where it came from.
type item struct {
	key    string // variable or key name, "" for args and commands
	value  string
	where  string // "env DB_URL of container api", never the value
	secret bool   // the value comes from a Secret: never print it
	field  string
}

// references infers edges from the Service names a workload's pods are
// given in env values, consumed ConfigMaps and Secrets, args and commands.
func (x *inferrer) references(w *workload.Workload) {
	if w.HostNetwork {
		return
	}
	items := x.items(w)
	from := graph.FromWorkload(w, x.zoneKey)
	seen := map[string]bool{}
	for _, it := range items {
		refs := Parse(it.value, it.key != "" && HostKey(it.key))
		for _, r := range refs {
			x.resolveRef(w, from, r, it, seen)
		}
	}
	// *_HOST / *_PORT pairs of one container.
	byKey := map[string]item{}
	for _, it := range items {
		if it.key != "" {
			byKey[it.where[strings.LastIndex(it.where, " of ")+1:]+"\x00"+it.key] = it
		}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		it := byKey[k]
		if !strings.HasSuffix(strings.ToUpper(it.key), "_HOST") {
			continue
		}
		prefix := k[:len(k)-len("_HOST")]
		pit, ok := byKey[prefix+"_PORT"]
		if !ok {
			pit, ok = byKey[prefix+"_port"]
		}
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(pit.value))
		if err != nil || n < 1 || n > 65535 {
			continue
		}
		for _, r := range Parse(it.value, true) {
			if r.Port == 0 {
				r.Port = int32(n)
				pair := it
				pair.where = fmt.Sprintf("%s with %s", it.where, pit.key)
				pair.secret = it.secret || pit.secret
				x.resolveRef(w, from, r, pair, seen)
			}
		}
	}
}

func (x *inferrer) resolveRef(w *workload.Workload, from graph.Endpoint, r Ref, it item, seen map[string]bool) {
	host := r.Host
	if it.secret {
		host = "a host"
	}
	svcName, ns, ok := ServiceName(r.Host, x.in.Spec.Inference.ClusterDomain)
	var s *service.Service
	if ok {
		if ns == "" {
			ns = w.Namespace
		}
		s = x.lookupService(ns, svcName)
	}
	if s == nil {
		msg := fmt.Sprintf("%s of %s %s names %s, which is no Service of the input (outside the cluster, or not rendered here): nothing allowed for it (use spec.externalEgress for external hosts)",
			it.where, w.Kind, w.Name, host)
		if !seen[msg] {
			seen[msg] = true
			x.note(result.Info, w.Object, it.field, "%s", msg)
		}
		return
	}
	var ports []service.Port
	switch {
	case r.Port != 0:
		p, ok := servicePort(s, r.Port, "")
		if !ok {
			msg := fmt.Sprintf("%s of %s %s names %s on a port that is not one of its ports: nothing allowed for it", it.where, w.Kind, w.Name, s.Ref())
			if !seen[msg] {
				seen[msg] = true
				x.note(result.Warning, w.Object, it.field, "%s", msg)
			}
			return
		}
		ports = []service.Port{p}
	case r.Scheme != "":
		if def, ok := DefaultPorts[r.Scheme]; ok {
			if p, ok := servicePort(s, def, ""); ok {
				ports = []service.Port{p}
			}
		}
	}
	if ports == nil && len(s.Ports) == 1 {
		ports = s.Ports
	}
	if ports == nil {
		msg := fmt.Sprintf("%s of %s %s names %s without a port it can pick: every port of the Service is allowed", it.where, w.Kind, w.Name, s.Ref())
		if !seen[msg] {
			seen[msg] = true
			x.note(result.Info, w.Object, it.field, "%s", msg)
		}
	}
	x.toService(from, s, ports, fmt.Sprintf("%s of %s %s", it.where, w.Kind, w.Name), w.Object, it.field)
}

// items lists every value the workload's pods consume.
func (x *inferrer) items(w *workload.Workload) []item {
	var out []item
	ns := w.Namespace
	spec := w.PodSpec
	for _, group := range []string{"initContainers", "containers"} {
		for ci, c := range manifest.Items(spec, group) {
			cname := manifest.String(c, "name")
			of := fmt.Sprintf("of container %s", cname)
			base := w.TemplateField("spec", fmt.Sprintf("%s[%d]", group, ci))
			for ei, e := range manifest.Items(c, "env") {
				name := manifest.String(e, "name")
				field := fmt.Sprintf("%s.env[%d]", base, ei)
				if v := manifest.Lookup(e, "value"); v != nil {
					out = append(out, item{key: name, value: v.Value, where: fmt.Sprintf("env %s %s", name, of), field: field})
					continue
				}
				if ref := manifest.Lookup(e, "valueFrom", "configMapKeyRef"); ref != nil {
					cm, key := manifest.String(ref, "name"), manifest.String(ref, "key")
					if v, ok := x.dataValue("ConfigMap", ns, cm, key); ok {
						out = append(out, item{key: name, value: v, where: fmt.Sprintf("env %s (ConfigMap %s key %s) %s", name, cm, key, of), field: field})
					}
				}
				if ref := manifest.Lookup(e, "valueFrom", "secretKeyRef"); ref != nil {
					sec, key := manifest.String(ref, "name"), manifest.String(ref, "key")
					if v, ok := x.dataValue("Secret", ns, sec, key); ok {
						out = append(out, item{key: name, value: v, secret: true, where: fmt.Sprintf("env %s (Secret %s key %s) %s", name, sec, key, of), field: field})
					}
				}
			}
			for ei, e := range manifest.Items(c, "envFrom") {
				prefix := manifest.String(e, "prefix")
				field := fmt.Sprintf("%s.envFrom[%d]", base, ei)
				for _, kind := range []string{"ConfigMap", "Secret"} {
					refKey := "configMapRef"
					if kind == "Secret" {
						refKey = "secretRef"
					}
					name := manifest.String(e, refKey, "name")
					if name == "" {
						continue
					}
					for _, kv := range x.dataAll(kind, ns, name) {
						out = append(out, item{key: prefix + kv[0], value: kv[1], secret: kind == "Secret", field: field,
							where: fmt.Sprintf("%s %s key %s (envFrom) %s", kind, name, kv[0], of)})
					}
				}
			}
			for _, part := range []string{"command", "args"} {
				for ai, a := range manifest.Items(c, part) {
					out = append(out, item{value: a.Value, where: fmt.Sprintf("%s %s", part, of), field: fmt.Sprintf("%s.%s[%d]", base, part, ai)})
				}
			}
		}
	}
	for vi, v := range manifest.Items(spec, "volumes") {
		field := w.TemplateField("spec", fmt.Sprintf("volumes[%d]", vi))
		for _, src := range []struct{ kind, key, nameKey string }{
			{"ConfigMap", "configMap", "name"}, {"Secret", "secret", "secretName"},
		} {
			name := manifest.String(v, src.key, src.nameKey)
			if name == "" {
				continue
			}
			for _, kv := range x.dataAll(src.kind, ns, name) {
				for _, fkv := range fileEntries(kv[1]) {
					out = append(out, item{key: fkv[0], value: fkv[1], secret: src.kind == "Secret", field: field,
						where: fmt.Sprintf("%s %s file %s key %s (mounted)", src.kind, name, kv[0], fkv[0])})
				}
			}
		}
	}
	return out
}

// dataValue returns one key of a ConfigMap or Secret of the input.
func (x *inferrer) dataValue(kind, ns, name, key string) (string, bool) {
	for _, kv := range x.dataAll(kind, ns, name) {
		if kv[0] == key {
			return kv[1], true
		}
	}
	return "", false
}

// dataAll returns the key/value pairs of a ConfigMap (data) or Secret
// (stringData, and data decoded), sorted by key.
func (x *inferrer) dataAll(kind, ns, name string) [][2]string {
	o, ok := x.objects[kind+"/"+ns+"/"+name]
	if !ok {
		return nil
	}
	m := map[string]string{}
	for k, v := range manifest.StringMap(o.Node, "data") {
		if kind == "Secret" {
			if d, ok := decodeSecret(v); ok {
				m[k] = d
			}
			continue
		}
		m[k] = v
	}
	if kind == "Secret" {
		for k, v := range manifest.StringMap(o.Node, "stringData") {
			m[k] = v
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][2]string, len(keys))
	for i, k := range keys {
		out[i] = [2]string{k, m[k]}
	}
	return out
}

// fileEntries reads a mounted file that is plainly YAML (a mapping, flattened
// to dotted keys) or key=value lines; other content gives one entry with no
// key.
func fileEntries(content string) [][2]string {
	var out [][2]string
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(content), &node); err == nil && len(node.Content) == 1 && node.Content[0].Kind == yaml.MappingNode {
		flatten("", node.Content[0], &out)
		return out
	}
	lines := strings.Split(content, "\n")
	kvLines := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if k, v, ok := strings.Cut(l, "="); ok {
			out = append(out, [2]string{strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"'`)})
			kvLines++
		}
	}
	if kvLines > 0 {
		return out
	}
	return [][2]string{{"", content}}
}

func flatten(prefix string, n *yaml.Node, out *[][2]string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if prefix != "" {
				k = prefix + "." + k
			}
			flatten(k, n.Content[i+1], out)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			flatten(prefix, c, out)
		}
	case yaml.ScalarNode:
		*out = append(*out, [2]string{prefix, n.Value})
	}
}
