"""Shared fixture of the prometheus scenario's verifiers: one batch of Claude
Code traffic (claude_traffic.py) for every test module, sent once."""

from __future__ import annotations

import time
import uuid

import pytest
from claude_traffic import COST, HERE_COLLECTOR, OTHER_COLLECTOR, SCRAPE_WAIT, TOKENS, Client, extra_activity, wait_up

_SENT: dict = {}


def _send_traffic(host):
    """Every kind of session, with the spend each user really made."""
    token = host.ansible.get_variables()["claude_monitoring_ingest_tokens"][0]
    run = uuid.uuid4().hex[:8]
    here, other = HERE_COLLECTOR, OTHER_COLLECTOR
    expected, events = {}, {}
    start = time.time()

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
    # Each user's API calls as events (metrics and events of a session travel
    # separately), spread over both collectors: the derived cost and tokens
    # must equal the counters', the histogram count the number of calls.
    for i, (user, (cost, _)) in enumerate(sorted(expected.items())):
        times = round(cost / COST)
        c = client(user.removesuffix(f"-{run}"))
        c.events((here, other)[i % 2], times=times)
        events[user] = times
    # Activity the fixture has none of, for one more user of the team.
    extra_activity(client("activity"), other)
    time.sleep(SCRAPE_WAIT)
    return {"run": run, "team": f"spend-{run}", "expected": expected, "events": events, "start": start}


@pytest.fixture(scope="module")
def traffic(host):
    """The traffic and its ground truth, sent on first use (module fixtures cannot share a session-wide one)."""
    if "traffic" not in _SENT:
        _SENT["traffic"] = _send_traffic(host)
    return _SENT["traffic"]
