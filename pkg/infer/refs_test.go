package infer

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParse(t *testing.T) {
	tests := map[string]struct {
		value string
		bare  bool
		want  []Ref
	}{
		"http with port":             {value: "http://api:8080", want: []Ref{{Scheme: "http", Host: "api", Port: 8080}}},
		"http with path and query":   {value: "http://api:8080/v1/items?limit=10", want: []Ref{{Scheme: "http", Host: "api", Port: 8080}}},
		"https without port":         {value: "https://payments.shop.svc/charge", want: []Ref{{Scheme: "https", Host: "payments.shop.svc"}}},
		"grpc":                       {value: "grpc://search:50051", want: []Ref{{Scheme: "grpc", Host: "search", Port: 50051}}},
		"scheme and host lowercased": {value: "HTTP://API.Shop.SVC:8080", want: []Ref{{Scheme: "http", Host: "api.shop.svc", Port: 8080}}},
		"postgres with credentials":  {value: "postgres://user:p%40ss@db:5432/shop", want: []Ref{{Scheme: "postgres", Host: "db", Port: 5432}}},
		"postgresql with sslmode":    {value: "postgresql://app:secret@db:5432/shop?sslmode=disable", want: []Ref{{Scheme: "postgresql", Host: "db", Port: 5432}}},
		"password with a raw @":      {value: "postgres://u:p@ss@db:5432/x", want: []Ref{{Scheme: "postgres", Host: "db", Port: 5432}}},
		"mysql":                      {value: "mysql://app:secret@mysql:3306/shop", want: []Ref{{Scheme: "mysql", Host: "mysql", Port: 3306}}},
		"jdbc postgresql":            {value: "jdbc:postgresql://db:5432/x", want: []Ref{{Scheme: "postgresql", Host: "db", Port: 5432}}},
		"jdbc mysql with options":    {value: "jdbc:mysql://db:3306/x?useSSL=false", bare: true, want: []Ref{{Scheme: "mysql", Host: "db", Port: 3306}}},
		"jdbc sqlserver parameters are no hosts": {
			value: "jdbc:sqlserver://db:1433;databaseName=orders", bare: true,
			want: []Ref{{Scheme: "sqlserver", Host: "db", Port: 1433}},
		},
		"redis":                {value: "redis://cache:6379/0", want: []Ref{{Scheme: "redis", Host: "cache", Port: 6379}}},
		"rediss with password": {value: "rediss://:pw@cache:6380", want: []Ref{{Scheme: "rediss", Host: "cache", Port: 6380}}},
		"amqp without port":    {value: "amqp://guest:guest@rabbitmq/", want: []Ref{{Scheme: "amqp", Host: "rabbitmq"}}},
		"mongodb host list": {
			value: "mongodb://a:27017,b:27017/db?replicaSet=rs", bare: true,
			want: []Ref{{Scheme: "mongodb", Host: "a", Port: 27017}, {Scheme: "mongodb", Host: "b", Port: 27017}},
		},
		"nats": {value: "nats://nats:4222", want: []Ref{{Scheme: "nats", Host: "nats", Port: 4222}}},
		"kafka bootstrap list": {
			value: "a:9092,b:9092",
			want:  []Ref{{Host: "a", Port: 9092}, {Host: "b", Port: 9092}},
		},
		"kafka list with spaces and pod names": {
			value: "kafka-0.kafka:9092, kafka-1.kafka:9092",
			want:  []Ref{{Host: "kafka-0.kafka", Port: 9092}, {Host: "kafka-1.kafka", Port: 9092}},
		},
		"list of URLs": {
			value: "http://a:8080,http://b:9090",
			want:  []Ref{{Scheme: "http", Host: "a", Port: 8080}, {Scheme: "http", Host: "b", Port: 9090}},
		},
		"URL inside a query": {
			value: "http://api:8080/login?next=http://other:9090",
			want:  []Ref{{Scheme: "http", Host: "api", Port: 8080}, {Scheme: "http", Host: "other", Port: 9090}},
		},
		"flag with URL":                  {value: "--upstream=http://api:8080", want: []Ref{{Scheme: "http", Host: "api", Port: 8080}}},
		"host:port in a shell command":   {value: "until nc -z db:5432; do sleep 1; done", want: []Ref{{Host: "db", Port: 5432}}},
		"credentials before host:port":   {value: "user@db:5432", want: []Ref{{Host: "db", Port: 5432}}},
		"svc":                            {value: "api:8080", want: []Ref{{Host: "api", Port: 8080}}},
		"svc.ns":                         {value: "api.shop:8080", want: []Ref{{Host: "api.shop", Port: 8080}}},
		"svc.ns.svc":                     {value: "api.shop.svc:8080", want: []Ref{{Host: "api.shop.svc", Port: 8080}}},
		"svc.ns.svc.cluster.local":       {value: "db.data.svc.cluster.local:5432", want: []Ref{{Host: "db.data.svc.cluster.local", Port: 5432}}},
		"trailing dot":                   {value: "db.data.svc.cluster.local.:5432", want: []Ref{{Host: "db.data.svc.cluster.local", Port: 5432}}},
		"IPv4 ignored":                   {value: "http://10.0.0.1:8080", want: nil},
		"IPv4 host:port ignored":         {value: "10.0.0.1:5432", bare: true, want: nil},
		"IPv6 ignored":                   {value: "http://[::1]:8080", want: nil},
		"localhost ignored":              {value: "localhost:5432", want: nil},
		"localhost URL ignored":          {value: "http://localhost:8080/health", bare: true, want: nil},
		"time of day is no host":         {value: "backup at 10:30", want: nil},
		"listen address is no host":      {value: "--listen=:8080", want: nil},
		"port out of range":              {value: "api:70000", want: nil},
		"port that is a word":            {value: "mode:fast", want: nil},
		"empty port":                     {value: "jdbc:", bare: true, want: nil},
		"path with colon is no host":     {value: "/data/db:5432", want: nil},
		"bare host without host key":     {value: "api", want: nil},
		"bare host for host key":         {value: "api", bare: true, want: []Ref{{Host: "api"}}},
		"bare host list for host key":    {value: "kafka-0, kafka-1", bare: true, want: []Ref{{Host: "kafka-0"}, {Host: "kafka-1"}}},
		"bare words of text are no host": {value: "time to go", bare: true, want: nil},
		"keyword DSN words are no hosts": {value: "host=db port=5432 dbname=orders", bare: true, want: nil},
		"empty":                          {value: "", bare: true, want: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, Parse(tc.value, tc.bare))
		})
	}
}

func TestHostKey(t *testing.T) {
	tests := map[string]bool{
		"DB_HOST":                        true,
		"db_host":                        true,
		"redis.host":                     true,
		"redis-host":                     true,
		"HOST":                           true,
		"UPSTREAM_URL":                   true,
		"url":                            true,
		"DATABASE_URI":                   true,
		"SMTP_SERVER":                    true,
		"KAFKA_BOOTSTRAP_SERVERS":        true,
		"KAFKA_BROKERS":                  true,
		"CATALOG_ENDPOINT":               true,
		"CART_SERVICE_ADDR":              true,
		"SEARCH_ADDRESS":                 true,
		"DATABASE_DSN":                   true,
		"spring.datasource.url":          true,
		"DB_PORT":                        false,
		"spring.rabbitmq.virtual-host":   false,
		"RABBITMQ_VIRTUAL_HOST":          false,
		"DB_PASSWORD":                    false,
		"LOG_LEVEL":                      false,
		"HOSTNAME_PREFIX":                false,
		"GHOST":                          false,
		"":                               false,
		"ALLOWED_HOSTS":                  false,
		"FEATURE_NEW_CHECKOUT_ENABLED_X": false,
	}
	for key, want := range tests {
		t.Run(key, func(t *testing.T) {
			assert.Equal(t, want, HostKey(key))
		})
	}
}

func TestServiceName(t *testing.T) {
	tests := map[string]struct {
		host, domain string
		svc, ns      string
		ok           bool
	}{
		"svc":                          {host: "api", domain: "cluster.local", svc: "api", ok: true},
		"svc.ns":                       {host: "api.shop", domain: "cluster.local", svc: "api", ns: "shop", ok: true},
		"svc.ns.svc":                   {host: "api.shop.svc", domain: "cluster.local", svc: "api", ns: "shop", ok: true},
		"svc.ns.svc.cluster.local":     {host: "db.data.svc.cluster.local", domain: "cluster.local", svc: "db", ns: "data", ok: true},
		"custom cluster domain":        {host: "db.data.svc.corp.example", domain: "corp.example", svc: "db", ns: "data", ok: true},
		"other cluster domain":         {host: "db.data.svc.corp.example", domain: "cluster.local", ok: false},
		"svc.svc":                      {host: "api.svc", domain: "cluster.local", svc: "api", ok: true},
		"external host of three parts": {host: "api.example.com", domain: "cluster.local", ok: false},
		"pod of a headless Service":    {host: "postgres-0.postgres.data.svc.cluster.local", domain: "cluster.local", ok: false},
		"FQDN of four parts":           {host: "a.b.c.d", domain: "cluster.local", ok: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			svc, ns, ok := ServiceName(tc.host, tc.domain)
			assert.Equal(t, tc.ok, ok)
			if tc.ok {
				assert.Equal(t, tc.svc, svc)
				assert.Equal(t, tc.ns, ns)
			}
		})
	}
}

func TestFileEntries(t *testing.T) {
	tests := map[string]struct {
		file, content string
		want          [][2]string
	}{
		"YAML flattened": {
			file: "app.yaml", content: "database:\n  host: db\n  port: 5432\nurls:\n  - http://a:80\n",
			want: [][2]string{{"database.host", "db"}, {"database.port", "5432"}, {"urls", "http://a:80"}},
		},
		"key=value lines": {
			file: "app.env", content: "# comment\nDB_HOST=db\nexport DB_PORT=\"5432\"\n\n",
			want: [][2]string{{"DB_HOST", "db"}, {"export DB_PORT", "5432"}},
		},
		"URL with a query is no key=value line": {
			file: "DATABASE_URL", content: "postgres://db:5432/x?sslmode=require\n",
			want: [][2]string{{"DATABASE_URL", "postgres://db:5432/x?sslmode=require\n"}},
		},
		"other lines of a key=value file kept": {
			file: "app.properties", content: "a.url=http://a:80\nhttp://b:81/x?y=z\n",
			want: [][2]string{{"a.url", "http://a:80"}, {"", "http://b:81/x?y=z"}},
		},
		"plain text keyed by the file name": {
			file: "DB_HOST", content: "db",
			want: [][2]string{{"DB_HOST", "db"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, fileEntries(tc.file, tc.content))
		})
	}
}
