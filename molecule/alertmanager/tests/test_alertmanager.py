"""Alerts reach people: real Prometheus rules, two clustered Alertmanagers, real receivers.

The real client's metrics go through the collection's collector into
Prometheus on alertmanager-debian12; the tiny budgets of molecule.yml make the
user and team budget alerts fire at once. Delivery is checked where it lands:
the SMTP server's Maildir and the HTTP stand-ins' request log (files/receiver.py
accepts only payloads of the shape each service takes).
"""

from __future__ import annotations

import copy
import email
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

import pytest

testinfra_hosts = ["ansible://alertmanager-debian12"]

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "claude-code-2.1.330"
FIXTURE = FIXTURES / "metrics.json"
LOGS = FIXTURES / "logs.json"
REQUESTS = "/var/tmp/receivers/requests.jsonl"
MAILDIR = "/var/tmp/receivers/maildir/new"
SECRETS = ("molecule-secret-webhook", "molecule-secret-slack", "molecule-secret-discord", "molecule-secret-routing-key")


def api(host, url):
    out = host.run(f"curl -sf '{url}'")
    assert out.rc == 0, f"{url}: {out.stdout}{out.stderr}"
    return json.loads(out.stdout)


def send(host, token, user, team):
    """One export of the fixture for a fresh session of `user` in `team`."""
    payload = json.loads(FIXTURE.read_text())
    now = time.time_ns()
    session = str(uuid.uuid4())
    for rm in payload["resourceMetrics"]:
        # The client copies its resource attributes (team among them) onto every point: change both.
        for attr in rm["resource"]["attributes"]:
            if attr["key"] == "team":
                attr["value"] = {"stringValue": team}
        for sm in rm["scopeMetrics"]:
            for metric in sm["metrics"]:
                for point in metric["sum"]["dataPoints"]:
                    values = {"session.id": session, "user.id": user, "team": team}
                    for attr in point["attributes"]:
                        if attr["key"] in values:
                            attr["value"] = {"stringValue": values[attr["key"]]}
                    point["startTimeUnixNano"] = str(now - 30 * 10**9)
                    point["timeUnixNano"] = str(now)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(copy.deepcopy(payload), f)
    try:
        host.ansible("copy", f"src={f.name} dest=/tmp/am-{user}.json mode=0644", check=False, become=True)
    finally:
        os.unlink(f.name)
    out = host.run(
        "curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' "
        f"-H 'Authorization: Bearer {token}' --data-binary @/tmp/am-{user}.json http://127.0.0.1:4318/v1/metrics"
    )
    assert out.stdout.strip() == "200", out.stdout + out.stderr


def requests(host):
    text = host.run(f"cat {REQUESTS} 2>/dev/null").stdout
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def mails(host):
    names = host.run(f"ls {MAILDIR} 2>/dev/null").stdout.split()
    return [email.message_from_string(host.file(f"{MAILDIR}/{n}").content_string) for n in names]


def mentions(request, text):
    return text in json.dumps(request["body"])


@pytest.fixture(scope="module")
def delivered(host):
    token = host.ansible.get_variables()["claude_monitoring_ingest_tokens"][0]
    run = uuid.uuid4().hex[:6]
    users = {"alpha": f"ua-{run}", "beta": f"ub-{run}"}
    for team, user in users.items():
        send(host, token, user, team)
    deadline = time.time() + 180
    while True:
        got = requests(host)
        paths = {r["path"] for r in got if any(mentions(r, u) for u in users.values())}
        done = {"/slack/alpha", "/discord/beta", "/pagerduty/enqueue", "/webhook/people"} <= paths
        if (done and mails(host)) or time.time() > deadline:
            break
        time.sleep(3)
    # Both Alertmanagers had their chance to send (a peer waits its position x 15 s).
    time.sleep(35)
    return {"users": users, "requests": requests(host), "mails": mails(host)}


def test_cluster_of_two(host):
    status = api(host, "http://127.0.0.1:9093/api/v2/status")
    assert status["cluster"]["status"] == "ready"
    assert len(status["cluster"]["peers"]) == 2


def test_prometheus_sends_to_both(host):
    active = api(host, "http://127.0.0.1:9090/api/v1/alertmanagers")["data"]["activeAlertmanagers"]
    assert len(active) == 2, active


def test_every_request_had_an_accepted_shape(delivered):
    assert delivered["requests"]
    assert all(r["accepted"] for r in delivered["requests"]), [r for r in delivered["requests"] if not r["accepted"]]


def test_team_budget_goes_to_that_team_only(delivered):
    alpha, beta = delivered["users"]["alpha"], delivered["users"]["beta"]
    by_path = {}
    for r in delivered["requests"]:
        by_path.setdefault(r["path"], []).append(r)
    slack = [
        r for r in by_path.get("/slack/alpha", []) if "ClaudeCodeTeamDailySpendOverBudget" in json.dumps(r["body"])
    ]
    assert slack, "team alpha's budget alert did not reach team alpha's Slack"
    assert all("alpha" in json.dumps(r["body"]) and "beta" not in json.dumps(r["body"]) for r in slack)
    for path in ("/discord/beta", "/pagerduty/enqueue"):
        team = [r for r in by_path.get(path, []) if "ClaudeCodeTeamDailySpendOverBudget" in json.dumps(r["body"])]
        assert team, f"team beta's budget alert did not reach {path}"
        assert not any(alpha in json.dumps(r["body"]) or "Team: alpha" in json.dumps(r["body"]) for r in team)
    # User budget alerts go to the default receiver, not to the teams.
    assert not any(beta in json.dumps(r["body"]) for r in by_path.get("/slack/alpha", []))


def test_pagerduty_event_is_events_v2(delivered):
    events = [r["body"] for r in delivered["requests"] if r["path"] == "/pagerduty/enqueue"]
    assert events and all(e["routing_key"] == "molecule-secret-routing-key" for e in events)
    assert {e["event_action"] for e in events} <= {"trigger", "resolve"}


def test_email_names_the_user_and_the_amount(delivered):
    alpha = delivered["users"]["alpha"]
    bodies = []
    for mail in delivered["mails"]:
        for part in mail.walk():
            if part.get_content_type() in ("text/plain", "text/html"):
                bodies.append(part.get_payload(decode=True).decode(errors="replace"))
    text = "\n".join(bodies)
    assert alpha in text, "the budget email does not name the user"
    assert "0.02 USD" in text, "the budget email does not say how much"
    assert "grafana.molecule.invalid" in text, "the email has no dashboard link"
    assert all(m["To"] == "team-lead@molecule.invalid" for m in delivered["mails"])


def test_one_notification_per_alert_from_two_alertmanagers(delivered):
    slack = [r for r in delivered["requests"] if r["path"] == "/slack/alpha"]
    firing = [r for r in slack if '"FIRING' in json.dumps(r["body"]) or "[FIRING" in json.dumps(r["body"])]
    assert len(firing) == 1, f"{len(firing)} notifications for one alert group: {[r['body'] for r in firing]}"


def webhook_states(host, alertname):
    """The status (firing, resolved) of every notification the webhook received for that alert."""
    return [
        r["body"]["status"]
        for r in requests(host)
        if r["path"] == "/webhook/people"
        and any(a["labels"].get("alertname") == alertname for a in r["body"]["alerts"])
    ]


def test_silent_meter_fires_and_resolves(host, delivered):
    """Events keep coming, metric points stop: the meter is silent; metrics again: resolved, and both delivered."""
    token = host.ansible.get_variables()["claude_monitoring_ingest_tokens"][0]
    host.ansible("copy", f"src={LOGS} dest=/tmp/am-logs.json mode=0644", check=False, become=True)
    post_events = (
        "curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' "
        f"-H 'Authorization: Bearer {token}' --data-binary @/tmp/am-logs.json http://127.0.0.1:4318/v1/logs"
    )
    deadline = time.time() + 180
    while "firing" not in webhook_states(host, "ClaudeCodeSilentMeter"):
        assert time.time() < deadline, "the silent meter did not fire (or was not delivered)"
        assert host.run(post_events).stdout.strip() == "200"
        time.sleep(5)
    send(host, token, f"uc-{uuid.uuid4().hex[:6]}", "gamma")
    deadline = time.time() + 180
    while "resolved" not in webhook_states(host, "ClaudeCodeSilentMeter"):
        assert time.time() < deadline, "the silent meter did not resolve (or the resolution was not delivered)"
        host.run(post_events)
        time.sleep(5)


def test_secrets_only_in_their_files(host):
    config = host.file("/etc/alertmanager/alertmanager.yml")
    assert config.mode == 0o640 and config.user == "root" and config.group == "alertmanager"
    secret_dir = host.file("/etc/alertmanager/secrets")
    assert secret_dir.mode == 0o750 and secret_dir.group == "alertmanager"
    files = host.run("ls /etc/alertmanager/secrets").stdout.split()
    assert sorted(files) == ["people-webhook", "team-alpha-slack", "team-beta-discord", "team-beta-pagerduty"]
    for name in files:
        f = host.file(f"/etc/alertmanager/secrets/{name}")
        assert f.mode == 0o640 and f.user == "root" and f.group == "alertmanager"
    elsewhere = "\n".join(
        [
            config.content_string,
            host.file("/etc/systemd/system/alertmanager.service").content_string,
            host.run("ps -eo args").stdout,
            host.run("journalctl -u alertmanager --no-pager").stdout,
        ]
    )
    for secret in SECRETS:
        assert secret not in elsewhere, f"{secret} appears outside its file"


def test_service_runs_hardened(host):
    svc = host.service("alertmanager")
    assert svc.is_running and svc.is_enabled
    unit = host.file("/etc/systemd/system/alertmanager.service").content_string
    assert "User=alertmanager" in unit and "ProtectSystem=strict" in unit
    print(host.run("systemd-analyze security alertmanager --no-pager | tail -1").stdout)
