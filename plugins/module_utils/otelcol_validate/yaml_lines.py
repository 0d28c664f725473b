# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""YAML loading that keeps the line of every key and list item."""

from __future__ import annotations

import re
import traceback

try:
    import yaml
except ImportError:  # the module reports it with missing_required_lib
    yaml = None
    YAML_IMPORT_ERROR = traceback.format_exc()
else:
    YAML_IMPORT_ERROR = None
MAX_NODES = 200_000
# Nesting deeper than this is refused (a finding): real configurations stay
# under 20 levels, and every level costs a few Python frames in the loader and
# in the rules, which must stay far below the interpreter's recursion limit.
MAX_DEPTH = 100
_TOO_DEEP = f"the document is nested deeper than {MAX_DEPTH} levels; a collector configuration needs far fewer"
# What the collector's YAML (go-yaml v3) reads as a number: an integer of 64 bits,
# else a decimal that fits a float64 (which the collector may wrap into an
# integer setting: rule int-overflow); anything else stays text.
_INT64_MIN, _UINT64_END = -(2**63), 2**64
_DECIMAL_RE = re.compile(r"[-+]?[0-9][0-9_]*")


class _YamlError(Exception):
    def __init__(self, rule: str, line: int | None, message: str, path: str = ""):
        super().__init__(message)
        self.rule, self.line, self.message, self.path = rule, line, message, path


if yaml is not None:

    class _PyLoader(yaml.SafeLoader):
        """PyYAML's own loader, for hosts without libyaml. Its composer recurses
        once per level: count the levels and stop before the interpreter does.
        (libyaml stops at 1000 levels on its own, and load_yaml at MAX_DEPTH.)"""

        def __init__(self, stream):
            super().__init__(stream)
            self._depth = 0

        def compose_node(self, parent, index):
            self._depth += 1
            try:
                if self._depth > MAX_DEPTH:
                    raise _YamlError("yaml-syntax", self.peek_event().start_mark.line + 1, _TOO_DEEP)
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    # The C loader is much faster and records the same marks.
    _Loader = getattr(yaml, "CSafeLoader", None) or _PyLoader
else:
    _PyLoader = _Loader = None


def _scalar_value(constructor, node):
    try:
        value = constructor.construct_object(node, deep=True)
    except Exception:  # unknown tags and odd scalars (an integer of 4300+ digits) stay text
        return node.value
    if isinstance(value, int) and not isinstance(value, bool) and not _INT64_MIN <= value < _UINT64_END:
        try:
            fits_float = bool(_DECIMAL_RE.fullmatch(node.value.strip())) and float(value) != float("inf")
        except OverflowError:
            fits_float = False
        if not fits_float:
            return node.value
    return value


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
        if "maximum nesting depth" in str(exc.problem):  # libyaml's own limit, far beyond MAX_DEPTH
            mark = exc.problem_mark or exc.context_mark
            raise _YamlError("yaml-syntax", mark.line + 1 if mark is not None else None, _TOO_DEEP) from None
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
    if len(path) > MAX_DEPTH:  # aliases nest too: a shallow text can expand deep
        raise _YamlError("yaml-syntax", node.start_mark.line + 1, _TOO_DEEP, "::".join(map(str, path[:MAX_DEPTH])))
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
