"""Hostile input is a finding with a rule id and a line, never an exception.

Deep nesting (the collector's YAML and the validator's own recursion), numbers
of thousands of digits (Python refuses to convert them to and from text),
infinities and NaN where an integer is expected, non-ASCII digits in a port,
and alias expansion. Each case goes through validate(), the path the module
and the command line take.
"""

from __future__ import annotations

import importlib

import pytest

BASE = """\
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:4317
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 512
  batch:
exporters:
  debug:
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [debug]
"""
HUGE = "9" * 5000  # beyond Python's 4300-digit limit for int <-> str
ENDPOINT_LINE = 5
LIMIT_LINE = 9


def _with(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


def _only(result, rule):
    """The findings of ``rule``; every finding has a line."""
    assert all(f.line for f in result.errors + result.warnings), [f.as_dict() for f in result.errors]
    return [f for f in result.errors if f.rule == rule]


def _flow(depth: int, opening: str, closing: str, leaf: str = "") -> str:
    return opening * depth + leaf + closing * depth


@pytest.mark.parametrize("depth", [400, 999, 1000, 5000])
@pytest.mark.parametrize("shape", ["list", "map", "block"])
def test_deep_nesting_is_a_finding(engine, depth, shape):
    if shape == "list":
        text = "receivers:\n  otlp:\n    protocols: " + _flow(depth, "[", "]") + "\n"
        line = 3
    elif shape == "map":
        text = "receivers:\n  otlp:\n    protocols: " + _flow(depth, "{a: ", "}", "1") + "\n"
        line = 3
    else:
        text = "receivers:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(depth))
        line = None  # the line where the limit is reached, checked below
    result = engine.validate(text)
    (finding,) = _only(result, "yaml-syntax")
    assert "nest" in finding.message
    if line is not None:
        assert finding.line == line
    else:
        assert 1 < finding.line <= min(depth, 1000) + 1


def test_deep_nesting_through_aliases_is_a_finding(engine):
    # Each line adds one level by referring to the one before: shallow text, deep data.
    lines = ["a0: &a0 [x]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 600)]
    (finding,) = _only(engine.validate("\n".join(lines) + "\n"), "yaml-syntax")
    assert "nest" in finding.message and finding.line >= 1


def test_nesting_within_the_limit_is_fine(engine):
    text = _with("      grpc:\n", "      grpc:\n        x: " + _flow(60, "[", "]") + "\n")
    result = engine.validate(text)
    assert not _only(result, "yaml-syntax")


def test_pure_python_loader_is_bounded_too(engine, monkeypatch):
    """Without libyaml, PyYAML's composer recurses once per level."""
    yaml_lines = importlib.import_module(engine.__name__ + ".yaml_lines")
    monkeypatch.setattr(yaml_lines, "_Loader", yaml_lines._PyLoader)
    text = "receivers:\n  otlp:\n    protocols: " + _flow(3000, "[", "]") + "\n"
    (finding,) = _only(engine.validate(text), "yaml-syntax")
    assert "nest" in finding.message and finding.line == 3
    assert engine.validate(BASE).valid


def test_validate_data_bounds_nesting(engine):
    data = leaf = {}
    for _ in range(3000):
        leaf["a"] = {}
        leaf = leaf["a"]
    (finding,) = engine.validate_data({"receivers": data}).errors
    assert finding.rule == "yaml-syntax" and "nest" in finding.message


def test_validate_data_bounds_integers(engine):
    data = engine.load_yaml(BASE)[0]
    data["processors"]["memory_limiter"]["limit_mib"] = 10**5000
    (finding,) = engine.validate_data(data).errors
    assert finding.rule == "wrong-type" and finding.path == "processors::memory_limiter::limit_mib"
    data["processors"]["memory_limiter"]["limit_mib"] = 10**300  # fits a float64: the collector wraps it
    assert "int-overflow" in [f.rule for f in engine.validate_data(data).errors]


@pytest.mark.parametrize(
    "endpoint",
    [
        "0.0.0.0:" + HUGE,
        "'[::]:" + HUGE + "'",  # quoted: [ starts a flow list
        "127.0.0.1:" + "9" * 400,
        "127.0.0.1:²",  # str.isdigit() says yes, int() says no
        "127.0.0.1:١٢٣",  # Arabic-Indic digits: int() reads 123, the collector refuses them
    ],
)
def test_port_that_is_not_a_port_is_a_finding(engine, endpoint):
    text = _with("127.0.0.1:4317", endpoint)
    result = engine.validate(text)
    (finding,) = _only(result, "endpoint-syntax")
    assert finding.line == ENDPOINT_LINE


def test_port_with_leading_zeros_is_still_a_port(engine):
    assert not _only(engine.validate(_with("127.0.0.1:4317", "127.0.0.1:0004317")), "endpoint-syntax")


@pytest.mark.parametrize(
    "value,rule",
    [
        (HUGE, "wrong-type"),  # beyond a float64 too: the collector's YAML reads it as text
        ("-" + HUGE, "wrong-type"),
        ("0x" + "f" * 5000, "wrong-type"),  # hex beyond 64 bits is text to the collector, and 6000 digits in decimal
        ("0o" + "7" * 5000, "wrong-type"),
        ("9" * 400, "wrong-type"),  # 1e400 does not fit a float64 either
        ("9" * 300, "int-overflow"),  # fits a float64, which the collector wraps into an int
        (".inf", "int-overflow"),
        ("-.inf", "invalid-value"),  # limit_mib is unsigned
    ],
)
def test_huge_numbers_are_findings(engine, value, rule):
    result = engine.validate(_with("limit_mib: 512", f"limit_mib: {value}"))
    findings = _only(result, rule)
    assert findings and findings[0].line == LIMIT_LINE, [f.as_dict() for f in result.errors]


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", HUGE, "0x" + "f" * 5000])
@pytest.mark.parametrize(
    "setting",
    [
        "    limit_mib: 512\n    spike_limit_mib: {v}\n",
        "    limit_mib: 512\n    check_interval: {v}\n",
        "    limit_mib: 512\n  batch/x:\n    send_batch_size: {v}\n    send_batch_max_size: {v}\n    timeout: {v}\n",
    ],
)
def test_non_finite_and_huge_numbers_never_crash(engine, value, setting):
    text = _with("    limit_mib: 512\n", setting.format(v=value))
    result = engine.validate(text)
    assert not result.valid
    assert all(f.line for f in result.errors)


@pytest.mark.parametrize("value", [".nan", ".inf", HUGE, "0x" + "f" * 5000, _flow(3000, "[", "]")])
def test_hostile_environment_values_never_crash(engine, value):
    text = _with("limit_mib: 512", "limit_mib: ${env:LIMIT}")
    result = engine.validate(text, env={"LIMIT": value})
    assert not result.valid
    assert all(f.line == LIMIT_LINE for f in result.errors if f.path.endswith("limit_mib"))
    text = _with("127.0.0.1:4317", "127.0.0.1:${env:PORT}")
    (finding,) = _only(engine.validate(text, env={"PORT": value}), "endpoint-syntax")
    assert finding.line == ENDPOINT_LINE


def test_alias_bomb_in_a_component_is_bounded(engine):
    lines = ["x-bomb: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"x-{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    text = "\n".join(lines) + "\n" + _with("  batch:\n", "  batch:\n  attributes:\n    actions: *a8\n")
    (finding,) = _only(engine.validate(text), "yaml-syntax")
    assert "too many nodes" in finding.message


EXPORTER_WITH = """\
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:4317
exporters:
  debug:
    verbosity: {verbosity}
    sending_queue:
      queue_size: {queue_size}
      batch:
        min_size: {min_size}
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
"""


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan"])
def test_non_finite_numbers_in_cross_checks_are_findings(engine, value):
    """The queue's cross-checks and enum-as-number settings took int() of the value."""
    text = EXPORTER_WITH.format(verbosity=value, queue_size=value, min_size=value)
    result = engine.validate(text)
    assert not result.valid
    assert {f.line for f in result.errors} <= {8, 10, 12}, [f.as_dict() for f in result.errors]
    assert {8, 10, 12} <= {f.line for f in result.errors}


SIGNAL_TO_METRICS = """\
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:4317
connectors:
  signal_to_metrics:
    logs:
      - name: events
        sum:
          value: "1"
        attributes:
          - key: [a, b]
          - key: {a: 1}
exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [signal_to_metrics]
    metrics:
      receivers: [signal_to_metrics]
      exporters: [debug]
"""


def test_attribute_key_of_the_wrong_type_is_a_finding(engine):
    """A list or mapping as a key is not hashable: the duplicate-key check must skip it."""
    result = engine.validate(SIGNAL_TO_METRICS)
    assert {(f.rule, f.line) for f in result.errors} >= {("wrong-type", 13), ("wrong-type", 14)}, [
        f.as_dict() for f in result.errors
    ]


COMBINED = BASE.replace(
    "exporters:\n  debug:\n",
    "exporters:\n  debug:\n    verbosity: basic\n    sending_queue:\n      queue_size: 10\n      batch:\n"
    "        min_size: 1\n  otlphttp:\n    endpoint: http://collector:4318\n    timeout: 5s\n",
).replace("      exporters: [debug]", "      exporters: [debug, otlphttp]")


def test_hostile_scalars_anywhere_never_crash(engine):
    """Property test: hostile scalars in any setting of structured configs give findings, not exceptions."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    hostile = st.sampled_from(
        [
            HUGE,
            "-" + HUGE,
            "0x" + "f" * 5000,
            "9" * 400,
            ".inf",
            "-.inf",
            ".nan",
            "'0.0.0.0:" + HUGE + "'",
            "'localhost:²'",
            "[[], {}]",
            "{key: [x]}",
            "'${env:BIG}'",
            "'${env:BIG}s'",
            "'0.0.0.0:${env:BIG}'",
        ]
    )
    line_numbers = st.integers(min_value=0, max_value=40)

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(value=hostile, at=line_numbers, env=st.sampled_from([None, {"BIG": HUGE}, {"BIG": ".nan"}]))
    def check(value, at, env):
        lines = COMBINED.splitlines()
        at = at % len(lines)
        line = lines[at]
        if ":" not in line or line.rstrip().endswith(":") or line.lstrip().startswith("-"):
            return
        lines[at] = line[: line.index(":") + 1] + " " + value
        result = engine.validate("\n".join(lines) + "\n", env=env)
        assert not any(f.rule == "yaml-duplicate-key" for f in result.errors)
        for finding in result.errors + result.warnings:
            assert finding.rule in engine.RULES and finding.line and len(finding.message) <= 1100

    check()
