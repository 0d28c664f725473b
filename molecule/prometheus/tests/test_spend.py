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

import copy
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import yaml

testinfra_hosts = ["ansible://prometheus-debian13"]

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "claude-code-2.1.330"
PROM = "http://127.0.0.1:9090"
RULES = "/etc/prometheus/rules/claude_code.rules.yml"
HERE_COLLECTOR = "http://127.0.0.1:4318"
OTHER_COLLECTOR = "http://prometheus-debian12:4318"
SCRAPE_WAIT = 12  # over two scrape intervals (5 s)


def fixture_truth():
    """Cost and tokens of one export: the sums over the fixture's api_request events."""
    cost, tokens = 0.0, 0
    logs = json.loads((FIXTURES / "logs.json").read_text())
    for rl in logs["resourceLogs"]:
        for sl in rl["scopeLogs"]:
            for r in sl["logRecords"]:
                a = {x["key"]: next(iter(x["value"].values())) for x in r["attributes"]}
                if a.get("event.name") == "api_request":
                    cost += float(a["cost_usd"])
                    tokens += sum(
                        int(a[k])
                        for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")
                    )
    return cost, tokens


COST, TOKENS = fixture_truth()


def api(host, path, **params):
    out = host.run(
        f"curl -sf -G '{PROM}{path}' "
        + " ".join(f"--data-urlencode {json.dumps(k + '=' + v)}" for k, v in params.items())
    )
    assert out.rc == 0, f"{path} {params}: {out.stdout}{out.stderr}"
    data = json.loads(out.stdout)
    assert data["status"] == "success", data
    return data["data"]


class Client:
    """One Claude Code session exporting through a collector, as the real client does."""

    def __init__(self, host, token, run, user, session=None, fixture="metrics.json"):
        self.host, self.token = host, token
        self.user, self.team = f"{user}-{run}", f"spend-{run}"
        self.session = session or str(uuid.uuid4())
        self.template = json.loads((FIXTURES / fixture).read_text())
        self.start = self.last = time.time_ns() - 30 * 10**9  # the session started half a minute ago

    def export(self, collector, scale=1, start=None):
        """One export: every point of the fixture times `scale`; delta points cover [start, now]."""
        payload = copy.deepcopy(self.template)
        now = time.time_ns()
        for rm in payload["resourceMetrics"]:
            for attr in rm["resource"]["attributes"]:
                if attr["key"] == "team":
                    attr["value"] = {"stringValue": self.team}
            for sm in rm["scopeMetrics"]:
                for metric in sm["metrics"]:
                    for point in metric["sum"]["dataPoints"]:
                        for attr in point["attributes"]:
                            if attr["key"] == "session.id":
                                attr["value"] = {"stringValue": self.session}
                            elif attr["key"] == "user.id":
                                attr["value"] = {"stringValue": self.user}
                            elif attr["key"] == "team":
                                attr["value"] = {"stringValue": self.team}
                        if "asDouble" in point:
                            point["asDouble"] = point["asDouble"] * scale
                        else:
                            point["asInt"] = str(int(point["asInt"]) * scale)
                        delta = metric["sum"]["aggregationTemporality"] == 1
                        # Delta points cover the time since the previous export; cumulative ones the session.
                        point["startTimeUnixNano"] = str(start or (self.last if delta else self.start))
                        point["timeUnixNano"] = str(now)
        self.last = now
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(payload, f)
        dest = f"/tmp/spend-{uuid.uuid4().hex}.json"
        try:
            self.host.ansible("copy", f"src={f.name} dest={dest} mode=0644", check=False, become=True)
        finally:
            os.unlink(f.name)
        out = self.host.run(
            f"curl -s -o /dev/null -w '%{{http_code}}' -H 'Content-Type: application/json' "
            f"-H 'Authorization: Bearer {self.token}' --data-binary @{dest} {collector}/v1/metrics"
        )
        assert out.stdout.strip() == "200", f"{collector} answered {out.stdout}: {out.stderr}"


def wait_up(host, instance, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        result = api(host, "/api/v1/query", query=f'up{{job="otel_collector", instance="{instance}"}}')["result"]
        if result and result[0]["value"][1] == "1":
            return
        time.sleep(2)
    pytest.fail(f"{instance} not up again after {timeout}s")


@pytest.fixture(scope="module")
def traffic(host):
    """Every kind of session, with the spend each user really made."""
    token = host.ansible.get_variables()["claude_monitoring_ingest_tokens"][0]
    run = uuid.uuid4().hex[:8]
    here, other = HERE_COLLECTOR, OTHER_COLLECTOR
    expected = {}

    def client(user, **kw):
        return Client(host, token, run, user, **kw)

    # One-shot sessions (claude -p): one export each, spread over both collectors.
    for i, collector in enumerate((here, other, here)):
        c = client(f"oneshot{i}")
        c.export(collector)
        expected[c.user] = (COST, TOKENS)
    # A long session: three exports of different size to one collector.
    c = client("multi")
    for scale in (1, 2, 3):
        c.export(here, scale)
        time.sleep(1)
    expected[c.user] = (6 * COST, 6 * TOKENS)
    # One session's exports spread over two collectors (round robin, delta).
    c = client("split")
    for collector in (here, other, here, other):
        c.export(collector)
        time.sleep(1)
    expected[c.user] = (4 * COST, 4 * TOKENS)
    # Parallel sessions of one user.
    for _ in range(3):
        client("parallel").export(other, 2)
    expected[f"parallel-{run}"] = (6 * COST, 6 * TOKENS)
    # Cumulative temporality, sticky to one collector: totals 1x then 3x.
    c = client("cumulative", fixture="metrics-cumulative.json")
    c.export(other, 1)
    time.sleep(SCRAPE_WAIT)
    c.export(other, 3)
    expected[c.user] = (3 * COST, 3 * TOKENS)
    # A resumed session: the same session id again later, from a new process.
    c = client("resumed")
    c.export(here)
    time.sleep(SCRAPE_WAIT)
    resumed = client("resumed", session=c.session)
    resumed.export(here, 2, start=time.time_ns() - 10**9)
    expected[c.user] = (3 * COST, 3 * TOKENS)
    # The collector restarts mid-session (it forgets its running sums).
    c = client("restart")
    c.export(here)
    time.sleep(SCRAPE_WAIT)
    assert host.run("systemctl restart otelcol").rc == 0
    wait_up(host, "127.0.0.1:8889")
    c.export(here, 2)
    expected[c.user] = (3 * COST, 3 * TOKENS)
    time.sleep(SCRAPE_WAIT)
    return {"run": run, "team": f"spend-{run}", "expected": expected}


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
