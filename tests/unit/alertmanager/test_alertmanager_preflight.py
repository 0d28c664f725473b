"""The alertmanager role refuses the sample values of the examples before anything changes.

A webhook URL, routing key or SMTP password still holding a placeholder of
vault.yml.example ("CHANGE-ME: ...") or another sample word of the collection
(the claude_monitoring.stack.sample_words filter) fails the preflight with a
message naming where it is set, never the value.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ansible_run import ansible_playbook

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
REAL = "http://relay.internal.lan:8099/hook?token=kJ8s0dQe2Yv6rW1nP4tZ7bX3"


def preflight(tmp_path: Path, settings: dict) -> subprocess.CompletedProcess:
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(settings))
    return ansible_playbook("-v", HERE / "preflight.yml", "-e", f"@{extra}")


def receivers(**integration) -> dict:
    return {"alertmanager_receivers": [{"name": "people", **integration}], "alertmanager_default_receiver": "people"}


REFUSED = {
    "slack_placeholder": (
        receivers(slack={"webhook_url": "CHANGE-ME: the Slack incoming webhook URL of #claude-code-platform"}),
        "alertmanager_receivers people: slack.webhook_url",
    ),
    "slack_documented_sample": (
        receivers(slack={"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"}),
        "alertmanager_receivers people: slack.webhook_url",
    ),
    "discord_placeholder": (
        receivers(discord={"webhook_url": "replace-with-the-discord-webhook-url"}),
        "alertmanager_receivers people: discord.webhook_url",
    ),
    "pagerduty_placeholder": (
        receivers(pagerduty={"routing_key": "CHANGE-ME: the Events API v2 integration key"}),
        "alertmanager_receivers people: pagerduty.routing_key",
    ),
    "webhook_placeholder": (
        receivers(webhook={"url": "https://alerts.example.org/hook"}),
        "alertmanager_receivers people: webhook.url",
    ),
    "smtp_placeholder": (
        {
            **receivers(email={"to": "ops@corp.internal"}),
            "alertmanager_smtp_smarthost": "smtp.corp.internal:587",
            "alertmanager_smtp_auth_password": "CHANGE-ME: the SMTP password",
        },
        "alertmanager_smtp_auth_password",
    ),
}


def secrets_of(settings: dict) -> list[str]:
    out = [settings.get("alertmanager_smtp_auth_password", "")]
    for r in settings.get("alertmanager_receivers", []):
        for kind, key in (
            ("slack", "webhook_url"),
            ("discord", "webhook_url"),
            ("pagerduty", "routing_key"),
            ("webhook", "url"),
        ):
            out.append(r.get(kind, {}).get(key, ""))
    return [s for s in out if s]


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_preflight_refuses_sample_values(tmp_path, case):
    settings, where = REFUSED[case]
    out = preflight(tmp_path, settings)
    text = out.stdout + out.stderr
    assert out.returncode != 0, f"{case}: accepted\n{text}"
    assert f"alertmanager: {where}" in text and "a sample value" in text, f"{case}: does not name {where!r}\n{text}"
    for secret in secrets_of(settings):
        assert secret not in text, f"{case}: the value shows in the output"


ACCEPTED = {
    "no_receivers": {},
    "real_values": {
        **receivers(
            slack={"webhook_url": REAL},
            discord={"webhook_url": REAL},
            pagerduty={"routing_key": "0123456789abcdef0123456789abcdef"},
            webhook={"url": REAL},
            email={"to": "ops@corp.internal"},
        ),
        "alertmanager_smtp_smarthost": "smtp.corp.internal:587",
        "alertmanager_smtp_auth_password": "kJ8s0dQe2Yv6rW1nP4tZ",
    },
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_preflight_accepts(tmp_path, case):
    out = preflight(tmp_path, ACCEPTED[case])
    assert out.returncode == 0, f"{case}: refused\n{out.stdout}{out.stderr}"
