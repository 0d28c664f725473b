"""Which addresses Alertmanager listens on, derived from the inventory's groups.

The API (9093) serves Prometheus (alerts) and Grafana (an Alertmanager data
source a site adds): loopback when every host of those groups is this host. The cluster
port (9094) serves the other Alertmanagers only: off with a single one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from ansible_run import ansible_playbook

HERE = Path(__file__).resolve().parent


def render(tmp_path: Path, groups: dict[str, list[str]]) -> dict[str, dict]:
    hosts = sorted({h for members in groups.values() for h in members})
    addresses = {h: f"10.0.0.{i + 1}" for i, h in enumerate(hosts)}
    inventory = {
        "all": {
            "children": {
                group: {"hosts": {h: {"ansible_host": addresses[h]} for h in members}}
                for group, members in groups.items()
            }
        }
    }
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    proc = ansible_playbook("-i", tmp_path / "inventory.yml", HERE / "render.yml", "-e", f"am_test_dest={out}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*.json")}


def flag(exec_start: str, name: str) -> list[str]:
    return [arg.split("=", 1)[1] for arg in exec_start.split() if arg.startswith(f"--{name}=")]


@pytest.mark.parametrize(
    ("groups", "web"),
    [
        # One host runs everything: nothing leaves it.
        ({"alertmanager": ["mon"], "prometheus": ["mon"], "grafana": ["mon"]}, {"mon": "127.0.0.1"}),
        # Prometheus elsewhere sends alerts to the API.
        ({"alertmanager": ["am"], "prometheus": ["prom"]}, {"am": "0.0.0.0"}),
        # Grafana elsewhere may read it as a data source.
        ({"alertmanager": ["am"], "prometheus": ["am"], "grafana": ["graf"]}, {"am": "0.0.0.0"}),
        # Two Alertmanagers gossip on 9094; the API still serves the local Prometheus only on am1.
        (
            {"alertmanager": ["am1", "am2"], "prometheus": ["am1"]},
            {"am1": "127.0.0.1", "am2": "0.0.0.0"},
        ),
    ],
)
def test_api_is_loopback_unless_another_host_needs_it(tmp_path, groups, web):
    rendered = render(tmp_path, groups)
    for host, want in web.items():
        assert rendered[host]["web"] == want, f"{host}: {rendered[host]}"
        assert flag(rendered[host]["exec_start"], "web.listen-address") == [f"{want}:9093"]


def test_single_alertmanager_has_no_cluster_port(tmp_path):
    rendered = render(tmp_path, {"alertmanager": ["mon"], "prometheus": ["prom"]})
    exec_start = rendered["mon"]["exec_start"]
    # An empty --cluster.listen-address is how Alertmanager turns clustering off (its default is 0.0.0.0:9094).
    assert flag(exec_start, "cluster.listen-address") == [""], exec_start
    assert not flag(exec_start, "cluster.peer") and not flag(exec_start, "cluster.advertise-address")


def test_cluster_port_listens_for_the_peers(tmp_path):
    rendered = render(tmp_path, {"alertmanager": ["am1", "am2"], "prometheus": ["am1"]})
    for host, peer in (("am1", "10.0.0.2"), ("am2", "10.0.0.1")):
        exec_start = rendered[host]["exec_start"]
        assert flag(exec_start, "cluster.listen-address") == ["0.0.0.0:9094"], exec_start
        assert flag(exec_start, "cluster.peer") == [f"{peer}:9094"], exec_start
