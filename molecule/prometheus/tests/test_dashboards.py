"""Every query of every Grafana dashboard and every alert rule, on real data.

The dashboards (roles/grafana/files/dashboards, written by tools/dashboards)
are what users look at; Grafana itself is not run here (AGPL), so each of
their PromQL expressions runs against this scenario's real Prometheus, fed by
the collection's two real collectors with the traffic of conftest.py: every
kind of session (one-shot, long, split over collectors, parallel, cumulative,
resumed, across a collector restart), the events of the same API calls, and
the activity the captured session lacks (claude_traffic.extra_activity).

Grafana's variables are substituted as Grafana would: the team variable set to
the traffic's team (so other modules' data cannot leak in), every other
variable "All". Checks:
- every expression answers without error and returns data;
- money and token panels equal the ground truth exactly (the fixture's
  api_request events: cost_usd and token counts), over the panel's range and,
  for bars per interval, summed over every interval;
- the histogram the collector derives from events counts every api_request;
- Prometheus evaluates every rule of the live rule file without error, and
  the spend and API alert expressions return data once their thresholds are
  taken out.
"""

from __future__ import annotations

import math
import re
import sys
import time
from pathlib import Path

import pytest
import yaml
from claude_traffic import API_REQUESTS, RULES, api, api_batch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
from tools.dashboards.queries import iter_queries, load_dashboards, substitute  # noqa: E402

testinfra_hosts = ["ansible://prometheus-debian13"]

DASHBOARDS = load_dashboards()
PROM_QUERIES = [q for d in DASHBOARDS.values() for q in iter_queries(d) if q.datasource_type == "prometheus"]
STEP = "60s"

MONEY = ("claude_code_cost_usage_USD_total", "claude_code_api_request_cost_USD_total")
TOKEN_TYPES = {
    "claude_code_api_request_input_tokens_total": "input",
    "claude_code_api_request_output_tokens_total": "output",
    "claude_code_api_request_cache_read_tokens_total": "cacheRead",
    "claude_code_api_request_cache_creation_tokens_total": "cacheCreation",
}
# Tokens of one export of metrics.json (= one copy of logs.json's api_request events), by type.
TOKENS_BY_TYPE = {"input": 3000, "output": 42, "cacheRead": 16000, "cacheCreation": 1200}
METRIC = re.compile(r"\b(claude_code[a-zA-Z0-9_:]*)")


def exports(traffic):
    """Copies of the fixture's session the traffic sent (a user's cost is that many times the fixture's)."""
    return sum(traffic["events"].values())


def values(traffic):
    # Team names here are "spend-<hex>": no regex metacharacters to escape.
    return {"team": traffic["team"], "__interval": STEP}


def kind(expr):
    """What an expression's result must add up to: ("money"|"tokens", token type or None), or None."""
    # Operators outside label matchers (a matcher's regex may hold "*" or "/").
    bare = re.sub(r"\{[^}]*\}", "{}", expr)
    if any(op in bare for op in ("/", "*", "-", "+", "histogram_quantile", "topk", "bottomk", "count(", ">", "<")):
        return None
    metrics = set(METRIC.findall(expr))
    if len(metrics) != 1:
        return None
    (metric,) = metrics
    if metric in MONEY:
        return ("money", None)
    if metric in TOKEN_TYPES:
        return ("tokens", TOKEN_TYPES[metric])
    if metric == "claude_code_token_usage_tokens_total":
        m = re.search(r'\btype\s*=\s*"(\w+)"', expr)
        if m:
            return ("tokens", m.group(1))
        return None if re.search(r"\btype\s*(=~|!=|!~)", expr) else ("tokens", None)
    return None


def truth(traffic, what):
    total, token_type = what
    n = exports(traffic)
    if total == "money":
        return sum(cost for cost, _ in traffic["expected"].values())
    if token_type is None:
        return n * sum(TOKENS_BY_TYPE.values())
    return n * TOKENS_BY_TYPE[token_type]


def ids(queries):
    return [f"{q.dashboard_uid}:{q.panel_title}:{q.ref_id}" for q in queries]


def test_there_are_dashboards_to_check():
    assert len(DASHBOARDS) >= 5 and len(PROM_QUERIES) >= 30, (sorted(DASHBOARDS), len(PROM_QUERIES))


@pytest.fixture(scope="module")
def answers(host, traffic):
    """Every dashboard query's reply, fetched in one round trip: instant at now, range over the traffic."""
    # Steps every STEP seconds from before the traffic to the first step at or
    # after now: the last interval covers the newest samples (a range that
    # ended on an earlier step would leave the latest exports out).
    start = int(traffic["start"]) - 120
    step = int(STEP.rstrip("s"))
    end = start + math.ceil((time.time() + 1 - start) / step) * step
    calls = []
    for q in PROM_QUERIES:
        expr = substitute(q.expr, values(traffic))
        if q.instant:
            calls.append(["/api/v1/query", {"query": expr}])
        else:
            calls.append(["/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": STEP}])
    return api_batch(host, calls)


@pytest.mark.parametrize("index", range(len(PROM_QUERIES)), ids=ids(PROM_QUERIES))
def test_dashboard_query_returns_the_truth(answers, traffic, index):
    query = PROM_QUERIES[index]
    expr = substitute(query.expr, values(traffic))
    reply = answers[index]
    assert reply["status"] == "success", f"{reply.get('error')}: {expr}"
    result = reply["data"]["result"]
    assert result, f"no data: {expr}"
    if query.instant:
        got = sum(float(r["value"][1]) for r in result)
    else:
        if "$__interval" not in query.expr and "${__interval}" not in query.expr:
            return
        # Bars per interval: the intervals tile the traffic's time, so their sum is the total.
        got = sum(float(v) for r in result for _t, v in r["values"])
    what = kind(expr)
    if what is not None:
        want = truth(traffic, what)
        assert got == pytest.approx(want, abs=1e-9), f"{query.panel_title}: {got} != {want} ({expr})"


def test_every_panel_kind_of_truth_is_checked():
    """The exact checks above are not vacuous: money and tokens panels exist and are classified."""
    kinds = {kind(substitute(q.expr, {"__interval": STEP})) for q in PROM_QUERIES}
    assert ("money", None) in kinds and any(k and k[0] == "tokens" for k in kinds), kinds


def test_derived_histogram_counts_every_api_request(host, traffic):
    team = traffic["team"]
    expr = f'sum(increase(claude_code_api_request_duration_milliseconds_count{{team="{team}"}}[1h] anchored))'
    got = float(api(host, "/api/v1/query", query=expr)["result"][0]["value"][1])
    assert got == exports(traffic) * API_REQUESTS


def test_derived_cost_equals_the_clients_counters_per_user(host, traffic):
    team = traffic["team"]
    derived = api(
        host,
        "/api/v1/query",
        query=f'sum by (user_id) (increase(claude_code_api_request_cost_USD_total{{team="{team}"}}[1h] anchored))',
    )["result"]
    got = {r["metric"]["user_id"]: float(r["value"][1]) for r in derived}
    for user, (cost, _) in traffic["expected"].items():
        assert got.get(user) == pytest.approx(cost, abs=1e-9), f"{user}: {got.get(user)} != {cost}"


def live_rules(host):
    return [r for g in yaml.safe_load(host.file(RULES).content_string)["groups"] for r in g["rules"]]


def test_prometheus_evaluates_every_rule_without_error(host, traffic):
    groups = api(host, "/api/v1/rules")["groups"]
    rules = [r for g in groups for r in g["rules"]]
    names = {r.get("alert") or r.get("record") for r in live_rules(host)}
    assert names <= {r["name"] for r in rules}, names - {r["name"] for r in rules}
    bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok" or r.get("lastError")]
    assert not bad, bad
    budgets = api(host, "/api/v1/query", query="claude_code:daily_budget_usd")["result"]
    assert {r["metric"]["scope"]: float(r["value"][1]) for r in budgets} == {"fleet": 200, "team": 150, "user": 0.01}


# Thresholds: "> 0.1", ">= 5", "> 0.05 * sum(...)" (then -Inf times a positive sum).
THRESHOLD = re.compile(r"(>=?)\s*[0-9][0-9.eE+]*(?![0-9.eE+])")
# Needs a week of history before it can return anything (promtool tests cover it).
NEEDS_HISTORY = {"ClaudeCodeSpendSpike"}


def test_spend_and_api_alert_expressions_return_data(host, traffic):
    checked = []
    for group in yaml.safe_load(host.file(RULES).content_string)["groups"]:
        if group["name"] not in ("claude_code_spend", "claude_code_api"):
            continue
        for rule in group["rules"]:
            if rule["alert"] in NEEDS_HISTORY:
                continue
            expr = THRESHOLD.sub(">= -Inf", " ".join(rule["expr"].split()))
            result = api(host, "/api/v1/query", query=expr)["result"]
            assert result, f"{rule['alert']}: no data for {expr}"
            checked.append(rule["alert"])
    assert {"ClaudeCodeApiErrorRateHigh", "ClaudeCodeApiLatencyHigh", "ClaudeCodeCostCrossCheckDrift"} <= set(checked)
