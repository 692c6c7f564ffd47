package infer

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

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
	// group holds the values that pair (*_HOST with *_PORT): one
	// container's environment, or one mounted file.
	group string
}

// references infers edges from the Service names a workload's pods are
// given in env values, consumed ConfigMaps and Secrets, args and commands.
func (x *inferrer) references(w *workload.Workload) {
	if w.HostNetwork {
		return
	}
	items := x.items(w, x.itemBuf[:0])
	seen := map[string]bool{}
	portItems := map[string]item{}
	for _, it := range items {
		if it.key != "" {
			portItems[it.group+"\x00"+normKey(it.key)] = it
		}
	}
	for _, it := range items {
		// A *_HOST with a *_PORT beside it (DB_HOST=db, DB_PORT=5432, or
		// host and port of one YAML mapping) names that port, not every
		// port of the Service.
		var port item
		var portNum int32
		if prefix, ok := hostPrefix(it.key); ok {
			if p, ok := portItems[it.group+"\x00"+prefix+"PORT"]; ok {
				if n, err := strconv.Atoi(strings.TrimSpace(p.value)); err == nil && n >= 1 && n <= 65535 {
					port, portNum = p, int32(n)
				}
			}
		}
		for _, r := range Parse(it.value, it.key != "" && HostKey(it.key)) {
			ri := it
			if r.Port == 0 && r.Scheme == "" && portNum != 0 {
				r.Port = portNum
				ri.where = fmt.Sprintf("%s with %s", it.where, port.key)
				ri.secret = it.secret || port.secret
			}
			x.resolveRef(w, r, ri, seen)
		}
	}
	x.itemBuf = items[:0] // for the next workload
}

// normKey writes a key in upper case with "_" for "." and "-", so that
// db.host, db-host and DB_HOST compare equal.
func normKey(key string) string {
	return strings.ToUpper(keySeparators.Replace(key))
}

// keySeparators are the separators normKey writes as "_" (a Replacer is
// built once: it is safe for concurrent use).
var keySeparators = strings.NewReplacer(".", "_", "-", "_")

// hostPrefix returns the prefix of a *_HOST key ("DB_" for DB_HOST, "" for
// HOST) in normalized form.
func hostPrefix(key string) (string, bool) {
	k := normKey(key)
	switch {
	case k == "HOST":
		return "", true
	case strings.HasSuffix(k, "_HOST"):
		return strings.TrimSuffix(k, "HOST"), true
	}
	return "", false
}

// serviceFor finds the Service a host names from namespace ns: svc, svc.ns,
// svc.ns.svc[.<cluster domain>], or one pod of a headless Service
// (pod.svc, pod.svc.ns.svc.<cluster domain>), as StatefulSet clients write.
func (x *inferrer) serviceFor(host, ns string) *service.Service {
	domain := x.in.Spec.Inference.ClusterDomain
	if name, sns, ok := ServiceName(host, domain); ok {
		if sns == "" {
			sns = ns
		}
		if s := x.lookupService(sns, name); s != nil {
			return s
		}
	}
	if i := strings.Index(host, "."); i > 0 {
		if name, sns, ok := ServiceName(host[i+1:], domain); ok {
			if sns == "" {
				sns = ns
			}
			if s := x.lookupService(sns, name); s != nil && s.Headless {
				return s
			}
		}
	}
	return nil
}

func (x *inferrer) resolveRef(w *workload.Workload, r Ref, it item, seen map[string]bool) {
	s := x.serviceFor(r.Host, w.Namespace)
	if s == nil {
		x.unresolved(w, r, it, seen, false)
		return
	}
	if s.Type == "ExternalName" {
		// An alias of a host outside the cluster: a need like any URL.
		er := r
		er.Host = strings.ToLower(s.ExternalName)
		if er.Port == 0 && len(s.Ports) == 1 {
			er.Port = s.Ports[0].Port
		}
		it.where = fmt.Sprintf("%s (ExternalName %s)", it.where, s.Ref())
		x.unresolved(w, er, it, seen, true)
		return
	}
	from, ok := x.endpoint(w)
	if !ok {
		return
	}
	port := r.Port
	if port == 0 && r.Scheme != "" {
		port = DefaultPorts[r.Scheme]
	}
	var ports []service.Port
	switch {
	case s.Headless && port != 0:
		// A headless Service's name resolves to the pods' addresses: the
		// port written is the pod's own, never translated by targetPort.
		proto := "TCP"
		if p, ok := servicePort(s, port, ""); ok {
			proto = p.Protocol
		}
		ports = []service.Port{{Port: port, Protocol: proto, TargetPort: strconv.Itoa(int(port))}}
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
	case port != 0:
		if p, ok := servicePort(s, port, ""); ok {
			ports = []service.Port{p}
		}
	}
	if ports == nil && len(s.Ports) == 1 {
		ports = s.Ports
	}
	if ports == nil && len(s.Ports) == 0 {
		msg := fmt.Sprintf("%s of %s %s names %s, which declares no port, without a port: nothing allowed for it", it.where, w.Kind, w.Name, s.Ref())
		if !seen[msg] {
			seen[msg] = true
			x.note(result.Warning, w.Object, it.field, "%s", msg)
		}
		return
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

// items appends every value the workload's pods consume to out.
func (x *inferrer) items(w *workload.Workload, out []item) []item {
	ns := w.Namespace
	for _, c := range w.Containers {
		of := fmt.Sprintf("of container %s", c.Name)
		grp := c.Group + "/" + c.Name
		base := w.TemplateField("spec", fmt.Sprintf("%s[%d]", c.Group, c.Index))
		for ei, e := range c.Env {
			name := e.Name
			field := fmt.Sprintf("%s.env[%d]", base, ei)
			if e.HasValue {
				out = append(out, item{key: name, value: e.Value, where: fmt.Sprintf("env %s %s", name, of), field: field, group: grp})
				continue
			}
			if ref := e.ConfigMapKey; ref != nil {
				if v, ok := x.dataValue("ConfigMap", ns, ref.Name, ref.Key); ok {
					out = append(out, item{key: name, value: v, where: fmt.Sprintf("env %s (ConfigMap %s key %s) %s", name, ref.Name, ref.Key, of), field: field, group: grp})
				}
			}
			if ref := e.SecretKey; ref != nil {
				if v, ok := x.dataValue("Secret", ns, ref.Name, ref.Key); ok {
					out = append(out, item{key: name, value: v, secret: true, where: fmt.Sprintf("env %s (Secret %s key %s) %s", name, ref.Name, ref.Key, of), field: field, group: grp})
				}
			}
		}
		for ei, e := range c.EnvFrom {
			field := fmt.Sprintf("%s.envFrom[%d]", base, ei)
			for _, src := range []struct{ kind, name string }{{"ConfigMap", e.ConfigMap}, {"Secret", e.Secret}} {
				if src.name == "" {
					continue
				}
				for _, kv := range x.dataAll(src.kind, ns, src.name) {
					out = append(out, item{key: e.Prefix + kv[0], value: kv[1], secret: src.kind == "Secret", field: field, group: grp,
						where: fmt.Sprintf("%s %s key %s (envFrom) %s", src.kind, src.name, kv[0], of)})
				}
			}
		}
		for _, part := range []struct {
			name string
			vals []string
		}{{"command", c.Command}, {"args", c.Args}} {
			for ai := 0; ai < len(part.vals); ai++ {
				a := part.vals[ai]
				// Adjacent HOST PORT arguments (--replicaof redis-master 6379)
				// are one reference, to that port only.
				if ai+1 < len(part.vals) && hostRE.MatchString(a) && isPort(part.vals[ai+1]) && x.serviceFor(a, ns) != nil {
					out = append(out, item{value: a + ":" + part.vals[ai+1], where: fmt.Sprintf("%s %s (adjacent host and port)", part.name, of), field: fmt.Sprintf("%s.%s[%d]", base, part.name, ai)})
					ai++
					continue
				}
				out = append(out, item{value: a, where: fmt.Sprintf("%s %s", part.name, of), field: fmt.Sprintf("%s.%s[%d]", base, part.name, ai)})
			}
		}
	}
	for _, v := range w.Volumes {
		field := w.TemplateField("spec", fmt.Sprintf("volumes[%d]", v.Index))
		for _, src := range v.Sources {
			kind, name := src.Kind, src.Name
			for _, kv := range x.dataAll(kind, ns, name) {
				for _, fkv := range fileEntries(kv[0], kv[1]) {
					where := fmt.Sprintf("%s %s file %s key %s (mounted)", kind, name, kv[0], fkv[0])
					if fkv[0] == "" || fkv[0] == kv[0] {
						where = fmt.Sprintf("%s %s file %s (mounted)", kind, name, kv[0])
					}
					key := strings.TrimSpace(strings.TrimPrefix(fkv[0], "export "))
					out = append(out, item{key: key, value: fkv[1], secret: kind == "Secret", field: field, group: kind + "/" + name + "/" + kv[0], where: where})
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
	m := o.Data
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
// to dotted keys) or key=value lines (other lines kept without a key); other
// content gives one entry keyed by the file's name (a file DB_HOST holding
// "db" names a host as the variable would).
func fileEntries(file, content string) [][2]string {
	var out [][2]string
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(content), &node); err == nil && len(node.Content) == 1 && node.Content[0].Kind == yaml.MappingNode {
		flatten("", node.Content[0], &out)
		return out
	}
	kvLines := 0
	for _, l := range strings.Split(content, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		// Only KEY=value: a URL with a query ("postgres://db/x?sslmode=require")
		// is no key=value line.
		if k, v, ok := strings.Cut(l, "="); ok && keyRE.MatchString(strings.TrimSpace(k)) {
			out = append(out, [2]string{strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"'`)})
			kvLines++
			continue
		}
		out = append(out, [2]string{"", l})
	}
	if kvLines > 0 {
		return out
	}
	return [][2]string{{file, content}}
}

// keyRE is a variable or property name (export and spaces trimmed before).
var keyRE = regexp.MustCompile(`^(export\s+)?[A-Za-z_][A-Za-z0-9_.-]*$`)

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

// isPort reports whether s is a port number.
func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n < 65536 && strconv.Itoa(n) == s
}
