"""Property tests: the engine never crashes and is deterministic."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = st.sampled_from(
    [
        "receivers",
        "processors",
        "exporters",
        "connectors",
        "extensions",
        "service",
        "pipelines",
        "traces",
        "metrics",
        "logs",
        "otlp",
        "protocols",
        "grpc",
        "http",
        "endpoint",
        "auth",
        "authenticator",
        "batch",
        "memory_limiter",
        "forward",
        "debug",
        "prometheus",
        "telemetry",
        "readers",
        "tls",
        "headers",
        "token",
        "sending_queue",
        "storage",
        "check_interval",
        "limit_mib",
        "send_batch_size",
        "send_batch_max_size",
        "health_check",
        "pprof",
        "zpages",
        "address",
        "level",
        "otlphttp",
        "extensions",
    ]
) | st.text(max_size=8)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "0.0.0.0:4317",
            "localhost:8888",
            ":13133",
            "${env:X}",
            "${X:-1}",
            "$${a}",
            "${vault:x}",
            "${env:1}",
            "otlp",
            "batch",
            "forward",
            "debug",
            "memory_limiter",
            "1s",
            "http://h:1/loki/api/v1/push",
            "[::]:1",
        ]
    )
)
TREES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=30,
)
CONFIGS = st.dictionaries(
    st.sampled_from(["receivers", "processors", "exporters", "connectors", "extensions", "service", "x"]),
    TREES,
    max_size=6,
)
ENVS = st.none() | st.dictionaries(st.sampled_from(["X", "Y", "A_1"]), st.text(max_size=10), max_size=3)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_well_formed(engine, result):
    assert isinstance(result.errors, list) and isinstance(result.warnings, list)
    for finding in result.errors + result.warnings:
        assert finding.rule in engine.RULES
        assert finding.severity in (engine.ERROR, engine.WARNING)
        assert isinstance(finding.path, str) and isinstance(finding.message, str) and finding.message
        assert finding.line is None or (isinstance(finding.line, int) and finding.line >= 1)
    assert result.valid == (not result.errors)


@SETTINGS
@given(text=st.text(max_size=300))
def test_arbitrary_text_never_crashes(engine, text):
    first = engine.validate(text)
    assert_well_formed(engine, first)
    assert engine.validate(text).as_dict() == first.as_dict()


@SETTINGS
@given(data=CONFIGS, env=ENVS, version=st.sampled_from([None, "0.100.0", "0.155.0"]))
def test_arbitrary_structures_never_crash(engine, data, env, version):
    text = yaml.safe_dump(data, allow_unicode=True)
    first = engine.validate(text, env=env, version=version)
    assert_well_formed(engine, first)
    assert engine.validate(text, env=env, version=version).as_dict() == first.as_dict()
    direct = engine.validate_data(data, env=env, version=version)
    assert_well_formed(engine, direct)


@SETTINGS
@given(data=TREES)
def test_arbitrary_roots_never_crash(engine, data):
    assert_well_formed(engine, engine.validate_data(data))


@SETTINGS
@given(
    lines=st.lists(
        st.sampled_from(
            [
                "receivers:",
                "  otlp:",
                "    protocols:",
                "      grpc:",
                "  - x",
                "a: &a [1]",
                "b: *a",
                "<<: *a",
                "? x",
                ": y",
                "{",
                "]",
                "'",
                "\t",
                "service:",
                "  pipelines:",
                "    traces:",
                "      receivers: [otlp]",
            ]
        ),
        max_size=12,
    )
)
def test_yamlish_text_never_crashes(engine, lines):
    assert_well_formed(engine, engine.validate("\n".join(lines)))
