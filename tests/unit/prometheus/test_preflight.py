"""The prometheus role refuses settings that would not do what they say, before anything changes.

Each case runs the role's preflight (preflight.yml, on the controller) and
checks that it fails with a message naming the variable, or passes; a
refused password never shows in the output.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ansible_run import ansible_playbook

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
HASH = "$2b$10$rFStImgSe2uZxCqqPs9p/e/dh.b4vj7BmuZpnnkOA2iUxDbEcOIOq"


def preflight(tmp_path: Path, settings: dict) -> subprocess.CompletedProcess:
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(settings))
    return ansible_playbook("-v", HERE / "preflight.yml", "-e", f"@{extra}")


REFUSED = {
    "retention_days_0": ({"prometheus_retention_days": 0}, "prometheus_retention_days is 0"),
    "shared_retention_0": ({"claude_monitoring_retention_days": 0}, "prometheus_retention_days is 0"),
    "retention_time_0": ({"prometheus_retention_time": "0s"}, "prometheus_retention_days is 0"),
    "short_password": ({"prometheus_web_basic_auth_users": {"ops": "tooShort-1"}}, "shorter than 12 characters"),
    "long_password": ({"prometheus_web_basic_auth_users": {"ops": "x" * 73}}, "longer than 72 bytes"),
    "bad_user_name": ({"prometheus_web_basic_auth_users": {"a:b": "long-enough-password-1"}}, "user name"),
    # The vault example's placeholder, deployed as is: the user is named, the password never shown.
    "sample_password": (
        {"prometheus_web_basic_auth_users": {"ops": "CHANGE-ME: output of openssl rand -base64 24"}},
        "the password of ops in prometheus_web_basic_auth_users is a sample value",
    ),
    "sample_word_inside": (
        {"prometheus_web_basic_auth_users": {"ops": "long-enough-password-1", "grafana": "replace-with-a-password"}},
        "the password of grafana in prometheus_web_basic_auth_users is a sample value",
    ),
    "only_hashes": ({"prometheus_web_basic_auth_users": {"ops": HASH}}, "prometheus_web_client_user"),
    "client_user_unknown": (
        {"prometheus_web_basic_auth_users": {"ops": "long-enough-password-1"}, "prometheus_web_client_user": "x"},
        "prometheus_web_client_user",
    ),
    "cert_without_key": ({"prometheus_web_tls_cert_file": "/etc/p.crt"}, "prometheus_web_tls_key_file"),
    "bad_state": ({"prometheus_state": "gone"}, "prometheus_state"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_preflight_refuses(tmp_path, case):
    settings, message = REFUSED[case]
    out = preflight(tmp_path, settings)
    text = out.stdout + out.stderr
    assert out.returncode != 0, f"{case}: accepted\n{text}"
    assert message in text, f"{case}: the failure does not say {message!r}\n{text}"
    for user, password in settings.get("prometheus_web_basic_auth_users", {}).items():
        if password != HASH:
            assert password not in text, f"{case}: the password of {user} shows in the output"


ACCEPTED = {
    "defaults": {},
    "retention_1d": {"prometheus_retention_days": 1},
    "auth_and_tls": {
        "prometheus_web_basic_auth_users": {"ops": "long-enough-password-1", "grafana": HASH},
        "prometheus_web_tls_cert_file": "/etc/p.crt",
        "prometheus_web_tls_key_file": "/etc/p.key",
    },
    "absent_ignores_the_rest": {"prometheus_state": "absent", "prometheus_retention_days": 0},
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_preflight_accepts(tmp_path, case):
    out = preflight(tmp_path, ACCEPTED[case])
    assert out.returncode == 0, f"{case}: refused\n{out.stdout}{out.stderr}"
