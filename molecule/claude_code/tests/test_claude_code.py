"""Claude Code's managed settings on the developer machines, and what they do.

The settings are valid JSON in the place and shape the scenario asks for,
other keys are untouched, the token is in no settings env value where the
headers helper is on (the default), and an OTLP exporter configured from
exactly the written env block (and the helper's headers) reaches the collector
deployed by the otel_collector role: accepted with the right token, refused
with a wrong one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import testinfra

testinfra_hosts = ["ansible://claude_code_clients"]

DROPIN = "/etc/claude-code/managed-settings.d/10-telemetry.json"
MANAGED = "/etc/claude-code/managed-settings.json"
COLLECTOR = "claude_code-collector"
PROBE = Path(__file__).with_name("otlp_probe.py")
# The interpreter with the OpenTelemetry SDK (tests/requirements.txt pins it in
# the test virtualenv); CM_OTEL_SDK_PYTHON points elsewhere for experiments.
SDK_PYTHON = os.environ.get("CM_OTEL_SDK_PYTHON", sys.executable)

# What each client's inventory asks for (molecule.yml).
EXPECTED = {
    "claude_code-debian12": {
        "file": DROPIN,
        "env": {
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://172.30.70.10:4318",
            "OTEL_METRIC_EXPORT_INTERVAL": "10000",
            "OTEL_METRICS_INCLUDE_SESSION_ID": "true",
            "OTEL_METRICS_INCLUDE_VERSION": "false",
            "OTEL_RESOURCE_ATTRIBUTES": (
                "team=platform%20eng,machine.name=claude_code-debian12,department=R%26D%2C%20tools%3Dcore"
            ),
        },
        "labels": {"team": "platform eng", "machine_name": "claude_code-debian12", "department": "R&D, tools=core"},
        # The defaults: the token comes from the headers helper, never from the settings env.
        "helper": "/etc/claude-code/otel-headers-helper.sh",
        "token": "molecule-token-site-0001",
    },
    "claude_code-debian13": {
        "file": MANAGED,
        "env": {
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://172.30.70.10:4317",
            "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer molecule-token-team-search-0002",
            "OTEL_METRIC_EXPORT_INTERVAL": "60000",
            "OTEL_METRICS_INCLUDE_SESSION_ID": "false",
            "OTEL_METRICS_INCLUDE_VERSION": "true",
            "OTEL_RESOURCE_ATTRIBUTES": "team=search,machine.name=claude_code-debian13,cost.center=cc-42",
        },
        "labels": {"team": "search", "machine_name": "claude_code-debian13", "cost_center": "cc-42"},
        "helper": None,
        "token": "molecule-token-team-search-0002",
    },
}
COMMON_ENV = {
    "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
    "OTEL_METRICS_EXPORTER": "otlp",
    "OTEL_LOGS_EXPORTER": "otlp",
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "delta",
    "OTEL_LOGS_EXPORT_INTERVAL": "5000",
    "OTEL_METRICS_INCLUDE_ACCOUNT_UUID": "true",
}


def _name(host) -> str:
    return host.backend.get_hostname()


def _settings(host) -> dict:
    return json.loads(host.file(EXPECTED[_name(host)]["file"]).content_string)


def _preexisting(host) -> dict:
    return host.ansible.get_variables()["molecule_claude_code_preexisting"]


def _collector_metrics(port: int) -> str:
    """The collector's own telemetry (loopback only) or its Prometheus exporter."""
    out = testinfra.get_host(f"docker://{COLLECTOR}").run(f"curl -fsS http://127.0.0.1:{port}/metrics")
    assert out.rc == 0, out.stderr
    return out.stdout


def _accepted_logs(transport: str) -> float:
    pattern = rf'^otelcol_receiver_accepted_log_records(?:_total)?{{[^}}]*transport="{transport}"[^}}]*}} (\S+)$'
    return sum(float(v) for v in re.findall(pattern, _collector_metrics(8888), re.M))


def _client_env(host) -> dict[str, str]:
    """The environment Claude Code exports with: the settings env, plus the headers the
    otelHeadersHelper prints (run as the developer, as Claude Code runs it)."""
    settings = _settings(host)
    env = dict(settings["env"])
    helper = settings.get("otelHeadersHelper")
    if helper:
        out = host.run(f"runuser -u dev -- {helper}")
        assert out.rc == 0, out.stderr
        headers = json.loads(out.stdout)
        env["OTEL_EXPORTER_OTLP_HEADERS"] = ",".join(f"{k}={v}" for k, v in headers.items())
    return env


def _export(env: dict[str, str]) -> tuple[dict, str]:
    """Run the SDK probe with exactly this environment (nothing inherited)."""
    proc = subprocess.run([SDK_PYTHON, str(PROBE)], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.stdout.strip(), f"probe printed nothing; stderr: {proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def test_settings_file_is_valid_json_with_the_telemetry_env(host):
    settings = _settings(host)
    env = settings["env"]
    assert all(isinstance(v, str) for v in env.values()), env
    for key, value in {**COMMON_ENV, **EXPECTED[_name(host)]["env"]}.items():
        assert env.get(key) == value, f"{key}: {env.get(key)!r} != {value!r}"
    # Privacy switches stay off: not written at all.
    assert "OTEL_LOG_USER_PROMPTS" not in env
    assert "OTEL_LOG_TOOL_DETAILS" not in env
    assert " " not in env["OTEL_RESOURCE_ATTRIBUTES"]


def test_token_is_in_no_settings_env_value_with_the_helper(host):
    """Some Claude Code versions hand the settings env to every command they run."""
    expected = EXPECTED[_name(host)]
    settings = _settings(host)
    if expected["helper"] is None:
        # Opted out (gRPC): the static header, and no helper left behind.
        assert settings["env"]["OTEL_EXPORTER_OTLP_HEADERS"] == f"Authorization=Bearer {expected['token']}"
        assert "otelHeadersHelper" not in settings
        assert not host.file("/etc/claude-code/ingest-token").exists
        return
    assert settings["otelHeadersHelper"] == expected["helper"]
    assert all(expected["token"] not in value for value in settings["env"].values()), settings["env"]
    assert expected["token"] not in host.file(expected["file"]).content_string
    # The defaults: root's group, so every account may read the token file, as it could read a 0644 settings file.
    token = host.file("/etc/claude-code/ingest-token")
    assert (token.user, token.group, token.mode) == ("root", "root", 0o644)
    assert token.content_string == expected["token"]
    helper = host.file(expected["helper"])
    assert (helper.user, helper.mode) == ("root", 0o755)


def test_settings_file_is_readable_by_the_developer(host):
    f = host.file(EXPECTED[_name(host)]["file"])
    assert f.user == "root" and f.group == "root" and f.mode == 0o644
    assert host.run(f"runuser -u dev -- cat {f.path}").rc == 0


def test_other_keys_are_untouched(host):
    preexisting = _preexisting(host)
    if _name(host) == "claude_code-debian12":
        # Drop-in mode: managed-settings.json is still the compact file prepare.yml wrote.
        content = host.file(MANAGED).content_string
        assert json.loads(content) == preexisting
        assert content.count("\n") == 1, content
        assert set(_settings(host)) == {"env", "otelHeadersHelper"}
    else:
        settings = _settings(host)
        for key, value in preexisting.items():
            if key != "env":
                assert settings[key] == value
        for key, value in preexisting["env"].items():
            assert settings["env"][key] == value
        assert set(settings) == set(preexisting)


def test_exporter_from_the_env_block_is_accepted_by_the_collector(host):
    env = _client_env(host)
    transport = "grpc" if env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc" else "http"
    logs_before = _accepted_logs(transport)

    result, stderr = _export(env)
    assert result.get("metrics") == "SUCCESS" and result.get("logs") == "SUCCESS", f"{result}\n{stderr}"

    # The metric reaches the Prometheus exporter with the resource attributes as labels.
    scrape_url = f"http://{urlsplit(env['OTEL_EXPORTER_OTLP_ENDPOINT']).hostname}:8889/metrics"
    series, logs_after = [], logs_before
    for _ in range(30):
        with urllib.request.urlopen(scrape_url, timeout=5) as response:
            text = response.read().decode()
        series = [line for line in text.splitlines() if f'probe_id="{result["probe_id"]}"' in line]
        logs_after = _accepted_logs(transport)
        if series and logs_after > logs_before:
            break
        time.sleep(1)
    assert series, f"probe {result['probe_id']} not on {scrape_url}"
    assert series[0].startswith("claude_code_molecule_probe_total{"), series
    for label, value in EXPECTED[_name(host)]["labels"].items():
        assert f'{label}="{value}"' in series[0], series[0]
    assert series[0].rsplit(" ", 1)[1] == "3"
    assert logs_after > logs_before, f"collector accepted no log record over {transport}"


def test_exporter_with_a_wrong_token_is_refused(host):
    env = _client_env(host)
    env["OTEL_EXPORTER_OTLP_HEADERS"] = "Authorization=Bearer not-a-valid-token"
    result, stderr = _export(env)
    assert result.get("metrics") == "FAILURE" and result.get("logs") == "FAILURE", result
    assert re.search(r"UNAUTHENTICATED|401", stderr), stderr


@pytest.mark.parametrize(
    "path", [DROPIN, MANAGED, "/etc/claude-code/ingest-token", "/etc/claude-code/otel-headers-helper.sh"]
)
def test_no_token_in_files_other_accounts_can_write(host, path):
    f = host.file(path)
    if f.exists:
        assert not f.mode & 0o022, f"{path} is writable by others: {oct(f.mode)}"
