"""Tests for the claude_monitoring.stack.otelcol_validate module."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
FIXTURES = ROOT / "tests" / "unit" / "fixtures" / "otelcol"

# The collection import path is set up once, in the module_utils conftest.
_spec = importlib.util.spec_from_file_location(
    "_otelcol_validate_conftest", ROOT / "tests" / "unit" / "plugins" / "module_utils" / "conftest.py"
)
_conftest = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _conftest  # dataclasses look their module up by name
_spec.loader.exec_module(_conftest)

from ansible.module_utils.testing import patch_module_args  # noqa: E402
from ansible_collections.claude_monitoring.stack.plugins.modules import otelcol_validate  # noqa: E402


def run_module(capsys, **args):
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        otelcol_validate.main()
    out = json.loads(capsys.readouterr().out)
    return exc.value.code, out


def test_valid_file_with_env(capsys):
    # env values are masked wherever they occur in the output: a one-letter token would mask every "t".
    rc, out = run_module(
        capsys, path=str(FIXTURES / "good" / "claude-code-gateway.yaml"), env={"OTELCOL_BEARER_TOKEN": "placeholder"}
    )
    assert rc == 0 and not out.get("failed")
    assert out["valid"] is True and out["changed"] is False and out["errors"] == []
    assert [w["rule"] for w in out["validation_warnings"]] == ["receiver-no-tls", "receiver-no-tls"]
    assert len(out["warnings"]) == 2 and "receiver-no-tls" in str(out["warnings"][0])


def test_errors_fail_with_rule_and_line(capsys):
    rc, out = run_module(capsys, path=str(FIXTURES / "bad" / "extension-not-enabled.yaml"))
    assert rc == 1 and out["failed"] is True and out["valid"] is False
    assert out["errors"] == [
        {
            "rule": "extension-not-enabled",
            "path": "receivers::otlp::protocols::grpc::auth::authenticator",
            "line": 7,
            "message": out["errors"][0]["message"],
        }
    ]
    assert "1 error(s): line 7: extension-not-enabled" in out["msg"]


def test_content_strict_and_ignore(capsys):
    content = (FIXTURES / "warn" / "debug-detailed.yaml").read_text()
    rc, out = run_module(capsys, content=content)
    assert rc == 0 and out["valid"] is True
    rc, out = run_module(capsys, content=content, strict=True)
    assert rc == 1 and "warning(s) (strict): line 13: debug-detailed" in out["msg"]
    rc, out = run_module(capsys, content=content, strict=True, ignore=["debug-detailed"])
    assert rc == 0


def test_env_file_and_env_override(capsys, tmp_path):
    env_file = tmp_path / "otelcol.conf"
    env_file.write_text("# unit environment\nOTHER=1\n")
    path = str(FIXTURES / "bad" / "env-unset.yaml")
    rc, out = run_module(capsys, path=path, env_file=str(env_file))
    assert rc == 1 and [e["rule"] for e in out["errors"]] == ["env-unset"]
    rc, out = run_module(capsys, path=path, env_file=str(env_file), env={"LOKI_TENANT": "claude"})
    assert rc == 0 and out["valid"] is True


def test_version_aware(capsys):
    content = (FIXTURES / "warn" / "deprecated-loki-exporter.yaml").read_text()
    rc, out = run_module(capsys, content=content, version="0.120.0")
    assert rc == 0 and [w["rule"] for w in out["validation_warnings"]] == ["deprecated-component"]
    rc, out = run_module(capsys, content=content, version="0.131.0")
    assert rc == 1 and [e["rule"] for e in out["errors"]] == ["removed-component"]


def test_feature_gates(capsys):
    content = (FIXTURES / "bad" / "profiles-feature-gate.yaml").read_text()
    assert run_module(capsys, content=content)[0] == 1
    assert run_module(capsys, content=content, feature_gates=["service.profilesSupport"])[0] == 0


def test_check_mode(capsys):
    rc, out = run_module(capsys, path=str(FIXTURES / "bad" / "duplicate-processor.yaml"), _ansible_check_mode=True)
    assert rc == 1 and [e["rule"] for e in out["errors"]] == ["duplicate-processor"]
    rc, out = run_module(capsys, path=str(FIXTURES / "good" / "minimal-agent.yaml"), _ansible_check_mode=True)
    assert rc == 0 and out["valid"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "one of the following is required: path, content"),
        ({"path": "/x", "content": "y"}, "mutually exclusive"),
        ({"content": "a: 1", "ignore": ["nope"]}, "unknown rule id(s) in ignore: nope"),
        ({"content": "a: 1", "version": "latest"}, "is not MAJOR.MINOR"),
        ({"path": "/nonexistent/otelcol.yaml"}, "cannot read /nonexistent/otelcol.yaml"),
        ({"content": "a: 1", "env_file": "/nonexistent/env"}, "cannot read env_file"),
        ({"content": "a: 1", "binary": "/nonexistent/otelcol"}, "cannot run /nonexistent/otelcol"),
    ],
)
def test_parameter_errors(capsys, args, message):
    rc, out = run_module(capsys, **args)
    assert rc == 1 and message in out["msg"]


def test_bad_env_file_syntax(capsys, tmp_path):
    env_file = tmp_path / "bad.env"
    env_file.write_text("not a pair\n")
    rc, out = run_module(capsys, content="a: 1", env_file=str(env_file))
    assert rc == 1 and "line 1" in out["msg"]


# --- secrets and hostile input ------------------------------------------------------

SECRET = "Zq8vN3xW5tR7yU1iO9pA2sD4fG6hJ0kL"  # a made-up 32-character token


def test_env_is_no_log():
    assert otelcol_validate.ARGUMENT_SPEC["env"].get("no_log") is True
    # The examples never pass a literal secret: a placeholder, or a vault variable.
    import yaml

    for task in yaml.safe_load(otelcol_validate.EXAMPLES):
        env = task["claude_monitoring.stack.otelcol_validate"].get("env") or {}
        for value in env.values():
            assert value.startswith("placeholder") or value.startswith("{{ vault_"), value


def test_env_values_stay_out_of_result_warnings_and_log(capsys, monkeypatch):
    """The token is masked in the result, the invocation, the warnings and the host's log (journal)."""
    logged = []
    monkeypatch.setattr(otelcol_validate.AnsibleModule, "log", lambda self, msg, log_args=None: logged.append(msg))
    # The expanded token shows in a finding: an endpoint made of it is not host:port.
    content = (FIXTURES / "good" / "claude-code-gateway.yaml").read_text()
    content = content.replace("0.0.0.0:4317", "${env:OTELCOL_BEARER_TOKEN}", 1)
    assert content != (FIXTURES / "good" / "claude-code-gateway.yaml").read_text()
    rc, out = run_module(capsys, content=content, env={"OTELCOL_BEARER_TOKEN": SECRET})
    assert rc == 1 and "endpoint-syntax" in [e["rule"] for e in out["errors"]]
    text = json.dumps(out)
    assert SECRET not in text
    assert out["invocation"]["module_args"]["env"] == {"OTELCOL_BEARER_TOKEN": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}
    assert logged and not any(SECRET in line for line in logged), logged
    # A warning quoting it is masked too (module warnings are not masked by Ansible itself).
    content = (FIXTURES / "good" / "claude-code-gateway.yaml").read_text().replace("0.0.0.0:4318", "${env:BIND}:4318")
    rc, out = run_module(capsys, content=content, env={"OTELCOL_BEARER_TOKEN": "placeholder", "BIND": SECRET})
    assert rc == 0 and "receiver-no-tls" in [w["rule"] for w in out["validation_warnings"]]
    assert SECRET not in json.dumps(out)
    assert any("receiver-no-tls" in str(w) for w in out["warnings"])


MINIMAL = (FIXTURES / "good" / "minimal-agent.yaml").read_text()


def _endpoint_line(text: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if "endpoint:" in line)


@pytest.mark.parametrize(
    ("content", "rule", "line"),
    [
        ("receivers:\n  otlp:\n    protocols: " + "[" * 700 + "]" * 700 + "\n", "yaml-syntax", 3),
        ("receivers:\n  otlp:\n    protocols: " + "[" * 5000 + "]" * 5000 + "\n", "yaml-syntax", 3),
        (
            re.sub(r"endpoint: \S+", "endpoint: '0.0.0.0:" + "9" * 5000 + "'", MINIMAL, count=1),
            "endpoint-syntax",
            _endpoint_line(MINIMAL),
        ),
        (
            "processors:\n  memory_limiter:\n    check_interval: 1s\n    limit_mib: 0x" + "f" * 5000 + "\n",
            "wrong-type",
            4,
        ),
    ],
    ids=["nested-700", "nested-5000", "port-5000-digits", "hex-5000-digits"],
)
def test_hostile_content_is_a_finding_not_a_traceback(capsys, content, rule, line):
    rc, out = run_module(capsys, content=content)
    assert rc == 1 and out["failed"] is True
    assert "exception" not in out and "Traceback" not in json.dumps(out)
    assert (rule, line) in [(e["rule"], e["line"]) for e in out["errors"]], out["errors"]
