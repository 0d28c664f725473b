"""The collector as a Claude Code client and a downstream see it.

Payloads are the real client's (tests/fixtures/claude-code-2.1.330, see its README); each
test gives them a fresh session id and current timestamps, so the checks hold
on a re-run against the same instances, and derives every expected value from
the fixture files.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import shlex
import time
import uuid
from pathlib import Path

import pytest
import yaml

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "claude-code-2.1.330"
HTTP = "http://127.0.0.1:4318"
PROMETHEUS = "http://127.0.0.1:8889/metrics"
SINK_FILE = "/var/lib/otelcol-sink/received.jsonl"
SERVICE = "otelcol"
# OTLP metric name -> Prometheus series names accepted for it (docs: claude-code-telemetry.md).
PROMETHEUS_NAMES = {
    "claude_code.session.count": ("claude_code_session_count_total",),
    "claude_code.cost.usage": ("claude_code_cost_usage_USD_total",),
    "claude_code.token.usage": ("claude_code_token_usage_tokens_total",),
    "claude_code.active_time.total": (
        "claude_code_active_time_seconds_total",
        "claude_code_active_time_total_seconds_total",
    ),
    "claude_code.lines_of_code.count": ("claude_code_lines_of_code_count_total",),
    "claude_code.commit.count": ("claude_code_commit_count_total",),
    "claude_code.pull_request.count": ("claude_code_pull_request_count_total",),
    "claude_code.code_edit_tool.decision": ("claude_code_code_edit_tool_decision_total",),
}
# Data point attributes that identify a series besides the session.
SERIES_KEYS = ("type", "model", "start_type", "query_source", "effort", "tool_name", "decision", "language")
CONTENT_KEYS = ("prompt", "prompt_text", "response", "tool_parameters", "tool_input")


# --- helpers ----------------------------------------------------------------


@pytest.fixture(scope="module")
def settings(host):
    return host.ansible.get_variables()


@pytest.fixture(scope="module")
def tokens(settings):
    return list(settings["claude_monitoring_ingest_tokens"])


@pytest.fixture(scope="module")
def team_tokens(settings):
    return list(settings["molecule_team_tokens"])


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def value_of(attr_value: dict):
    return next(iter(attr_value.values()))


def records(payload: dict, resource_key: str, scope_key: str, item_key: str):
    for resource in payload[resource_key]:
        for scope in resource[scope_key]:
            yield from scope[item_key]


def data_points(payload: dict):
    for metric in records(payload, "resourceMetrics", "scopeMetrics", "metrics"):
        for kind in ("sum", "gauge"):
            if kind in metric:
                for point in metric[kind]["dataPoints"]:
                    yield metric, point


def set_attr(attributes: list, key: str, value: str) -> None:
    for attr in attributes:
        if attr["key"] == key:
            attr["value"] = {"stringValue": value}


def metrics_payload(name: str, session: str, end_ns: int, scale: float = 1.0, start_ns: int | None = None) -> dict:
    """The fixture with another session id, its points ending at end_ns (starting at start_ns when given)."""
    payload = copy.deepcopy(load(name))
    for _metric, point in data_points(payload):
        set_attr(point["attributes"], "session.id", session)
        length = int(point["timeUnixNano"]) - int(point["startTimeUnixNano"])
        point["startTimeUnixNano"] = str(start_ns if start_ns is not None else end_ns - length)
        point["timeUnixNano"] = str(end_ns)
        for key in ("asDouble", "asInt"):
            if key in point:
                point[key] = float(point[key]) * scale if key == "asDouble" else int(int(point[key]) * scale)
    return payload


def logs_payload(name: str, session: str) -> dict:
    payload = copy.deepcopy(load(name))
    now = time.time_ns()
    for record in records(payload, "resourceLogs", "scopeLogs", "logRecords"):
        set_attr(record["attributes"], "session.id", session)
        record["timeUnixNano"] = record["observedTimeUnixNano"] = str(now)
    return payload


def post(host, path: str, payload: dict, token: str | None) -> str:
    """POST JSON from inside the instance; returns the HTTP status."""
    body = base64.b64encode(json.dumps(payload).encode()).decode()
    auth = f"-H {shlex.quote('Authorization: Bearer ' + token)}" if token is not None else ""
    cmd = (
        f"echo {body} | base64 -d | curl -sS -o /dev/null -w '%{{http_code}}' "
        f"-H 'Content-Type: application/json' {auth} --data-binary @- {HTTP}{path}"
    )
    return host.check_output(cmd).strip()


def grpc_status(host, service: str, token: str | None) -> str:
    """Call an OTLP gRPC Export (empty request) over h2c with curl; returns grpc-status."""
    auth = f"-H {shlex.quote('Authorization: Bearer ' + token)}" if token is not None else ""
    cmd = (
        "printf '\\000\\000\\000\\000\\000' | curl -sS --http2-prior-knowledge -D - -o /dev/null "
        f"-H 'content-type: application/grpc' -H 'te: trailers' {auth} --data-binary @- "
        f"http://127.0.0.1:4317/opentelemetry.proto.collector.{service}"
    )
    out = host.check_output(cmd)
    found = re.search(r"^grpc-status:\s*(\d+)", out, re.M | re.I)
    assert found, f"no grpc-status in the response:\n{out}"
    return found.group(1)


LINE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(host) -> list[tuple[str, dict, float]]:
    series = []
    for line in host.check_output(f"curl -sS {PROMETHEUS}").splitlines():
        found = LINE.match(line)
        if found and not line.startswith("#"):
            series.append((found.group(1), dict(LABEL.findall(found.group(2) or "")), float(found.group(3))))
    return series


def expected_series(payload_name: str, session: str, combine) -> dict:
    """(metric, label items) -> expected value, combining the two exports' values with `combine`."""
    expected = {}
    for metric, point in data_points(load(payload_name)):
        attrs = {a["key"]: value_of(a["value"]) for a in point["attributes"]}
        labels = {k: str(v) for k, v in attrs.items() if k in SERIES_KEYS}
        labels["session_id"] = session
        value = float(point.get("asDouble", point.get("asInt", 0)))
        expected[(metric["name"], tuple(sorted(labels.items())))] = combine(value)
    return expected


def find(series, metric: str, labels: dict):
    names = PROMETHEUS_NAMES[metric]
    return [v for n, lab, v in series if n in names and all(lab.get(k) == val for k, val in labels.items())]


def wait_for_series(host, expected: dict, timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    while True:
        series = scrape(host)
        missing = [
            (metric, dict(labels), want, find(series, metric, dict(labels)))
            for (metric, labels), want in expected.items()
            if [round(v, 9) for v in find(series, metric, dict(labels))] != [round(want, 9)]
        ]
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(1)


# --- the service ------------------------------------------------------------


def test_service_active_and_enabled(host):
    svc = host.service(SERVICE)
    assert svc.is_running
    assert svc.is_enabled


@pytest.mark.parametrize("port", [4317, 4318, 8889])
def test_ingest_and_exporter_ports_listen(host, port):
    assert host.socket(f"tcp://0.0.0.0:{port}").is_listening


def test_health_check_on_loopback_only(host):
    assert host.socket("tcp://127.0.0.1:13133").is_listening
    assert not host.socket("tcp://0.0.0.0:13133").is_listening
    assert '"Server available"' in host.check_output("curl -sS http://127.0.0.1:13133/")


def test_exposure_score(host):
    out = host.check_output(f"systemd-analyze security {SERVICE} --no-pager")
    found = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out)
    assert found, out
    score = float(found.group(1))
    print(f"\nsystemd-analyze security {SERVICE}: exposure {score} on {host.backend.get_hostname()}")
    assert score <= 2.5


def test_unit_runs_as_dedicated_user(host):
    props = "-p User -p NoNewPrivileges -p ProtectSystem -p CapabilityBoundingSet"
    show = host.check_output(f"systemctl show {SERVICE} {props}")
    assert "User=otelcol" in show
    assert "NoNewPrivileges=yes" in show
    assert "ProtectSystem=strict" in show
    assert "CapabilityBoundingSet=\n" in show + "\n"
    pid = host.check_output(f"systemctl show {SERVICE} -p MainPID --value")
    assert host.check_output(f"ps -o user= -p {pid}").strip() == "otelcol"


def test_secrets_stay_out_of_the_config(host, tokens, team_tokens, settings):
    config = host.file("/etc/otelcol/config.yaml")
    env = host.file("/etc/otelcol/otelcol.env")
    assert env.user == "root" and env.group == "otelcol" and env.mode == 0o640
    assert config.mode == 0o640
    text = host.check_output("cat /etc/otelcol/config.yaml")
    for secret in [*tokens, *(t["token"] for t in team_tokens), settings["claude_monitoring_pseudonymize_key"]]:
        assert secret not in text
    assert "${env:OTEL_COLLECTOR_TOKEN_0}" in text
    assert "${env:OTEL_COLLECTOR_TEAM_TOKEN_1}" in text


def test_queue_to_the_downstream_is_sized_in_events_and_compacted(host, settings):
    # Capacity in events: the outage it bridges at the site's event rate.
    want = settings["otel_collector_loki_queue_hours"] * 3600 * settings["otel_collector_loki_queue_events_per_second"]
    telemetry = host.check_output("curl -sS http://127.0.0.1:8888/metrics")
    found = re.search(
        r'^otelcol_exporter_queue_capacity\{[^}]*exporter="otlp_http/loki"[^}]*\} (\S+)$', telemetry, re.M
    )
    assert found, "no queue capacity for otlp_http/loki in the collector's own metrics"
    assert float(found.group(1)) == want
    config = yaml.safe_load(host.file("/etc/otelcol/config.yaml").content_string)
    assert config["exporters"]["otlp_http/loki"]["sending_queue"]["sizer"] == "items"
    compaction = config["extensions"]["file_storage/queue"]["compaction"]
    assert compaction["on_start"] and compaction["on_rebound"]


# --- authentication ------------------------------------------------------------


def test_http_accepts_each_valid_token(host, tokens):
    # Two tokens are valid during a rotation.
    assert len(tokens) == 2
    for token in tokens:
        payload = metrics_payload("metrics.json", str(uuid.uuid4()), time.time_ns())
        assert post(host, "/v1/metrics", payload, token) == "200"
        assert post(host, "/v1/logs", logs_payload("logs.json", str(uuid.uuid4())), token) == "200"


@pytest.mark.parametrize("token", [None, "wrong-token-000000000"], ids=["no-token", "wrong-token"])
@pytest.mark.parametrize("path", ["/v1/metrics", "/v1/logs"])
def test_http_refuses_without_valid_token(host, path, token):
    session = str(uuid.uuid4())
    if "metrics" in path:
        payload = metrics_payload("metrics.json", session, time.time_ns())
    else:
        payload = logs_payload("logs.json", session)
    assert post(host, path, payload, token) == "401"


@pytest.mark.parametrize(
    "service", ["metrics.v1.MetricsService/Export", "logs.v1.LogsService/Export"], ids=["metrics", "logs"]
)
def test_grpc_authentication(host, tokens, service):
    assert grpc_status(host, service, tokens[0]) == "0"
    assert grpc_status(host, service, None) == "16"  # Unauthenticated
    assert grpc_status(host, service, "wrong-token-000000000") == "16"


# --- numbers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "temporality", "combine"),
    [
        # Delta: the second export reports 3x the first interval's increase; the series shows the sum.
        ("metrics.json", 1, lambda v: v + 3 * v),
        # Cumulative: the second export reports the running total, 3x; the series shows the latest.
        ("metrics-cumulative.json", 2, lambda v: 3 * v),
    ],
    ids=["delta", "cumulative"],
)
def test_series_values_across_two_exports(host, tokens, fixture, temporality, combine):
    temporalities = {m["sum"]["aggregationTemporality"] for m, _ in data_points(load(fixture)) if "sum" in m}
    assert temporalities == {temporality}
    session = str(uuid.uuid4())
    first_end = time.time_ns() - 10 * 10**9
    second_end = first_end + 5 * 10**9
    first = metrics_payload(fixture, session, first_end)
    if temporality == 1:  # the next interval starts where the previous ended
        second = metrics_payload(fixture, session, second_end, scale=3, start_ns=first_end)
    else:  # same start, later point, larger total
        second = copy.deepcopy(first)
        for _metric, point in data_points(second):
            point["timeUnixNano"] = str(second_end)
            point["asDouble"] = float(point["asDouble"]) * 3
    assert post(host, "/v1/metrics", first, tokens[0]) == "200"
    time.sleep(2)  # separate batches
    assert post(host, "/v1/metrics", second, tokens[1]) == "200"
    expected = expected_series(fixture, session, combine)
    assert len(expected) >= 4
    missing = wait_for_series(host, expected)
    report = "\n".join(map(str, missing))
    assert not missing, f"series missing or with another value (metric, labels, want, got):\n{report}"


def test_series_carry_the_documented_labels(host, tokens, settings):
    session = str(uuid.uuid4())
    payload = metrics_payload("metrics-cumulative.json", session, time.time_ns())
    assert post(host, "/v1/metrics", payload, tokens[0]) == "200"
    expected = expected_series("metrics-cumulative.json", session, lambda v: v)
    assert not wait_for_series(host, expected)
    series = [lab for n, lab, _v in scrape(host) if lab.get("session_id") == session]
    assert series
    for labels in series:
        for key in ("session_id", "user_id", "terminal_type", "team", "machine_name"):
            assert key in labels, f"{key} missing from {labels}"
        # Pseudonymised with the site's key, on data points and resource alike.
        key = settings["claude_monitoring_pseudonymize_key"]
        assert labels.get("user_email") == hashlib.sha256(f"{key}:dev@example.com".encode()).hexdigest()


# --- privacy ---------------------------------------------------------------


def sink_records(host, session: str, want: int, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        found = []
        out = host.run(f"cat {SINK_FILE}").stdout
        for line in out.splitlines():
            if session not in line:
                continue
            for record in records(json.loads(line), "resourceLogs", "scopeLogs", "logRecords"):
                attrs = {a["key"]: value_of(a["value"]) for a in record["attributes"]}
                if attrs.get("session.id") == session:
                    found.append(record)
        if len(found) >= want or time.monotonic() > deadline:
            return found


def test_no_prompt_or_tool_content_reaches_the_downstream(host, tokens, settings):
    fixture = "logs-with-prompts-and-tool-details.json"
    raw = (FIXTURES / fixture).read_text()
    assert "hunter2" in raw and "tool_parameters" in raw  # the fixture holds what must not pass
    session = str(uuid.uuid4())
    sent = list(records(load(fixture), "resourceLogs", "scopeLogs", "logRecords"))
    assert post(host, "/v1/logs", logs_payload(fixture, session), tokens[0]) == "200"
    received = sink_records(host, session, len(sent))
    assert len(received) == len(sent), "every event reaches the downstream"
    downstream = host.check_output(f"cat {SINK_FILE}")
    assert "hunter2" not in downstream
    assert "hello-from-tool" not in downstream
    assert "dev@example.com" not in downstream
    key = settings["claude_monitoring_pseudonymize_key"]
    pseudonym = hashlib.sha256(f"{key}:dev@example.com".encode()).hexdigest()
    sent_keys = {a["key"] for r in sent for a in r["attributes"]}
    for record in received:
        attrs = {a["key"]: value_of(a["value"]) for a in record["attributes"]}
        assert not set(CONTENT_KEYS) & set(attrs), f"content attributes passed: {set(CONTENT_KEYS) & set(attrs)}"
        assert attrs["user.email"] == pseudonym
        assert record["body"]["stringValue"] == "claude_code." + attrs["event.name"]
    # Everything that is not content still arrives (for example prompt_length, prompt.id, cost_usd).
    received_keys = {a["key"] for r in received for a in r["attributes"]}
    assert received_keys == sent_keys - set(CONTENT_KEYS)


# --- team binding ---------------------------------------------------------------


def claiming(payload: dict, team: str) -> dict:
    """The payload with every `team` the client sets (resources, data points, events) set to `team`."""
    for key in ("resourceMetrics", "resourceLogs"):
        for resource in payload.get(key, []):
            set_attr(resource["resource"]["attributes"], "team", team)
    if "resourceMetrics" in payload:
        for _metric, point in data_points(payload):
            set_attr(point["attributes"], "team", team)
    else:
        for record in records(payload, "resourceLogs", "scopeLogs", "logRecords"):
            set_attr(record["attributes"], "team", team)
    return payload


def sink_teams(host, session: str, want: int, timeout: float = 30) -> list[tuple[str, str]]:
    """(resource team, event team) of each event of the session that reached the downstream."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for line in host.run(f"cat {SINK_FILE}").stdout.splitlines():
            if session not in line:
                continue
            for resource in json.loads(line)["resourceLogs"]:
                res = {a["key"]: value_of(a["value"]) for a in resource["resource"]["attributes"]}
                for scope in resource["scopeLogs"]:
                    for record in scope["logRecords"]:
                        attrs = {a["key"]: value_of(a["value"]) for a in record["attributes"]}
                        if attrs.get("session.id") == session:
                            found.append((res.get("team"), attrs.get("team")))
        if len(found) >= want or time.monotonic() > deadline:
            return found


def series_teams(host, session: str, timeout: float = 30) -> set:
    deadline = time.monotonic() + timeout
    while True:
        teams = {lab.get("team") for _n, lab, _v in scrape(host) if lab.get("session_id") == session}
        if teams or time.monotonic() > deadline:
            return teams
        time.sleep(1)


@pytest.mark.parametrize("index", [0, 1], ids=["alpha", "beta"])
def test_a_team_token_records_its_team_whatever_the_client_claims(host, team_tokens, index):
    entry, other = team_tokens[index], team_tokens[1 - index]
    session = str(uuid.uuid4())
    metrics = claiming(metrics_payload("metrics-cumulative.json", session, time.time_ns()), other["team"])
    assert post(host, "/v1/metrics", metrics, entry["token"]) == "200"
    assert series_teams(host, session) == {entry["team"]}
    logs = claiming(logs_payload("logs.json", session), other["team"])
    sent = len(list(records(logs, "resourceLogs", "scopeLogs", "logRecords")))
    assert post(host, "/v1/logs", logs, entry["token"]) == "200"
    received = sink_teams(host, session, sent)
    assert len(received) == sent
    assert set(received) == {(entry["team"], entry["team"])}


def test_a_shared_token_keeps_the_claimed_team(host, tokens):
    session = str(uuid.uuid4())
    metrics = claiming(metrics_payload("metrics-cumulative.json", session, time.time_ns()), "gamma")
    assert post(host, "/v1/metrics", metrics, tokens[0]) == "200"
    assert series_teams(host, session) == {"gamma"}
    logs = claiming(logs_payload("logs.json", session), "gamma")
    sent = len(list(records(logs, "resourceLogs", "scopeLogs", "logRecords")))
    assert post(host, "/v1/logs", logs, tokens[1]) == "200"
    assert set(sink_teams(host, session, sent)) == {("gamma", "gamma")}


def test_the_token_never_leaves_the_collector(host, tokens, team_tokens):
    downstream = host.check_output(f"cat {SINK_FILE}")
    exporter = host.check_output(f"curl -sS {PROMETHEUS}")
    for text in (downstream, exporter):
        assert "otelcol.client.authorization" not in text and "otelcol_client_authorization" not in text
        for secret in [*tokens, *(t["token"] for t in team_tokens)]:
            assert secret not in text
