# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the validator knows about each component type, written by hand: accepted keys,
signals, required and conflicting keys, enums, removed components, listener defaults.
Typed settings generated from the Go sources are in catalogue.py."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TOP_LEVEL_KEYS = ("receivers", "processors", "exporters", "connectors", "extensions", "service")
KINDS = ("receivers", "processors", "exporters", "connectors", "extensions")
SIGNALS = ("traces", "metrics", "logs", "profiles")
PROFILES_GATE = "service.profilesSupport"
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):(.*)$", re.S)
TYPE_RE = re.compile(r"^[a-zA-Z][0-9a-zA-Z_]{0,62}$")
SUPPORTED_SCHEMES = ("env", "file", "yaml", "http", "https")
# Component defaults moved from 0.0.0.0 to localhost in this release.
LOCALHOST_DEFAULT_SINCE = (0, 104, 0)
# service::telemetry::metrics::address stopped working in this release.
TELEMETRY_ADDRESS_REMOVED = (0, 123, 0)

# --- component knowledge -----------------------------------------------------

_ADDR = {"endpoint": None, "transport": None, "dialer": None}
HTTP_SERVER = {
    **_ADDR,
    **dict.fromkeys(
        (
            "tls",
            "cors",
            "auth",
            "max_request_body_size",
            "include_metadata",
            "response_headers",
            "compression_algorithms",
            "read_timeout",
            "read_header_timeout",
            "write_timeout",
            "idle_timeout",
            "middlewares",
            "keep_alives_enabled",
        )
    ),
}
GRPC_SERVER = {
    **_ADDR,
    **dict.fromkeys(
        (
            "tls",
            "max_recv_msg_size_mib",
            "max_concurrent_streams",
            "read_buffer_size",
            "write_buffer_size",
            "keepalive",
            "auth",
            "include_metadata",
            "middlewares",
        )
    ),
}
HTTP_CLIENT = dict.fromkeys(
    (
        "endpoint",
        "proxy_url",
        "tls",
        "read_buffer_size",
        "write_buffer_size",
        "timeout",
        "headers",
        "auth",
        "compression",
        "compression_params",
        "max_idle_conns",
        "max_idle_conns_per_host",
        "max_conns_per_host",
        "idle_conn_timeout",
        "disable_keep_alives",
        "http2_read_idle_timeout",
        "http2_ping_timeout",
        "cookies",
        "force_attempt_http2",
        "middlewares",
    )
)
GRPC_CLIENT = dict.fromkeys(
    (
        "endpoint",
        "compression",
        "tls",
        "keepalive",
        "read_buffer_size",
        "write_buffer_size",
        "wait_for_ready",
        "headers",
        "user_agent",
        "balancer_name",
        "authority",
        "auth",
        "middlewares",
    )
)
EXPORTER_HELPER = dict.fromkeys(("sending_queue", "retry_on_failure"))
ALL_SIGNALS = frozenset(SIGNALS)
TML = frozenset(("traces", "metrics", "logs"))


def passes_signal_through(spec) -> bool:
    """A connector that passes its input signal through (forward)."""
    return spec.output_signals is None


@dataclass(frozen=True)
class ComponentSpec:
    """What the validator knows about one component type."""

    keys: dict  # accepted keys; a dict value is the spec of a nested mapping
    signals: frozenset = ALL_SIGNALS
    required: tuple = ()  # tuple of alternatives tuples: one of each must be set
    conflicts: tuple = ()  # pairs of keys that cannot both be set
    enums: dict = field(default_factory=dict)  # key -> accepted values (lower case)
    # Connectors: the signals they emit into the pipelines that use them as a
    # receiver (None: the same signal they take in, as forward does).
    output_signals: frozenset | None = None


COMPONENTS: dict[str, dict[str, ComponentSpec]] = {
    "receivers": {
        "otlp": ComponentSpec(
            keys={
                "protocols": {
                    "grpc": GRPC_SERVER,
                    "http": {**HTTP_SERVER, **dict.fromkeys(("traces_url_path", "metrics_url_path", "logs_url_path"))},
                }
            },
            required=(("protocols",),),
        ),
    },
    "processors": {
        "memory_limiter": ComponentSpec(
            keys=dict.fromkeys(
                (
                    "check_interval",
                    "limit_mib",
                    "spike_limit_mib",
                    "limit_percentage",
                    "spike_limit_percentage",
                    "min_gc_interval_when_soft_limited",
                    "min_gc_interval_when_hard_limited",
                )
            )
        ),
        "batch": ComponentSpec(
            keys=dict.fromkeys(
                ("timeout", "send_batch_size", "send_batch_max_size", "metadata_keys", "metadata_cardinality_limit")
            ),
            signals=TML,
        ),
        "deltatocumulative": ComponentSpec(
            keys=dict.fromkeys(("max_stale", "max_streams")), signals=frozenset({"metrics"})
        ),
        "transform": ComponentSpec(
            keys=dict.fromkeys(
                (
                    "error_mode",
                    "trace_statements",
                    "metric_statements",
                    "log_statements",
                    "profile_statements",
                    "flatten_data",
                )
            ),
            enums={"error_mode": ("ignore", "silent", "propagate")},
        ),
        "attributes": ComponentSpec(
            keys=dict.fromkeys(("include", "exclude", "actions")), signals=TML, required=(("actions",),)
        ),
        "redaction": ComponentSpec(
            keys=dict.fromkeys(
                (
                    "allow_all_keys",
                    "allowed_keys",
                    "blocked_key_patterns",
                    "hash_function",
                    "hmac_key",
                    "ignored_keys",
                    "ignored_key_patterns",
                    "redact_all_types",
                    "blocked_values",
                    "allowed_values",
                    "db_sanitizer",
                    "summary",
                    "url_sanitizer",
                )
            ),
            signals=TML,
        ),
        "resource": ComponentSpec(keys={"attributes": None}, required=(("attributes",),)),
        "filter": ComponentSpec(
            keys=dict.fromkeys(
                (
                    "error_mode",
                    "spans",
                    "metrics",
                    "logs",
                    "traces",
                    "profiles",
                    "metric_conditions",
                    "log_conditions",
                    "trace_conditions",
                    "profile_conditions",
                )
            ),
            enums={"error_mode": ("ignore", "silent", "propagate")},
        ),
    },
    "exporters": {
        "prometheus": ComponentSpec(
            keys={
                **HTTP_SERVER,
                **dict.fromkeys(
                    (
                        "sending_queue",
                        "namespace",
                        "const_labels",
                        "send_timestamps",
                        "metric_expiration",
                        "resource_to_telemetry_conversion",
                        "enable_open_metrics",
                        "without_scope_info",
                        "add_metric_suffixes",
                        "translation_strategy",
                    )
                ),
            },
            signals=frozenset({"metrics"}),
            required=(("endpoint",),),
        ),
        "otlphttp": ComponentSpec(
            keys={
                **HTTP_CLIENT,
                **EXPORTER_HELPER,
                **dict.fromkeys(
                    ("traces_endpoint", "metrics_endpoint", "logs_endpoint", "profiles_endpoint", "encoding")
                ),
            },
            required=(("endpoint", "traces_endpoint", "metrics_endpoint", "logs_endpoint", "profiles_endpoint"),),
            enums={"encoding": ("proto", "json")},
        ),
        "otlp": ComponentSpec(keys={**GRPC_CLIENT, **EXPORTER_HELPER, "timeout": None}, required=(("endpoint",),)),
        "debug": ComponentSpec(
            keys=dict.fromkeys(
                (
                    "verbosity",
                    "sampling_initial",
                    "sampling_thereafter",
                    "use_internal_logger",
                    "output_paths",
                    "sending_queue",
                )
            ),
            enums={"verbosity": ("basic", "normal", "detailed")},
        ),
        "file": ComponentSpec(
            keys=dict.fromkeys(
                (
                    "path",
                    "append",
                    "rotation",
                    "format",
                    "encoding",
                    "compression",
                    "compression_params",
                    "flush_interval",
                    "group_by",
                    "create_directory",
                    "directory_permissions",
                )
            ),
            required=(("path",),),
            conflicts=(("append", "rotation"),),
            enums={"format": ("json", "proto")},
        ),
    },
    "extensions": {
        "bearertokenauth": ComponentSpec(
            keys=dict.fromkeys(("header", "scheme", "token", "tokens", "filename")),
            required=(("token", "tokens", "filename"),),
            conflicts=(("token", "tokens"),),
        ),
        "health_check": ComponentSpec(
            keys={
                **HTTP_SERVER,
                **dict.fromkeys(
                    ("path", "response_body", "check_collector_pipeline", "use_v2", "grpc", "http", "component_health")
                ),
            }
        ),
        "file_storage": ComponentSpec(
            keys=dict.fromkeys(
                (
                    "directory",
                    "timeout",
                    "max_size",
                    "compaction",
                    "fsync",
                    "create_directory",
                    "directory_permissions",
                    "recreate",
                )
            )
        ),
        "pprof": ComponentSpec(
            keys=dict.fromkeys(
                ("endpoint", "dialer", "block_profile_fraction", "mutex_profile_fraction", "save_to_file")
            )
        ),
        "zpages": ComponentSpec(keys={**HTTP_SERVER, "expvar": None}),
    },
    "connectors": {
        # forward connects pipelines of the same signal only.
        "forward": ComponentSpec(keys={}),
        # Metrics from any signal; both emit metrics only.
        "signal_to_metrics": ComponentSpec(
            keys=dict.fromkeys(("spans", "datapoints", "logs", "profiles", "error_mode")),
            required=(("spans", "datapoints", "logs", "profiles"),),
            enums={"error_mode": ("ignore", "silent", "propagate")},
            output_signals=frozenset({"metrics"}),
        ),
        "count": ComponentSpec(
            keys=dict.fromkeys(("spans", "spanevents", "metrics", "datapoints", "logs", "profiles")),
            output_signals=frozenset({"metrics"}),
        ),
    },
}
# Newer collectors name the OTLP exporters otlp_grpc / otlp_http and keep the
# old names as aliases.
TYPE_ALIASES = {
    ("exporters", "otlp_grpc"): "otlp",
    ("exporters", "otlp_http"): "otlphttp",
    ("connectors", "signaltometrics"): "signal_to_metrics",
    # v0.161.0 names the processor delta_to_cumulative and keeps the old name.
    ("processors", "delta_to_cumulative"): "deltatocumulative",
}

# (kind, type) -> (first version without it, replacement advice)
REMOVED_COMPONENTS = {
    ("exporters", "logging"): ((0, 111, 0), "use the `debug` exporter (verbosity basic|normal|detailed) instead"),
    ("exporters", "loki"): (
        (0, 131, 0),
        "use the `otlphttp` exporter with `endpoint: http://<loki>:3100/otlp` (Loki 3 ingests OTLP natively)",
    ),
}
# Listening components: (kind, type) -> default port, for the one endpoint
# they bind.
LISTENER_DEFAULT_PORTS = {
    ("extensions", "health_check"): 13133,
    ("extensions", "pprof"): 1777,
    ("extensions", "zpages"): 55679,
}
OTLP_DEFAULT_PORTS = {"grpc": 4317, "http": 4318}
AUTH_CAPABLE_SERVERS = ("grpc", "http")
SECRET_KEYS = frozenset(
    (
        "token",
        "tokens",
        "password",
        "client_secret",
        "api_key",
        "apikey",
        "secret",
        "hmac_key",
        "key_pem",
        "bearer_token",
    )
)
SECRET_HEADER_RE = re.compile(r"(authorization|api[-_]?key|token|secret|password)", re.I)
