"""The nftables role's per-port sources, derived from real inventory shapes.

A developer laptop sits in the WireGuard subnet to send telemetry: the subnet
must be a source of the ingest ports only, never of Loki, Prometheus,
Alertmanager or the collector's metrics, which answer the stack hosts that use
them at their WireGuard addresses.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
LOOPBACK = ["127.0.0.0/8", "::1/128"]


def sources(inventory: Path, tmp_path: Path) -> dict[str, dict]:
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false")
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), str(HERE / "sources.yml"), "-e", f"nftables_test_dest={tmp_path}"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    out = {}
    for f in tmp_path.glob("*.json"):
        data = json.loads(f.read_text())
        out[f.stem] = {"ports": {p["port"]: p["sources"] for p in data["ports"]}, "unknown": data["unknown"]}
    return out


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    return sources(ROOT / "inventories/org/hosts.yml", tmp_path_factory.mktemp("org"))


def test_org_ingest_from_the_wireguard_subnets(org):
    for host in ("otelcol-1.example.internal", "otelcol-2.example.internal"):
        for port in (4317, 4318):
            assert org[host]["ports"][port] == [*LOOPBACK, "10.20.0.0/16", "fd20::/64"]


def test_org_exporter_from_prometheus_only(org):
    for port in (8888, 8889):
        assert org["otelcol-1.example.internal"]["ports"][port] == [*LOOPBACK, "10.20.0.31"]


def test_org_loki_from_collectors_grafana_and_prometheus(org):
    assert sorted(org["loki-1.example.internal"]["ports"][3100]) == sorted(
        [*LOOPBACK, "10.20.0.11", "10.20.0.12", "10.20.0.41", "10.20.0.31"]
    )


def test_org_prometheus_and_alertmanager(org):
    prom = org["prom-1.example.internal"]["ports"]
    assert prom[9090] == [*LOOPBACK, "10.20.0.41"]
    # The only Prometheus is this host: its Alertmanager API answers loopback only.
    assert prom[9093] == LOOPBACK
    assert prom[9094] == [*LOOPBACK, "10.20.0.41"]
    grafana = org["grafana-1.example.internal"]["ports"]
    assert grafana[9093] == [*LOOPBACK, "10.20.0.31"]
    assert grafana[9094] == [*LOOPBACK, "10.20.0.31"]
    # Grafana: the site's people (default the WireGuard subnets) and the Prometheus that scrapes it.
    assert grafana[3000] == [*LOOPBACK, "10.20.0.0/16", "fd20::/64", "10.20.0.31"]


def test_org_wireguard_subnet_only_on_ingest_and_grafana(org):
    for host, data in org.items():
        for port, srcs in data["ports"].items():
            assert ("10.20.0.0/16" in srcs) == (port in (3000, 4317, 4318)), (host, port)
        assert data["unknown"] == []


def test_homelab_one_vm_is_loopback_but_ingest(tmp_path):
    ports = sources(ROOT / "inventories/homelab/hosts.yml", tmp_path)["telemetry"]["ports"]
    for port, srcs in ports.items():
        expected = [*LOOPBACK, "10.8.0.0/24"] if port in (3000, 4317, 4318) else LOOPBACK
        assert srcs == expected, port


def test_address_rules(tmp_path):
    hosts = sources(HERE / "inventory.yml", tmp_path)
    # An explicit claude_monitoring_wireguard_address wins over ansible_host.
    assert hosts["collector-ip"]["ports"][8889] == [*LOOPBACK, "10.9.0.31", "fd09::31"]
    # An IP ansible_host is the address; a DNS name without facts is refused.
    assert "10.9.0.12" in hosts["loki-1"]["ports"][3100]
    assert hosts["loki-1"]["unknown"] == ["collector-dns"]
    assert hosts["collector-ip"]["unknown"] == []
