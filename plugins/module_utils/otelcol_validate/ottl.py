# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rule family: OTTL statements and conditions (transform, filter, signal_to_metrics).

Not a parser: it catches what makes the collector refuse the config at
`validate` (unbalanced quotes or brackets, a function that does not exist in
the statement's context, a path into a context the signal does not have).
The function lists are generated from the Go sources (catalogue.OTTL); with a
collector binary (the module's ``binary`` option) the collector has the final word.
"""

from __future__ import annotations

import re
import typing

from .catalogue import OTTL
from .findings import Unresolved

# Contexts of each signal, outermost first; a statement may read paths of its
# own context and of those listed before it (a datapoint reads metric.name).
SIGNAL_CONTEXTS = {
    "traces": ("resource", "scope", "span", "spanevent"),
    "metrics": ("resource", "scope", "metric", "datapoint"),
    "logs": ("resource", "scope", "log"),
    "profiles": ("resource", "scope", "profile"),
}
PARENTS = {
    "resource": (),
    "scope": ("resource",),
    "span": ("resource", "scope"),
    "spanevent": ("resource", "scope", "span"),
    "metric": ("resource", "scope"),
    "datapoint": ("resource", "scope", "metric"),
    "log": ("resource", "scope"),
    "profile": ("resource", "scope"),
}
PATH_PREFIXES = {**{c: c for c in PARENTS}, "instrumentation_scope": "scope"}
TRANSFORM_KEYS = {
    "trace_statements": "traces",
    "metric_statements": "metrics",
    "log_statements": "logs",
    "profile_statements": "profiles",
}
FILTER_KEYS = {
    "trace_conditions": "traces",
    "metric_conditions": "metrics",
    "log_conditions": "logs",
    "profile_conditions": "profiles",
}
# filter's older layout: signal -> {key: context}
FILTER_SECTIONS = {
    "traces": {"span": "span", "spanevent": "spanevent"},
    "metrics": {"metric": "metric", "datapoint": "datapoint"},
    "logs": {"log_record": "log"},
    "profiles": {"profile": "profile"},
}
SIGNAL_TO_METRICS = {"spans": "span", "datapoints": "datapoint", "logs": "log", "profiles": "profile"}

_KEYWORDS = frozenset(("not", "and", "or", "where", "nil", "true", "false"))
_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"')
_CALL_RE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_PATH_RE = re.compile(r"(?<![\w.\"])([a-z_]+)\.[a-z_]")


_NESTED_RE = re.compile(
    r"(?<![\w.])(?:resource|scope|instrumentation_scope|span|spanevent|metric|datapoint|log|profile)\."
    r"(?:resource|scope|instrumentation_scope|span|spanevent|metric|datapoint|log|profile)\b(?!\s*\()"
)


def _after_first_call(bare: str) -> str:
    """What follows the statement's first call at the top level (strings already blanked)."""
    start = bare.find("(")
    if start < 0:
        return ""
    depth = 0
    for i in range(start, len(bare)):
        depth += {"(": 1, ")": -1}.get(bare[i], 0)
        if depth == 0:
            return bare[i + 1 :].strip()
    return ""


def ottl_syntax_problem(text: str) -> str | None:
    """Why ``text`` cannot be an OTTL statement lexically, or None."""
    stack, i, closing = [], 0, {")": "(", "]": "[", "}": "{"}
    while i < len(text):
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= len(text):
                return "a string is not closed (unbalanced double quote)"
            i = j + 1
            continue
        if ch in "([{":
            stack.append(ch)
        elif ch in ")]}":
            if not stack or stack[-1] != closing[ch]:
                return f"unbalanced {ch!r}"
            stack.pop()
        i += 1
    if stack:
        return f"{stack[-1]!r} is not closed"
    return None


def _functions(processor, contexts):
    extra = set()
    for context in contexts:
        extra.update(OTTL.get(processor, {}).get(context, ()))
    return set(OTTL["editors"]) | set(OTTL["converters"]) | extra


class OttlRules:
    """OTTL in transform, filter and signal_to_metrics (a _Checker mixin)."""

    def check_ottl(self, path, text, processor, signal, context, editors):
        """One statement or condition. ``context`` None: inferred from its paths."""
        if not isinstance(text, str) or isinstance(text, Unresolved):
            return
        problem = ottl_syntax_problem(text)
        if problem:
            self.add("ottl-syntax", path, f"OTTL {text[:80]!r}: {problem}")
            return
        bare = _STRING_RE.sub('""', text)
        contexts = (context,) if context else SIGNAL_CONTEXTS[signal]
        known = _functions(processor, contexts)
        calls = [name for name in _CALL_RE.findall(bare) if name not in _KEYWORDS]
        for name in calls:
            if name not in known:
                where = f"the {context} context" if context else f"{signal} statements"
                self.add(
                    "ottl-function",
                    path,
                    f"OTTL {text[:80]!r}: function {name!r} does not exist in {where} of {processor}; "
                    "check its name and the context it belongs to",
                )
                return
        if editors and calls and calls[0] not in OTTL["editors"] and not calls[0][0].islower():
            self.add("ottl-function", path, f"OTTL {text[:80]!r}: a statement starts with an editor such as set(...)")
            return
        if editors:
            rest = _after_first_call(bare)
            if rest and not re.match(r"where\s", rest + " "):
                self.add(
                    "ottl-syntax",
                    path,
                    f"OTTL {text[:80]!r}: after the editor call comes nothing or 'where <condition>', "
                    f"not {rest[:20]!r}",
                )
                return
        nested = _NESTED_RE.search(bare)
        if nested:
            self.add(
                "ottl-context",
                path,
                f"OTTL {text[:80]!r}: {nested.group(0)} names a context inside a context; write one of them",
            )
            return
        allowed = set(SIGNAL_CONTEXTS[signal])
        if context:
            allowed = {context, *PARENTS[context]}
        for prefix in _PATH_RE.findall(bare):
            ctx = PATH_PREFIXES.get(prefix)
            if ctx is not None and ctx not in allowed:
                self.add(
                    "ottl-context",
                    path,
                    f"OTTL {text[:80]!r}: path {prefix}.* is not reachable from "
                    f"{'the ' + context + ' context' if context else signal + ' statements'}; "
                    f"use {', '.join(sorted(allowed))}",
                )
                return

    def _statement_groups(self, path, value, processor, signal, key, editors):
        if not isinstance(value, list):
            return
        for i, item in enumerate(value):
            if isinstance(item, str):
                self.check_ottl((*path, i), item, processor, signal, None, editors)
            elif isinstance(item, dict):
                context = item.get("context")
                if context is not None and context not in SIGNAL_CONTEXTS[signal]:
                    if isinstance(context, str) and not isinstance(context, Unresolved):
                        self.add(
                            "ottl-context",
                            (*path, i, "context"),
                            f"context {context!r} does not exist for {signal}; use one of "
                            f"{', '.join(SIGNAL_CONTEXTS[signal])}",
                        )
                    continue
                for sub, is_editor in ((key, editors), ("conditions", False)):
                    entries = item.get(sub)
                    for j, text in enumerate(entries if isinstance(entries, list) else ()):
                        self.check_ottl((*path, i, sub, j), text, processor, signal, context, is_editor)

    def check_transform_ottl(self, path, cid, cfg):
        for key, signal in TRANSFORM_KEYS.items():
            self._statement_groups((*path, key), cfg.get(key), "transform", signal, "statements", True)

    def check_filter_ottl(self, path, cid, cfg):
        for key, signal in FILTER_KEYS.items():
            self._statement_groups((*path, key), cfg.get(key), "filter", signal, "conditions", False)
        for signal, sections in FILTER_SECTIONS.items():
            block = cfg.get("spans" if signal == "traces" and "spans" in cfg else signal)
            if not isinstance(block, dict):
                continue
            for key, context in sections.items():
                entries = block.get(key)
                for j, text in enumerate(entries if isinstance(entries, list) else ()):
                    self.check_ottl((*path, signal, key, j), text, "filter", signal, context, False)

    def check_signal_to_metrics_ottl(self, path, cid, cfg):
        for key, context in SIGNAL_TO_METRICS.items():
            metrics = cfg.get(key)
            signal = {"span": "traces", "datapoint": "metrics", "log": "logs", "profile": "profiles"}[context]
            for i, metric in enumerate(metrics if isinstance(metrics, list) else ()):
                if not isinstance(metric, dict):
                    continue
                conditions = metric.get("conditions")
                for j, text in enumerate(conditions if isinstance(conditions, list) else ()):
                    self.check_ottl((*path, key, i, "conditions", j), text, "signal_to_metrics", signal, context, False)
                for kind in ("sum", "gauge", "histogram", "exponential_histogram"):
                    body = metric.get(kind)
                    if isinstance(body, dict):
                        for sub in ("value", "count"):
                            self.check_ottl(
                                (*path, key, i, kind, sub), body.get(sub), "signal_to_metrics", signal, context, False
                            )

    OTTL_CHECKS: typing.ClassVar[dict] = {
        ("processors", "transform"): check_transform_ottl,
        ("processors", "filter"): check_filter_ottl,
        ("connectors", "signal_to_metrics"): check_signal_to_metrics_ottl,
    }
