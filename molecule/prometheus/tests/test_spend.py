"""Spend to the cent: the alert rules' own expressions against real data.

The real client's payloads (tests/fixtures/claude-code-2.1.330) go through the
collection's collector on both hosts (two collectors) into Prometheus as the
prometheus role runs it (protobuf scrape, created-timestamp zero ingestion).
Every series starts above 0, as real sessions do. The checks run on
prometheus-debian13, whose Prometheus scrapes both collectors and has a user
budget (0.01 USD) below one one-shot session.

Ground truth is the fixture's own api_request events: 0.02204 USD and 20242
tokens per export of metrics.json (scaled by an integer where an export
carries a multiple). The rules' expressions are read from the rule file live
on the host; the 1 h figure is the same expression over [1h].
"""

from __future__ import annotations

import time

import pytest
import yaml
from claude_traffic import COST, RULES, api

testinfra_hosts = ["ansible://prometheus-debian13"]


def rule_lhs(host, alert):
    """The left-hand side of an alert rule's comparison, as the live rule file states it."""
    rules = yaml.safe_load(host.file(RULES).content_string)
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == alert and "!~" not in rule["expr"]:
                lhs, _, threshold = " ".join(rule["expr"].split()).rpartition(" > ")
                float(threshold)
                return lhs
    pytest.fail(f"no rule {alert} in {RULES}")


def by_label(result, label):
    return {r["metric"].get(label, ""): float(r["value"][1]) for r in result}


@pytest.mark.parametrize("window", ["1d", "1h"])
def test_user_spend_from_the_rule_is_exact(host, traffic, window):
    expr = rule_lhs(host, "ClaudeCodeUserDailySpendOverBudget").replace("[1d]", f"[{window}]")
    assert "anchored" in expr, expr
    got = by_label(api(host, "/api/v1/query", query=expr)["result"], "user_id")
    for user, (cost, _) in traffic["expected"].items():
        assert got.get(user) == pytest.approx(cost, abs=1e-9), f"{user}: {got.get(user)} != {cost} ({expr})"


@pytest.mark.parametrize("window", ["1d", "1h"])
def test_team_and_fleet_spend_from_the_rules_are_exact(host, traffic, window):
    team_expr = rule_lhs(host, "ClaudeCodeTeamDailySpendOverBudget").replace("[1d]", f"[{window}]")
    teams = by_label(api(host, "/api/v1/query", query=team_expr)["result"], "team")
    total = sum(cost for cost, _ in traffic["expected"].values())
    assert teams.get(traffic["team"]) == pytest.approx(total, abs=1e-9)
    fleet_expr = rule_lhs(host, "ClaudeCodeFleetDailySpendOverBudget").replace("[1d]", f"[{window}]")
    fleet = api(host, "/api/v1/query", query=fleet_expr)["result"]
    user_expr = rule_lhs(host, "ClaudeCodeUserDailySpendOverBudget").replace("[1d]", f"[{window}]")
    users = api(host, "/api/v1/query", query=user_expr)["result"]
    assert float(fleet[0]["value"][1]) == pytest.approx(sum(float(r["value"][1]) for r in users), abs=1e-9)


def test_tokens_are_exact(host, traffic):
    selector = f'{{team="{traffic["team"]}"}}'
    expr = f"sum by (user_id) (increase(claude_code_token_usage_tokens_total{selector}[1d] anchored))"
    got = by_label(api(host, "/api/v1/query", query=expr)["result"], "user_id")
    for user, (_, tokens) in traffic["expected"].items():
        assert got.get(user) == tokens, f"{user}: {got.get(user)} != {tokens}"


def test_plain_increase_would_be_wrong(host, traffic):
    """Why `anchored` and the zero sample matter: without them one-shot sessions are not counted right."""
    user = f"oneshot0-{traffic['run']}"
    plain = api(host, "/api/v1/query", query=f'sum(increase(claude_code_cost_usage_USD_total{{user_id="{user}"}}[1d]))')
    value = float(plain["result"][0]["value"][1]) if plain["result"] else 0.0
    assert value != pytest.approx(COST, abs=1e-9)


def test_one_one_shot_session_fires_the_user_budget_alert(host, traffic):
    user = f"oneshot0-{traffic['run']}"
    deadline = time.time() + 60
    while True:
        alerts = api(host, "/api/v1/alerts")["alerts"]
        firing = [
            a
            for a in alerts
            if a["labels"].get("alertname") == "ClaudeCodeUserDailySpendOverBudget"
            and a["labels"].get("user_id") == user
            and a["state"] == "firing"
        ]
        if firing or time.time() > deadline:
            break
        time.sleep(3)
    assert firing, f"no firing budget alert for {user}: {[a['labels'] for a in alerts]}"
    assert "0.02" in firing[0]["annotations"]["description"]
