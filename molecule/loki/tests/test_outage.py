"""The collector loses nothing while the event store is away.

On loki-debian12 the real collector (otel_collector role: file-backed sending
queue, endless retry) ships events to the Loki stand-in on the same host. A
sender (files/otlp_sender.py) posts the real client's fixtures, the sensitive
one included, plus generated api_request events for a few minutes, keeping a
ledger of every record the collector accepted. Meanwhile the store refuses
every push (503) for a minute, then stalls pushes past the exporter's timeout,
then is restarted. Afterwards the store holds exactly the ledger's records
(count and content, after the collector's privacy stage), and the collector's
queue is empty.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tools.dashboards.queries import iter_queries, load_dashboards, substitute

testinfra_hosts = ["ansible://otel_collectors"]

LOKI = "http://127.0.0.1:3100"
TELEMETRY = "http://127.0.0.1:8888/metrics"
FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "claude-code-2.1.330"
SENDER = Path(__file__).resolve().parents[1] / "files" / "otlp_sender.py"
WORK = "/var/tmp/outage"
CONTENT_KEYS = ("prompt", "prompt_text", "response", "tool_parameters", "tool_input")
REFUSE_S, STALL_S = 60, 40
# The sender keeps traffic flowing through every phase and a little after.
BATCHES, INTERVAL_S = 36, 5


def value_of(v: dict):
    """An OTLP JSON AnyValue as plain JSON."""
    kind, val = next(iter(v.items()))
    if kind == "intValue":
        return int(val)
    if kind == "arrayValue":
        return [value_of(x) for x in val.get("values", [])]
    if kind == "kvlistValue":
        return {kv["key"]: value_of(kv["value"]) for kv in val.get("values", [])}
    return val


def plain(value):
    """Values compared as JSON, integers as text (OTLP JSON sends int64 as strings)."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def refused_pushes(host) -> float:
    metrics = host.run(f"curl -sf {LOKI}/metrics").stdout
    found = re.findall(r'^loki_standin_requests_total\{[^}]*code="503"[^}]*\} (\S+)$', metrics, re.M)
    return sum(float(v) for v in found)


def queue_size(host) -> float:
    out = host.run(f"curl -sf {TELEMETRY}").stdout
    m = re.search(r'^otelcol_exporter_queue_size\{[^}]*exporter="otlp_http/loki"[^}]*\} (\S+)$', out, re.M)
    assert m, "the collector does not report its queue to the event store"
    return float(m.group(1))


def fault(host, mode, seconds=0):
    body = json.dumps({"mode": mode, "seconds": seconds})
    out = host.run(f"curl -sf -X POST -H 'Content-Type: application/json' -d '{body}' {LOKI}/standin/fault")
    assert out.rc == 0, out.stderr


def stored(host, run):
    out = host.run(f"curl -sf {LOKI}/standin/records")
    assert out.rc == 0, out.stderr
    data = json.loads(out.stdout)
    return [r for r in data["records"] if r["attributes"].get("test.run") == run], data["duplicates_ignored"]


def wait_ready(host, timeout=60):
    deadline = time.time() + timeout
    while host.run(f"curl -sf -o /dev/null {LOKI}/ready").rc != 0:
        assert time.time() < deadline, "Loki stand-in not ready after restart"
        time.sleep(1)


@pytest.fixture(scope="module")
def outage(host):
    settings = host.ansible.get_variables()
    token = settings["claude_monitoring_ingest_tokens"][0]
    run = uuid.uuid4().hex
    host.run(f"rm -rf {WORK} && install -d -m 0755 {WORK}")
    for src in (SENDER, FIXTURES / "logs.json", FIXTURES / "logs-with-prompts-and-tool-details.json"):
        host.ansible("copy", f"src={src} dest={WORK}/{src.name} mode=0644", check=False, become=True)
    cmd = (
        f"systemd-run --unit=cm-outage-sender --collect --property=StandardOutput=file:{WORK}/sender.log "
        f"python3 {WORK}/otlp_sender.py --token {token} --run {run} --batches {BATCHES} --interval {INTERVAL_S} "
        f"--out {WORK}/sent.jsonl {WORK}/logs.json {WORK}/logs-with-prompts-and-tool-details.json"
    )
    assert host.run(cmd).rc == 0
    timeline = []
    start = time.monotonic()

    def mark(what):
        timeline.append(f"{time.monotonic() - start:6.1f}s {what}")

    time.sleep(10)
    mark("store refuses")
    fault(host, "refuse", REFUSE_S)
    time.sleep(REFUSE_S)
    mark("store stalls")
    fault(host, "stall", STALL_S)
    time.sleep(STALL_S)
    # Read before the restart: the stand-in's counters live in memory.
    refused = refused_pushes(host)
    mark("store restarts")
    assert host.run("systemctl restart loki").rc == 0
    wait_ready(host)
    mark("store ready")
    deadline = time.monotonic() + BATCHES * INTERVAL_S + 120
    while host.run("systemctl is-active --quiet cm-outage-sender").rc == 0:
        assert time.monotonic() < deadline, "the sender did not finish"
        time.sleep(5)
    mark("sender done")
    sent = [json.loads(line) for line in host.file(f"{WORK}/sent.jsonl").content_string.splitlines()]
    # Drained: the queue is empty and the store holds as many records as were sent.
    deadline = time.monotonic() + 180
    while True:
        got, duplicates = stored(host, run)
        if (len(got) >= len(sent) and queue_size(host) == 0) or time.monotonic() > deadline:
            break
        time.sleep(3)
    mark("drained")
    print("\n".join(timeline))
    print(f"sent {len(sent)} records; stored {len(got)}; duplicates ignored {duplicates}; refused pushes {refused:.0f}")
    print(host.file(f"{WORK}/sender.log").content_string.splitlines()[-1:])
    return {"run": run, "sent": sent, "stored": got, "refused": refused, "settings": settings}


def test_the_store_was_really_away(outage):
    assert outage["refused"] > 0, "the stand-in never refused a push: the outage did not happen"


def test_queue_is_empty(host, outage):
    assert queue_size(host) == 0


def test_every_record_arrived_once(outage):
    sent_ids = [r["record"]["attributes"] for r in outage["sent"]]
    sent_ids = [next(a["value"]["stringValue"] for a in attrs if a["key"] == "test.record") for attrs in sent_ids]
    got_ids = [r["attributes"]["test.record"] for r in outage["stored"]]
    assert len(sent_ids) == len(set(sent_ids)) > 0
    assert sorted(got_ids) == sorted(sent_ids), (
        f"missing {sorted(set(sent_ids) - set(got_ids))[:10]}, extra or doubled "
        f"{sorted(i for i in got_ids if got_ids.count(i) > 1 or i not in sent_ids)[:10]}"
    )


def test_content_is_what_was_sent_after_the_privacy_stage(outage):
    key = outage["settings"]["claude_monitoring_pseudonymize_key"]
    by_id = {r["attributes"]["test.record"]: r for r in outage["stored"]}
    for entry in outage["sent"]:
        record = entry["record"]
        want = {a["key"]: value_of(a["value"]) for a in record["attributes"] if a["key"] not in CONTENT_KEYS}
        if "user.email" in want:
            want["user.email"] = hashlib.sha256(f"{key}:{want['user.email']}".encode()).hexdigest()
        got = by_id[want["test.record"]]
        assert got["body"] == record["body"]["stringValue"]
        assert got["time_unix_nano"] == record["timeUnixNano"]
        assert {k: plain(v) for k, v in got["attributes"].items()} == {k: plain(v) for k, v in want.items()}
        resource = {a["key"]: value_of(a["value"]) for a in entry["resource"]["attributes"]}
        if "user.email" in resource:
            resource["user.email"] = hashlib.sha256(f"{key}:{resource['user.email']}".encode()).hexdigest()
        assert {k: plain(v) for k, v in got["resource"].items()} == {k: plain(v) for k, v in resource.items()}


def test_no_prompt_tool_parameters_or_email_stored(host, outage):
    raw = (FIXTURES / "logs-with-prompts-and-tool-details.json").read_text()
    assert "hunter2" in raw and "hello-from-tool" in raw and "dev@example.com" in raw
    assert any(r["attributes"].get("event.name") == "user_prompt" for r in outage["stored"])
    # Everything the stand-in received is in its data directory; nothing else holds records.
    kept = host.run("cat /var/lib/loki/standin/*").stdout
    assert kept, "the stand-in's data directory is empty"
    for secret in ("hunter2", "hello-from-tool", "dev@example.com"):
        assert secret not in kept


# Fields Loki adds to every OTLP record besides its attributes (LogQL names).
LOKI_FIELDS = {
    "service_name",
    "severity_text",
    "severity_number",
    "observed_timestamp",
    "flags",
    "trace_id",
    "span_id",
    "scope_name",
    "scope_version",
    "detected_level",
}
# Names in a LogQL query: matchers in the stream selector and label filters
# (name op value), unwrap, by/without groupings, keep/drop lists, and the
# fields a line_format template reads.
_MATCHER = re.compile(r"(?:[{,|]|\band\b|\bor\b)\s*([A-Za-z_]\w*)\s*(?:=~|!~|!=|==|>=|<=|=|>|<)\s*[\"`0-9]")
_LISTS = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)|\|\s*(?:keep|drop)\s+([\w\s,]+)")
_UNWRAP = re.compile(r"\bunwrap\s+(?:\w+\()?([A-Za-z_]\w*)")
_TEMPLATE = re.compile(r"\{\{[^}]*?\.([A-Za-z_]\w*)")


def logql_names(expr: str) -> set[str]:
    names = set(_MATCHER.findall(expr)) | set(_UNWRAP.findall(expr)) | set(_TEMPLATE.findall(expr))
    for grouped, listed in _LISTS.findall(expr):
        names |= {n.strip() for n in (grouped or listed).split(",") if n.strip()}
    return names - {"__error__", "__error_details__", "__line__", "__stream_shard__"}


def test_dashboard_logql_names_exist_in_what_the_collector_sent(outage):
    """Every label or field a dashboard's LogQL names is one the collector really delivers to the event store."""

    def loki_name(key):
        return re.sub(r"[^A-Za-z0-9_]", "_", key)

    delivered = set(LOKI_FIELDS)
    for record in outage["stored"]:
        delivered |= {loki_name(k) for k in record["resource"]} | {loki_name(k) for k in record["attributes"]}
    queries = [q for d in load_dashboards().values() for q in iter_queries(d) if q.datasource_type == "loki"]
    assert queries, "no LogQL query in the dashboards"
    for q in queries:
        names = logql_names(substitute(q.expr))
        assert names, f"{q.panel_title}: no label found in {q.expr!r}"
        unknown = names - delivered
        assert not unknown, f"{q.dashboard_uid} / {q.panel_title}: {sorted(unknown)} never delivered ({q.expr})"
        shown = names & {loki_name(k) for k in CONTENT_KEYS}
        assert not shown, f"{q.panel_title} names prompt or tool content: {sorted(shown)}"


def test_logql_name_extraction():
    expr = (
        'sum by (model) (sum_over_time({service_name="claude-code"} | event_name="api_request" '
        '| user_id=~".*" | status_code >= 500 | keep session_id, cost_usd | unwrap duration_ms [5m]))'
    )
    assert logql_names(expr) == {
        "model",
        "service_name",
        "event_name",
        "user_id",
        "status_code",
        "session_id",
        "cost_usd",
        "duration_ms",
    }
    assert logql_names('{service_name="x"} | line_format "{{.tool_name}} {{ .success }}"') == {
        "service_name",
        "tool_name",
        "success",
    }
