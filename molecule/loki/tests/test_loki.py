"""Role loki, installed and run with the Loki stand-in (tests/standins/loki).

What is checked is the role's work on a real systemd host: the release it
installs from the mirror, the hardened unit, the user, files and modes, the
listen address it derives, a configuration that the stand-in's key table of
Loki's reference accepts, OTLP ingest into the data directory the unit may
write, and durability across a restart. What Loki itself does with the events
(LogQL, index labels, retention) is not checked here: the stand-in does not
pretend to (docs/development.md).
"""

import json
import os
import tempfile
import time
import uuid
from pathlib import Path

import pytest

testinfra_hosts = ["ansible://loki"]

LOKI = "http://127.0.0.1:3100"
FIXTURE = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "claude-code-2.1.330" / "logs.json"


def _records(payload):
    for rl in payload["resourceLogs"]:
        for sl in rl["scopeLogs"]:
            yield from sl["logRecords"]


def stored(host, run):
    out = host.run(f"curl -sf {LOKI}/standin/records")
    assert out.rc == 0, out.stderr
    return [r for r in json.loads(out.stdout)["records"] if r["attributes"].get("test.run") == run]


def wait_ready(host, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if host.run(f"curl -sf -o /dev/null {LOKI}/ready").rc == 0:
            return
        time.sleep(1)
    pytest.fail(f"Loki not ready after {timeout}s")


@pytest.fixture(scope="module")
def ingested(host):
    """POST the real client's events once per host, as the collector's otlp_http exporter does (JSON here)."""
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    run = uuid.uuid4().hex
    records = list(_records(data))
    for r in records:
        r.setdefault("attributes", []).append({"key": "test.run", "value": {"stringValue": run}})
    wait_ready(host)
    path = "/var/tmp/loki-test-logs.json"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(data, f)
    try:
        host.ansible("copy", f"src={f.name} dest={path} mode=0644", check=False, become=True)
    finally:
        os.unlink(f.name)
    out = host.run(
        "curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' "
        f"--data-binary @{path} {LOKI}/otlp/v1/logs"
    )
    assert out.stdout.strip() == "204", f"OTLP push answered {out.stdout}: {out.stderr}"
    return {"run": run, "sent": records}


def test_installed_release_is_the_mirrors(host):
    """The role installed what the mirror serves under Loki's archive name (here: the stand-in, named so)."""
    out = host.run("/usr/local/bin/loki -version")
    assert out.rc == 0 and "stand-in" in out.stdout + out.stderr


def test_service_runs_hardened(host):
    svc = host.service("loki")
    assert svc.is_running and svc.is_enabled
    unit = host.file("/etc/systemd/system/loki.service").content_string
    assert "User=loki" in unit and "ProtectSystem=strict" in unit
    assert "ReadWritePaths=/var/lib/loki" in unit
    assert "ExecStart=/usr/local/bin/loki -config.file=/etc/loki/config.yml" in unit
    print(host.run("systemd-analyze security loki --no-pager | tail -1").stdout)


def test_files_and_user(host):
    assert host.user("loki").shell == "/usr/sbin/nologin"
    conf = host.file("/etc/loki/config.yml")
    assert conf.user == "root" and conf.group == "loki" and conf.mode == 0o640
    data = host.file("/var/lib/loki")
    assert data.user == "loki" and data.mode == 0o750
    assert host.run("/usr/local/bin/loki -verify-config -config.file=/etc/loki/config.yml").rc == 0


def test_listen_address_follows_the_inventory(host):
    """Loopback when every collector, Grafana and Prometheus is on this host; all addresses when one is elsewhere."""
    if host.backend.get_hostname() == "loki-debian12":
        # The only collector runs here.
        assert host.socket("tcp://127.0.0.1:3100").is_listening
        assert not host.socket("tcp://0.0.0.0:3100").is_listening
    else:
        # loki-debian12's collector is another host.
        assert host.socket("tcp://0.0.0.0:3100").is_listening


def listening(host, ports):
    """Listening TCP sockets on these ports, as address:port; 0.0.0.0 stands for every address.

    By port, not by process: ss cannot name another user's process here (no
    CAP_SYS_PTRACE in the container). Go listens on the wildcard with one
    dual-stack socket, which ss shows as *:port or [::]:port.
    """
    out = host.run("ss -Hltn")
    assert out.rc == 0, out.stderr
    found = set()
    for line in out.stdout.splitlines():
        addr, port = line.split()[3].rsplit(":", 1)
        if int(port) in ports:
            found.add(("0.0.0.0" if addr in ("*", "[::]", "0.0.0.0") else addr) + ":" + port)
    return found


def test_only_what_others_need_is_off_loopback(host):
    """Loki's own sockets: 3100 on every address only where another host's collector, Grafana or Prometheus needs it.

    The gRPC port (9095) is internal to the single binary: the role binds it
    to loopback (the rendered config says so; the stand-in opens no gRPC
    listener, so the socket list cannot show it).
    """
    sockets = listening(host, (3100, 9095))
    config = host.file("/etc/loki/config.yml").content_string
    assert "grpc_listen_address: 127.0.0.1" in config
    if host.backend.get_hostname() == "loki-debian12":
        assert sockets == {"127.0.0.1:3100"}, sockets
    else:
        assert sockets == {"0.0.0.0:3100"}, sockets


def test_deletion_api_is_off(host):
    """Loki serves its log deletion API whenever retention is on, unless deletion_mode is disabled."""
    config = host.file("/etc/loki/config.yml").content_string
    assert "retention_enabled: true" in config
    assert "deletion_mode: disabled" in config


def test_rendered_config_is_the_shape_asked_for(host):
    """debian13 carries the index-label and per-stream retention shape (its text is pinned by tests/unit/loki)."""
    config = host.file("/etc/loki/config.yml").content_string
    assert "retention_period: 2160h" in config and "retention_enabled: true" in config
    if host.backend.get_hostname() == "loki-debian13":
        assert "action: index_label" in config and "- team" in config
        assert "period: 720h" in config
    else:
        assert "otlp_config" not in config


def test_events_arrive_whole(host, ingested):
    got = stored(host, ingested["run"])
    assert len(got) == len(ingested["sent"])
    for record, sent in zip(got, ingested["sent"], strict=True):
        assert record["resource"]["service.name"] == "claude-code"
        assert record["body"] == sent["body"]["stringValue"]
        assert record["time_unix_nano"] == sent["timeUnixNano"]
        assert {a["key"] for a in sent["attributes"]} == set(record["attributes"])


def test_restart_loses_nothing(host, ingested):
    before = stored(host, ingested["run"])
    assert before
    assert host.run("systemctl restart loki").rc == 0
    wait_ready(host)
    assert stored(host, ingested["run"]) == before


def test_s3_variant_rendered_and_valid(host):
    f = host.file("/etc/loki-s3-check/config.yml")
    assert f.exists and f.mode == 0o640
    content = f.content_string
    assert "s3.invalid:9000" in content and "bucketnames: claude-code-events" in content
    assert "object_store: s3" in content and "delete_request_store: s3" in content
    out = host.run("/usr/local/bin/loki -verify-config -config.file=/etc/loki-s3-check/config.yml")
    assert out.rc == 0, out.stdout + out.stderr
