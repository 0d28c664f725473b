# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rule family: top-level sections, component declarations and their keys."""

from __future__ import annotations

import difflib

from .components import (
    COMPONENTS,
    KINDS,
    REMOVED_COMPONENTS,
    TOP_LEVEL_KEYS,
    TYPE_ALIASES,
    ComponentSpec,
)
from .findings import Unresolved
from .rules_settings import catalogue_node
from .values import _fmt_version, _id_error, _id_parts, _is_set, _tname

# Types that contrib ships under more than one kind (a file receiver and a file
# exporter, ...): under another kind they may exist in a larger distribution.
MULTI_KIND_TYPES = frozenset(
    (
        *("otlp", "file", "prometheus", "kafka", "zipkin", "jaeger", "loki", "syslog", "pulsar", "carbon"),
        *("fluentforward", "splunk_hec", "signalfx", "awsxray", "sapm", "opencensus", "skywalking", "influxdb"),
        *("googlecloudpubsub", "azureeventhub", "datadog", "elasticsearch", "coralogix", "routing", "servicegraph"),
    )
)


class StructureRules:
    """Top-level sections, component declarations and their keys (a _Checker mixin)."""

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
                if spec is None and self.check_wrong_kind(path, kind, cid, type_):
                    continue
                if spec is None:
                    self.add(
                        "unknown-component-type",
                        path,
                        f"{kind[:-1]} type {type_!r} is not known to this validator; its settings are not checked "
                        "(make sure the collector distribution includes it)",
                    )
                    continue
                self.check_component_config(kind, cid, type_, spec, cfg or {})

    def check_wrong_kind(self, path, kind, cid, type_) -> bool:
        """A type known only as another kind (health_check under receivers) is an error."""
        if type_ in MULTI_KIND_TYPES:
            return False
        others = [k for k in KINDS if k != kind and (self.spec_for(k, type_) or catalogue_node(k, type_))]
        if not others:
            return False
        self.add(
            "component-wrong-kind",
            path,
            f"{cid} is declared under {kind}, but {type_!r} is a{'n' if others[0][0] in 'aeiou' else ''} "
            f"{others[0][:-1]}; move it to {others[0]}",
        )
        return True

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
        node = catalogue_node(kind, type_)
        if node is not None:
            self.check_settings(path, node, cfg, cid)
        else:
            self.check_keys(path, cfg, spec.keys, cid)
        for alternatives in spec.required:
            if not any(cfg.get(k) not in (None, "", []) for k in alternatives):
                need = alternatives[0] if len(alternatives) == 1 else "one of " + ", ".join(alternatives)
                self.add("missing-required-key", path, f"{cid} requires {need}; add it")
        for a, b in spec.conflicts:
            if _is_set(cfg.get(a)) and _is_set(cfg.get(b)):
                self.add("conflicting-keys", (*path, b), f"{cid}: set either {a} or {b}, not both")
        for key, accepted in spec.enums.items() if node is None else ():
            value = cfg.get(key)
            if isinstance(value, str) and not isinstance(value, Unresolved) and value.lower() not in accepted:
                self.add("invalid-value", (*path, key), f"{cid}: {key} {value!r} is not one of {', '.join(accepted)}")
        checker = self.TYPE_CHECKS.get((kind, self.canonical(kind, type_)))
        if checker is not None:
            checker(self, path, cid, cfg)
        ottl = self.OTTL_CHECKS.get((kind, self.canonical(kind, type_)))
        if ottl is not None:
            ottl(self, path, cid, cfg)
