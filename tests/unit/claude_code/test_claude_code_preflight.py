"""The claude_code role refuses weak tokens and keeps the token out of the settings env by default.

Each case runs the role's preflight (preflight.yml, on the controller) and
checks that it fails with a message naming the variable, or passes and shows
the settings the role would write; a refused token never shows in the output.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible_run import ansible_playbook

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
GOOD = "q3Vx8Lm2Pz7Rt5Yw1Nb4Kc6Hd"  # 26 characters, made up for the test
ENDPOINT = {"claude_code_otlp_endpoint": "http://10.8.0.1:4318"}


def preflight(tmp_path: Path, settings: dict) -> tuple[subprocess.CompletedProcess, dict | None]:
    extra = tmp_path / "vars.json"
    out = tmp_path / "settings.json"
    extra.write_text(json.dumps({**ENDPOINT, **settings, "molecule_settings_out": str(out)}))
    proc = ansible_playbook("-v", HERE / "preflight.yml", "-e", f"@{extra}")
    return proc, (json.loads(out.read_text()) if out.exists() else None)


def _placeholders() -> list[str]:
    """The example tokens of the inventories and the README: they must be refused."""
    found = []
    for path in ROOT.glob("inventories/*/group_vars/all/vault.yml.example"):
        found += yaml.safe_load(path.read_text())["vault_claude_monitoring_ingest_tokens"]
    assert len(found) >= 2
    return found


REFUSED = {
    "empty": "",
    "short": "q3Vx8Lm2Pz7Rt5Yw1Nb4K",  # 21 characters: under 128 bits
    "short_padded": "q3Vx8Lm2Pz7Rt5Yw1Nb4==",  # padding does not count
    "hex_16": "0123456789abcdef0123",  # 20 hex digits, 80 bits
    "space": "q3Vx8Lm2Pz7Rt5Yw1Nb4Kc6Hd q3Vx8",
    "change_me": "change-me-to-a-long-random-token",
    "changeme": "CHANGEME0123456789abcdefghij",
    "example": "example-token-0123456789abcdef",
    "sample": "my-sample-ingest-token-0123456",
    "replace": "replace-with-output-of-openssl-rand-hex-32",
    "placeholder": "placeholder-for-the-vault-token",
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_preflight_refuses_weak_and_sample_tokens(tmp_path, case):
    token = REFUSED[case]
    out, _settings = preflight(tmp_path, {"claude_code_ingest_token": token})
    text = out.stdout + out.stderr
    assert out.returncode != 0, f"{case}: accepted\n{text}"
    assert "claude_code_ingest_token" in text and "openssl rand -base64 32" in text, text
    if token:
        assert token not in text, f"{case}: the token shows in the output"


@pytest.mark.parametrize("index", [0, 1])
def test_the_example_tokens_are_refused(tmp_path, index):
    token = _placeholders()[index]
    out, _settings = preflight(tmp_path, {"claude_monitoring_ingest_tokens": [token]})
    assert out.returncode != 0, f"the example token {token!r} was accepted"


ACCEPTED = {
    "base64_32": "hT1k5Qv0yV2m8n3XvS9bq4RZ/7f+Jc1kq2tYw3EoZ8Q=",
    "base64url_22": "q3Vx8Lm2Pz7Rt5Yw1Nb4Kc",
    "hex_32": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_preflight_accepts_strong_tokens(tmp_path, case):
    out, settings = preflight(tmp_path, {"claude_code_ingest_token": ACCEPTED[case]})
    assert out.returncode == 0, out.stdout + out.stderr
    assert settings is not None


def test_defaults_keep_the_token_out_of_the_settings_env(tmp_path):
    """Some Claude Code versions pass the settings env to every command they run."""
    out, settings = preflight(tmp_path, {"claude_monitoring_ingest_tokens": [GOOD]})
    assert out.returncode == 0, out.stdout + out.stderr
    assert settings["otelHeadersHelper"] == "/etc/claude-code/otel-headers-helper.sh"
    assert all(GOOD not in value for value in settings["env"].values()), settings["env"]
    assert "OTEL_EXPORTER_OTLP_HEADERS" not in settings["env"]
    assert GOOD not in json.dumps(settings)


def test_grpc_needs_the_helper_turned_off(tmp_path):
    out, _settings = preflight(tmp_path, {"claude_code_ingest_token": GOOD, "claude_code_otlp_protocol": "grpc"})
    assert out.returncode != 0 and "claude_code_headers_helper_enabled: false" in out.stdout + out.stderr
    out, settings = preflight(
        tmp_path,
        {
            "claude_code_ingest_token": GOOD,
            "claude_code_otlp_protocol": "grpc",
            "claude_code_headers_helper_enabled": False,
        },
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert settings["env"]["OTEL_EXPORTER_OTLP_HEADERS"] == f"Authorization=Bearer {GOOD}"


def test_helper_token_file_must_be_readable_by_the_developers(tmp_path):
    out, _settings = preflight(
        tmp_path, {"claude_code_ingest_token": GOOD, "claude_code_headers_helper_token_file_mode": "0640"}
    )
    assert out.returncode != 0 and "claude_code_headers_helper_token_file_mode" in out.stdout + out.stderr
    out, _settings = preflight(
        tmp_path,
        {
            "claude_code_ingest_token": GOOD,
            "claude_code_headers_helper_group": "developers",
            "claude_code_headers_helper_token_file_mode": "0640",
        },
    )
    assert out.returncode == 0, out.stdout + out.stderr
