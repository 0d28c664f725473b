"""Role loki: real Loki takes Claude Code's OTLP events and keeps them.

The fixture is the payload Claude Code 2.1.330 sent. Its timestamps are moved
to "now" (Loki refuses events older than reject_old_samples_max_age) and each
record gets a `test.run` attribute, so every run counts exactly its own events.
"""

import json
import os
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

testinfra_hosts = ["ansible://loki"]

LOKI = "http://127.0.0.1:3100"
# Copied from the recorded payloads of Claude Code 2.1.330.
# The real client payloads, kept once for every scenario in tests/fixtures.
FIXTURE = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "claude-code-2.1.330" / "logs.json"


def _records(payload):
    for rl in payload["resourceLogs"]:
        for sl in rl["scopeLogs"]:
            yield from sl["logRecords"]


def _event_name(record):
    for attr in record.get("attributes", []):
        if attr["key"] == "event.name":
            return attr["value"]["stringValue"]
    return None


@pytest.fixture(scope="module")
def payload():
    with open(FIXTURE, encoding="utf-8") as f:
        data = json.load(f)
    run = uuid.uuid4().hex
    records = list(_records(data))
    newest = max(int(r["timeUnixNano"]) for r in records)
    shift = time.time_ns() - 60 * 10**9 - newest
    for r in records:
        for key in ("timeUnixNano", "observedTimeUnixNano"):
            if key in r:
                r[key] = str(int(r[key]) + shift)
        r.setdefault("attributes", []).append({"key": "test.run", "value": {"stringValue": run}})
    return {
        "body": json.dumps(data),
        "run": run,
        "total": len(records),
        "api_requests": sum(1 for r in records if _event_name(r) == "api_request"),
    }


def wait_ready(host, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if host.run(f"curl -sf -o /dev/null {LOKI}/ready").rc == 0:
            return
        time.sleep(2)
    pytest.fail(f"Loki not ready after {timeout}s: {host.run(f'curl -s {LOKI}/ready').stdout}")


def query_count(host, logql):
    """Number of log lines a LogQL query returns over the last two hours."""
    now = time.time_ns()
    params = urllib.parse.urlencode(
        {"query": logql, "start": now - 2 * 3600 * 10**9, "end": now + 600 * 10**9, "limit": 5000}
    )
    out = host.run(f"curl -sf '{LOKI}/loki/api/v1/query_range?{params}'")
    assert out.rc == 0, f"query {logql!r} failed: {out.stdout}{out.stderr}"
    result = json.loads(out.stdout)
    assert result["status"] == "success", result
    return sum(len(stream["values"]) for stream in result["data"]["result"])


def wait_count(host, logql, expected, timeout=60):
    deadline = time.time() + timeout
    count = -1
    while time.time() < deadline:
        count = query_count(host, logql)
        if count == expected:
            return count
        time.sleep(2)
    return count


@pytest.fixture(scope="module")
def ingested(host, payload):
    """POST the fixture once per host to /otlp, as the collector's otlphttp exporter does."""
    wait_ready(host)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(payload["body"])
    try:
        host.ansible("copy", f"src={f.name} dest=/tmp/claude-code-logs.json mode=0644", check=False, become=True)
    finally:
        os.unlink(f.name)
    out = host.run(
        "curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' "
        f"--data-binary @/tmp/claude-code-logs.json {LOKI}/otlp/v1/logs"
    )
    assert out.stdout.strip() == "204", f"OTLP push answered {out.stdout}: {out.stderr}"
    return payload


def test_service_runs_hardened(host):
    svc = host.service("loki")
    assert svc.is_running and svc.is_enabled
    unit = host.file("/etc/systemd/system/loki.service").content_string
    assert "User=loki" in unit and "ProtectSystem=strict" in unit
    assert "ReadWritePaths=/var/lib/loki" in unit
    print(host.run("systemd-analyze security loki --no-pager | tail -1").stdout)


def test_files_and_user(host):
    assert host.user("loki").shell == "/usr/sbin/nologin"
    conf = host.file("/etc/loki/config.yml")
    assert conf.user == "root" and conf.group == "loki" and conf.mode == 0o640
    data = host.file("/var/lib/loki")
    assert data.user == "loki" and data.mode == 0o750
    assert host.run("/usr/local/bin/loki -verify-config -config.file=/etc/loki/config.yml").rc == 0


def test_listens_on_loopback_only(host):
    # Standalone (no collector, Grafana or Prometheus elsewhere): loopback.
    assert host.socket("tcp://127.0.0.1:3100").is_listening
    assert not host.socket("tcp://0.0.0.0:3100").is_listening


def test_events_by_service_name(host, ingested):
    selector = f'{{service_name="claude-code"}} | test_run="{ingested["run"]}"'
    assert wait_count(host, selector, ingested["total"]) == ingested["total"]


def test_events_by_structured_metadata(host, ingested):
    assert ingested["api_requests"] > 0
    logql = f'{{service_name="claude-code"}} | event_name="api_request" | test_run="{ingested["run"]}"'
    assert wait_count(host, logql, ingested["api_requests"]) == ingested["api_requests"]


def test_index_labels_low_cardinality(host, ingested):
    wait_count(host, f'{{service_name="claude-code"}} | test_run="{ingested["run"]}"', ingested["total"])
    out = host.run(f"curl -sf {LOKI}/loki/api/v1/labels")
    labels = set(json.loads(out.stdout)["data"])
    assert "service_name" in labels
    # Per-event and per-session attributes stay structured metadata.
    assert not labels & {"event_name", "session_id", "user_id", "prompt_id", "test_run"}
    promoted = host.backend.get_hostname() == "loki-debian13"
    assert ("team" in labels) == promoted
    if promoted:
        logql = f'{{service_name="claude-code", team="platform"}} | test_run="{ingested["run"]}"'
        assert query_count(host, logql) == ingested["total"]


def test_restart_loses_nothing(host, ingested):
    selector = f'{{service_name="claude-code"}} | test_run="{ingested["run"]}"'
    before = wait_count(host, selector, ingested["total"])
    assert before == ingested["total"]
    assert host.run("systemctl restart loki").rc == 0
    wait_ready(host)
    assert wait_count(host, selector, before) == before


def test_retention_in_running_config(host):
    out = host.run(f"curl -sf {LOKI}/config")
    assert out.rc == 0
    config = out.stdout
    assert "retention_enabled: true" in config
    assert "retention_period: 90d" in config or "retention_period: 2160h" in config, config
    assert "allow_structured_metadata: true" in config
    if host.backend.get_hostname() == "loki-debian13":
        assert 'selector: \'{service_name="claude-code", team="platform"}\'' in config
        assert "period: 30d" in config or "period: 720h" in config


def test_s3_variant_rendered_and_valid(host):
    f = host.file("/etc/loki-s3-check/config.yml")
    assert f.exists and f.mode == 0o640
    content = f.content_string
    assert "s3.invalid:9000" in content and "bucketnames: claude-code-events" in content
    assert "object_store: s3" in content and "delete_request_store: s3" in content
    out = host.run("/usr/local/bin/loki -verify-config -config.file=/etc/loki-s3-check/config.yml")
    assert out.rc == 0, out.stdout + out.stderr
