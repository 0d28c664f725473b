# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Static validator for OpenTelemetry Collector configuration files.

Pure Python (PyYAML and the standard library only): the Ansible module
``claude_monitoring.stack.otelcol_validate`` and the ``otelcol-validate``
command line both call :func:`validate`. Every finding carries a stable rule
id, the YAML path (``service::pipelines::logs``), the 1-based line in the file
and a message that says what to change. The rule catalogue is :data:`RULES`;
docs/otelcol_validate.md describes each rule.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
import typing
import unicodedata
from dataclasses import dataclass, field

try:
    import yaml
except ImportError:  # the module reports it with missing_required_lib
    yaml = None
    YAML_IMPORT_ERROR = traceback.format_exc()
else:
    YAML_IMPORT_ERROR = None
# The C loader is much faster and records the same marks.
_Loader = getattr(yaml, "CSafeLoader", None) or getattr(yaml, "SafeLoader", None)

ERROR = "error"
WARNING = "warning"

# Rule id -> (severity, one-line summary). The single source of truth for the
# catalogue: tests check that docs/otelcol_validate.md documents every id.
# ``env-unset`` is an error when an environment was supplied and a warning
# when none was (the variable may be set where the collector runs).
RULES: dict[str, tuple[str, str]] = {
    "yaml-syntax": (ERROR, "the file is not valid YAML"),
    "yaml-duplicate-key": (ERROR, "a mapping repeats a key"),
    "empty-config": (ERROR, "the file holds no configuration"),
    "wrong-type": (ERROR, "a value has the wrong YAML type"),
    "unknown-top-level-key": (ERROR, "a top-level key the collector does not know"),
    "component-id-syntax": (ERROR, "a component or pipeline id is not type[/name]"),
    "unknown-signal": (ERROR, "a pipeline id names no known signal"),
    "profiles-feature-gate": (ERROR, "a profiles pipeline without the service.profilesSupport gate"),
    "no-pipelines": (ERROR, "service::pipelines is missing or empty"),
    "pipeline-no-receivers": (ERROR, "a pipeline has no receivers"),
    "pipeline-no-exporters": (ERROR, "a pipeline has no exporters"),
    "undefined-component": (ERROR, "a reference to a component that is not declared"),
    "duplicate-processor": (ERROR, "a processor is listed twice in one pipeline"),
    "unsupported-signal": (ERROR, "a component used in a pipeline of a signal it does not support"),
    "connector-one-sided": (ERROR, "a connector used only as exporter or only as receiver"),
    "connector-cycle": (ERROR, "pipelines joined by connectors form a cycle"),
    "connector-id-clash": (ERROR, "a connector id equals a receiver or exporter id"),
    "unknown-key": (ERROR, "a key the component does not accept"),
    "missing-required-key": (ERROR, "a key the component requires is missing"),
    "conflicting-keys": (ERROR, "two keys that cannot be set together"),
    "invalid-value": (ERROR, "a value outside the accepted set"),
    "extension-undeclared": (ERROR, "an authenticator or storage names an undeclared extension"),
    "extension-not-enabled": (ERROR, "an authenticator or storage extension is not in service::extensions"),
    "port-conflict": (ERROR, "two listeners on one port"),
    "endpoint-scheme": (ERROR, "a listening endpoint carries a URL scheme"),
    "endpoint-syntax": (ERROR, "a listening endpoint is not host:port"),
    "env-var-name": (ERROR, "an environment variable reference has an invalid name"),
    "env-provider-unsupported": (ERROR, "a ${scheme:...} reference names an unsupported provider"),
    "env-unset": (ERROR, "an environment variable without default is not set"),
    "memory-limiter-limit": (ERROR, "memory_limiter without limit_mib or limit_percentage"),
    "memory-limiter-check-interval": (ERROR, "memory_limiter without a positive check_interval"),
    "memory-limiter-spike": (ERROR, "memory_limiter spike limit not below its limit"),
    "batch-max-below-size": (ERROR, "batch send_batch_max_size below send_batch_size"),
    "removed-component": (ERROR, "a component removed from the target collector version"),
    "removed-setting": (ERROR, "a setting removed from the target collector version"),
    "deprecated-component": (WARNING, "a component deprecated and later removed"),
    "unknown-component-type": (WARNING, "a component type this validator does not know"),
    "memory-limiter-missing": (WARNING, "a pipeline without memory_limiter"),
    "memory-limiter-not-first": (WARNING, "memory_limiter is not the first processor"),
    "batch-missing": (WARNING, "a pipeline without batch"),
    "batch-before-memory-limiter": (WARNING, "batch runs before memory_limiter"),
    "loki-push-endpoint": (WARNING, "otlphttp sends to Loki's push API instead of /otlp"),
    "receiver-no-tls": (WARNING, "a receiver beyond loopback without TLS"),
    "receiver-no-auth": (WARNING, "a receiver beyond loopback without authentication"),
    "tls-insecure": (WARNING, "TLS turned off or certificate checks skipped"),
    "literal-secret": (WARNING, "a secret written in the file"),
    "debug-detailed": (WARNING, "debug exporter with detailed verbosity"),
    "unused-component": (WARNING, "a declared component that nothing uses"),
    "debug-endpoint-exposed": (WARNING, "pprof or zpages listening beyond loopback"),
    "binary-validate": (ERROR, "the collector binary rejected the configuration"),
}

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
MAX_NODES = 200_000

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


@dataclass(frozen=True)
class ComponentSpec:
    """What the validator knows about one component type."""

    keys: dict  # accepted keys; a dict value is the spec of a nested mapping
    signals: frozenset = ALL_SIGNALS
    required: tuple = ()  # tuple of alternatives tuples: one of each must be set
    conflicts: tuple = ()  # pairs of keys that cannot both be set
    enums: dict = field(default_factory=dict)  # key -> accepted values (lower case)


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
    },
}
# Newer collectors name the OTLP exporters otlp_grpc / otlp_http and keep the
# old names as aliases.
TYPE_ALIASES = {("exporters", "otlp_grpc"): "otlp", ("exporters", "otlp_http"): "otlphttp"}

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


# --- results -----------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    path: str
    line: int | None
    message: str

    def as_dict(self) -> dict:
        return {"rule": self.rule, "path": self.path, "line": self.line, "message": self.message}


@dataclass
class Result:
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    def ok(self, strict: bool = False) -> bool:
        return not self.errors and not (strict and self.warnings)

    def as_dict(self) -> dict:
        return {
            "valid": self.valid,
            "errors": [f.as_dict() for f in self.errors],
            "warnings": [f.as_dict() for f in self.warnings],
        }

    def summary(self, strict: bool = False, limit: int = 3) -> str:
        """A one-line message naming the first failing rules and lines."""
        bad = self.errors + (self.warnings if strict else [])
        if not bad:
            return "configuration is valid"
        head = "; ".join(f"line {f.line or '?'}: {f.rule}: {f.message}" for f in bad[:limit])
        more = f" (and {len(bad) - limit} more)" if len(bad) > limit else ""
        kind = "error(s)" if self.errors else "warning(s) (strict)"
        return f"{len(bad)} {kind}: {head}{more}"


class Unresolved(str):
    """A string whose ${...} references could not be resolved here."""

    __slots__ = ()


class EnvFileError(ValueError):
    pass


# --- YAML loading with line numbers --------------------------------------------


class _YamlError(Exception):
    def __init__(self, rule: str, line: int | None, message: str, path: str = ""):
        super().__init__(message)
        self.rule, self.line, self.message, self.path = rule, line, message, path


def _scalar_value(constructor, node):
    try:
        return constructor.construct_object(node, deep=True)
    except Exception:  # unknown tags and odd scalars stay text
        return node.value


def _key_text(node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def load_yaml(text: str) -> tuple[object, dict]:
    """Parse ``text``; return (data, lines) where ``lines`` maps a path tuple
    (keys and list indexes) to its 1-based line. Raises _YamlError."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise _YamlError("yaml-syntax", line, f"YAML syntax error: {exc.problem or exc}; fix the YAML") from None
    except yaml.YAMLError as exc:
        raise _YamlError("yaml-syntax", None, f"YAML error: {exc}") from None
    if node is None:
        return None, {}
    constructor = yaml.constructor.SafeConstructor()
    lines: dict = {(): node.start_mark.line + 1}
    budget = [MAX_NODES]
    data = _convert(node, (), lines, constructor, budget, set())
    return data, lines


def _convert(node, path, lines, constructor, budget, active):
    budget[0] -= 1
    if budget[0] < 0:
        raise _YamlError("yaml-syntax", node.start_mark.line + 1, "document expands to too many nodes (alias bomb?)")
    if isinstance(node, yaml.ScalarNode):
        return _scalar_value(constructor, node)
    if id(node) in active:
        raise _YamlError("yaml-syntax", node.start_mark.line + 1, "recursive YAML alias; the collector rejects it")
    active.add(id(node))
    try:
        if isinstance(node, yaml.SequenceNode):
            out = []
            for i, item in enumerate(node.value):
                lines.setdefault((*path, i), item.start_mark.line + 1)
                out.append(_convert(item, (*path, i), lines, constructor, budget, active))
            return out
        out = {}
        merges = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merges.append(value_node)
                continue
            key = _key_text(key_node)
            line = key_node.start_mark.line + 1
            if key is None:
                raise _YamlError("wrong-type", line, "mapping keys must be plain scalars", "::".join(map(str, path)))
            if key in out:
                raise _YamlError(
                    "yaml-duplicate-key",
                    line,
                    f"key {key!r} is already defined at line {lines.get((*path, key), '?')}; remove one of them",
                    "::".join(map(str, (*path, key))),
                )
            lines[(*path, key)] = line
            out[key] = _convert(value_node, (*path, key), lines, constructor, budget, active)
        for merge in merges:  # explicit keys win over merged ones
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for src in sources:
                if not isinstance(src, yaml.MappingNode):
                    raise _YamlError("yaml-syntax", src.start_mark.line + 1, "a << merge needs a mapping")
                merged = _convert(src, path, lines, constructor, budget, active)
                for k, v in merged.items():
                    out.setdefault(k, v)
        return out
    finally:
        active.discard(id(node))


# --- environment ----------------------------------------------------------------


def parse_env_file(text: str) -> dict:
    """Parse systemd EnvironmentFile syntax. Raises EnvFileError."""
    env = {}
    logical, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not logical:
            start = number
            stripped = raw.strip()
            if not stripped or stripped[0] in "#;":
                continue
        if raw.endswith("\\") and not raw.endswith("\\\\"):
            logical += raw[:-1]
            continue
        logical += raw
        line, logical = logical.strip(), ""
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not ENV_NAME_RE.match(key):
            raise EnvFileError(f"line {start}: expected NAME=VALUE with NAME matching [A-Za-z_][A-Za-z0-9_]*")
        env[key] = _env_file_value(value.strip(), start)
    if logical:
        raise EnvFileError(f"line {start}: the file ends inside a continued line")
    return env


def _env_file_value(value: str, line: int) -> str:
    out, i, quote = [], 0, None
    while i < len(value):
        ch = value[i]
        if quote:
            if ch == quote:
                quote = None
            elif ch == "\\" and quote == '"' and i + 1 < len(value):
                i += 1
                out.append(value[i])
            else:
                out.append(ch)
        elif ch in "\"'":
            quote = ch
        elif ch == "\\" and i + 1 < len(value):
            i += 1
            out.append(value[i])
        else:
            out.append(ch)
        i += 1
    if quote:
        raise EnvFileError(f"line {line}: unterminated {quote} quote")
    return "".join(out)


def parse_env_pairs(pairs) -> dict:
    env = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not ENV_NAME_RE.match(key):
            raise EnvFileError(f"{pair!r}: expected NAME=VALUE")
        env[key] = value
    return env


def _find_reference(text: str, start: int = 0) -> tuple[int, int] | None:
    """The innermost ${...} reference the collector would expand first: the
    last ``${`` before the first ``}``, skipping ones escaped by ``$$``."""
    while True:
        close = text.find("}", start)
        if close < 0:
            return None
        opening = text.rfind("${", 0, close)
        if opening < start:
            start = close + 1
            continue
        dollars, j = 0, opening - 1
        while j >= 0 and text[j] == "$":
            dollars += 1
            j -= 1
        if dollars % 2 == 1:
            start = close + 1
            continue
        return opening, close


class _EnvResolver:
    def __init__(self, checker, env: dict | None):
        self.checker = checker
        self.env = env

    def resolve(self, value, path):
        if isinstance(value, dict):
            return {k: self.resolve(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, (*path, i)) for i, v in enumerate(value)]
        if isinstance(value, str) and "$" in value:
            return self._resolve_string(value, path)
        return value

    def _resolve_string(self, text: str, path):
        unresolved = False
        whole = None
        for _round in range(100):  # the collector stops after 1000 rounds; real configs need a few
            ref = _find_reference(text)
            if ref is None:
                break
            opening, close = ref
            uri = text[opening + 2 : close]
            replacement = self._resolve_uri(uri, path)
            if replacement is None:
                unresolved = True
                # Keep a placeholder the loop will not see again.
                replacement = "\0" + uri + "\1"
            elif opening == 0 and close == len(text) - 1:
                whole = replacement
            text = text[:opening] + replacement + text[close + 1 :]
        text = text.replace("\0", "${").replace("\1", "}").replace("$$", "$")
        if unresolved:
            return Unresolved(text)
        if whole is not None and text == whole:
            return _typed(text)
        return text

    def _resolve_uri(self, uri: str, path) -> str | None:
        if ":" not in uri:
            scheme, rest = "env", uri
        else:
            match = SCHEME_RE.match(uri)
            if not match:
                self.checker.add(
                    "env-provider-unsupported",
                    path,
                    f"${{{uri}}} is not a valid reference: write ${{env:NAME}}, ${{NAME}} or ${{scheme:value}} "
                    f"with a scheme of two or more letters ({', '.join(SUPPORTED_SCHEMES)})",
                )
                return None
            scheme, rest = match.group(1), match.group(2)
        if scheme not in SUPPORTED_SCHEMES:
            self.checker.add(
                "env-provider-unsupported",
                path,
                f"provider scheme {scheme!r} in ${{{uri}}} is not supported; use one of "
                f"{', '.join(SUPPORTED_SCHEMES)} (escape a literal $ as $$)",
            )
            return None
        if "$" in rest:
            self.checker.add(
                "env-provider-unsupported", path, f"${{{uri}}} contains '$', which the collector refuses; remove it"
            )
            return None
        if scheme != "env":
            return None  # file/yaml/http(s) content is not known here
        name, has_default, default = rest.partition(":-")
        if not ENV_NAME_RE.match(name):
            self.checker.add(
                "env-var-name",
                path,
                f"environment variable name {name!r} is invalid; names must match [A-Za-z_][A-Za-z0-9_]*",
            )
            return None
        if self.env is not None and name in self.env:
            return str(self.env[name])
        if has_default:
            return default
        if self.env is None:
            self.checker.add(
                "env-unset",
                path,
                f"${{{uri}}} has no default and no environment was supplied to check it; make sure {name} is set "
                f"where the collector runs, or write ${{env:{name}:-<default>}}",
                severity=WARNING,
            )
            return None
        self.checker.add(
            "env-unset",
            path,
            f"environment variable {name} is not set in the supplied environment and has no default; set it "
            f"(env/env_file) or write ${{env:{name}:-<default>}}",
        )
        return ""  # what the collector substitutes, so later rules see the consequence


def _typed(text: str):
    """A whole-value reference takes the YAML type of what it expands to."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (bool, int, float)) else text


# --- helpers -------------------------------------------------------------------


def parse_version(version) -> tuple[int, int, int] | None:
    if version is None or version == "":
        return None
    match = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$", str(version).strip())
    if not match:
        raise ValueError(f"version {version!r} is not MAJOR.MINOR[.PATCH]")
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def _fmt_version(v) -> str:
    return "v" + ".".join(map(str, v))


_DURATION_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value) -> float | None:
    """Seconds for a Go duration ("1s", "1m30s", integers are nanoseconds);
    None when it cannot be read."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value * 1e-9
    if not isinstance(value, str) or isinstance(value, Unresolved):
        return None
    text = value.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    text = text.lstrip("+-")
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    for match in _DURATION_RE.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    return sign * total if pos == len(text) and pos else None


def _number(value):
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and not isinstance(value, Unresolved):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _is_set(value) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _id_parts(text: str) -> tuple[str, str | None]:
    type_, sep, name = text.partition("/")
    return type_, (name if sep else None)


def _id_error(text) -> str | None:
    """Why ``text`` is not a valid type[/name] id, or None."""
    if not isinstance(text, str) or not text:
        return "an id must be a non-empty string of the form type[/name]"
    type_, name = _id_parts(text)
    if not type_:
        return f"in {text!r}: the part before / must not be empty"
    if not TYPE_RE.match(type_):
        return f"invalid character(s) in type {type_!r}: a type is a letter followed by up to 62 letters, digits or _"
    if name is not None:
        if not name:
            return f"in {text!r}: the part after / must not be empty"
        if len(name) > 1024:
            return f"name in {text!r} is longer than 1024 characters"
        if any(unicodedata.category(ch)[0] in "ZCS" for ch in name):
            return f"invalid character(s) in name {name!r}: no spaces, control characters or symbols"
    return None


def _host_port(endpoint) -> tuple[str, int] | None:
    """Split a listening endpoint; None when it is not host:port."""
    if isinstance(endpoint, bool) or not isinstance(endpoint, (str, int)):
        return None
    text = str(endpoint).strip()
    if text.startswith("["):
        host, _sep, rest = text[1:].partition("]")
        if not rest.startswith(":"):
            return None
        port = rest[1:]
    else:
        host, sep, port = text.rpartition(":")
        if not sep or ":" in host:
            return None
    if not port.isdigit() or int(port) > 65535:
        return None
    return host, int(port)


def normalise_host(host: str) -> str:
    host = host.strip().lower().strip("[]")
    if host in ("", "0.0.0.0", "::", "0:0:0:0:0:0:0:0"):
        return "*"
    if host == "localhost":
        return "127.0.0.1"
    if host in ("0:0:0:0:0:0:0:1",):
        return "::1"
    return host


def _is_loopback(norm_host: str) -> bool:
    return norm_host == "::1" or norm_host.startswith("127.")


@dataclass
class _Listener:
    path: tuple
    host: str  # normalised
    port: int
    label: str
    implicit: bool  # bound by default, not written in the file


# --- the checker -----------------------------------------------------------------


class _Checker:
    def __init__(self, data, lines, env, version, feature_gates):
        self.raw = data
        self.lines = lines
        self.env = env
        self.version = version
        self.feature_gates = frozenset(feature_gates or ())
        self.findings: list[Finding] = []
        self.data: dict = {}
        self.declared: dict[str, dict[str, object]] = {k: {} for k in KINDS}
        self.pipelines: dict[str, dict] = {}  # valid pipeline id -> {receivers, processors, exporters}
        self.used: dict[str, set] = {k: set() for k in KINDS}
        self.enabled_extensions: list[str] = []
        self._listeners: list[_Listener] = []

    # reporting
    def line_of(self, path) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def add(self, rule, path, message, severity=None, line=None):
        path = tuple(path)
        self.findings.append(
            Finding(
                rule=rule,
                severity=severity or RULES[rule][0],
                path="::".join(str(p) for p in path),
                line=line if line is not None else self.line_of(path),
                message=message,
            )
        )

    # driver
    def run(self):
        if not isinstance(self.raw, dict):
            self.add("wrong-type", (), f"the configuration must be a mapping of sections, not {_tname(self.raw)}")
            return
        self.data = _EnvResolver(self, self.env).resolve(self.raw, ())
        self.check_top_level()
        self.check_components()
        self.check_service()
        self.check_connectors()
        self.check_usage()
        self.check_extension_refs()
        self.check_listeners()
        self.check_security()

    def check_top_level(self):
        for key, value in self.data.items():
            if key not in TOP_LEVEL_KEYS:
                self.add(
                    "unknown-top-level-key",
                    (key,),
                    f"unknown top-level key {key!r}; the collector accepts only {', '.join(TOP_LEVEL_KEYS)}",
                )
            elif value is not None and not isinstance(value, dict):
                self.add("wrong-type", (key,), f"{key} must be a mapping, not {_tname(value)}")

    def section(self, key) -> dict:
        value = self.data.get(key)
        return value if isinstance(value, dict) else {}

    # components
    def spec_for(self, kind, type_) -> ComponentSpec | None:
        type_ = TYPE_ALIASES.get((kind, type_), type_)
        return COMPONENTS.get(kind, {}).get(type_)

    def canonical(self, kind, type_):
        return TYPE_ALIASES.get((kind, type_), type_)

    def check_components(self):
        for kind in KINDS:
            for cid, cfg in self.section(kind).items():
                path = (kind, cid)
                problem = _id_error(cid)
                if problem:
                    self.add("component-id-syntax", path, f"{kind}::{cid}: {problem}")
                    continue
                self.declared[kind][cid] = cfg
                type_ = _id_parts(cid)[0]
                removed = REMOVED_COMPONENTS.get((kind, type_))
                if removed:
                    since, advice = removed
                    if self.version is None or self.version >= since:
                        target = _fmt_version(self.version) if self.version else "current collectors"
                        self.add(
                            "removed-component",
                            path,
                            f"the {type_!r} {kind[:-1]} was removed in {_fmt_version(since)} and does not exist in "
                            f"{target}; {advice}",
                        )
                    else:
                        self.add(
                            "deprecated-component",
                            path,
                            f"the {type_!r} {kind[:-1]} is removed in {_fmt_version(since)}; {advice}",
                        )
                    continue
                if cfg is not None and not isinstance(cfg, dict):
                    self.add(
                        "wrong-type",
                        path,
                        f"the configuration of {cid} must be a mapping (or empty), not {_tname(cfg)}",
                    )
                    continue
                spec = self.spec_for(kind, type_)
                if spec is None:
                    self.add(
                        "unknown-component-type",
                        path,
                        f"{kind[:-1]} type {type_!r} is not known to this validator; its settings are not checked "
                        "(make sure the collector distribution includes it)",
                    )
                    continue
                self.check_component_config(kind, cid, type_, spec, cfg or {})

    def check_keys(self, path, cfg: dict, keys: dict, what: str):
        for key, value in cfg.items():
            if key not in keys:
                close = difflib.get_close_matches(str(key), list(keys), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                known = ", ".join(sorted(keys)) or "none"
                self.add("unknown-key", (*path, key), f"{what} does not accept {key!r}; {hint}accepted keys: {known}")
                continue
            sub = keys[key]
            if isinstance(sub, dict) and value is not None:
                if not isinstance(value, dict):
                    self.add("wrong-type", (*path, key), f"{key} must be a mapping, not {_tname(value)}")
                else:
                    self.check_keys((*path, key), value, sub, f"{what}::{key}")

    def check_component_config(self, kind, cid, type_, spec: ComponentSpec, cfg: dict):
        path = (kind, cid)
        self.check_keys(path, cfg, spec.keys, cid)
        for alternatives in spec.required:
            if not any(cfg.get(k) not in (None, "", []) for k in alternatives):
                need = alternatives[0] if len(alternatives) == 1 else "one of " + ", ".join(alternatives)
                self.add("missing-required-key", path, f"{cid} requires {need}; add it")
        for a, b in spec.conflicts:
            if _is_set(cfg.get(a)) and _is_set(cfg.get(b)):
                self.add("conflicting-keys", (*path, b), f"{cid}: set either {a} or {b}, not both")
        for key, accepted in spec.enums.items():
            value = cfg.get(key)
            if isinstance(value, str) and not isinstance(value, Unresolved) and value.lower() not in accepted:
                self.add("invalid-value", (*path, key), f"{cid}: {key} {value!r} is not one of {', '.join(accepted)}")
        checker = self.TYPE_CHECKS.get((kind, self.canonical(kind, type_)))
        if checker is not None:
            checker(self, path, cid, cfg)

    def check_otlp_receiver(self, path, cid, cfg):
        protocols = cfg.get("protocols")
        if isinstance(protocols, dict) and not any(k in protocols for k in OTLP_DEFAULT_PORTS):
            self.add(
                "missing-required-key",
                (*path, "protocols"),
                f"{cid} must enable at least one protocol: add protocols::grpc and/or protocols::http",
            )

    def check_memory_limiter(self, path, cid, cfg):
        interval = parse_duration(cfg.get("check_interval"))
        if isinstance(cfg.get("check_interval"), Unresolved):
            pass
        elif interval is None or interval <= 0:
            self.add(
                "memory-limiter-check-interval",
                (*path, "check_interval") if "check_interval" in cfg else path,
                f"{cid} needs a positive check_interval (e.g. check_interval: 1s)",
            )
        limit_mib, limit_pct = _number(cfg.get("limit_mib")), _number(cfg.get("limit_percentage"))
        spike_mib, spike_pct = _number(cfg.get("spike_limit_mib")), _number(cfg.get("spike_limit_percentage"))
        if any(isinstance(cfg.get(k), Unresolved) for k in ("limit_mib", "limit_percentage")):
            return
        if not limit_mib and not limit_pct:
            self.add(
                "memory-limiter-limit",
                path,
                f"{cid} needs limit_mib or limit_percentage (e.g. limit_percentage: 80, spike_limit_percentage: 20)",
            )
            return
        if (limit_pct or 0) > 100 or (spike_pct or 0) > 100:
            self.add("memory-limiter-spike", path, f"{cid}: percentages must not exceed 100")
        if limit_mib and spike_mib is not None and limit_mib <= spike_mib:
            self.add(
                "memory-limiter-spike",
                (*path, "spike_limit_mib"),
                f"{cid}: spike_limit_mib ({spike_mib}) must be below limit_mib ({limit_mib}); about 20% of it",
            )
        if limit_pct and spike_pct is not None and limit_pct <= spike_pct:
            self.add(
                "memory-limiter-spike",
                (*path, "spike_limit_percentage"),
                f"{cid}: spike_limit_percentage ({spike_pct}) must be below limit_percentage ({limit_pct})",
            )

    def check_batch(self, path, cid, cfg):
        size = _number(cfg.get("send_batch_size")) if "send_batch_size" in cfg else 8192
        max_size = _number(cfg.get("send_batch_max_size"))
        if size is not None and max_size and max_size < size:
            self.add(
                "batch-max-below-size",
                (*path, "send_batch_max_size"),
                f"{cid}: send_batch_max_size ({max_size}) is below send_batch_size ({size}"
                f"{'' if 'send_batch_size' in cfg else ', the default'}); raise it or lower send_batch_size",
            )

    def check_debug(self, path, cid, cfg):
        verbosity = cfg.get("verbosity")
        if isinstance(verbosity, str) and verbosity.lower() == "detailed":
            self.add(
                "debug-detailed",
                (*path, "verbosity"),
                f"{cid} logs every record in full; use verbosity: basic outside of troubleshooting",
            )

    def check_otlphttp(self, path, cid, cfg):
        for key in ("endpoint", "logs_endpoint"):
            value = cfg.get(key)
            if isinstance(value, str) and "/loki/api/v1/push" in value:
                fixed = value.split("/loki/api/v1/push")[0] + "/otlp"
                if key == "logs_endpoint":
                    fixed += "/v1/logs"
                self.add(
                    "loki-push-endpoint",
                    (*path, key),
                    f"{cid} posts OTLP to Loki's push API, which does not accept it; use {key}: {fixed}",
                )

    TYPE_CHECKS: typing.ClassVar[dict] = {
        ("receivers", "otlp"): check_otlp_receiver,
        ("processors", "memory_limiter"): check_memory_limiter,
        ("processors", "batch"): check_batch,
        ("exporters", "debug"): check_debug,
        ("exporters", "otlphttp"): check_otlphttp,
    }

    # service
    def check_service(self):
        service = self.data.get("service")
        if service is None or not isinstance(service, dict):
            if service is None:
                self.add("no-pipelines", ("service",) if "service" in self.data else (), "add service::pipelines")
            return
        for key in service:
            if key not in ("extensions", "pipelines", "telemetry"):
                self.add(
                    "unknown-key",
                    ("service", key),
                    f"service does not accept {key!r}; accepted keys: extensions, pipelines, telemetry",
                )
        exts = service.get("extensions")
        if exts is not None:
            if not isinstance(exts, list):
                self.add(
                    "wrong-type", ("service", "extensions"), f"service::extensions must be a list, not {_tname(exts)}"
                )
            else:
                for i, ref in enumerate(exts):
                    self.check_ref(("service", "extensions", i), ref, "extensions", "extension")
                    if isinstance(ref, str):
                        self.enabled_extensions.append(ref)
                        self.used["extensions"].add(ref)
        telemetry = service.get("telemetry")
        if telemetry is not None and not isinstance(telemetry, dict):
            self.add(
                "wrong-type", ("service", "telemetry"), f"service::telemetry must be a mapping, not {_tname(telemetry)}"
            )
        elif isinstance(telemetry, dict):
            for key in telemetry:
                if key not in ("logs", "metrics", "traces", "resource"):
                    self.add(
                        "unknown-key",
                        ("service", "telemetry", key),
                        f"service::telemetry does not accept {key!r}; accepted keys: logs, metrics, traces, resource",
                    )
        pipelines = service.get("pipelines")
        if pipelines is None or pipelines == {}:
            self.add(
                "no-pipelines",
                ("service", "pipelines") if "pipelines" in service else ("service",),
                "service::pipelines is empty; define at least one pipeline (e.g. metrics: receivers/exporters)",
            )
            return
        if not isinstance(pipelines, dict):
            self.add(
                "wrong-type", ("service", "pipelines"), f"service::pipelines must be a mapping, not {_tname(pipelines)}"
            )
            return
        for pid, pipeline in pipelines.items():
            self.check_pipeline(pid, pipeline)

    def check_ref(self, path, ref, kind, what, also=None) -> bool:
        if not isinstance(ref, str):
            self.add("wrong-type", path, f"a {what} reference must be a string id, not {_tname(ref)}")
            return False
        problem = _id_error(ref)
        if problem:
            self.add("component-id-syntax", path, problem)
            return False
        if ref in self.declared[kind] or (also and ref in self.declared[also]):
            return True
        if ref in self.section(kind) or (also and ref in self.section(also)):
            return False  # declared, but its id already produced a finding
        where = kind if not also else f"{kind} or {also}"
        self.add(
            "undefined-component", path, f"{what} {ref!r} is not declared under {where}; declare it or fix the name"
        )
        return False

    def check_pipeline(self, pid, pipeline):
        path = ("service", "pipelines", pid)
        problem = _id_error(pid)
        if problem:
            self.add("component-id-syntax", path, f"pipeline {problem}")
            return
        signal = _id_parts(pid)[0]
        if signal not in SIGNALS:
            self.add(
                "unknown-signal",
                path,
                f"pipeline {pid!r} names unknown signal {signal!r}; use traces, metrics or logs (optionally /name)",
            )
            return
        if signal == "profiles" and PROFILES_GATE not in self.feature_gates:
            self.add(
                "profiles-feature-gate",
                path,
                f"profiles pipelines need the collector flag --feature-gates={PROFILES_GATE}; "
                "enable the gate (and pass it to the validator) or remove the pipeline",
            )
        if pipeline is not None and not isinstance(pipeline, dict):
            self.add("wrong-type", path, f"pipeline {pid} must be a mapping of receivers/processors/exporters")
            return
        pipeline = pipeline or {}
        lists = {}
        for key, value in pipeline.items():
            if key not in ("receivers", "processors", "exporters"):
                self.add(
                    "unknown-key",
                    (*path, key),
                    f"pipeline {pid} does not accept {key!r}; use receivers, processors, exporters",
                )
                continue
            if value is None:
                lists[key] = []
            elif not isinstance(value, list):
                example = f"[{value}]" if isinstance(value, str) else "[...]"
                self.add("wrong-type", (*path, key), f"{key} must be a list of ids, e.g. {key}: {example}")
                lists[key] = None
            else:
                lists[key] = value
        valid = {}
        for key, kind, also, what in (
            ("receivers", "receivers", "connectors", "receiver"),
            ("processors", "processors", None, "processor"),
            ("exporters", "exporters", "connectors", "exporter"),
        ):
            refs = lists.get(key, [])
            if refs is None:
                valid[key] = None
                continue
            if not refs and key != "processors":
                self.add(
                    "pipeline-no-" + key,
                    path,
                    f"pipeline {pid} has no {key}; list at least one under service::pipelines::{pid}::{key}",
                )
            good, seen = [], set()
            for i, ref in enumerate(refs):
                if key == "processors" and isinstance(ref, str) and ref in seen:
                    self.add(
                        "duplicate-processor",
                        (*path, key, i),
                        f"processor {ref!r} is listed twice in {pid}; remove one",
                    )
                    continue
                seen.add(ref if isinstance(ref, str) else None)
                if self.check_ref((*path, key, i), ref, kind, what, also):
                    good.append((i, ref))
            valid[key] = good
        self.pipelines[pid] = {"signal": signal, **valid}
        for key, kind in (("receivers", "receivers"), ("processors", "processors"), ("exporters", "exporters")):
            for i, ref in valid.get(key) or ():
                real_kind = kind if ref in self.declared[kind] else "connectors"
                self.used[real_kind].add(ref)
                if real_kind == "connectors":
                    continue
                spec = self.spec_for(kind, _id_parts(ref)[0])
                if spec is not None and signal not in spec.signals:
                    self.add(
                        "unsupported-signal",
                        (*path, key, i),
                        f"{ref} does not support {signal}; it handles {', '.join(sorted(spec.signals))} only — "
                        f"move it to a matching pipeline",
                    )
        self.check_processor_order(pid, path, valid)

    def check_processor_order(self, pid, path, valid):
        procs = valid.get("processors")
        receivers = valid.get("receivers")
        if procs is None or receivers is None:
            return
        # A pipeline fed only by connectors inherits the upstream pipeline's protection.
        if receivers and all(ref in self.declared["connectors"] for _i, ref in receivers):
            return
        types = [_id_parts(ref)[0] for _i, ref in procs]
        proc_path = (*path, "processors") if procs else path
        if "memory_limiter" not in types:
            self.add(
                "memory-limiter-missing",
                proc_path,
                f"pipeline {pid} has no memory_limiter; add one as the first processor to shed load before OOM",
            )
        elif types[0] != "memory_limiter":
            i = procs[types.index("memory_limiter")][0]
            self.add(
                "memory-limiter-not-first",
                (*path, "processors", i),
                f"move memory_limiter to the front of {pid}'s processors",
            )
        if "batch" not in types:
            self.add(
                "batch-missing", proc_path, f"pipeline {pid} has no batch processor; add batch after memory_limiter"
            )
        elif "memory_limiter" in types and types.index("batch") < types.index("memory_limiter"):
            i = procs[types.index("batch")][0]
            self.add(
                "batch-before-memory-limiter", (*path, "processors", i), f"in {pid}, put batch after memory_limiter"
            )

    # connectors
    def check_connectors(self):
        for cid in self.declared["connectors"]:
            for kind in ("receivers", "exporters"):
                if cid in self.declared[kind]:
                    self.add(
                        "connector-id-clash",
                        ("connectors", cid),
                        f"{cid!r} is both a {kind[:-1]} and a connector; rename the connector (e.g. {cid}/connector)",
                    )
        as_exporter: dict[str, list] = {}
        as_receiver: dict[str, list] = {}
        for pid, p in self.pipelines.items():
            for key, table in (("exporters", as_exporter), ("receivers", as_receiver)):
                for i, ref in p.get(key) or ():
                    if ref in self.declared["connectors"] and ref not in self.declared[key]:
                        table.setdefault(ref, []).append((pid, i))
        clashing = {
            c for c in self.declared["connectors"] if c in self.declared["receivers"] or c in self.declared["exporters"]
        }
        for cid in self.declared["connectors"]:
            if cid in clashing:
                continue  # which side a reference means is ambiguous: connector-id-clash says so
            same_signal = self.canonical("connectors", _id_parts(cid)[0]) == "forward"
            for side, other, table, other_table in (
                ("exporter", "receiver", as_exporter, as_receiver),
                ("receiver", "exporter", as_receiver, as_exporter),
            ):
                for pid, i in table.get(cid, []):
                    signal = self.pipelines[pid]["signal"]
                    partners = [
                        q
                        for q, _i in other_table.get(cid, [])
                        if not same_signal or self.pipelines[q]["signal"] == signal
                    ]
                    if not partners:
                        need = f"a {signal} pipeline" if same_signal else "another pipeline"
                        self.add(
                            "connector-one-sided",
                            ("service", "pipelines", pid, side + "s", i),
                            f"connector {cid} is used as {side} in {pid} but not as {other} in {need}; "
                            f"add it to the {other}s of {need} or remove it",
                        )
        self.check_cycles(as_exporter, as_receiver)

    def check_cycles(self, as_exporter, as_receiver):
        edges: dict[str, list] = {pid: [] for pid in self.pipelines}
        for cid, exporting in as_exporter.items():
            same_signal = self.canonical("connectors", _id_parts(cid)[0]) == "forward"
            for pid, _i in exporting:
                for qid, _j in as_receiver.get(cid, []):
                    if not same_signal or self.pipelines[pid]["signal"] == self.pipelines[qid]["signal"]:
                        edges[pid].append((qid, cid))
        state: dict[str, int] = {}
        reported = set()

        def visit(pid, trail):
            state[pid] = 1
            for qid, cid in edges[pid]:
                if state.get(qid) == 1:
                    start = next(i for i, (p, _c) in enumerate(trail) if p == qid)
                    cycle = [*trail[start:], (pid, cid)]
                    key = frozenset(p for p, _c in cycle)
                    if key not in reported:
                        reported.add(key)
                        text = " -> ".join(f"{p} --{c}-->" for p, c in cycle) + f" {qid}"
                        self.add(
                            "connector-cycle",
                            ("service", "pipelines", pid, "exporters"),
                            f"connectors form a cycle: {text}; break it by removing one connector use",
                        )
                elif qid not in state:
                    visit(qid, [*trail, (pid, cid)])
            state[pid] = 2

        for pid in edges:
            if pid not in state:
                visit(pid, [])

    # usage
    def check_usage(self):
        referenced = self.referenced_extensions()
        for kind in KINDS:
            for cid in self.declared[kind]:
                if cid in self.used[kind] or (kind == "extensions" and cid in referenced):
                    continue
                where = "service::extensions" if kind == "extensions" else "any pipeline"
                self.add(
                    "unused-component", (kind, cid), f"{cid} is declared but not used in {where}; use it or remove it"
                )

    def component_configs(self, used_only=True):
        """(kind, id, config) for declared components, used ones only by default."""
        for kind in KINDS:
            for cid, cfg in self.declared[kind].items():
                if (cfg is None or isinstance(cfg, dict)) and (not used_only or cid in self.used[kind]):
                    yield kind, cid, cfg or {}

    def extension_refs(self, used_only=True):
        """(path, extension id, what) for auth.authenticator and sending_queue.storage."""
        for kind, cid, cfg in self.component_configs(used_only):
            for path, value in _walk(cfg, (kind, cid)):
                if len(path) >= 2 and path[-2:] == ("auth", "authenticator"):
                    yield path, value, "authenticator"
                elif len(path) >= 2 and path[-2:] == ("sending_queue", "storage"):
                    yield path, value, "storage"

    def referenced_extensions(self) -> set:
        return {ref for _path, ref, _what in self.extension_refs() if isinstance(ref, str)}

    def check_extension_refs(self):
        for path, ref, what in self.extension_refs():
            if not isinstance(ref, str) or isinstance(ref, Unresolved):
                continue
            if ref not in self.declared["extensions"]:
                self.add(
                    "extension-undeclared",
                    path,
                    f"{what} {ref!r} is not declared under extensions; declare it and list it in service::extensions",
                )
            elif ref not in self.enabled_extensions:
                self.add(
                    "extension-not-enabled",
                    path,
                    f"{what} {ref!r} is declared but not listed in service::extensions, so the collector fails at "
                    f"start; add {ref} to service::extensions",
                )

    # listeners
    def default_host(self) -> str:
        return "localhost" if self.version is None or self.version >= LOCALHOST_DEFAULT_SINCE else "0.0.0.0"

    def listeners(self) -> list:
        found: list[_Listener] = []

        def add(path, endpoint, label, default_port=None):
            if isinstance(endpoint, Unresolved):
                return
            implicit = endpoint is None or endpoint == ""
            if implicit:
                if default_port is None:
                    return
                endpoint = f"{self.default_host()}:{default_port}"
            if isinstance(endpoint, str) and "://" in endpoint:
                self.add(
                    "endpoint-scheme",
                    path,
                    f"{label} listens on {endpoint!r}; a listening endpoint is host:port without a URL scheme "
                    f"(e.g. {endpoint.split('://', 1)[1].split('/')[0]})",
                )
                return
            hp = _host_port(endpoint)
            if hp is None:
                self.add(
                    "endpoint-syntax", path, f"{label}: endpoint {endpoint!r} is not host:port (e.g. 0.0.0.0:4317)"
                )
                return
            if hp[1] != 0:
                found.append(_Listener(path, normalise_host(hp[0]), hp[1], label, implicit))

        for kind, cid, cfg in self.component_configs():
            type_ = self.canonical(kind, _id_parts(cid)[0])
            if kind == "extensions" and cid not in self.enabled_extensions:
                continue
            if (kind, type_) == ("receivers", "otlp"):
                protocols = cfg.get("protocols")
                if not isinstance(protocols, dict):
                    continue
                for proto, port in OTLP_DEFAULT_PORTS.items():
                    if proto not in protocols:
                        continue
                    server = protocols[proto] if isinstance(protocols[proto], dict) else {}
                    if server.get("transport") == "unix":
                        continue
                    ppath = ("receivers", cid, "protocols", proto)
                    has_ep = "endpoint" in server
                    add((*ppath, "endpoint") if has_ep else ppath, server.get("endpoint"), f"{cid} ({proto})", port)
            elif (kind, type_) == ("exporters", "prometheus"):
                add((kind, cid, "endpoint"), cfg.get("endpoint"), cid)  # missing: missing-required-key
            elif (kind, type_) in LISTENER_DEFAULT_PORTS:
                has_ep = "endpoint" in cfg
                add(
                    (kind, cid, "endpoint") if has_ep else (kind, cid),
                    cfg.get("endpoint"),
                    cid,
                    LISTENER_DEFAULT_PORTS[(kind, type_)],
                )
        self.telemetry_listeners(add)
        return found

    def telemetry_listeners(self, add):
        service = self.data.get("service")
        telemetry = service.get("telemetry") if isinstance(service, dict) else None
        metrics = telemetry.get("metrics") if isinstance(telemetry, dict) else None
        base = ("service", "telemetry", "metrics")
        if not isinstance(metrics, dict):
            add(
                ("service",) if not isinstance(telemetry, dict) else ("service", "telemetry"),
                None,
                "service telemetry (default)",
                8888,
            )
            return
        if str(metrics.get("level", "")).lower() == "none":
            return
        if "address" in metrics:
            if self.version is None or self.version >= TELEMETRY_ADDRESS_REMOVED:
                self.add(
                    "removed-setting",
                    (*base, "address"),
                    f"service::telemetry::metrics::address is ignored since {_fmt_version(TELEMETRY_ADDRESS_REMOVED)} "
                    "and rejected by current collectors; use readers: [{pull: {exporter: {prometheus: "
                    "{host: <host>, port: <port>}}}}]",
                )
            else:
                add((*base, "address"), metrics.get("address"), "service telemetry")
            return
        readers = metrics.get("readers")
        if not isinstance(readers, list):
            add(base, None, "service telemetry (default)", 8888)
            return
        for i, reader in enumerate(readers):
            prom = _dig(reader, "pull", "exporter", "prometheus")
            if not isinstance(prom, dict):
                continue
            host, port = prom.get("host", "localhost"), prom.get("port")
            if isinstance(host, Unresolved) or isinstance(port, Unresolved) or _number(port) is None:
                continue
            host = str(host)
            endpoint = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            add((*base, "readers", i, "pull", "exporter", "prometheus"), endpoint, "service telemetry")

    def check_listeners(self):
        seen: list[_Listener] = []
        for lst in self.listeners():
            for other in seen:
                if other.port == lst.port and ("*" in (other.host, lst.host) or other.host == lst.host):
                    # Report on the listener written in the file, the later one if both are.
                    here, there = (other, lst) if lst.implicit and not other.implicit else (lst, other)
                    default = " by default" if there.implicit else ""
                    self.add(
                        "port-conflict",
                        here.path,
                        f"{here.label} and {there.label} (line {self.line_of(there.path)}) both listen on port "
                        f"{here.port}{default}; give one of them another port",
                    )
                    break
            seen.append(lst)
        self._listeners = seen

    # security
    def check_security(self):
        for lst in self._listeners:
            if _is_loopback(lst.host):
                continue
            kind, cid = lst.path[0], lst.path[1] if len(lst.path) > 1 else ""
            type_ = _id_parts(str(cid))[0]
            if kind == "extensions" and type_ in ("pprof", "zpages"):
                self.add(
                    "debug-endpoint-exposed",
                    lst.path,
                    f"{cid} exposes debugging data on {lst.host if lst.host != '*' else 'all interfaces'}; "
                    "bind it to 127.0.0.1",
                )
            if kind == "receivers" and len(lst.path) >= 4 and lst.path[2] == "protocols":
                server = _dig(self.data, "receivers", cid, "protocols", lst.path[3])
                server = server if isinstance(server, dict) else {}
                where = "all interfaces" if lst.host == "*" else lst.host
                if not _is_set(server.get("tls")):
                    self.add(
                        "receiver-no-tls",
                        lst.path,
                        f"{lst.label} listens on {where} without tls; add tls::cert_file/key_file or bind to "
                        "127.0.0.1 behind a TLS proxy",
                    )
                if not _is_set(server.get("auth")):
                    self.add(
                        "receiver-no-auth",
                        lst.path,
                        f"{lst.label} listens on {where} without auth; add auth::authenticator "
                        "(e.g. bearertokenauth) or bind to 127.0.0.1",
                    )
        for kind, cid, _cfg in self.component_configs(used_only=False):
            for path, value in _walk(_dig(self.raw, kind, cid), (kind, cid)):
                if path[-1] in ("insecure", "insecure_skip_verify") and len(path) >= 2 and path[-2] == "tls":
                    if value is True or (isinstance(value, str) and value.lower() == "true"):
                        self.add(
                            "tls-insecure",
                            path,
                            f"{cid}: tls::{path[-1]} turns off transport security; use TLS with a CA (tls::ca_file)",
                        )
                elif _is_literal_secret(path, value):
                    self.add(
                        "literal-secret",
                        path,
                        f"{cid}: {'::'.join(map(str, path[2:]))} holds a literal secret; use ${{env:NAME}} or "
                        "${file:/path} and keep the value out of the file",
                    )


def _is_literal_secret(path, value) -> bool:
    if not isinstance(value, str) or not value or "${" in value:
        return False
    keys = [p for p in path if isinstance(p, str)]
    last = keys[-1] if keys else ""
    if last in SECRET_KEYS:
        return True
    # headers: {Authorization: ...} or headers: [{name: Authorization, value: ...}]
    return bool("headers" in keys[:-1] and keys.index("headers") == len(keys) - 2 and SECRET_HEADER_RE.search(last))


def _walk(value, path):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if (
                isinstance(v, dict)
                and path
                and path[-1] == "headers"
                and isinstance(v.get("name"), str)
                and "value" in v
            ):
                yield (*path, v["name"]), v["value"]
            else:
                yield from _walk(v, (*path, i))
    else:
        yield path, value


def _dig(value, *keys):
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _tname(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return f"the string {str(value)[:40]!r}"


# --- public API ------------------------------------------------------------------


def _finish(findings, ignore) -> Result:
    ignore = set(ignore or ())
    result = Result()
    unique = list(dict.fromkeys(f for f in findings if f.rule not in ignore))
    unique.sort(key=lambda f: (f.line or 0, f.path, f.rule))
    for f in unique:
        (result.errors if f.severity == ERROR else result.warnings).append(f)
    return result


def validate(
    content,
    *,
    env: dict | None = None,
    version=None,
    feature_gates=(),
    ignore=(),
) -> Result:
    """Validate collector configuration text.

    ``env``: the environment the collector will run with (None: unknown).
    ``version``: target collector version ("0.155.0"), None for current.
    ``ignore``: rule ids to drop from the result.
    """
    if yaml is None:
        raise ImportError(f"otelcol_validate needs PyYAML: {YAML_IMPORT_ERROR}")
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            return _finish([Finding("yaml-syntax", ERROR, "", None, f"the file is not UTF-8: {exc}")], ignore)
    if not isinstance(content, str):
        raise TypeError("content must be str or bytes")
    vtuple = parse_version(version)
    try:
        data, lines = load_yaml(content)
    except _YamlError as exc:
        return _finish([Finding(exc.rule, RULES[exc.rule][0], exc.path, exc.line, exc.message)], ignore)
    return validate_data(data, lines=lines, env=env, version=vtuple, feature_gates=feature_gates, ignore=ignore)


def validate_data(data, *, lines=None, env=None, version=None, feature_gates=(), ignore=()) -> Result:
    """Validate an already parsed configuration (``lines`` as from load_yaml)."""
    if isinstance(version, str):
        version = parse_version(version)
    if data is None or data == {}:
        return _finish(
            [
                Finding(
                    "empty-config",
                    ERROR,
                    "",
                    1,
                    "the configuration is empty; add receivers, exporters and service::pipelines",
                )
            ],
            ignore,
        )
    checker = _Checker(data, lines or {}, env, version, feature_gates)
    checker.run()
    return _finish(checker.findings, ignore)


def validate_file(path, **kwargs) -> Result:
    with open(path, "rb") as handle:
        return validate(handle.read(), **kwargs)


# --- the collector binary ------------------------------------------------------------

_BINARY_PATH_RE = re.compile(
    r"((?:receivers|processors|exporters|connectors|extensions|service)::[^\s:'\"]+(?:::[^\s:'\"]+)*)"
)


def run_binary(binary, config_path, env=None, timeout=120) -> Finding | None:
    """Run ``<binary> validate --config=<config_path>`` with ``env`` (None:
    this process's environment). Returns a binary-validate finding, or None
    when the binary accepts the configuration. Raises OSError when the binary
    cannot be run."""
    run_env = dict(os.environ) if env is None else {k: str(v) for k, v in env.items()}
    proc = subprocess.run(
        [binary, "validate", f"--config={config_path}"],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode == 0:
        return None
    text = (proc.stderr or proc.stdout or "").strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    # The last lines carry the error; earlier ones are logs.
    message = " ".join(ln.strip() for ln in lines[-6:]) or f"exit status {proc.returncode}"
    match = _BINARY_PATH_RE.search(message)
    return Finding(
        "binary-validate",
        ERROR,
        match.group(1) if match else "",
        None,
        f"{os.path.basename(binary)} validate failed: {message[:2000]}",
    )


def validate_with_binary(result: Result, binary, content, env=None, lines=None) -> Result:
    """Merge the binary's verdict into ``result`` (content is the config text)."""
    fd, tmp = tempfile.mkstemp(prefix="otelcol-validate-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content if isinstance(content, str) else content.decode("utf-8", "replace"))
        finding = run_binary(binary, tmp, env)
    finally:
        os.unlink(tmp)
    if finding is not None:
        if finding.path and lines:
            key = tuple(finding.path.split("::"))
            while key and key not in lines:
                key = key[:-1]
            if key:
                finding = Finding(finding.rule, finding.severity, finding.path, lines[key], finding.message)
        result.errors.append(finding)
    return result


def check(
    content,
    *,
    env=None,
    version=None,
    feature_gates=(),
    ignore=(),
    binary=None,
) -> Result:
    """validate() plus, when ``binary`` is given, the collector's own verdict."""
    result = validate(content, env=env, version=version, feature_gates=feature_gates, ignore=ignore)
    if binary and "binary-validate" not in set(ignore or ()):
        lines = None
        with contextlib.suppress(_YamlError):
            lines = load_yaml(content if isinstance(content, str) else content.decode("utf-8", "replace"))[1]
        validate_with_binary(result, binary, content, env, lines)
    return result


# --- command line ------------------------------------------------------------------------


def build_env(env_files=(), pairs=(), base=None) -> dict | None:
    """The environment from env files then NAME=VALUE pairs; None if none given."""
    if not env_files and not pairs and base is None:
        return None
    env = dict(base or {})
    for path in env_files:
        with open(path, encoding="utf-8") as handle:
            try:
                env.update(parse_env_file(handle.read()))
            except EnvFileError as exc:
                raise EnvFileError(f"{path}: {exc}") from None
    env.update(parse_env_pairs(pairs))
    return env


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="otelcol-validate",
        description="Validate OpenTelemetry Collector configuration files without the collector.",
        epilog="Exit status: 0 valid, 1 errors (or warnings with --strict), 2 usage or unreadable input.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="configuration file ('-' for stdin)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="environment variable")
    parser.add_argument("--env-file", action="append", default=[], metavar="PATH", help="systemd EnvironmentFile")
    parser.add_argument("--strict", action="store_true", help="warnings count as errors")
    parser.add_argument("--binary", metavar="PATH", help="also run '<PATH> validate --config=FILE'")
    parser.add_argument("--version", dest="collector_version", metavar="VERSION", help="target collector version")
    parser.add_argument("--feature-gate", action="append", default=[], metavar="GATE", help="enabled feature gate")
    parser.add_argument("--ignore", action="append", default=[], metavar="RULE", help="rule id to skip")
    parser.add_argument("--json", action="store_true", help="print a JSON document")
    args = parser.parse_args(argv)
    try:
        env = build_env(args.env_file, args.env)
        parse_version(args.collector_version)
    except (OSError, ValueError) as exc:
        _err(f"otelcol-validate: {exc}")
        return 2
    unknown = [r for r in args.ignore if r not in RULES]
    if unknown:
        _err(f"otelcol-validate: unknown rule id(s): {', '.join(unknown)}")
        return 2
    status, report = 0, {}
    for name in args.files:
        try:
            if name == "-":
                content = sys.stdin.read()
            else:
                with open(name, encoding="utf-8") as handle:
                    content = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            _err(f"otelcol-validate: {name}: {exc}")
            return 2
        try:
            result = check(
                content,
                env=env,
                version=args.collector_version,
                feature_gates=args.feature_gate,
                ignore=args.ignore,
                binary=args.binary,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            _err(f"otelcol-validate: cannot run {args.binary}: {exc}")
            return 2
        if not result.ok(args.strict):
            status = 1
        report[name] = result.as_dict()
        if not args.json:
            for f in result.errors + result.warnings:
                where = f"{name}:{f.line}" if f.line else name
                _out(f"{where}: {f.rule}: {f.severity}: {f.message}" + (f" [{f.path}]" if f.path else ""))
    if args.json:
        _out(json.dumps(report if len(args.files) > 1 else report[args.files[0]], indent=2))
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
