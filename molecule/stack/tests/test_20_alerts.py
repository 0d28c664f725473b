"""Alerts reach people, and the right ones.

- A budget crossed by one team (payments: 0.01 USD a day, crossed by the
  traffic of conftest.py) is delivered to that team's receiver (Slack stand-in)
  and to no other receiver; the other team (search) crosses nothing.
- The silent meter: while clients send events but no metric points (the
  emulator with --no-metrics, a client whose metrics exporter is off), the
  alert fires and reaches the default receiver; when metrics resume it resolves
  and the receiver is told.
The receivers are the HTTP stand-ins of molecule/alertmanager/files/receiver.py
on stack-grafana, which record every notification Alertmanager delivers.
"""

from __future__ import annotations

import json

from stack import GRAFANA, api, emulator, finish, new_run, node, wait_for

RECEIVED = "/var/tmp/receivers/requests.jsonl"
TEAM_BUDGET = "ClaudeCodeTeamDailySpendOverBudget"
SILENT = "ClaudeCodeSilentMeter"


def deliveries():
    out = node(GRAFANA).run(f"cat {RECEIVED}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def alerts(name, state="firing"):
    return [a for a in api("/api/v1/alerts")["alerts"] if a["labels"]["alertname"] == name and a["state"] == state]


def test_a_team_budget_reaches_that_team_only(traffic):
    firing = wait_for(f"{TEAM_BUDGET} firing", lambda: alerts(TEAM_BUDGET), timeout=90)
    assert {a["labels"]["team"] for a in firing} == {"payments"}, [a["labels"] for a in firing]

    def delivered():
        return [d for d in deliveries() if TEAM_BUDGET in json.dumps(d["body"])]

    got = wait_for(f"{TEAM_BUDGET} delivered", delivered, timeout=90)
    assert {d["path"] for d in got} == {"/slack/payments"}, [d["path"] for d in got]
    assert "payments" in json.dumps(got[0]["body"])


def test_silent_meter_fires_and_resolves(traffic):
    run = "s" + new_run()
    silent = emulator(
        "--seed", "21", "--run", run, "--users", "2", "--teams", "1", "--team-names", "search", "--machines", "1",
        "--sessions", "3", "--requests", "6", "--duration", "75", "--no-metrics", background=True,
    )  # fmt: skip
    fired = wait_for(f"{SILENT} firing", lambda: alerts(SILENT), timeout=150)
    assert {a["labels"]["instance"] for a in fired}, fired

    def notified(status):
        return [
            d
            for d in deliveries()
            if d["path"].startswith("/webhook/people")
            and any(a["labels"]["alertname"] == SILENT and a["status"] == status for a in d["body"].get("alerts", []))
        ]

    wait_for("the silent meter delivered to the default receiver", lambda: notified("firing"), timeout=60)
    truth, _ = finish(*silent)
    assert truth["exports"] and not any(e["signal"] == "metrics" for e in truth["exports"])
    # Metrics resume: a client with its meter on.
    emulator(
        "--seed", "22", "--run", "r" + new_run(), "--users", "2", "--teams", "1", "--team-names", "search",
        "--machines", "1", "--sessions", "1", "--requests", "3", "--duration", "10",
    )  # fmt: skip
    wait_for(f"{SILENT} resolved", lambda: not alerts(SILENT) and not alerts(SILENT, "pending"), timeout=90)
    wait_for("the resolution delivered", lambda: notified("resolved"), timeout=90)
