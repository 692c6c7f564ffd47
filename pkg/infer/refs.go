package infer

import (
	"bytes"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// Ref is a reference to a host, maybe with a port, found in a value.
type Ref struct {
	// Scheme of a URL ("postgres"), "" for host:port or bare host forms.
	Scheme string
	// Host as written, lowercased, without credentials.
	Host string
	// Port, 0 when none was written.
	Port int32
}

var (
	urlRE   = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*)://([^/?#\s"'<>;]*)`)
	tokenRE = regexp.MustCompile(`[^\s,;"'()\[\]{}<>=]+`)
	hostRE  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	// listedURLRE is the start of a next URL at the end of an authority.
	listedURLRE = regexp.MustCompile(`,([a-zA-Z][a-zA-Z0-9+.-]*):$`)
)

// DefaultPorts are the ports URL schemes imply when none is written.
var DefaultPorts = map[string]int32{
	"http": 80, "https": 443, "ws": 80, "wss": 443,
	"postgres": 5432, "postgresql": 5432, "mysql": 3306, "mariadb": 3306,
	"redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671,
	"mongodb": 27017, "nats": 4222, "kafka": 9092, "memcached": 11211,
	"sqlserver": 1433, "clickhouse": 9000, "cassandra": 9042,
}

// hostKeySuffixes are the variable and key names whose values may be a bare
// host name (no scheme, no port).
var hostKeySuffixes = []string{
	"_HOST", "_HOSTNAME", "_ADDR", "_ADDRESS", "_SERVER", "_SERVERS", "_SERVICE",
	"_URL", "_URI", "_ENDPOINT", "_ENDPOINTS", "_BROKERS", "_BOOTSTRAP_SERVERS", "_DSN",
}

// notHostKeySuffixes end keys that end like host keys but hold no host: a
// RabbitMQ virtual host ("spring.rabbitmq.virtual-host=shop") is a name
// inside the broker, and often the name of the application's own Service.
var notHostKeySuffixes = []string{"VIRTUAL_HOST"}

// HostKey reports whether a key names a host (DB_HOST, upstream_url, ...).
func HostKey(key string) bool {
	k := strings.ToUpper(strings.ReplaceAll(strings.ReplaceAll(key, ".", "_"), "-", "_"))
	for _, s := range notHostKeySuffixes {
		if strings.HasSuffix(k, s) {
			return false
		}
	}
	for _, s := range hostKeySuffixes {
		if strings.HasSuffix(k, s) || k == strings.TrimPrefix(s, "_") {
			return true
		}
	}
	return false
}

// Parse finds the references in a value: URLs with any scheme (credentials,
// host lists such as mongodb://a:1,b:2, lists of URLs and jdbc:postgresql://
// included), host:port tokens and comma-separated lists of them (kafka
// bootstrap servers), and, when bareHosts is set and the whole value is a
// host name or a comma-separated list of them, bare host names. The path,
// query and parameters of a URL are never read as hosts (a database named
// like a Service in "jdbc:sqlserver://db:1433;databaseName=orders" is no
// reference to it).
func Parse(value string, bareHosts bool) []Ref {
	if !bareHosts && !strings.Contains(value, ":") {
		return nil // neither a URL nor host:port: nothing to find
	}
	var out []Ref
	rest := []byte(value)
	for pos := 0; pos < len(value); {
		if !strings.Contains(value[pos:], "://") {
			break // no URL further on (the expression is the costly test)
		}
		m := urlRE.FindStringSubmatchIndex(value[pos:])
		if m == nil {
			break
		}
		for i := range m {
			m[i] += pos
		}
		scheme := strings.ToLower(value[m[2]:m[3]])
		authority, authEnd, next := value[m[4]:m[5]], m[5], m[5]
		// A list of URLs ("http://a:1,http://b:2"): the authority stops at
		// the next URL's "//", leaving ",http:" at its end.
		if lm := listedURLRE.FindStringSubmatchIndex(authority); lm != nil && strings.HasPrefix(value[authEnd:], "//") {
			next = m[4] + lm[2]
			authEnd = m[4] + lm[0]
			authority = authority[:lm[0]]
		}
		if i := strings.LastIndex(authority, "@"); i >= 0 {
			authority = authority[i+1:]
		}
		for _, hp := range strings.Split(authority, ",") {
			if r, ok := hostPort(hp, true); ok {
				r.Scheme = scheme
				out = append(out, r)
			}
		}
		// Blank the URL with its path, query and parameters, so that none of
		// them is read as a host:port token below.
		end := authEnd
		if next == authEnd {
			for end < len(value) && !strings.ContainsRune(urlEnd, rune(value[end])) {
				end++
			}
		}
		for i := m[0]; i < end; i++ {
			rest[i] = ' '
		}
		pos = next
	}
	if bareHosts {
		if hosts, ok := hostList(string(rest)); ok {
			return append(out, hosts...)
		}
	}
	if !bytes.Contains(rest, []byte(":")) {
		return out // only host:port tokens are read below
	}
	for _, tok := range tokenRE.FindAllString(string(rest), -1) {
		if strings.Contains(tok, "/") {
			continue // a path, not a host
		}
		if i := strings.LastIndex(tok, "@"); i >= 0 {
			tok = tok[i+1:]
		}
		if strings.Contains(tok, ":") {
			if r, ok := hostPort(tok, false); ok {
				out = append(out, r)
			}
		}
	}
	return out
}

// urlEnd are the characters that end a URL's path and query.
const urlEnd = " \t\r\n\"'<>,"

// hostList reads a value that is only a host[:port] or a comma-separated
// list of them; ok is false for any other value (text, options, DSNs in
// key=value form), whose words are not host names.
func hostList(value string) ([]Ref, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, false
	}
	var out []Ref
	for _, hp := range strings.Split(value, ",") {
		r, ok := hostPort(hp, true)
		if !ok {
			return nil, false
		}
		out = append(out, r)
	}
	return out, true
}

// hostPort reads host[:port]. Without allowBare a port is required.
func hostPort(s string, allowBare bool) (Ref, bool) {
	s = strings.TrimSpace(s)
	host, portStr := s, ""
	if i := strings.LastIndex(s, ":"); i >= 0 {
		host, portStr = s[:i], s[i+1:]
		if portStr == "" {
			return Ref{}, false // "jdbc:", "http:": no host
		}
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || host == "localhost" || net.ParseIP(host) != nil || !hostRE.MatchString(host) {
		return Ref{}, false
	}
	if _, err := strconv.Atoi(host); err == nil {
		return Ref{}, false
	}
	r := Ref{Host: host}
	if portStr != "" {
		n, err := strconv.Atoi(portStr)
		if err != nil || n < 1 || n > 65535 {
			return Ref{}, false
		}
		r.Port = int32(n)
	} else if !allowBare {
		return Ref{}, false
	}
	return r, true
}

// ServiceName splits a host into a Service name and namespace: svc, svc.ns,
// svc.ns.svc and svc.ns.svc.<cluster domain>. ns is "" for a bare name (the
// referrer's own namespace). ok is false for hosts of other shapes.
func ServiceName(host, clusterDomain string) (svc, ns string, ok bool) {
	h := strings.TrimSuffix(host, "."+clusterDomain)
	h = strings.TrimSuffix(h, ".svc")
	parts := strings.Split(h, ".")
	switch len(parts) {
	case 1:
		return parts[0], "", true
	case 2:
		return parts[0], parts[1], true
	}
	return "", "", false
}
