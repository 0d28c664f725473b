# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rule family: per-component settings (Validate() rules of single components)."""

from __future__ import annotations

import typing

from .components import OTLP_DEFAULT_PORTS
from .findings import Unresolved
from .values import _is_set, _number, parse_duration


def _uint32(value):
    number = _number(value)
    return number if number is None or 0 <= number < 2**32 else None


class ComponentRules:
    """Per-component settings: each component's own Validate() rules (a _Checker mixin)."""

    def check_otlp_receiver(self, path, cid, cfg):
        protocols = cfg.get("protocols")
        if isinstance(protocols, dict) and not any(k in protocols for k in OTLP_DEFAULT_PORTS):
            self.add(
                "missing-required-key",
                (*path, "protocols"),
                f"{cid} must enable at least one protocol: add protocols::grpc and/or protocols::http",
            )

    def check_memory_limiter(self, path, cid, cfg):
        self.check_memory_limiter_gc(path, cid, cfg)
        interval = parse_duration(cfg.get("check_interval"))
        if isinstance(cfg.get("check_interval"), Unresolved):
            pass
        elif interval is None or interval <= 0:
            self.add(
                "memory-limiter-check-interval",
                (*path, "check_interval") if "check_interval" in cfg else path,
                f"{cid} needs a positive check_interval (e.g. check_interval: 1s)",
            )
        # The four limits are uint32: a value beyond that is the int-overflow rule's.
        limit_mib, limit_pct, spike_mib, spike_pct = (
            _uint32(cfg.get(k)) for k in ("limit_mib", "limit_percentage", "spike_limit_mib", "spike_limit_percentage")
        )
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

    def check_memory_limiter_gc(self, path, cid, cfg):
        # processor/memorylimiterprocessor (internal/memorylimiter/config.go) Validate.
        soft = parse_duration(cfg.get("min_gc_interval_when_soft_limited", "10s"))
        hard = parse_duration(cfg.get("min_gc_interval_when_hard_limited", "0s"))
        if soft is not None and hard is not None and soft < hard:
            self.add(
                "invalid-value",
                (*path, "min_gc_interval_when_soft_limited"),
                f"{cid}: min_gc_interval_when_soft_limited must not be below min_gc_interval_when_hard_limited",
            )

    def check_transform(self, path, cid, cfg):
        # processor/transformprocessor config.go Validate: flatten_data needs a feature gate.
        gate = "transform.flatten.logs"
        if cfg.get("flatten_data") is True and gate not in self.feature_gates:
            self.add(
                "invalid-value",
                (*path, "flatten_data"),
                f"{cid}: flatten_data needs --feature-gates={gate}; enable it (and pass it to the validator) or remove "
                "flatten_data",
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
        # processor/batchprocessor/config.go Validate: metadata_keys unique regardless of case.
        keys = cfg.get("metadata_keys")
        seen = set()
        for i, key in enumerate(keys if isinstance(keys, list) else ()):
            if isinstance(key, str) and key.lower() in seen:
                self.add(
                    "invalid-value",
                    (*path, "metadata_keys", i),
                    f"{cid}: metadata_keys lists {key!r} twice (keys are compared case-insensitively); remove one",
                )
            seen.add(key.lower() if isinstance(key, str) else key)
        timeout = parse_duration(cfg.get("timeout"))
        if timeout is not None and timeout < 0:
            self.add("invalid-value", (*path, "timeout"), f"{cid}: timeout must not be negative")

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

    def check_file_exporter(self, path, cid, cfg):
        # exporter/fileexporter/config.go Validate: zstd is the only compression.
        compression = cfg.get("compression")
        if isinstance(compression, str) and not isinstance(compression, Unresolved) and compression not in ("", "zstd"):
            self.add(
                "invalid-value",
                (*path, "compression"),
                f"{cid}: compression {compression!r} is not supported; the file exporter knows only zstd",
            )

        # ... and json or proto as format (its zero value "" is refused too).
        if "format" in cfg and not isinstance(cfg["format"], Unresolved) and cfg["format"] not in ("json", "proto"):
            self.add("invalid-value", (*path, "format"), f"{cid}: format must be json or proto")

    def check_health_check(self, path, cid, cfg):
        # extension/healthcheckextension config.go: the v2 fields need a feature gate.
        gate = "extension.healthcheck.useComponentStatus"
        for key in ("http", "grpc"):
            if key in cfg and gate not in self.feature_gates:
                self.add(
                    "unknown-key",
                    (*path, key),
                    f"{cid}: {key} is a v2 health_check setting that needs --feature-gates=+{gate}; remove it or "
                    "enable the gate (and pass it to the validator)",
                )

    def check_signal_to_metrics(self, path, cid, cfg):
        # The connector's own Validate(): every metric has a name, exactly one
        # metric type with its value expression, and attributes naming exactly
        # one of key / keys_expression, without repeats.
        kinds = ("sum", "gauge", "histogram", "exponential_histogram")
        entry_keys = {"name", "description", "unit", "include_resource_attributes", "attributes", "conditions", *kinds}
        for signal in ("spans", "datapoints", "logs", "profiles"):
            metrics = cfg.get(signal)
            if metrics is None:
                continue
            if not isinstance(metrics, list):
                self.add("wrong-type", (*path, signal), f"{cid}::{signal} must be a list of metric definitions")
                continue
            for i, metric in enumerate(metrics):
                where = (*path, signal, i)
                if not isinstance(metric, dict):
                    self.add("wrong-type", where, f"{cid}::{signal}[{i}] must be a mapping")
                    continue
                name = metric.get("name")
                label = f"{cid}::{signal}[{i}]" + (f" ({name})" if isinstance(name, str) and name else "")
                self.check_keys(
                    where, {k: v for k, v in metric.items() if k not in kinds}, dict.fromkeys(entry_keys), label
                )
                if not isinstance(name, str) or not name:
                    self.add("missing-required-key", where, f"{label} requires a metric name; add name")
                defined = [k for k in kinds if metric.get(k) is not None]
                if len(defined) != 1:
                    self.add(
                        "missing-required-key" if not defined else "conflicting-keys",
                        where,
                        f"{label} must define exactly one of {', '.join(kinds)}, found {len(defined)}",
                    )
                for kind in defined:
                    body = metric[kind]
                    if not isinstance(body, dict):
                        self.add("wrong-type", (*where, kind), f"{label}: {kind} must be a mapping")
                        continue
                    accepted = {
                        "sum": ("value", "monotonic"),
                        "gauge": ("value",),
                        "histogram": ("buckets", "count", "value"),
                        "exponential_histogram": ("max_size", "count", "value"),
                    }[kind]
                    self.check_keys((*where, kind), body, dict.fromkeys(accepted), f"{label}::{kind}")
                    if not _is_set(body.get("value")):
                        self.add("missing-required-key", (*where, kind), f"{label}: {kind} requires a value expression")
                    if kind == "histogram" and "buckets" in body and not body.get("buckets"):
                        self.add("invalid-value", (*where, kind, "buckets"), f"{label}: histogram buckets are empty")
                for akey in ("attributes", "include_resource_attributes"):
                    self.check_metric_attributes((*where, akey), metric.get(akey), f"{label}::{akey}")

    def check_metric_attributes(self, path, attrs, label):
        if attrs is None:
            return
        if not isinstance(attrs, list):
            self.add("wrong-type", path, f"{label} must be a list")
            return
        seen = set()
        for j, attr in enumerate(attrs):
            if not isinstance(attr, dict):
                self.add("wrong-type", (*path, j), f"{label}[{j}] must be a mapping with key")
                continue
            self.check_keys(
                (*path, j), attr, dict.fromkeys(("key", "keys_expression", "optional", "default_value")), label
            )
            if _is_set(attr.get("key")) == _is_set(attr.get("keys_expression")):
                self.add("conflicting-keys", (*path, j), f"{label}[{j}]: set exactly one of key or keys_expression")
            if attr.get("optional") and attr.get("default_value") is not None:
                self.add(
                    "conflicting-keys", (*path, j), f"{label}[{j}]: set either default_value or optional, not both"
                )
            key = attr.get("key")
            if not isinstance(key, str):
                continue  # the typed-settings rules report a key that is not text (a list is not hashable)
            if key in seen:
                self.add("invalid-value", (*path, j, "key"), f"{label}: attribute {key!r} is listed twice")
            seen.add(key)

    TYPE_CHECKS: typing.ClassVar[dict] = {
        ("receivers", "otlp"): check_otlp_receiver,
        ("processors", "memory_limiter"): check_memory_limiter,
        ("processors", "batch"): check_batch,
        ("processors", "transform"): check_transform,
        ("exporters", "debug"): check_debug,
        ("exporters", "otlphttp"): check_otlphttp,
        ("exporters", "file"): check_file_exporter,
        ("extensions", "health_check"): check_health_check,
        ("connectors", "signal_to_metrics"): check_signal_to_metrics,
    }
