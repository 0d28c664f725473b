"""The scrape and Alertmanager targets prometheus.yml derives from the inventory.

Every other host is reached at the address the firewall (nftables role) lets
in: its claude_monitoring_wireguard_address (the first one), else its
ansible_host, else its inventory name; IPv6 in brackets. Grafana is reached
where it listens (its grafana_http_addr, unless loopback or every address),
over https when its host has a certificate. Each rendered file passes the
real `promtool check config` (CM_PROMTOOL_BIN).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible_run import ansible_playbook

HERE = Path(__file__).resolve().parent

# ansible_host is the management address (192.0.2.x); the services talk over
# WireGuard (10.9.0.x, fd09::x).
HOSTS = {
    "prom-1": {"ansible_host": "192.0.2.31", "claude_monitoring_wireguard_address": ["10.9.0.31", "fd09::31"]},
    "otelcol-1": {"ansible_host": "192.0.2.11", "claude_monitoring_wireguard_address": "10.9.0.11/32"},
    "otelcol-2": {"ansible_host": "192.0.2.12", "claude_monitoring_wireguard_address": ["fd09::12"]},
    "otelcol-3": {"ansible_host": "192.0.2.13"},
    "loki-1": {},
    "grafana-1": {"ansible_host": "192.0.2.41", "claude_monitoring_wireguard_address": "10.9.0.41"},
}
GROUPS = {
    "otel_collectors": ["otelcol-1", "otelcol-2", "otelcol-3"],
    "loki": ["loki-1"],
    "prometheus": ["prom-1"],
    "grafana": ["grafana-1"],
    "alertmanager": ["grafana-1", "prom-1"],
}


@pytest.fixture(scope="module")
def promtool():
    path = os.environ.get("CM_PROMTOOL_BIN", "")
    if not path:
        pytest.fail("CM_PROMTOOL_BIN is not set: it must name the promtool built by tests/platform/binaries.sh")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"CM_PROMTOOL_BIN={path} is not an executable file")
    return path


def render(tmp_path: Path, promtool: str, host_vars=None, groups=None, extra=None) -> dict:
    """prometheus.yml of prom-1 for this inventory, checked by promtool."""
    hosts = {h: dict(v) for h, v in HOSTS.items()}
    for h, v in (host_vars or {}).items():
        hosts[h] = {**hosts.get(h, {}), **v}
    inventory = {
        "all": {
            "children": {
                g: {"hosts": {h: hosts.get(h, {}) for h in members}} for g, members in (groups or GROUPS).items()
            }
        }
    }
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    (tmp_path / "extra.json").write_text(json.dumps(extra or {}), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    extra_vars = f"@{tmp_path / 'extra.json'}"
    proc = ansible_playbook(
        "-i", tmp_path / "inventory.yml", HERE / "render.yml", "-e", f"prom_test_dest={out}", "-e", extra_vars
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    path = out / "prom-1.yml"
    check = subprocess.run([promtool, "check", "config", str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, f"promtool check config refused it\n{check.stdout}{check.stderr}\n{path.read_text()}"
    return yaml.safe_load(path.read_text())


def job(config: dict, name: str) -> dict:
    return next(j for j in config["scrape_configs"] if j["job_name"] == name)


def targets(config: dict, name: str) -> list[str]:
    return job(config, name)["static_configs"][0]["targets"]


@pytest.mark.binary
def test_peers_by_wireguard_address(tmp_path, promtool):
    config = render(tmp_path, promtool)
    # WireGuard address (its CIDR dropped), an IPv6 one in brackets, ansible_host, then the inventory name.
    assert targets(config, "otel_collector") == ["10.9.0.11:8889", "[fd09::12]:8889", "192.0.2.13:8889"]
    assert targets(config, "otel_collector_telemetry") == ["10.9.0.11:8888", "[fd09::12]:8888", "192.0.2.13:8888"]
    assert targets(config, "loki") == ["loki-1:3100"]
    assert targets(config, "grafana") == ["10.9.0.41:3000"]
    # This host by loopback, the other Alertmanager by its WireGuard address.
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "10.9.0.41:9093",
        "127.0.0.1:9093",
    ]
    assert "scheme" not in job(config, "grafana")


@pytest.mark.binary
@pytest.mark.parametrize(
    ("grafana_vars", "groups", "want"),
    [
        # Grafana bound to one address: scraped there, whatever ansible_host says.
        ({"grafana_http_addr": "10.9.0.141"}, None, ["10.9.0.141:3000"]),
        ({"grafana_http_addr": "fd09::141", "grafana_http_port": 3443}, None, ["[fd09::141]:3443"]),
        # Every address or loopback of another host: its peer address.
        ({"grafana_http_addr": "0.0.0.0"}, None, ["10.9.0.41:3000"]),
        ({"grafana_http_addr": "127.0.0.1"}, None, ["10.9.0.41:3000"]),
        # Grafana on the Prometheus host, bound to the WireGuard address: not on loopback.
        (
            {"grafana_http_addr": "10.9.0.31"},
            {**GROUPS, "grafana": ["prom-1"]},
            ["10.9.0.31:3000"],
        ),
        # ... bound to loopback or every address: loopback.
        ({}, {**GROUPS, "grafana": ["prom-1"]}, ["127.0.0.1:3000"]),
        ({"grafana_http_addr": "0.0.0.0"}, {**GROUPS, "grafana": ["prom-1"]}, ["127.0.0.1:3000"]),
    ],
)
def test_grafana_where_it_listens(tmp_path, promtool, grafana_vars, groups, want):
    grafana_host = (groups or GROUPS)["grafana"][0]
    config = render(tmp_path, promtool, host_vars={grafana_host: grafana_vars}, groups=groups)
    assert targets(config, "grafana") == want


@pytest.mark.binary
def test_grafana_over_https(tmp_path, promtool):
    tls = {"grafana_tls_cert_file": "/etc/ssl/grafana.crt", "grafana_tls_key_file": "/etc/ssl/grafana.key"}
    config = render(tmp_path, promtool, host_vars={"grafana-1": tls})
    assert job(config, "grafana")["scheme"] == "https"
    # The system's CAs and the address: nothing to say.
    assert "tls_config" not in job(config, "grafana")


@pytest.mark.binary
def test_grafana_https_checked_against_its_domain_and_ca(tmp_path, promtool):
    tls = {
        "grafana_tls_cert_file": "/etc/ssl/grafana.crt",
        "grafana_tls_key_file": "/etc/ssl/grafana.key",
        "grafana_domain": "grafana.example.internal",
    }
    ca = tmp_path / "ca.crt"
    ca.write_text("")
    config = render(tmp_path, promtool, host_vars={"grafana-1": tls}, extra={"prometheus_grafana_tls_ca_file": str(ca)})
    grafana = job(config, "grafana")
    assert grafana["scheme"] == "https"
    assert grafana["tls_config"] == {"ca_file": str(ca), "server_name": "grafana.example.internal"}


@pytest.mark.binary
def test_grafana_https_without_check_only_when_asked(tmp_path, promtool):
    tls = {"grafana_tls_cert_file": "/etc/ssl/grafana.crt", "grafana_tls_key_file": "/etc/ssl/grafana.key"}
    config = render(
        tmp_path, promtool, host_vars={"grafana-1": tls}, extra={"prometheus_grafana_tls_skip_verify": True}
    )
    assert job(config, "grafana")["tls_config"] == {"insecure_skip_verify": True}


@pytest.mark.binary
def test_explicit_targets_win(tmp_path, promtool):
    config = render(
        tmp_path,
        promtool,
        host_vars={"grafana-1": {"grafana_http_addr": "10.9.0.141"}},
        extra={
            "prometheus_grafana_targets": ["grafana.lan:3000"],
            "prometheus_loki_targets": ["loki.lan:3100"],
            "prometheus_grafana_scheme": "https",
        },
    )
    assert targets(config, "grafana") == ["grafana.lan:3000"]
    assert targets(config, "loki") == ["loki.lan:3100"]
    assert job(config, "grafana")["scheme"] == "https"
