# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The public entry points: validate(), validate_data(), validate_file() and check()."""

from __future__ import annotations

import contextlib

from .binary import validate_with_binary
from .checker import _Checker
from .findings import ERROR, RULES, Finding, Result
from .values import parse_version
from .yaml_lines import _TOO_DEEP, MAX_DEPTH, YAML_IMPORT_ERROR, _YamlError, load_yaml, yaml


def _finish(findings, ignore) -> Result:
    ignore = set(ignore or ())
    result = Result()
    unique = list(dict.fromkeys(f for f in findings if f.rule not in ignore))
    unique.sort(key=lambda f: (f.line or 0, f.path, f.rule))
    for f in unique:
        (result.errors if f.severity == ERROR else result.warnings).append(f)
    return result


def _beyond_limits(data):
    """(rule, path, message) for the first value load_yaml would not have produced: nested deeper
    than MAX_DEPTH, or an integer beyond a float64 (Python cannot even print one of 4300+ digits).
    None when there is none. Iterative: no recursion."""
    stack = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_DEPTH:
            return "yaml-syntax", path[:MAX_DEPTH], _TOO_DEEP
        if isinstance(value, dict):
            stack.extend((child, (*path, key)) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((child, (*path, i)) for i, child in enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1024:
            return (
                "wrong-type",
                path,
                f"an integer of {value.bit_length()} bits fits neither a 64-bit integer nor a float64; "
                "the collector reads it as text",
            )
    return None


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
    beyond = _beyond_limits(data)
    if beyond is not None:
        # Data handed in directly did not pass load_yaml's bounds; the rules recurse per level and print numbers.
        rule, path, message = beyond
        line = (lines or {}).get(tuple(path), 1)
        return _finish([Finding(rule, ERROR, "::".join(map(str, path)), line, message)], ignore)
    checker = _Checker(data, lines or {}, env, version, feature_gates)
    checker.run()
    return _finish(checker.findings, ignore)


def validate_file(path, **kwargs) -> Result:
    with open(path, "rb") as handle:
        return validate(handle.read(), **kwargs)


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
