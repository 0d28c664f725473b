"""Restarts while clients send: the event store, one collector, Prometheus.

The emulator sends for a minute to both collectors (exports retried for up to
30 s, as the real client's SDK retries) while the verifier restarts Loki on
stack-storage, the collector on stack-otelcol-1, then Prometheus. Afterwards:
- every event is in the event store, once, with its content (the collector's
  disk queue held them while the store was away);
- no counter is counted twice (no user's figure above what they spent) and
  none resets (a restarted collector's sums are new series, docs/exact-spend.md);
- the only spend missing is what docs/exact-spend.md bounds: what the
  restarted collector accepted after Prometheus' last scrape of it and before
  it stopped (its exports in the last scrape interval before the restart).
  The Loki and Prometheus restarts lose nothing.
"""

from __future__ import annotations

import time

import pytest
from stack import (
    SCRAPE_WAIT,
    STORAGE,
    api,
    assert_events_stored,
    emulator,
    event_key,
    finish,
    loki_records,
    new_run,
    node,
    wait_for,
)

SCRAPE_INTERVAL = 5
RESTARTED = "stack-otelcol-1"
RESTARTED_URL = "http://172.30.40.11:4318"


@pytest.fixture(scope="module")
def restarted(traffic):
    run = "x" + new_run()
    proc = emulator(
        "--seed", "31", "--run", run, "--users", "4", "--teams", "2", "--team-names", "payments,search",
        "--machines", "2", "--sessions", "3", "--requests", "5", "--duration", "60", "--export-timeout", "30",
        background=True,
    )  # fmt: skip
    storage, collector = node(STORAGE), node(RESTARTED)
    times = {}
    time.sleep(10)
    storage.check_output("systemctl restart loki")
    time.sleep(10)
    times["collector_stop"] = time.time()
    collector.check_output("systemctl restart otelcol")
    times["collector_started"] = time.time()
    time.sleep(10)
    storage.check_output("systemctl restart prometheus")
    truth, out = finish(*proc)
    keys = {tuple(map(str, k)) for k in truth["event_keys"]}
    wait_for(
        "every event in the store",
        lambda: keys <= {event_key(r) for r in loki_records()["records"]},
        timeout=180,
        every=5,
    )
    time.sleep(SCRAPE_WAIT)
    return {"run": run, "truth": truth, "times": times, "keys": keys, "output": out}


def test_every_event_is_stored_once_with_its_content(restarted):
    assert_events_stored(restarted["truth"], loki_records()["records"])


def spend_by_user(run, metric="claude_code_cost_usage_USD_total"):
    expr = f'sum by (user_id) (increase({metric}{{user_id=~"{run}-.*"}}[1h] anchored))'
    result = api("/api/v1/query", query=expr)["result"]
    return {r["metric"]["user_id"]: float(r["value"][1]) for r in result}


@pytest.mark.parametrize("metric", ["claude_code_cost_usage_USD_total", "claude_code_api_request_cost_USD_total"])
def test_no_counter_double_counted_or_reset(restarted, metric):
    run, truth = restarted["run"], restarted["truth"]
    got = spend_by_user(run, metric)
    spent = truth["cost_usd"]["by_user"]
    over = {u: (v, spent.get(u, 0)) for u, v in got.items() if v > spent.get(u, 0) + 1e-9}
    assert not over, f"counted twice: {over}"
    resets = api("/api/v1/query", query=f'sum(resets({metric}{{user_id=~"{run}-.*"}}[1h]))')["result"]
    assert not resets or float(resets[0]["value"][1]) == 0, resets


def test_only_the_documented_window_of_the_restarted_collector_is_missing(restarted):
    run, truth, times = restarted["run"], restarted["truth"], restarted["times"]
    got = sum(spend_by_user(run).values())
    missing = truth["cost_usd"]["total"] - got
    window = [times["collector_stop"] - SCRAPE_INTERVAL - 1, times["collector_started"]]
    bound = sum(
        e["cost_usd_micros"] / 1e6
        for e in truth["exports"]
        if e["signal"] == "metrics" and e["ok"] and e["endpoint"] == RESTARTED_URL and window[0] <= e["t"] <= window[1]
    )
    spent = truth["cost_usd"]["total"]
    print(f"restart window: spent {spent:.6f}, stored {got:.6f}, missing {missing:.6f}, bound {bound:.6f}")
    assert -1e-9 <= missing <= bound + 1e-9, (missing, bound)
