"""Services reach each other at the addresses the firewall lets in.

Every address a role derives for another stack host (the collectors' Loki
endpoint, the client's collector endpoint, Grafana's datasources, the
Alertmanager peers and what each advertises) prefers the host's
claude_monitoring_wireguard_address (the first one), then its ansible_host,
then its inventory name, as the nftables role does for its sources; IPv6 in
brackets. Here ansible_host is a management address that differs from the
WireGuard one. Prometheus' targets: tests/unit/prometheus/test_prometheus_config.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from ansible_run import ansible_playbook

HERE = Path(__file__).resolve().parent

INVENTORY = {
    "all": {
        "children": {
            "otel_collectors": {
                "hosts": {
                    "otelcol-1": {
                        "ansible_host": "192.0.2.11",
                        "claude_monitoring_wireguard_address": ["10.9.0.11", "fd09::11"],
                    },
                    "otelcol-2": {"ansible_host": "192.0.2.12"},
                }
            },
            "loki": {
                "hosts": {"loki-1": {"ansible_host": "192.0.2.21", "claude_monitoring_wireguard_address": "fd09::21"}}
            },
            "prometheus": {
                "hosts": {
                    "prom-1": {
                        "ansible_host": "prom-1.mgmt.example.internal",
                        "claude_monitoring_wireguard_address": "10.9.0.31/32",
                    }
                }
            },
            "grafana": {
                "hosts": {
                    "grafana-1": {"ansible_host": "192.0.2.41", "claude_monitoring_wireguard_address": ["10.9.0.41"]}
                }
            },
            "alertmanager": {
                "hosts": {
                    "prom-1": None,
                    "grafana-1": None,
                    "am-3": {
                        "ansible_host": "am-3.mgmt.example.internal",
                        "claude_monitoring_wireguard_address": "fd09::43",
                    },
                    "am-4": {"ansible_host": "am-4.mgmt.example.internal"},
                }
            },
            "claude_code_clients": {"hosts": {"laptop": {"ansible_host": "192.0.2.50"}}},
        }
    }
}


@pytest.fixture(scope="module")
def derived(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("peers")
    (tmp / "inventory.yml").write_text(yaml.safe_dump(INVENTORY), encoding="utf-8")
    out = tmp / "out"
    out.mkdir()
    proc = ansible_playbook("-i", tmp / "inventory.yml", HERE / "peer_addresses.yml", "-e", f"peer_test_dest={out}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*.json")}


def flags(exec_start: str, name: str) -> list[str]:
    return [arg.split("=", 1)[1] for arg in exec_start.split() if arg.startswith(f"--{name}=")]


def test_collectors_reach_loki_at_its_wireguard_address(derived):
    assert derived["otelcol-1"]["loki_endpoint"] == "http://[fd09::21]:3100/otlp"
    assert derived["otelcol-2"]["loki_endpoint"] == "http://[fd09::21]:3100/otlp"


def test_client_reaches_the_first_collector_at_its_wireguard_address(derived):
    assert derived["laptop"]["otlp_endpoint"] == "http://10.9.0.11:4318"


def test_grafana_datasources(derived):
    assert derived["grafana-1"]["datasources"] == {
        "prometheus": "http://10.9.0.31:9090",
        "loki": "http://[fd09::21]:3100",
    }


def test_alertmanager_peers_and_advertised_address(derived):
    prom = derived["prom-1"]
    assert sorted(prom["peers"]) == sorted(["10.9.0.41", "[fd09::43]", "am-4.mgmt.example.internal"])
    assert sorted(flags(prom["exec_start"], "cluster.peer")) == sorted(
        ["10.9.0.41:9094", "[fd09::43]:9094", "am-4.mgmt.example.internal:9094"]
    )
    # Each advertises the address the others connect to: the WireGuard one.
    assert prom["advertise"] == "10.9.0.31"
    assert flags(prom["exec_start"], "cluster.advertise-address") == ["10.9.0.31:9094"]
    assert derived["grafana-1"]["advertise"] == "10.9.0.41"
    assert flags(derived["am-3"]["exec_start"], "cluster.advertise-address") == ["[fd09::43]:9094"]
    # Neither a WireGuard address nor an IP ansible_host: the default route's.
    assert derived["am-4"]["advertise"] == "198.51.100.1"
