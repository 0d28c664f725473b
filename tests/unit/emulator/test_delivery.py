"""The emulator against the real collector: what arrives has the shape of the
real client's payloads (tests/fixtures/claude-code-2.1.330), and its sums are
the ground truth the emulator wrote.

Five small runs go out at once (each --duration 3): HTTP protobuf to two
endpoints of the collector (as two collectors behind a load balancer), HTTP
JSON, gRPC, cumulative temporality, and events only (--no-metrics).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from emulator_collector import ROOT, TOKEN, Collector, free_port, self_signed

from tools.emulator import Connection, client, plan, run

pytestmark = pytest.mark.binary

FIXTURES = ROOT / "tests" / "fixtures" / "claude-code-2.1.330"
DETECTED = {"host.arch", "os.type", "os.version", "service.name", "service.version"}
MIX = {"users": 3, "teams": 2, "machines": 2, "sessions": 2, "requests": 3, "parallel": 3, "duration": 3.0}
CASES = {
    # run id: (seed, protocol, temporality, metrics)
    "proto": (32, "http/protobuf", "delta", True),  # a seed with commits, a pull request, a rejected edit
    "json": (12, "http/json", "delta", True),
    "grpc": (13, "grpc", "delta", True),
    "cumul": (14, "http/protobuf", "cumulative", True),
    "quiet": (15, "http/protobuf", "delta", False),
}
NO_EMAIL = {"json"}  # --no-email: exactly the key sets of metrics.json and logs.json
EMULATOR = [sys.executable, "-m", "tools.emulator"]
SMALL = ["--users", "2", "--sessions", "1", "--requests", "2", "--duration", "1.5", "--export-interval", "0.5"]
WITH_METRICS = [c for c, (_, _, _, m) in CASES.items() if m]


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def kind(value: dict) -> str:
    return next(iter(value))


def plain(value: dict):
    k = kind(value)
    return value[k] if k != "arrayValue" else value[k].get("values", [])


def attrs(items) -> dict:
    return {a["key"]: a["value"] for a in items}


def points(requests):
    """(resource attributes, scope, metric, data point) of every point."""
    for req in requests:
        for rm in req.get("resourceMetrics", []):
            res = attrs(rm["resource"]["attributes"])
            for sm in rm.get("scopeMetrics", []):
                for m in sm.get("metrics", []):
                    for p in m["sum"]["dataPoints"]:
                        yield res, sm["scope"], m, p


def records(requests):
    for req in requests:
        for rl in req.get("resourceLogs", []):
            res = attrs(rl["resource"]["attributes"])
            for sl in rl.get("scopeLogs", []):
                for r in sl.get("logRecords", []):
                    yield res, sl["scope"], r


def _traffic_extras() -> tuple[dict, dict]:
    """What molecule/prometheus/tests/claude_traffic.py's extra_activity sends: its metrics and its events."""
    spec = importlib.util.spec_from_file_location(
        "claude_traffic", ROOT / "molecule/prometheus/tests/claude_traffic.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sent = {}

    class Capture:
        template = load("metrics.json")

        def export(self, collector, payload=None, **kwargs):
            sent["metrics"] = payload

        def events(self, collector, payload=None, **kwargs):
            sent["logs"] = payload

    module.extra_activity(Capture(), None)
    return sent["metrics"], sent["logs"]


def expected_shapes():
    """The real client's shapes: per metric (unit, temporality, monotonic, point keys, value types),
    per event (attribute -> value type), resource keys, scopes."""
    extra_metrics, extra_logs = _traffic_extras()
    prompts = load("logs-with-prompts-and-tool-details.json")
    resource_keys = set(attrs(prompts["resourceLogs"][0]["resource"]["attributes"]))
    copied = resource_keys - DETECTED  # OTEL_RESOURCE_ATTRIBUTES: machine.name, team, user.email
    # The fixture shows the copy: every event of the prompts capture carries them.
    for _, _, r in records([prompts]):
        assert copied <= set(attrs(r["attributes"]))
    metrics = {}
    for source in (extra_metrics, load("metrics.json")):  # the captured shapes win
        for _, _, m, p in points([source]):
            keys = frozenset(attrs(p["attributes"])) | copied
            metrics[m["name"]] = {"unit": m.get("unit", ""), "monotonic": m["sum"]["isMonotonic"], "keys": keys}
    # Every point the real client sends is a double (metrics.json), whatever claude_traffic wrote.
    metric_scope = next(s for _, s, _, _ in points([load("metrics.json")]))
    events = {}
    for _, _, r in records([load("logs.json")]):
        a = attrs(r["attributes"])
        events[plain(a["event.name"])] = {**{k: kind(v) for k, v in a.items()}, **{k: "stringValue" for k in copied}}
    event_scope = next(s for _, s, _ in records([load("logs.json")]))
    # api_error is not in the capture: claude_traffic's shape, plus what every event carries.
    error = next(attrs(r["attributes"]) for _, _, r in records([extra_logs]) if "error" in attrs(r["attributes"]))
    common = {k: v for k, v in events["api_request"].items() if k not in ("model",) and k in events["user_prompt"]}
    events["api_error"] = {**common, **{k: kind(v) for k, v in error.items()}}
    return {
        "metrics": metrics,
        "events": events,
        "resource": resource_keys,
        "metric_scope": metric_scope,
        "event_scope": event_scope,
        "cumulative": {
            m["name"]: m["sum"]["aggregationTemporality"] for _, _, m, _ in points([load("metrics-cumulative.json")])
        },
    }


@pytest.fixture(scope="module")
def shapes():
    return expected_shapes()


@pytest.fixture(scope="module")
def delivered(otelcol_bin, tmp_path_factory):
    """Every case sent at once to one collector; per case its result and what the collector wrote for it."""
    collector = Collector(otelcol_bin, tmp_path_factory.mktemp("otelcol-delivery"))
    results = {}
    try:

        def send(case):
            seed, protocol, temporality, metrics = CASES[case]
            if protocol == "grpc":
                endpoints = [collector.grpc]
            elif case == "proto":  # two names of one collector: the load-balanced pair
                endpoints = [collector.http, collector.http.replace("127.0.0.1", "localhost")]
            else:
                endpoints = [collector.http]
            p = plan(seed=seed, run=case, endpoints=endpoints, emails=case not in NO_EMAIL, **MIX)
            conn = Connection(endpoints=endpoints, protocol=protocol, token=TOKEN, timeout=5)
            results[case] = run(p, conn, temporality, export_interval=0.5, metrics=metrics)

        threads = [threading.Thread(target=send, args=(c,)) for c in CASES]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        collector.stop()
    metric_requests, log_requests = collector.received("metrics"), collector.received("logs")
    out = {}
    for case in CASES:
        assert case in results, f"run {case} raised (see the output above)"
        mine = f"{case}-"
        out[case] = {
            "result": results[case],
            "points": [x for x in points(metric_requests) if plain(x[0]["machine.name"]).startswith(mine)],
            "records": [x for x in records(log_requests) if plain(x[0]["machine.name"]).startswith(mine)],
        }
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_every_export_was_acknowledged(delivered, case):
    result = delivered[case]["result"]
    assert result.ok, result.errors
    assert result.errors == []
    signals = {e["signal"] for e in result.truth["exports"]}
    assert signals == ({"metrics", "logs"} if CASES[case][3] else {"logs"})
    assert result.elapsed < MIX["duration"] + 4


@pytest.mark.parametrize("case", WITH_METRICS)
def test_metrics_have_the_real_clients_shape(delivered, shapes, case):
    temporality = CASES[case][2]
    seen = delivered[case]["points"]
    assert seen, "no metrics arrived"
    drop = {"user.email"} if case in NO_EMAIL else set()
    names = set()
    for res, scope, m, p in seen:
        name = m["name"]
        names.add(name)
        want = shapes["metrics"].get(name)
        assert want is not None, f"{name}: not a metric the client sends"
        assert m.get("unit", "") == want["unit"], name
        assert m["sum"]["isMonotonic"] is True and want["monotonic"] is True, name
        assert m["sum"]["aggregationTemporality"] == (1 if temporality == "delta" else 2), name
        assert frozenset(attrs(p["attributes"])) == want["keys"] - drop, name
        assert set(p) - {"attributes", "startTimeUnixNano", "timeUnixNano"} == {"asDouble"}, name
        a = attrs(p["attributes"])
        assert kind(a["anthropic.custom_base_url"]) == "boolValue"
        assert all(kind(v) == "stringValue" for k, v in a.items() if k != "anthropic.custom_base_url")
        assert set(res) == shapes["resource"] - drop
        assert plain(res["service.name"]) == "claude-code" and plain(res["service.version"]) == "2.1.330"
        assert scope == shapes["metric_scope"]
        # The copies of OTEL_RESOURCE_ATTRIBUTES equal the resource's.
        for key in {"machine.name", "team", "user.email"} - drop:
            assert a[key] == res[key]
    assert set(shapes["cumulative"]) <= names  # the four metrics of every session
    if temporality == "cumulative":
        assert set(shapes["cumulative"].values()) == {2}


@pytest.mark.parametrize("case", list(CASES))
def test_events_have_the_real_clients_shape(delivered, shapes, case):
    seen = delivered[case]["records"]
    assert seen
    fixture_record = next(r for _, _, r in records([load("logs.json")]))
    drop = {"user.email"} if case in NO_EMAIL else set()
    names = Counter()
    for res, scope, r in seen:
        a = attrs(r["attributes"])
        name = plain(a["event.name"])
        names[name] += 1
        want = shapes["events"].get(name)
        assert want is not None, f"{name}: not an event the client sends"
        assert {k: kind(v) for k, v in a.items()} == {k: v for k, v in want.items() if k not in drop}, name
        assert r["body"] == {"stringValue": f"claude_code.{name}"}
        assert set(r) - {"droppedAttributesCount"} == set(fixture_record) - {"droppedAttributesCount"}
        assert r["timeUnixNano"] == r["observedTimeUnixNano"]
        assert plain(a["event.timestamp"]).endswith("Z") and len(plain(a["event.timestamp"])) == 24
        assert set(res) == shapes["resource"] - drop and scope == shapes["event_scope"]
    for must in ("user_prompt", "api_request", "api_error", "tool_decision", "tool_result", "assistant_response"):
        assert names[must], must


@pytest.mark.parametrize("case", WITH_METRICS)
def test_metric_sums_are_the_truth(delivered, case):
    truth = delivered[case]["result"].truth
    temporality = CASES[case][2]
    cost, tokens, sessions = defaultdict(Counter), defaultdict(Counter), Counter()
    latest = {}
    for _, _, m, p in delivered[case]["points"]:
        a = {k: plain(v) for k, v in attrs(p["attributes"]).items()}
        value = p["asDouble"]
        if temporality == "cumulative":
            # One series per process: its last point is its total.
            series = (m["name"], tuple(sorted(a.items())), p["startTimeUnixNano"])
            if series in latest and int(latest[series][0]["timeUnixNano"]) >= int(p["timeUnixNano"]):
                continue
            latest[series] = (p, m["name"], a)
            continue
        _add(m["name"], a, value, cost, tokens, sessions)
    for p, name, a in latest.values():
        _add(name, a, p["asDouble"], cost, tokens, sessions)
    micros = truth["cost_usd_micros"]
    assert dict(cost["user"]) == micros["by_user"]
    assert dict(cost["team"]) == micros["by_team"]
    assert dict(cost["model"]) == micros["by_model"]
    assert sum(cost["model"].values()) == micros["total"]
    for table in ("by_user", "by_team", "by_model", "by_type"):
        assert dict(tokens[table[3:]]) == truth["tokens"][table], table
    assert sum(sessions.values()) == truth["sessions"]["processes"]
    assert dict(sessions) == truth["sessions"]["by_start_type"]
    # What each export carried adds up to the total, too.
    exported = sum(e["cost_usd_micros"] for e in truth["exports"] if e["signal"] == "metrics")
    assert exported == micros["total"]


def _add(name, a, value, cost, tokens, sessions):
    if name == "claude_code.cost.usage":
        micros = round(value * 1_000_000)
        assert micros / 1_000_000 == value  # every delta is a whole number of micro-dollars
        for key in ("user", "team", "model"):
            cost[key][a[{"user": "user.id"}.get(key, key)]] += micros
    elif name == "claude_code.token.usage":
        assert value == int(value)
        for key in ("user", "team", "model", "type"):
            tokens[key][a[{"user": "user.id"}.get(key, key)]] += int(value)
    elif name == "claude_code.session.count":
        sessions[a["start_type"]] += int(value)


@pytest.mark.parametrize("case", list(CASES))
def test_events_are_the_truth(delivered, case):
    truth = delivered[case]["result"].truth
    seen = [{k: plain(v) for k, v in attrs(r["attributes"]).items()} for _, _, r in delivered[case]["records"]]
    keys = [[a["session.id"], int(a["event.sequence"]), a["event.name"]] for a in seen]
    assert sorted(keys) == sorted(truth["event_keys"])
    assert dict(Counter(a["event.name"] for a in seen)) == truth["events"]["by_type"]
    cost = defaultdict(Counter)
    for a in seen:
        if a["event.name"] != "api_request":
            continue
        assert int(a["cost_usd_micros"]) / 1_000_000 == a["cost_usd"]
        for key, attr in (("by_user", "user.id"), ("by_team", "team"), ("by_model", "model")):
            cost[key][a[attr]] += int(a["cost_usd_micros"])
    for key in ("by_user", "by_team", "by_model"):
        assert dict(cost[key]) == truth["cost_usd_micros"][key]
    exported = sum(e["cost_usd_micros"] for e in truth["exports"] if e["signal"] == "logs")
    assert exported == truth["cost_usd_micros"]["total"]
    # A user's sessions, whichever process or collector sent them.
    by_user = defaultdict(set)
    for a in seen:
        by_user[a["user.id"]].add(a["session.id"])
    assert {u: len(s) for u, s in by_user.items()} == truth["sessions"]["by_user"]


def test_a_resumed_session_reached_both_collectors(delivered):
    truth = delivered["proto"]["result"].truth
    endpoints = defaultdict(set)
    for e in truth["exports"]:
        endpoints[e["session_id"]].add(e["endpoint"])
    resumed = {p["session_id"] for p in truth["processes"] if p["start_type"] == "resume"}
    assert any(len(endpoints[s]) == 2 for s in resumed), endpoints
    assert len({e["endpoint"] for e in truth["exports"]}) == 2


def test_every_metric_and_event_of_the_client_arrived(delivered, shapes):
    metrics = {m["name"] for case in WITH_METRICS for _, _, m, _ in delivered[case]["points"]}
    assert metrics == set(client.METRICS) == set(shapes["metrics"])
    events = {plain(attrs(r["attributes"])["event.name"]) for d in delivered.values() for _, _, r in d["records"]}
    assert events == set(client.EVENT_TYPES) == set(shapes["events"])


def test_no_metrics_sends_no_metrics(delivered):
    quiet = delivered["quiet"]
    assert quiet["points"] == []
    assert quiet["records"]
    assert quiet["result"].truth["metrics"] is False


def test_a_wrong_token_fails_naming_the_endpoint(collector, tmp_path):
    truth = tmp_path / "truth.json"
    env = {**os.environ, "CM_EMULATOR_TOKEN": "not-the-token"}
    args = ["--users", "1", "--teams", "1", "--machines", "1", "--sessions", "1", "--requests", "1"]
    out = subprocess.run(
        [
            *EMULATOR,
            "--endpoint",
            collector.http,
            "--duration",
            "1",
            *args,
            "--export-interval",
            "0.5",
            "--truth",
            str(truth),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1, out
    assert f"{collector.http}/v1/logs failed: HTTP 401" in out.stderr
    assert f"{collector.http}/v1/metrics failed: HTTP 401" in out.stderr
    exports = json.loads(truth.read_text())["exports"]
    assert exports and not any(e["ok"] for e in exports)


def test_a_teams_token_goes_with_its_machines(collector, tmp_path):
    p = plan(seed=4, run="teamtok", endpoints=[collector.grpc], **MIX)
    wrong_team = p.teams[1]
    conn = Connection(
        endpoints=p.endpoints, protocol="grpc", token=TOKEN, team_tokens={wrong_team: "not-the-token"}, timeout=3
    )
    result = run(p, conn, export_interval=1.0)
    assert not result.ok
    assert result.errors and all(collector.grpc in e and "UNAUTHENTICATED" in e for e in result.errors)
    team_of = {s["session_id"]: p.users[s["user"]].team for s in result.truth["processes"]}
    for e in result.truth["exports"]:
        assert e["ok"] == (team_of[e["session_id"]] != wrong_team), e


def test_a_collector_that_is_down_fails_the_run(tmp_path):
    endpoint = f"http://127.0.0.1:{free_port()}"
    p = plan(seed=5, run="down", endpoints=[endpoint], users=1, teams=1, machines=1, sessions=1, requests=1, duration=1)
    result = run(p, Connection(endpoints=[endpoint], timeout=1), export_interval=5)
    assert not result.ok
    assert any(f"{endpoint}/v1/logs failed: ConnectionError" in e for e in result.errors), result.errors
    assert result.elapsed < 10


def test_cli_round_trip(collector, tmp_path):
    """The CLI's summary names the run and the endpoint; the truth file is the schema's."""
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    truth = tmp_path / "truth.json"
    out = subprocess.run(
        [
            *EMULATOR,
            "--endpoint",
            collector.http,
            "--token-file",
            str(token),
            *SMALL,
            "--run",
            "cli",
            "--truth",
            str(truth),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "run cli" in out.stdout and collector.http in out.stdout
    t = json.loads(Path(truth).read_text())
    for key in ("run", "seed", "endpoints", "protocol", "temporality", "cost_usd", "tokens", "sessions", "events"):
        assert key in t
    assert set(t["cost_usd"]) == {"total", "by_user", "by_team", "by_model"}
    assert set(t["tokens"]["by_type"]) == {"input", "output", "cacheRead", "cacheCreation"}
    assert {"t", "endpoint", "signal", "cost_usd", "ok"} <= set(t["exports"][0])
    assert all(set(u) == {"team", "email", "machines"} for u in t["users"].values())


def test_tls_with_a_ca_file(otelcol_bin, tmp_path, monkeypatch):
    """https and gRPC over TLS, the collector's certificate checked against --ca-file, even where
    REQUESTS_CA_BUNDLE names another bundle (requests would let it win over a session's own)."""
    cert, key = self_signed(tmp_path)
    other, _ = self_signed(tmp_path, "other")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    collector = Collector(otelcol_bin, tmp_path, tls=(cert, key))
    results = {}
    try:

        def send(protocol, endpoint, **tls):
            p = plan(seed=6, run=protocol.replace("/", ""), endpoints=[endpoint], users=1, sessions=1, duration=1)
            conn = Connection(endpoints=p.endpoints, protocol=protocol, token=TOKEN, timeout=2, **tls)
            results[protocol] = run(p, conn, export_interval=0.5)

        threads = [
            threading.Thread(target=send, args=("http/protobuf", collector.http), kwargs={"ca_file": str(cert)}),
            threading.Thread(target=send, args=("grpc", collector.grpc), kwargs={"ca_file": str(cert)}),
            threading.Thread(target=send, args=("http/json", collector.http), kwargs={"insecure_tls": True}),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        collector.stop()
    for protocol, result in results.items():
        assert result.ok, (protocol, result.errors)
    assert len(results) == 3
    sessions = {plain(r[0]["machine.name"]).split("-")[0] for r in records(collector.received("logs"))}
    assert sessions == {"httpprotobuf", "grpc", "httpjson"}
