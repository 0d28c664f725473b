package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exampleConfig is a render of the loki role's template (filesystem variant).
const exampleConfig = `# Ansible managed
analytics: {reporting_enabled: false}
auth_enabled: false
common:
  instance_addr: 127.0.0.1
  path_prefix: /var/lib/loki
  replication_factor: 1
  ring: {kvstore: {store: inmemory}}
  storage:
    filesystem: {chunks_directory: /var/lib/loki/chunks, rules_directory: /var/lib/loki/rules}
compactor:
  compaction_interval: 10m
  delete_request_store: filesystem
  retention_delete_delay: 2h
  retention_enabled: true
  working_directory: /var/lib/loki/compactor
ingester:
  wal: {dir: /var/lib/loki/wal, enabled: true, flush_on_shutdown: true}
limits_config:
  allow_structured_metadata: true
  ingestion_burst_size_mb: 16.0
  ingestion_rate_mb: 8.0
  max_global_streams_per_user: 5000
  max_label_names_per_series: 15
  max_query_series: 1000
  max_structured_metadata_entries_count: 128
  per_stream_rate_limit: 5MB
  per_stream_rate_limit_burst: 20MB
  query_timeout: 2m
  reject_old_samples: true
  reject_old_samples_max_age: 168h
  retention_period: 2160h
  retention_stream: []
  volume_enabled: true
schema_config:
  configs:
  - {from: '2024-01-01', index: {period: 24h, prefix: index_}, object_store: filesystem, schema: v13, store: tsdb}
server:
  grpc_listen_address: 127.0.0.1
  grpc_listen_port: 9095
  http_listen_address: 127.0.0.1
  http_listen_port: 3100
  log_level: info
storage_config:
  tsdb_shipper: {active_index_directory: /var/lib/loki/tsdb-index, cache_location: /var/lib/loki/tsdb-cache}
`

const s3Storage = `  storage:
    s3: {endpoint: 'minio.test:9000', region: us-east-1, bucketnames: loki, access_key_id: key,
         secret_access_key: secret, s3forcepathstyle: true, insecure: true}
`

func variant(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(exampleConfig, old) {
		t.Fatalf("example has no %q", old)
	}
	return strings.Replace(exampleConfig, old, new, 1)
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidConfigs(t *testing.T) {
	s3 := variant(t, "  storage:\n    filesystem: {chunks_directory: /var/lib/loki/chunks, rules_directory: /var/lib/loki/rules}\n", s3Storage)
	s3 = strings.Replace(strings.Replace(s3, "delete_request_store: filesystem", "delete_request_store: s3", 1),
		"object_store: filesystem", "object_store: s3", 1)
	retention := variant(t, "  retention_stream: []\n", `  retention_stream:
  - {selector: '{service_name="claude-code", team="platform"}', priority: 1, period: 720h}
  otlp_config:
    resource_attributes:
      attributes_config:
      - {action: index_label, attributes: [team]}
`)
	for name, text := range map[string]string{
		"filesystem": exampleConfig, "s3": s3, "retention_stream+otlp_config": retention,
		"prometheus durations": variant(t, "retention_period: 2160h", "retention_period: 90d"),
		"opaque block":         exampleConfig + "distributor: {ring: {kvstore: {store: inmemory}}}\n",
		"empty file":           "",
	} {
		t.Run(name, func(t *testing.T) {
			if _, problems := loadConfig(writeFile(t, text), false); len(problems) > 0 {
				t.Fatalf("refused: %+v", problems)
			}
		})
	}
}

func TestInvalidConfigs(t *testing.T) {
	for _, c := range []struct{ old, new, path, want string }{
		{"retention_period: 2160h", "retention_period: ninety days", "limits_config.retention_period", "duration"},
		{"retention_period: 2160h", "retention_period: 10 minutes", "limits_config.retention_period", "duration"},
		{"query_timeout: 2m", "query_timeout: abc", "limits_config.query_timeout", "duration"},
		{"http_listen_port: 3100", "http_listen_port: abc", "server.http_listen_port", "integer"},
		{"retention_enabled: true", "retention_enabled: maybe", "compactor.retention_enabled", "boolean"},
		{"volume_enabled: true", "volume_enabld: true", "limits_config.volume_enabld", "unknown key"},
		{"auth_enabled: false", "auth_enabled: false\nlimit_config: {}", "limit_config", "unknown key"},
		{"per_stream_rate_limit: 5MB", "per_stream_rate_limit: lots", "limits_config.per_stream_rate_limit", "size"},
		{"from: '2024-01-01'", "from: 'January'", "schema_config.configs[0].from", "YYYY-MM-DD"},
		{"store: tsdb", "store: tsbd", "schema_config.configs[0].store", "one of"},
		{"log_level: info", "log_level: loud", "server.log_level", "one of"},
		{"retention_stream: []", "retention_stream: [{selector: '{a=\"b\"}', period: forever}]",
			"limits_config.retention_stream[0].period", "duration"},
		{"ingester:", "ingester: 5\nx:", "ingester", "mapping"},
	} {
		t.Run(c.path, func(t *testing.T) {
			_, problems := loadConfig(writeFile(t, variant(t, c.old, c.new)), false)
			if len(problems) == 0 {
				t.Fatal("accepted")
			}
			p := problems[0]
			if p.Path != c.path || p.Line == 0 || !strings.Contains(p.What, c.want) {
				t.Fatalf("got %+v, want path %s and %q", p, c.path, c.want)
			}
		})
	}
	if _, problems := loadConfig(writeFile(t, "server: [\n"), false); len(problems) != 1 || !strings.Contains(problems[0].What, "line") {
		t.Fatalf("broken YAML: %+v", problems)
	}
}

func TestLineNumberAndSettings(t *testing.T) {
	_, problems := loadConfig(writeFile(t, variant(t, "query_timeout: 2m", "query_timeout: nope")), false)
	if len(problems) != 1 || problems[0].Line != 29 {
		t.Fatalf("want one problem on line 29, got %+v", problems)
	}
	s, _ := loadConfig(writeFile(t, exampleConfig), false)
	if s.ListenAddr != "127.0.0.1:3100" || s.PathPrefix != "/var/lib/loki" || s.LogLevel != "info" {
		t.Fatalf("settings: %+v", s)
	}
}

func TestExpandEnv(t *testing.T) {
	t.Setenv("STANDIN_PORT", "3111")
	p := writeFile(t, "server: {http_listen_port: ${STANDIN_PORT}, http_listen_address: ${STANDIN_UNSET:-127.0.0.2}}\n")
	if s, problems := loadConfig(p, true); len(problems) > 0 || s.ListenAddr != "127.0.0.2:3111" {
		t.Fatalf("expanded: %+v %+v", s, problems)
	}
	if _, problems := loadConfig(p, false); len(problems) == 0 {
		t.Fatal("unexpanded ${STANDIN_PORT} accepted as a port")
	}
}
