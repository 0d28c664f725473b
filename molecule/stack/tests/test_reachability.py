"""Who reaches what in the deployed stack: only the WireGuard subnet reaches
ingest, each other port only the hosts that use it, the outside nothing.

Probes (molecule/nftables/files/probe.py) run in parallel from the developer
machine (stack-client, in the WireGuard subnet), from each server, and from
stack-outside (only on the outside network), against every port the stack's
services listen on. "open" means connected; a port nobody may reach from
there must time out (dropped by the firewall), not merely be refused.
The nftables scenario covers the role's other cases (IPv6, host policy,
lock-out guard, absent); this checks the site playbook's wiring of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stack import copy_to, node

PROBE = Path(__file__).resolve().parents[2] / "nftables" / "files" / "probe.py"
TIMEOUT = 3
SERVERS = {
    "stack-otelcol-1": ("172.30.40.11", "172.30.50.11"),
    "stack-otelcol-2": ("172.30.40.12", "172.30.50.12"),
    "stack-storage": ("172.30.40.21", "172.30.50.21"),
    "stack-grafana": ("172.30.40.31", "172.30.50.31"),
}
CLIENT, OUTSIDE = "stack-client", "stack-outside"
COLLECTORS = {"stack-otelcol-1", "stack-otelcol-2"}
WG = {CLIENT, *SERVERS}
# Each server's ports, and who may reach them besides the server itself.
ALLOWED = {
    **{c: {4317: WG, 4318: WG, 8888: {"stack-storage"}, 8889: {"stack-storage"}} for c in COLLECTORS},
    "stack-storage": {3100: COLLECTORS | {"stack-grafana"}, 9090: {"stack-grafana"}},
    # Grafana: the site's people (default: the WireGuard subnet). Alertmanager:
    # the Prometheus that sends to it; 9094 only other Alertmanagers (none).
    "stack-grafana": {3000: WG, 9093: {"stack-storage"}, 9094: set()},
}


def probe(name, targets):
    copy_to(name, PROBE, "/usr/local/bin/cm-probe")
    return json.loads(node(name).check_output(f"python3 /usr/local/bin/cm-probe {TIMEOUT} {' '.join(targets)}"))


def expectations():
    """(prober, target, want) for every prober and every server port it can route to."""
    cases = []
    for prober in (CLIENT, OUTSIDE, *SERVERS):
        for server, ports in ALLOWED.items():
            if server == prober:
                continue
            wg, out = SERVERS[server]
            address = out if prober == OUTSIDE else wg
            for port, allowed in ports.items():
                cases.append((prober, f"{address}:{port}", "open" if prober in allowed else "timeout"))
    return cases


@pytest.fixture(scope="module")
def results():
    by_prober: dict[str, list[str]] = {}
    for prober, target, _ in expectations():
        by_prober.setdefault(prober, []).append(target)
    return {prober: probe(prober, targets) for prober, targets in by_prober.items()}


def test_each_port_answers_only_who_uses_it(results):
    wrong = [
        f"{prober} -> {target}: {results[prober][target]}, want {want}"
        for prober, target, want in expectations()
        if results[prober][target] != want
    ]
    counts = {w: sum(1 for *_, x in expectations() if x == w) for w in ("open", "timeout")}
    assert not wrong, "\n".join(wrong)
    # Not vacuous: both kinds of answer are expected many times.
    assert counts["open"] >= 15 and counts["timeout"] >= 20, counts


def test_outside_reaches_nothing(results):
    reached = {t: r for t, r in results[OUTSIDE].items() if r != "timeout"}
    assert not reached, reached
    assert {t.rsplit(":", 1)[1] for t in results[OUTSIDE]} >= {"4317", "4318", "8889", "3000", "9090", "9093"}
