# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rule family: typed settings, checked against the generated catalogue.

Each component's configuration is walked as the collector's confmap decodes it
(go-viper/mapstructure with WeaklyTypedInput off, see confmap/internal/decoder.go):
no unused keys, no string where a number or boolean is expected, Go durations,
integers in range, the words an enum accepts. The catalogue (catalogue.py) is
generated from the Go config structs; nothing here knows a component by name.
"""

from __future__ import annotations

import datetime
import difflib
import math
import re

from .catalogue import COMPONENTS as CATALOGUE
from .catalogue import TELEMETRY
from .findings import WARNING, Unresolved
from .values import _tname, parse_duration

_INT_RANGE = {8: 2**7, 16: 2**15, 32: 2**31, 64: 2**63}


def catalogue_node(kind, type_):
    """The catalogue node of a component type, or None."""
    return CATALOGUE.get(kind, {}).get(type_)


def _scalar_name(value) -> str:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return "a timestamp"
    return _tname(value)


class SettingsRules:
    """Typed settings of every component and of service::telemetry (a _Checker mixin)."""

    def check_settings(self, path, node, value, what):
        """Check ``value`` at ``path`` against catalogue ``node``; ``what`` names it in messages."""
        if node.get("nonempty") and (value is None or value == ""):
            self.add("missing-required-key", path, f"{what} must not be empty; set a value or remove the key")
            return
        if value is None or isinstance(value, Unresolved):
            return  # null decodes to the zero value; unresolved references are checked elsewhere
        kind = node["k"]
        check = self._SETTING_CHECKS.get(kind)
        if check is not None:
            check(self, path, node, value, what)

    def _disabled(self, path) -> bool:
        """Inside a section turned off with enabled: false (its Validate() does not run)."""
        return any(tuple(path[:i]) in self._off for i in range(len(path)))

    def _check_struct(self, path, node, value, what):
        if not isinstance(value, dict):
            self.add("wrong-type", path, f"{what} must be a mapping, not {_scalar_name(value)}")
            return
        if value.get("enabled") is False:
            self._off.add(tuple(path))
        fields = node.get("f", {})
        for key, sub in value.items():
            if key in fields:
                self.check_settings((*path, key), fields[key], sub, f"{what}::{key}")
            elif key == "enabled" and node.get("opt"):
                self.check_settings((*path, key), {"k": "bool"}, sub, f"{what}::{key}")
            elif not node.get("remain"):
                close = difflib.get_close_matches(str(key), list(fields), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                known = ", ".join(sorted(fields)) or "none"
                if node.get("lax"):  # the component decodes with WithIgnoreUnused: a silent no-op
                    self.add(
                        "unknown-key",
                        (*path, key),
                        f"{what} ignores {key!r}, which it does not know; {hint}accepted keys: {known}",
                        severity=WARNING,
                    )
                else:
                    self.add(
                        "unknown-key", (*path, key), f"{what} does not accept {key!r}; {hint}accepted keys: {known}"
                    )
        rule = _TYPE_RULES.get(node.get("struct"))
        if rule is not None and value.get("enabled") is not False:
            rule(self, path, node, value, what)

    def _check_map(self, path, node, value, what):
        if not isinstance(value, dict):
            self.add("wrong-type", path, f"{what} must be a mapping, not {_scalar_name(value)}")
            return
        elem = node.get("e", {"k": "any"})
        for key, sub in value.items():
            self.check_settings((*path, key), elem, sub, f"{what}::{key}")

    def _check_list(self, path, node, value, what):
        elem = node.get("e", {"k": "any"})
        if isinstance(value, str) and node.get("split"):
            return  # confmap splits a string on commas (StringToSliceHookFunc)
        if isinstance(value, dict) and node.get("custom"):
            return  # a list type with its own Unmarshal (configopaque.MapList takes a mapping too)
        if not isinstance(value, list):
            self.add("wrong-type", path, f"{what} must be a list, not {_scalar_name(value)}")
            return
        for i, sub in enumerate(value):
            self.check_settings((*path, i), elem, sub, f"{what}[{i}]")

    def _check_duration(self, path, node, value, what):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.add("wrong-type", path, f"{what} must be a duration such as 5s, not {_scalar_name(value)}")
            return
        seconds = parse_duration(value)
        minimum = node.get("min")  # nanoseconds: 0 (not negative) or 1 (positive)
        if seconds is not None and minimum is not None and seconds * 1e9 < minimum and not self._disabled(path):
            self.add(
                "invalid-value",
                path,
                f"{what} must be {'positive' if minimum > 0 else 'zero or more'} (the component refuses {value!r})",
            )
        elif isinstance(value, str) and seconds is None:
            self.add(
                "invalid-value",
                path,
                f"{what}: {value!r} is not a Go duration; write a number with a unit (ns, us, ms, s, m, h), "
                "e.g. 500ms, 5s, 1m30s",
            )

    def _check_bool(self, path, node, value, what):
        if not isinstance(value, bool):
            hint = " (write true or false, unquoted)" if isinstance(value, str) else ""
            self.add("wrong-type", path, f"{what} must be a boolean, not {_scalar_name(value)}{hint}")

    def _check_number(self, path, node, value, what):
        kind = node["k"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            hint = " (remove the quotes)" if isinstance(value, str) and value.strip().lstrip("-").isdigit() else ""
            self.add("wrong-type", path, f"{what} must be a number, not {_scalar_name(value)}{hint}")
            return
        if kind == "float":
            return
        if kind == "uint" and value < 0:
            self.add("invalid-value", path, f"{what} must not be negative ({value})")
            return
        bits = node.get("bits", 64)
        low, high = (0, 2**bits) if kind == "uint" else (-_INT_RANGE[bits], _INT_RANGE[bits])
        if not low <= value < high:
            self.add(
                "int-overflow",
                path,
                f"{what}: {value} does not fit a {bits}-bit {'unsigned ' if kind == 'uint' else ''}integer; "
                "the collector would silently wrap it to another number",
            )
            return
        minimum = node.get("min")
        if minimum is not None and value < minimum and not self._disabled(path):
            self.add("invalid-value", path, f"{what} must be at least {minimum} (the component refuses {value})")

    def _check_string(self, path, node, value, what):
        if "int" in node.get("base", "string") and isinstance(value, (int, float)) and not isinstance(value, bool):
            # A text type over an integer (configtelemetry.Level) also decodes from a number.
            nums = node.get("nums")
            if nums and not (_finite(value) and int(value) in nums):
                self.add("invalid-value", path, f"{what}: {value} is not accepted; write one of {node.get('enum')}")
            return
        if not isinstance(value, str) and tuple(path) in self.expanded and node.get("base", "string") == "string":
            value = str(value)  # ${env:PORT} expanding to 4317 still decodes into a string setting as "4317"
        if not isinstance(value, str):
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            hint = f" (quote it: '{value}')" if number else ""
            self.add("wrong-type", path, f"{what} must be a string, not {_scalar_name(value)}{hint}")
            return
        enum = node.get("enum")
        if enum:
            folded = value.lower() if node.get("fold") else value
            accepted = [w.lower() for w in enum] if node.get("fold") else enum
            if folded not in accepted:
                shown = ", ".join(repr(w) for w in enum if w) or "none"
                self.add("invalid-value", path, f"{what}: {value!r} is not one of {shown}")

    _SETTING_CHECKS = {  # noqa: RUF012 - a dispatch table, never mutated
        "struct": _check_struct,
        "map": _check_map,
        "list": _check_list,
        "duration": _check_duration,
        "bool": _check_bool,
        "int": _check_number,
        "uint": _check_number,
        "float": _check_number,
        "string": _check_string,
        "text": _check_string,
    }

    def check_telemetry_settings(self, telemetry):
        if TELEMETRY is None:
            return
        metrics = telemetry.get("metrics")
        if isinstance(metrics, dict) and "address" in metrics:
            # metrics::address is the removed-setting rule's (and valid before v0.123).
            telemetry = {**telemetry, "metrics": {k: v for k, v in metrics.items() if k != "address"}}
        self.check_settings(("service", "telemetry"), TELEMETRY, telemetry, "service::telemetry")


# --- Validate() rules of shared config types ----------------------------------------
# Transcribed from the collector's sources (v0.155.0 module paths given); keyed by
# the Go type the catalogue records for a struct, so they apply wherever the type
# is used. Each takes the checker, the path, the mapping and its label.


def _set(cfg, *keys):
    return any(cfg.get(k) not in (None, "") for k in keys)


def _tls_pair(self, path, cfg, what):
    # config/configtls Config.Validate: a certificate needs its key and back.
    if _set(cfg, "cert_file", "cert_pem") != _set(cfg, "key_file", "key_pem"):
        self.add(
            "conflicting-keys",
            path,
            f"{what} sets a certificate without its key or a key without its certificate; set both "
            "(cert_file/cert_pem and key_file/key_pem) or neither",
        )
        return True
    return False


def _tls_server(self, path, node, cfg, what):
    # config/configtls ServerConfig.Validate: a server needs a certificate and key.
    _tls_versions(self, path, cfg, what)
    if not _tls_pair(self, path, cfg, what) and not _set(cfg, "cert_file", "cert_pem"):
        self.add(
            "missing-required-key",
            path,
            f"{what}: a TLS server needs cert_file (or cert_pem) and key_file (or key_pem); add them or remove tls",
        )


def _tls_client(self, path, node, cfg, what):
    _tls_pair(self, path, cfg, what)
    _tls_versions(self, path, cfg, what)


_TLS_VERSIONS = ("1.0", "1.1", "1.2", "1.3")


def _tls_versions(self, path, cfg, what):
    # config/configtls Config.Validate: min_version must not exceed max_version.
    low, high = cfg.get("min_version"), cfg.get("max_version")
    if low in _TLS_VERSIONS and high in _TLS_VERSIONS and _TLS_VERSIONS.index(low) > _TLS_VERSIONS.index(high):
        self.add(
            "conflicting-keys",
            (*path, "min_version"),
            f"{what}: min_version {low} is above max_version {high}; lower min_version or raise max_version",
        )


def _duration_of(cfg, key, default):
    value = cfg.get(key, default)
    return parse_duration(value) if not isinstance(value, Unresolved) else None


def _finite(value) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _int_of(cfg, key, default):
    value = cfg.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
        return None  # int() refuses inf and nan; the type rules report them
    return int(value)


def _queue(self, path, node, cfg, what):
    # exporter/exporterhelper/internal/queuebatch/config.go Config.Validate and BatchConfig.Validate.
    if _set(cfg, "storage") and cfg.get("wait_for_result") is True:
        self.add(
            "conflicting-keys",
            (*path, "wait_for_result"),
            f"{what}: wait_for_result is not supported with a persistent queue (storage); drop one of them",
        )
    if node.get("absent"):
        # No default queue (the prometheus exporter): a given one starts from zero values.
        for key in ("num_consumers", "queue_size"):
            if key not in cfg:
                self.add(
                    "missing-required-key",
                    path,
                    f"{what} needs a positive {key} here (this component has no default queue)",
                )
    batch = cfg.get("batch")
    if not isinstance(batch, dict):
        return
    batch_node = node.get("f", {}).get("batch", {})
    if node.get("absent") or batch_node.get("absent"):
        # No default batch (the prometheus exporter): a given one starts from zero values.
        sizer = batch.get("sizer")
        if sizer not in ("items", "bytes") and not isinstance(sizer, Unresolved):
            self.add(
                "missing-required-key" if sizer is None else "invalid-value",
                (*path, "batch"),
                f"{what}::batch needs sizer: items or bytes here (this component has no default batch)",
            )
        if "flush_timeout" not in batch:
            self.add(
                "missing-required-key",
                (*path, "batch"),
                f"{what}::batch needs a positive flush_timeout here (this component has no default batch)",
            )
    flush = _duration_of(batch, "flush_timeout", "200ms")
    if flush is not None and flush <= 0:
        self.add("invalid-value", (*path, "batch", "flush_timeout"), f"{what}::batch: flush_timeout must be positive")
    low, high = _int_of(batch, "min_size", 8192), _int_of(batch, "max_size", 0)
    if low is not None and high is not None and 0 < high < low:
        self.add(
            "invalid-value",
            (*path, "batch", "max_size"),
            f"{what}::batch: max_size ({high}) must be at least min_size ({low}"
            f"{'' if 'min_size' in batch else ', the default'})",
        )
    queue_size = _int_of(cfg, "queue_size", 1000)
    same_sizer = batch.get("sizer", "items") == cfg.get("sizer", "requests")
    if same_sizer and low is not None and queue_size is not None and low > queue_size > 0:
        self.add(
            "invalid-value",
            (*path, "batch", "min_size"),
            f"{what}::batch: min_size ({low}) must not exceed the queue_size ({queue_size}) of the same sizer",
        )


def _timeout(self, path, node, cfg, what):
    # exporter/exporterhelper TimeoutConfig.Validate: timeout must be non-negative.
    seconds = _duration_of(cfg, "timeout", "5s")
    if seconds is not None and seconds < 0:
        self.add("invalid-value", (*path, "timeout"), f"{what}: timeout must not be negative")


_GRPC_PORT_RE = re.compile(r"[+-]?[0-9]+")


def grpc_target_problem(endpoint) -> str | None:
    """config/configgrpc ClientConfig.Validate: why ``endpoint`` is not a gRPC target, or None."""
    if not isinstance(endpoint, str) or isinstance(endpoint, Unresolved) or endpoint == "":
        return None
    if endpoint.startswith("unix://"):
        return None if endpoint[len("unix://") :] else "the unix socket path is empty"
    for prefix in ("http://", "https://", "dns:///", "dns://"):
        if endpoint.startswith(prefix):
            endpoint = endpoint[len(prefix) :]
            break
    if endpoint.startswith("["):
        host, sep, rest = endpoint[1:].partition("]")
        if not sep or not rest.startswith(":"):
            return "missing port in address"
        port = rest[1:]
    else:
        host, sep, port = endpoint.rpartition(":")
        if not sep:
            return "missing port in address"
        if ":" in host:
            return "too many colons in address"
    if not _GRPC_PORT_RE.fullmatch(port):  # strconv.Atoi's syntax: ASCII digits, one optional sign
        return f"invalid port {port!r}"
    return None


def _grpc_exporter(self, path, node, cfg, what):
    _timeout(self, path, node, cfg, what)
    endpoint = cfg.get("endpoint")
    if isinstance(endpoint, (int, float)) and (*path, "endpoint") in self.expanded:
        endpoint = str(endpoint)  # ${env:PORT} expanded to a number: still the endpoint's text
    problem = grpc_target_problem(endpoint)
    if problem:
        self.add(
            "invalid-value",
            (*path, "endpoint"),
            f"{what}: endpoint {endpoint!r}: {problem}; write host:port (e.g. collector:4317)",
        )


def _backoff(self, path, node, cfg, what):
    # config/configretry BackOffConfig.Validate (when enabled, the default).
    if cfg.get("enabled") is False:
        return
    for key in ("initial_interval", "max_interval", "max_elapsed_time"):
        seconds = _duration_of(cfg, key, None)
        if seconds is not None and seconds < 0:
            self.add("invalid-value", (*path, key), f"{what}: {key} must not be negative")
    factor, multiplier = cfg.get("randomization_factor"), cfg.get("multiplier")
    if isinstance(factor, (int, float)) and not isinstance(factor, bool) and not 0 <= factor <= 1:
        self.add("invalid-value", (*path, "randomization_factor"), f"{what}: randomization_factor must be in [0, 1]")
    if isinstance(multiplier, (int, float)) and not isinstance(multiplier, bool) and multiplier < 0:
        self.add("invalid-value", (*path, "multiplier"), f"{what}: multiplier must not be negative")
    elapsed = _duration_of(cfg, "max_elapsed_time", "5m")
    for key, default in (("initial_interval", "5s"), ("max_interval", "30s")):
        seconds = _duration_of(cfg, key, default)
        if elapsed and seconds is not None and 0 < elapsed < seconds:
            self.add(
                "invalid-value",
                (*path, "max_elapsed_time"),
                f"{what}: max_elapsed_time must not be less than {key}",
            )


_TYPE_RULES = {
    "configretry.BackOffConfig": _backoff,
    "configtls.ServerConfig": _tls_server,
    "configtls.ClientConfig": _tls_client,
    "queuebatch.Config": _queue,
    "otlpexporter.Config": _grpc_exporter,
    "otlphttpexporter.Config": _timeout,
}
