"""Unit tests for the collector-config validator engine."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
FIXTURES = ROOT / "tests" / "unit" / "fixtures" / "otelcol"

BASE = """\
receivers:
  otlp:
    protocols:
      grpc:
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


def rules(findings):
    return sorted(f.rule for f in findings)


def run(engine, case):
    return engine.validate(case.text, env=case.env, version=case.version)


# --- the corpus --------------------------------------------------------------


def test_corpus_has_at_least_30_broken_configs():
    assert len(list((FIXTURES / "bad").glob("*.yaml"))) >= 30


def test_bad_config(engine, bad_case):
    """Every broken config reports exactly its expected errors, by rule and line."""
    assert bad_case.expects, f"{bad_case.path} has no '# expect:' header"
    result = run(engine, bad_case)
    assert not result.valid
    errors = {(f.rule, f.line) for f in result.errors}
    expected_errors = {(r, n) for r, n in bad_case.expects if engine.RULES[r][0] == engine.ERROR}
    assert errors == expected_errors, [f.as_dict() for f in result.errors]
    reported = errors | {(f.rule, f.line) for f in result.warnings}
    assert set(bad_case.expects) <= reported


def test_good_config(engine, good_case):
    """Valid configs have no errors and exactly the warnings their header lists."""
    result = run(engine, good_case)
    assert result.errors == [], [f.as_dict() for f in result.errors]
    assert Counter(rules(result.warnings)) == Counter(good_case.warnings or ()), [f.as_dict() for f in result.warnings]


def test_warning_config(engine, warn_case):
    """Configs that are valid but deserve a warning: no errors, the expected warnings."""
    assert warn_case.expects
    result = run(engine, warn_case)
    assert result.errors == [], [f.as_dict() for f in result.errors]
    assert set(warn_case.expects) <= {(f.rule, f.line) for f in result.warnings}
    assert not result.ok(strict=True)


def test_every_rule_has_a_fixture(engine):
    covered = {rule for case in _all_cases(engine) for rule, _ in case.expects}
    # binary-validate needs a collector binary; its test lives in test_otelcol_validate_binary.py
    assert set(engine.RULES) - covered == {"binary-validate"}


def _all_cases(engine):
    from conftest import load_cases  # same directory

    return load_cases("bad", "good", "warn")


def test_docs_describe_every_rule(engine):
    doc = (ROOT / "docs" / "otelcol_validate.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^### `([a-z0-9-]+)`", doc, re.M))
    assert documented == set(engine.RULES)
    for rule, (severity, _summary) in engine.RULES.items():
        section = doc.split(f"### `{rule}`", 1)[1].split("\n### ", 1)[0]
        assert f"Severity: {severity}" in section, rule


# --- findings carry path, line and a useful message -------------------------------


def test_finding_fields(engine):
    text = BASE.replace("      grpc:\n", "      grpc:\n        auth:\n          authenticator: bearertokenauth\n")
    text += "extensions:\n  bearertokenauth:\n    token: ${env:T}\n"
    result = engine.validate(text, env={"T": "x"})
    (finding,) = result.errors
    assert finding.as_dict() == {
        "rule": "extension-not-enabled",
        "path": "receivers::otlp::protocols::grpc::auth::authenticator",
        "line": 6,
        "message": finding.message,
    }
    assert "service::extensions" in finding.message


def test_summary_names_first_rules_and_lines(engine):
    text = BASE.replace("processors: [memory_limiter, batch]", "processors: [memory_limiter, batch, nope, nope2]")
    result = engine.validate(text)
    summary = result.summary()
    assert summary.startswith("2 error(s): line 16: undefined-component")
    assert result.summary(strict=True).startswith("2 error(s)")
    assert engine.validate(BASE).summary() == "configuration is valid"


def test_strict_fails_on_warnings_only(engine):
    result = engine.validate(BASE.replace("[memory_limiter, batch]", "[memory_limiter]"))
    assert result.valid and result.ok() and not result.ok(strict=True)
    assert result.summary(strict=True).startswith("2 warning(s) (strict): line 9: unused-component: batch is declared")


def test_ignore_drops_rules(engine):
    text = BASE.replace("[memory_limiter, batch]", "[memory_limiter]")
    assert rules(engine.validate(text).warnings) == ["batch-missing", "unused-component"]
    assert engine.validate(text, ignore=["batch-missing", "unused-component"]).warnings == []


def test_results_are_sorted_by_line(engine):
    case = next(c for c in _all_cases(engine) if c.name == "connector-signal-mismatch")
    lines = [f.line for f in engine.validate(case.text).errors]
    assert lines == sorted(lines) and len(lines) == 2


def test_bytes_and_non_utf8(engine):
    assert engine.validate(BASE.encode()).valid
    (finding,) = engine.validate(b"\xff\xfe receivers").errors
    assert finding.rule == "yaml-syntax"


def test_validate_file(engine):
    assert engine.validate_file(FIXTURES / "good" / "minimal-agent.yaml").valid


# --- YAML loading -----------------------------------------------------------------------


def test_lines_follow_keys_and_list_items(engine):
    data, lines = engine.load_yaml("a:\n  b:\n    - x\n    - y\n")
    assert data == {"a": {"b": ["x", "y"]}}
    assert lines[("a",)] == 1 and lines[("a", "b")] == 2 and lines[("a", "b", 1)] == 4


def test_merge_keys_and_anchors(engine):
    text = BASE.replace("  batch:\n", "  batch: &b\n    timeout: 1s\n  batch/2:\n    <<: *b\n    send_batch_size: 10\n")
    data, _ = engine.load_yaml(text)
    assert data["processors"]["batch/2"] == {"timeout": "1s", "send_batch_size": 10}


def test_recursive_alias_is_an_error(engine):
    (finding,) = engine.validate("a: &x\n  - *x\n").errors
    assert finding.rule == "yaml-syntax" and "recursive" in finding.message


def test_alias_bomb_is_bounded(engine):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    (finding,) = engine.validate("\n".join(lines) + "\n").errors
    assert finding.rule == "yaml-syntax" and "too many nodes" in finding.message


def test_complex_key_is_wrong_type(engine):
    (finding,) = engine.validate("? [a, b]\n: 1\n").errors
    assert (finding.rule, finding.line) == ("wrong-type", 1)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "{}\n", "~\n"])
def test_empty_documents(engine, text):
    assert rules(engine.validate(text).errors) == ["empty-config"]


@pytest.mark.parametrize("text", ["just a string\n", "42\n", "[1, 2]\n"])
def test_non_mapping_root(engine, text):
    (finding,) = engine.validate(text).errors
    assert (finding.rule, finding.path, finding.line) == ("wrong-type", "", 1)


# --- environment ---------------------------------------------------------------------------


def endpoint_config(value: str) -> str:
    return BASE.replace("  debug:\n", f"  debug:\n  otlp/x:\n    endpoint: {value}\n").replace(
        "[debug]", "[debug, otlp/x]"
    )


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [
        ("${env:HOST}:4317", {"HOST": "tempo"}, "tempo:4317"),
        ("${HOST}:4317", {"HOST": "tempo"}, "tempo:4317"),
        ("${env:HOST:-fallback}:4317", {}, "fallback:4317"),
        ("${env:HOST:-fallback}:4317", {"HOST": ""}, ":4317"),  # the default only applies when unset
        ("$${env:HOST}:4317", {}, "${env:HOST}:4317"),  # $$ escapes
        ("a$$b", None, "a$b"),
        ("${env:OUTER:-${env:INNER}}", {"INNER": "in"}, "in"),
        ("${env:PORT}", {"PORT": "4317"}, 4317),  # a whole-value reference is typed
    ],
)
def test_env_resolution(engine, value, env, expected):
    checker = engine._Checker({}, {}, env, None, ())
    resolved = engine._EnvResolver(checker, env).resolve({"v": value}, ())
    assert resolved["v"] == expected
    assert not isinstance(resolved["v"], engine.Unresolved)
    assert checker.findings == []


@pytest.mark.parametrize(
    ("value", "env", "rule", "severity"),
    [
        ("${env:MISSING}", {}, "env-unset", "error"),
        ("${MISSING}", {}, "env-unset", "error"),
        ("${env:MISSING}", None, "env-unset", "warning"),
        ("${env:9LIVES}", {}, "env-var-name", "error"),
        ("${env:A-B}", {}, "env-var-name", "error"),
        ("${vault:secret}", {}, "env-provider-unsupported", "error"),
        ("${s:x}", {}, "env-provider-unsupported", "error"),  # schemes have two or more letters
    ],
)
def test_env_findings(engine, value, env, rule, severity):
    result = engine.validate(endpoint_config(f'"{value}"'), env=env)
    found = [f for f in result.errors + result.warnings if f.rule.startswith("env-")]
    assert [(f.rule, f.severity, f.path, f.line) for f in found] == [
        (rule, severity, "exporters::otlp/x::endpoint", 13)
    ]


@pytest.mark.parametrize("value", ["${file:/etc/otel/endpoint}", "${yaml:a: b}", "${https://cfg.example/x}"])
def test_other_providers_are_accepted_but_unresolved(engine, value):
    checker = engine._Checker({}, {}, {}, None, ())
    resolved = engine._EnvResolver(checker, {}).resolve(value, ())
    assert isinstance(resolved, engine.Unresolved) and checker.findings == []


def test_unresolved_values_do_not_cause_findings(engine):
    text = BASE.replace("      grpc:\n", "      grpc:\n        endpoint: ${file:/etc/otel/grpc-endpoint}\n")
    text = text.replace("      http:\n", "")
    assert engine.validate(text, env={}).errors == []


ENV_FILE = """\
# comment
; another comment

PLAIN=value
SPACED = spaced value\x20\x20
DQ="double \\"quoted\\" value"
SQ='single $quoted'
CONT=one \\
two
EMPTY=
"""


def test_env_file(engine):
    assert engine.parse_env_file(ENV_FILE) == {
        "PLAIN": "value",
        "SPACED": "spaced value",
        "DQ": 'double "quoted" value',
        "SQ": "single $quoted",
        "CONT": "one two",
        "EMPTY": "",
    }


@pytest.mark.parametrize(("text", "line"), [("GOOD=1\nnot a pair\n", 2), ("1BAD=x\n", 1), ('Q="open\n', 1)])
def test_env_file_errors(engine, text, line):
    with pytest.raises(engine.EnvFileError, match=f"line {line}"):
        engine.parse_env_file(text)


def test_build_env(engine, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("A=1\nB=2\n")
    assert engine.build_env() is None
    assert engine.build_env([str(env_file)], ["B=3"]) == {"A": "1", "B": "3"}
    assert engine.build_env([str(env_file)], base={"A": "0", "C": "4"}) == {"A": "1", "B": "2", "C": "4"}
    with pytest.raises(engine.EnvFileError):
        engine.build_env(pairs=["NOEQUALS"])


# --- listeners ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "clash"),
    [
        ("0.0.0.0:9000", "127.0.0.1:9000", True),
        (":9000", "10.0.0.1:9000", True),
        ("[::]:9000", "127.0.0.1:9000", True),
        ("localhost:9000", "127.0.0.1:9000", True),
        ("127.0.0.1:9000", "10.0.0.1:9000", False),
        ("[::1]:9000", "127.0.0.1:9000", False),
        ("127.0.0.1:9000", "127.0.0.1:9001", False),
        ("0.0.0.0:0", "0.0.0.0:0", False),  # port 0 picks a free port
    ],
)
def test_port_conflicts(engine, a, b, clash):
    text = BASE.replace(
        "      grpc:\n", f'      grpc:\n        endpoint: "{a}"\n      http:\n        endpoint: "{b}"\n'
    )
    found = [f for f in engine.validate(text).errors if f.rule == "port-conflict"]
    assert bool(found) == clash
    if clash:
        assert (found[0].path, found[0].line) == ("receivers::otlp::protocols::http::endpoint", 7)


def test_default_ports_clash_with_explicit_ones(engine):
    text = BASE + "  extensions: [health_check]\nextensions:\n  health_check:\n"
    text = text.replace("      grpc:\n", "      grpc:\n        endpoint: 0.0.0.0:13133\n")
    (finding,) = engine.validate(text).errors
    assert (finding.rule, finding.path) == ("port-conflict", "receivers::otlp::protocols::grpc::endpoint")
    assert "by default" in finding.message


def test_unused_components_do_not_listen(engine):
    text = BASE + "extensions:\n  health_check:\n    endpoint: 0.0.0.0:8888\n"
    assert engine.validate(text).errors == []


def test_telemetry_readers_and_level_none(engine):
    prom = BASE.replace("  debug:\n", "  debug:\n  prometheus:\n    endpoint: 0.0.0.0:9464\n")
    prom += "    metrics:\n      receivers: [otlp]\n      exporters: [prometheus]\n"
    prom += "      processors: [memory_limiter, batch]\n"
    readers = "  telemetry:\n    metrics:\n      readers:\n        - pull:\n            exporter:\n"
    readers += "              prometheus:\n                host: 127.0.0.1\n                port: 9464\n"
    assert rules(engine.validate(prom + readers).errors) == ["port-conflict"]
    assert engine.validate(prom + "  telemetry:\n    metrics:\n      level: none\n").errors == []


def test_telemetry_address_is_version_aware(engine):
    text = BASE + "  telemetry:\n    metrics:\n      address: 0.0.0.0:8888\n"
    assert rules(engine.validate(text).errors) == ["removed-setting"]
    assert engine.validate(text, version="0.110.0").errors == []


@pytest.mark.parametrize(
    ("endpoint", "parsed"),
    [
        ("0.0.0.0:4317", ("0.0.0.0", 4317)),
        (":80", ("", 80)),
        ("[::1]:1", ("::1", 1)),
        ("host", None),
        ("a:b:1", None),
        ("h:70000", None),
        ("h:", None),
        (4317, None),
        (True, None),
    ],
)
def test_host_port(engine, endpoint, parsed):
    assert engine._host_port(endpoint) == parsed


@pytest.mark.parametrize(
    ("host", "norm"),
    [("", "*"), ("0.0.0.0", "*"), ("::", "*"), ("[::]", "*"), ("LOCALHOST", "127.0.0.1"), ("[::1]", "::1")],
)
def test_normalise_host(engine, host, norm):
    assert engine.normalise_host(host) == norm


# --- version-aware rules --------------------------------------------------------------------------


def test_version_parsing(engine):
    assert engine.parse_version("v0.131.1") == (0, 131, 1)
    assert engine.parse_version("0.120") == (0, 120, 0)
    assert engine.parse_version(None) is None
    with pytest.raises(ValueError):
        engine.parse_version("latest")


@pytest.mark.parametrize(
    ("exporter", "version", "rule"),
    [
        ("loki", None, "removed-component"),
        ("loki", "0.131.0", "removed-component"),
        ("loki", "0.130.9", "deprecated-component"),
        ("logging", "0.110.0", "deprecated-component"),
        ("logging", "0.111.0", "removed-component"),
    ],
)
def test_removed_components(engine, exporter, version, rule):
    text = BASE.replace("  debug:\n", f"  debug:\n  {exporter}:\n").replace("[debug]", f"[debug, {exporter}]")
    result = engine.validate(text, version=version)
    found = [f for f in result.errors + result.warnings if f.rule.endswith("-component")]
    assert [f.rule for f in found] == [rule]
    assert "otlphttp" in found[0].message or "debug" in found[0].message


def test_default_listen_host_is_version_aware(engine):
    text = BASE.replace(
        "      grpc:\n", "      grpc:\n        endpoint: 10.1.2.3:4317\n      http:\n        endpoint: 10.1.2.3:4318\n"
    )
    text += "  extensions: [health_check]\nextensions:\n  health_check:\n    endpoint: 10.1.2.3:13133\n  zpages:\n"
    text = text.replace("[health_check]", "[health_check, zpages]")
    # zpages binds localhost:55679 now, 0.0.0.0:55679 before v0.104
    assert [f.rule for f in engine.validate(text).warnings if f.rule == "debug-endpoint-exposed"] == []
    assert [
        f.rule for f in engine.validate(text, version="0.100.0").warnings if f.rule == "debug-endpoint-exposed"
    ] == ["debug-endpoint-exposed"]


def test_profiles_feature_gate(engine):
    text = BASE + "    profiles:\n      receivers: [otlp]\n      exporters: [debug]\n"
    assert rules(engine.validate(text).errors) == ["profiles-feature-gate"]
    assert engine.validate(text, feature_gates=["service.profilesSupport"]).errors == []


def test_otlp_exporter_aliases(engine):
    text = BASE.replace(
        "  debug:\n", "  debug:\n  otlp_grpc:\n    endpoint: tempo:4317\n  otlp_http:\n    endpiont: x\n"
    )
    text = text.replace("[debug]", "[debug, otlp_grpc, otlp_http]")
    result = engine.validate(text)
    assert rules(result.errors) == ["missing-required-key"]
    # otlphttp decodes with unknown keys ignored (catalogue: lax): a typo is a warning
    assert "unknown-key" in rules(result.warnings)


def test_unknown_key_suggests_the_closest_key(engine):
    text = BASE.replace("  batch:\n", "  batch:\n    send_batch_sise: 10\n")
    (finding,) = engine.validate(text).errors
    assert "did you mean 'send_batch_size'?" in finding.message


@pytest.mark.parametrize(
    ("value", "ok"), [("5s", True), ("1m30s", True), ("250ms", True), ("0s", False), ("-1s", False), ("soon", False)]
)
def test_memory_limiter_check_interval(engine, value, ok):
    result = engine.validate(BASE.replace("check_interval: 1s", f"check_interval: {value}"))
    assert ("memory-limiter-check-interval" not in rules(result.errors)) == ok


def test_memory_limiter_percentages(engine):
    text = BASE.replace("limit_mib: 512", "limit_percentage: 80\n    spike_limit_percentage: 90")
    assert rules(engine.validate(text).errors) == ["memory-limiter-spike"]
    text = BASE.replace("limit_mib: 512", "limit_percentage: 120")
    assert rules(engine.validate(text).errors) == ["memory-limiter-spike"]


def test_connector_only_pipelines_need_no_memory_limiter(engine):
    case = next(c for c in _all_cases(engine) if c.name == "forward-fanout")
    result = engine.validate(case.text, env=case.env)
    assert not [f for f in result.warnings if f.path.startswith("service::pipelines::metrics/out")]


def test_secrets_from_env_or_file_are_fine(engine):
    text = (
        BASE + "  extensions: [bearertokenauth]\nextensions:\n  bearertokenauth:\n    token: ${file:/run/secrets/t}\n"
    )
    assert engine.validate(text).warnings == []


def test_header_list_form_secret(engine):
    text = BASE.replace(
        "  debug:\n",
        "  debug:\n  otlphttp:\n    endpoint: https://x\n    headers:\n      - name: X-Api-Key\n        value: k\n",
    ).replace("[debug]", "[debug, otlphttp]")
    assert [(f.rule, f.path) for f in engine.validate(text).warnings] == [
        ("literal-secret", "exporters::otlphttp::headers::X-Api-Key")
    ]


def test_ids(engine):
    assert engine._id_error("otlp") is None
    assert engine._id_error("otlp/grpc-in.1") is None
    assert "type" in engine._id_error("1otlp")
    assert "name" in engine._id_error("otlp/a b")
    assert engine._id_error("") and engine._id_error(None)


# --- command line ------------------------------------------------------------------------------

SCRIPT = ROOT / "scripts" / "otelcol-validate"


def cli(*args, stdin=None):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, input=stdin, check=False
    )


def test_cli_valid_file_exits_0():
    proc = cli(FIXTURES / "good" / "minimal-agent.yaml")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_cli_errors_exit_1_with_file_line_rule():
    path = FIXTURES / "bad" / "extension-not-enabled.yaml"
    proc = cli(path)
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"{path}:7: extension-not-enabled: error: ")


def test_cli_strict_and_env(tmp_path):
    path = FIXTURES / "good" / "claude-code-gateway.yaml"
    assert cli(path, "--env", "OTELCOL_BEARER_TOKEN=x").returncode == 0
    assert cli(path, "--env", "OTELCOL_BEARER_TOKEN=x", "--strict").returncode == 1
    env_file = tmp_path / "otelcol.env"
    env_file.write_text("OTELCOL_BEARER_TOKEN='x'\n")
    proc = cli(path, "--env-file", env_file, "--strict", "--ignore", "receiver-no-tls")
    assert (proc.returncode, proc.stdout) == (0, "")


def test_cli_json_and_stdin():
    proc = cli("-", "--json", stdin=(FIXTURES / "bad" / "duplicate-processor.yaml").read_text())
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["valid"] is False
    assert [(e["rule"], e["line"]) for e in doc["errors"]] == [("duplicate-processor", 20)]


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("missing-file.yaml",),
        ("--env", "bad pair", "x.yaml"),
        ("--ignore", "no-such-rule", "x.yaml"),
        ("--version", "latest", "x.yaml"),
    ],
)
def test_cli_usage_errors_exit_2(args):
    assert cli(*args).returncode == 2


def test_engine_main_in_process(engine, capsys):
    assert engine.main([str(FIXTURES / "bad" / "env-unset.yaml"), "--env", "OTHER=1"]) == 1
    assert "env-unset: error" in capsys.readouterr().out


def test_catalogue_matches_the_pinned_collector():
    """The generated catalogue follows OTELCOL_VERSION: regenerate it with
    tests/platform/otelcol-catalogue.py when the version moves."""
    from ansible_collections.claude_monitoring.stack.plugins.module_utils.otelcol_validate import catalogue

    pinned = re.search(r"^OTELCOL_VERSION=(\S+)$", (ROOT / "tests/platform/versions.env").read_text(), re.M).group(1)
    assert pinned == catalogue.VERSION
    manifest = (ROOT / "tests/platform/otelcol-builder.yaml").read_text()
    assert len(re.findall(r"^\s+- gomod: ", manifest, re.M)) <= sum(len(v) for v in catalogue.COMPONENTS.values())


@pytest.mark.parametrize(
    ("statement", "rule"),
    [
        ('set(attributes["a"], "b") where attributes["c"] == nil', None),
        ('set(attributes["a"], "b"', "ottl-syntax"),
        ('set(attributes["a"], "b) where true', "ottl-syntax"),
        ('set(attributes["a"], "b") whre true', "ottl-syntax"),
        ('set(attributes["a"], ToUpper(body))', "ottl-function"),
        ('sett(attributes["a"], "b")', "ottl-function"),
        ('set(span.attributes["a"], "b")', "ottl-context"),
        ('set(resource.log.attributes["a"], "b")', "ottl-context"),
        ('set(attributes["a"], "b") where not (body == "x" or body == "y")', None),
    ],
)
def test_ottl_statements(engine, statement, rule):
    transform = "  transform:\n    log_statements:\n      - context: log\n        statements:\n"
    transform += f"          - '{statement}'\n"
    text = BASE.replace("  batch:\n", "  batch:\n" + transform)
    text = text.replace("[memory_limiter, batch]", "[memory_limiter, transform, batch]").replace("traces:", "logs:")
    errors = engine.validate(text).errors
    assert rules(errors) == ([rule] if rule else []), [f.message for f in errors]


@pytest.mark.parametrize(
    ("setting", "rule"),
    [
        ("timeout: 5s", None),
        ("timeout: 5 seconds", "invalid-value"),
        ("timeout: true", "wrong-type"),
        ("send_batch_size: '100'", "wrong-type"),
        ("send_batch_size: -1", "invalid-value"),
        ("send_batch_size: 5000000000", "int-overflow"),
        ("metadata_keys: a,b", None),
        ("metadata_keys: [a, A]", "invalid-value"),
        ("metadata_kyes: [a]", "unknown-key"),
    ],
)
def test_typed_settings_of_batch(engine, setting, rule):
    text = BASE.replace("  batch:\n", f"  batch:\n    {setting}\n")
    errors = engine.validate(text).errors
    assert rules(errors) == ([rule] if rule else []), [f.message for f in errors]
