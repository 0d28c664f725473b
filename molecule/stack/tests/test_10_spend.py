"""What people run the stack for: every figure equals what the clients spent.

The traffic of conftest.py (the emulator's two teams over both collectors, a
cumulative client, the real client's payloads from the developer machine)
lands in Prometheus and the event store as site.yml deployed them. Every
PromQL query of every Grafana dashboard (roles/grafana/files/dashboards; no
Grafana runs here, AGPL) is evaluated on stack-storage's Prometheus with
Grafana's variables substituted ("All", $__range 1h, $__interval 60s), and
the money and token panels are compared with the ledger: per user, team and
model where the panel groups so, to the micro-dollar and the token. Every
event reaches the event store, with its content; the sensitive payload's
prompt, tool parameters and e-mail address are nowhere in storage.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter

import pytest
import yaml
from conftest import SECRETS
from stack import COLLECTORS, STORAGE, api, assert_events_stored, loki_records, node, prom_batch

from tools.dashboards.queries import iter_queries, load_dashboards, substitute

STEP = "60s"
VALUES = {"__range": "1h", "__interval": STEP}
PROM_QUERIES = [q for d in load_dashboards().values() for q in iter_queries(d) if q.datasource_type == "prometheus"]
MONEY = ("claude_code_cost_usage_USD_total", "claude_code_api_request_cost_USD_total")
TOKEN_METRICS = {
    "claude_code_token_usage_tokens_total": None,
    "claude_code_api_request_input_tokens_total": "input",
    "claude_code_api_request_output_tokens_total": "output",
    "claude_code_api_request_cache_read_tokens_total": "cacheRead",
    "claude_code_api_request_cache_creation_tokens_total": "cacheCreation",
}
# Counters of activity, by the ledger's name for them (and the label value that selects one kind).
ACTIVITY = {
    ("claude_code_commit_count_total", None): "commits",
    ("claude_code_pull_request_count_total", None): "pull_requests",
    ("claude_code_lines_of_code_count_total", "added"): "lines_added",
    ("claude_code_lines_of_code_count_total", "removed"): "lines_removed",
    ("claude_code_code_edit_tool_decision_total", "accept"): "edit_decisions_accept",
    ("claude_code_code_edit_tool_decision_total", "reject"): "edit_decisions_reject",
}
GROUPS = {"user_id": "user", "team": "team", "model": "model", "type": "type"}
METRIC = re.compile(r"\b(claude_code[a-zA-Z0-9_:]*)")


def kind(expr):
    """What a query adds up: (what, token type, group label), or None when it is not a plain sum."""
    bare = re.sub(r"\{[^}]*\}", "{}", expr)
    if any(op in bare for op in ("/", "*", "-", "+", "histogram_quantile", "bottomk", "count(", ">", "<")):
        return None
    metrics = set(METRIC.findall(expr))
    if len(metrics) != 1:
        return None
    (metric,) = metrics
    by = re.search(r"sum by \((\w+)\)", expr)
    group = by.group(1) if by else None
    if metric in MONEY:
        return ("money", None, group)
    selected = re.search(r'\b(?:type|decision)\s*=\s*"(\w+)"', expr)
    if (metric, selected and selected.group(1)) in ACTIVITY:
        return ("activity", ACTIVITY[(metric, selected and selected.group(1))], None)
    if metric in TOKEN_METRICS:
        token_type = TOKEN_METRICS[metric]
        m = re.search(r'\btype\s*=\s*"(\w+)"', expr)
        if m:
            token_type = m.group(1)
        elif re.search(r"\btype\s*(=~|!=|!~)", expr):
            return None
        return ("tokens", token_type, group)
    return None


def want(ledger, what):
    """The ledger's figures for a query kind: {group value: amount}, or {"": total}."""
    total, token_type, group = what
    if total == "activity":
        return {"": ledger.activity[token_type]}
    book = ledger.cost if total == "money" else ledger.tokens
    scale = 1e6 if total == "money" else 1
    if token_type is not None:
        # Per type the ledger has totals only: compare the sum over the groups.
        return {"": ledger.tokens["type"][token_type]}
    if group in GROUPS:
        return {k: v / scale for k, v in book[GROUPS[group]].items()}
    return {"": book["total"][""] / scale}


@pytest.fixture(scope="module")
def answers(traffic):
    start = int(traffic["start"]) - 120
    step = int(STEP.rstrip("s"))
    end = start + math.ceil((time.time() + 1 - start) / step) * step
    calls = []
    for q in PROM_QUERIES:
        expr = substitute(q.expr, VALUES)
        if q.instant:
            calls.append(["/api/v1/query", {"query": expr}])
        else:
            calls.append(["/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": STEP}])
    return prom_batch(calls)


def ids(queries):
    return [f"{q.dashboard_uid}:{q.panel_title}:{q.ref_id}" for q in queries]


@pytest.mark.parametrize("index", range(len(PROM_QUERIES)), ids=ids(PROM_QUERIES))
def test_dashboard_query_equals_what_was_spent(answers, traffic, index):
    query = PROM_QUERIES[index]
    expr = substitute(query.expr, VALUES)
    reply = answers[index]
    assert reply["status"] == "success", f"{reply.get('error')}: {expr}"
    result = reply["data"]["result"]
    assert result, f"no data: {expr}"
    what = kind(expr)
    if what is None or (not query.instant and "__interval" not in query.expr):
        return
    got = Counter()
    for r in result:
        label = r["metric"].get(what[2], "") if what[2] in GROUPS and what[1] is None and what[0] != "activity" else ""
        # Bars per interval tile the traffic's time: their sum is the total.
        got[label] += float(r["value"][1]) if query.instant else sum(float(v) for _t, v in r["values"])
    expected = want(traffic["ledger"], what)
    assert set(got) == set(expected), f"{query.panel_title}: groups {sorted(got)} != {sorted(expected)} ({expr})"
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, abs=1e-9), f"{query.panel_title} [{k}]: {got[k]} != {v} ({expr})"


def test_the_exact_checks_are_not_vacuous():
    kinds = {kind(substitute(q.expr, VALUES)) for q in PROM_QUERIES}
    groups = {k[2] for k in kinds if k}
    assert {"user_id", "team", "model", None} <= groups, groups
    assert {k[1] for k in kinds if k and k[0] == "activity"} == set(ACTIVITY.values())


def test_the_ledger_has_every_kind_of_client(traffic):
    ledger = traffic["ledger"]
    assert set(ledger.cost["team"]) == {"payments", "search"}, ledger.cost["team"]
    assert len(ledger.cost["user"]) >= 9 and len(ledger.cost["model"]) >= 2, ledger.cost
    assert traffic["ledger"].truths[1]["temporality"] == "cumulative"


def test_a_team_token_binds_the_fixture_to_its_team(traffic):
    """The real client's payload claims team "spend-<run>"; its token is payments' team token."""
    users = f'user_id=~".*-{traffic["runs"]["fixture"]}"'
    expr = f"sum by (team) (increase(claude_code_cost_usage_USD_total{{{users}}}[1h] anchored))"
    result = api("/api/v1/query", query=expr)["result"]
    got = {r["metric"]["team"]: float(r["value"][1]) for r in result}
    assert list(got) == ["payments"], got


def test_every_event_reaches_the_store_whole(traffic):
    records = loki_records()["records"]
    for truth in traffic["ledger"].truths:
        assert_events_stored(truth, records)


def test_the_sensitive_payload_arrived_without_its_content(traffic):
    user = traffic["sensitive_user"]
    records = [r for r in loki_records()["records"] if r["attributes"].get("user.id") == user]
    assert len(records) >= 10, f"the sensitive payload's events did not arrive: {len(records)}"
    assert not any(s in json.dumps(r) for r in records for s in SECRETS)
    # Nor any e-mail address the emulated clients sent (the collector keeps a keyed hash).
    emails = {u["email"] for t in traffic["ledger"].truths for u in t["users"].values()}
    dump = json.dumps(loki_records())
    assert emails and not [e for e in emails if e in dump]


@pytest.mark.parametrize(
    "name,paths",
    [(STORAGE, ["/var/lib/loki", "/var/lib/prometheus"])] + [(c, ["/var/lib/otelcol"]) for c in COLLECTORS],
)
def test_no_sensitive_content_anywhere_in_storage(traffic, name, paths):
    """Not in the event store, the TSDB or a collector's disk queue: the payload's
    secrets, nor any client's e-mail address (dropped by default, otel_collector README)."""
    host = node(name)
    host.check_output(f"test -d {' -a -d '.join(paths)}")  # grep must not miss a store that moved
    emails = sorted({u["email"] for t in traffic["ledger"].truths for u in t["users"].values()})
    patterns = " ".join(f"-e {s}" for s in (*SECRETS, *emails))
    out = host.run(f"grep -r -a -o -h -F {patterns} {' '.join(paths)} | sort | uniq -c")
    assert out.rc == 0 and not out.stdout.strip(), f"stored on {name}: {out.stdout}{out.stderr}"
    if name == STORAGE:
        labels = api("/api/v1/labels")
        values = prom_batch([[f"/api/v1/label/{label}/values", {}] for label in labels])
        dump = json.dumps(values)
        assert "user_id" in labels and len(dump) > 1000
        assert "user_email" not in labels
        assert not [s for s in (*SECRETS, *emails) if s in dump]


RULES = "/etc/prometheus/rules/claude_code.rules.yml"
# Thresholds: "> 0.1", ">= 5", "> 0.05 * sum(...)" (then -Inf times a positive sum).
THRESHOLD = re.compile(r"(>=?)\s*[0-9][0-9.eE+]*(?![0-9.eE+])")
# Needs a week of history before it can return anything (promtool tests cover it).
NEEDS_HISTORY = {"ClaudeCodeSpendSpike"}


def live_rules():
    return yaml.safe_load(node(STORAGE).file(RULES).content_string)["groups"]


def test_prometheus_evaluates_every_rule_without_error(traffic):
    rules = [r for g in api("/api/v1/rules")["groups"] for r in g["rules"]]
    names = {r.get("alert") or r.get("record") for g in live_rules() for r in g["rules"]}
    assert names <= {r["name"] for r in rules}, names - {r["name"] for r in rules}
    bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok" or r.get("lastError")]
    assert not bad, bad
    budgets = api("/api/v1/query", query="claude_code:daily_budget_usd")["result"]
    got = {(r["metric"]["scope"], r["metric"].get("team", "")): float(r["value"][1]) for r in budgets}
    assert got == {("fleet", ""): 100000, ("team", ""): 100000, ("team", "payments"): 0.01, ("user", ""): 100000}


def test_spend_and_api_alert_expressions_return_data(traffic):
    """With their thresholds taken out, the alerts' expressions see the traffic (API errors and latency too)."""
    checked = []
    for group in live_rules():
        if group["name"] not in ("claude_code_spend", "claude_code_api"):
            continue
        for rule in group["rules"]:
            if rule["alert"] in NEEDS_HISTORY:
                continue
            expr = THRESHOLD.sub(">= -Inf", " ".join(rule["expr"].split()))
            assert api("/api/v1/query", query=expr)["result"], f"{rule['alert']}: no data for {expr}"
            checked.append(rule["alert"])
    assert {"ClaudeCodeApiErrorRateHigh", "ClaudeCodeApiLatencyHigh", "ClaudeCodeCostCrossCheckDrift"} <= set(checked)


def test_plain_increase_would_be_wrong(traffic):
    """Why `anchored` and the zero sample matter: without them a one-shot session counts wrong."""
    user = f"oneshot-{traffic['runs']['fixture']}"
    series = f'claude_code_cost_usage_USD_total{{user_id="{user}"}}'
    exact = api("/api/v1/query", query=f"sum(increase({series}[1h] anchored))")
    plain = api("/api/v1/query", query=f"sum(increase({series}[1h]))")
    assert float(exact["result"][0]["value"][1]) == pytest.approx(traffic["ledger"].usd("user", user), abs=1e-9)
    value = float(plain["result"][0]["value"][1]) if plain["result"] else 0.0
    assert value != pytest.approx(traffic["ledger"].usd("user", user), abs=1e-9)


def rule_sides(alert):
    """The left-hand sides of a budget alert's comparisons, as the live rule file states them
    (a team with its own budget has its own rule; the others share one)."""
    sides = []
    for group in live_rules():
        for rule in group["rules"]:
            if rule.get("alert") == alert:
                lhs, _, threshold = " ".join(rule["expr"].split()).rpartition(" > ")
                float(threshold)
                sides.append(lhs)
    assert sides, f"no rule {alert} in {RULES}"
    return sides


@pytest.mark.parametrize("window", ["1d", "1h"])
@pytest.mark.parametrize(
    "alert,label,by",
    [
        ("ClaudeCodeUserDailySpendOverBudget", "user_id", "user"),
        ("ClaudeCodeTeamDailySpendOverBudget", "team", "team"),
        ("ClaudeCodeFleetDailySpendOverBudget", None, "total"),
    ],
)
def test_budget_alerts_see_exactly_what_was_spent(traffic, alert, label, by, window):
    """The alert rules' own spend expressions, over their day and over an hour."""
    got = {}
    for side in rule_sides(alert):
        expr = side.replace("[1d]", f"[{window}]")
        assert "anchored" in expr, expr
        for r in api("/api/v1/query", query=expr)["result"]:
            key = r["metric"].get(label, "") if label else ""
            assert key not in got, f"{key} seen by two rules of {alert}"
            got[key] = float(r["value"][1])
    want = {k: v / 1e6 for k, v in traffic["ledger"].cost[by].items()}
    assert got == pytest.approx(want, abs=1e-9), alert


def test_derived_histogram_counts_every_api_request(traffic):
    expr = "sum(increase(claude_code_api_request_duration_milliseconds_count[1h] anchored))"
    got = float(api("/api/v1/query", query=expr)["result"][0]["value"][1])
    assert got == traffic["ledger"].events["api_request"]
