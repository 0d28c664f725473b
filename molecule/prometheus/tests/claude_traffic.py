"""Claude Code's real payloads sent as the real client sends them, and
Prometheus' API on a host: helpers of the prometheus and stack scenarios'
verifiers (the stack imports this module; the emulator's unit tests read
`extra_activity`'s shapes).

The real client's payloads (tests/fixtures/claude-code-2.1.330) are rewritten
for a user, team and session with fresh timestamps and POSTed with the ingest
token. Metrics (metrics.json, delta; metrics-cumulative.json) carry the
clients' own counters; events (logs.json) carry one api_request per API call,
from which the collector derives its histogram, cost and token metrics.
The fixture has no lines of code, commits, pull requests, edit decisions or
API errors: `extra_activity` adds them in the fixture's own shape (names,
units and attributes as the client documents them) so that every dashboard
panel has data.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "claude-code-2.1.330"
PROM_USER = "molecule"  # the scenario's prometheus_web_basic_auth_users
PROM_CURLRC = "/root/.prometheus-test-auth"
RULES = "/etc/prometheus/rules/claude_code.rules.yml"
HERE_COLLECTOR = "http://127.0.0.1:4318"
OTHER_COLLECTOR = "http://prometheus-debian12:4318"
SCRAPE_WAIT = 12  # over two scrape intervals (5 s)


def post(host, collector, token, path, payload):
    """Copy a payload to the host and POST it to a collector's OTLP/HTTP receiver there."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(payload, f)
    dest = f"/tmp/otlp-{uuid.uuid4().hex}.json"
    try:
        host.ansible("copy", f"src={f.name} dest={dest} mode=0644", check=False, become=True)
    finally:
        os.unlink(f.name)
    out = host.run(
        f"curl -s -o /dev/null -w '%{{http_code}}' -H 'Content-Type: application/json' "
        f"-H 'Authorization: Bearer {token}' --data-binary @{dest} {collector}{path}"
    )
    host.run(f"rm -f {dest}")
    assert out.stdout.strip() == "200", f"{collector}{path} answered {out.stdout}: {out.stderr}"


def fixture_truth():
    """Cost and tokens of one export: the sums over the fixture's api_request events."""
    cost, tokens = 0.0, 0
    logs = json.loads((FIXTURES / "logs.json").read_text())
    for rl in logs["resourceLogs"]:
        for sl in rl["scopeLogs"]:
            for r in sl["logRecords"]:
                a = {x["key"]: next(iter(x["value"].values())) for x in r["attributes"]}
                if a.get("event.name") == "api_request":
                    cost += float(a["cost_usd"])
                    tokens += sum(
                        int(a[k])
                        for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")
                    )
    return cost, tokens


COST, TOKENS = fixture_truth()
EVENTS = json.loads((FIXTURES / "logs.json").read_text())
# Events per copy of logs.json.
API_REQUESTS = sum(
    1
    for rl in EVENTS["resourceLogs"]
    for sl in rl["scopeLogs"]
    for r in sl["logRecords"]
    if any(a["key"] == "event.name" and a["value"].get("stringValue") == "api_request" for a in r["attributes"])
)


def prom_url(host):
    """Where the host's Prometheus answers: https where the scenario gives it a certificate."""
    tls = host.ansible.get_variables().get("prometheus_web_tls_cert_file")
    return ("https" if tls else "http") + "://127.0.0.1:9090"


_AUTH: dict = {}


def prom_auth(host):
    """curl options that authenticate: the password in a root-only file on the host (-K), never on a command line."""
    name = host.backend.get_hostname()
    if name in _AUTH:
        return _AUTH[name]
    password = host.ansible.get_variables()["prometheus_web_basic_auth_users"][PROM_USER]
    b64 = base64.b64encode(f'user = "{PROM_USER}:{password}"\n'.encode()).decode()
    host.check_output(f"umask 077 && echo {b64} | base64 -d > {PROM_CURLRC}")
    tls = host.ansible.get_variables().get("prometheus_web_tls_cert_file")
    _AUTH[name] = f"-K {PROM_CURLRC}" + (f" --cacert {tls}" if tls else "")
    return _AUTH[name]


def api(host, path, **params):
    out = host.run(
        f"curl -sf {prom_auth(host)} -G '{prom_url(host)}{path}' "
        + " ".join(f"--data-urlencode {json.dumps(k + '=' + v)}" for k, v in params.items())
    )
    assert out.rc == 0, f"{path} {params}: {out.stdout}{out.stderr}"
    data = json.loads(out.stdout)
    assert data["status"] == "success", data
    return data["data"]


_BATCH = """
import base64, json, ssl, sys, urllib.error, urllib.parse, urllib.request
out = []
auth = base64.b64encode(open(sys.argv[3]).read().strip().encode()).decode()
ctx = ssl.create_default_context(cafile=sys.argv[4]) if len(sys.argv) > 4 else None
for path, params in json.load(open(sys.argv[1])):
    url = "%s%s?%s" % (sys.argv[2], path, urllib.parse.urlencode(params))
    req = urllib.request.Request(url, headers={"Authorization": "Basic " + auth})
    try:
        with urllib.request.urlopen(req, timeout=60, context=ctx) as r:
            out.append(json.load(r))
    except urllib.error.HTTPError as e:
        out.append(json.load(e))
print(json.dumps(out))
"""


def api_batch(host, calls):
    """Many API calls in one round trip to the host: [(path, params)] -> their replies (status and data or error)."""
    dest = f"/tmp/api-batch-{uuid.uuid4().hex}"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "calls.json").write_text(json.dumps(calls))
        (Path(tmp) / "batch.py").write_text(_BATCH)
        host.ansible("copy", f"src={tmp}/ dest={dest}/ mode=0644 directory_mode=0755", check=False, become=True)
    # user:password for the Authorization header, root-only like the curl file.
    password = host.ansible.get_variables()["prometheus_web_basic_auth_users"][PROM_USER]
    b64 = base64.b64encode(f"{PROM_USER}:{password}".encode()).decode()
    host.check_output(f"umask 077 && echo {b64} | base64 -d > {dest}.auth")
    tls = host.ansible.get_variables().get("prometheus_web_tls_cert_file") or ""
    out = host.run(
        f"python3 {dest}/batch.py {dest}/calls.json {prom_url(host)} {dest}.auth {tls}; rm -rf {dest} {dest}.auth"
    )
    assert out.rc == 0, out.stderr
    return json.loads(out.stdout)


class Client:
    """One Claude Code session exporting through a collector, as the real client does."""

    def __init__(self, host, token, run, user, session=None, fixture="metrics.json"):
        self.host, self.token = host, token
        self.user, self.team = f"{user}-{run}", f"spend-{run}"
        self.session = session or str(uuid.uuid4())
        self.template = json.loads((FIXTURES / fixture).read_text())
        self.start = self.last = time.time_ns() - 30 * 10**9  # the session started half a minute ago

    def export(self, collector, scale=1, start=None, payload=None):
        """One export: every point of the fixture times `scale`; delta points cover [start, now]."""
        payload = copy.deepcopy(payload or self.template)
        now = time.time_ns()
        for rm in payload["resourceMetrics"]:
            for attr in rm["resource"]["attributes"]:
                if attr["key"] == "team":
                    attr["value"] = {"stringValue": self.team}
            for sm in rm["scopeMetrics"]:
                for metric in sm["metrics"]:
                    for point in metric["sum"]["dataPoints"]:
                        for attr in point["attributes"]:
                            if attr["key"] == "session.id":
                                attr["value"] = {"stringValue": self.session}
                            elif attr["key"] == "user.id":
                                attr["value"] = {"stringValue": self.user}
                            elif attr["key"] == "team":
                                attr["value"] = {"stringValue": self.team}
                        if "asDouble" in point:
                            point["asDouble"] = point["asDouble"] * scale
                        else:
                            point["asInt"] = str(int(point["asInt"]) * scale)
                        delta = metric["sum"]["aggregationTemporality"] == 1
                        # Delta points cover the time since the previous export; cumulative ones the session.
                        point["startTimeUnixNano"] = str(start or (self.last if delta else self.start))
                        point["timeUnixNano"] = str(now)
        self.last = now
        post(self.host, collector, self.token, "/v1/metrics", payload)

    def events(self, collector, times=1, payload=None):
        """The fixture's events (two api_request, one tool_result, ...) `times` over, as new prompts."""
        for _ in range(times):
            body = copy.deepcopy(payload or EVENTS)
            now = time.time_ns()
            prompt = str(uuid.uuid4())
            for rl in body["resourceLogs"]:
                for attr in rl["resource"]["attributes"]:
                    if attr["key"] == "team":
                        attr["value"] = {"stringValue": self.team}
                for sl in rl["scopeLogs"]:
                    for i, record in enumerate(sl["logRecords"]):
                        record["timeUnixNano"] = record["observedTimeUnixNano"] = str(now + i)
                        for attr in record["attributes"]:
                            key = attr["key"]
                            if key in ("session.id", "user.id", "team", "prompt.id"):
                                value = {"session.id": self.session, "user.id": self.user, "team": self.team}
                                attr["value"] = {"stringValue": value.get(key, prompt)}
            post(self.host, collector, self.token, "/v1/logs", body)


def wait_up(host, instance, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        result = api(host, "/api/v1/query", query=f'up{{job="otel_collector", instance="{instance}"}}')["result"]
        if result and result[0]["value"][1] == "1":
            return
        time.sleep(2)
    pytest.fail(f"{instance} not up again after {timeout}s")


def _with(point, **attrs):
    p = copy.deepcopy(point)
    keep = [a for a in p["attributes"] if a["key"] not in attrs and a["key"] not in ("model", "effort", "query_source")]
    p["attributes"] = keep + [{"key": k, "value": {"stringValue": str(v)}} for k, v in attrs.items()]
    p.pop("asDouble", None)
    return p


def extra_activity(client, collector):
    """Lines of code, a commit, a pull request, edit decisions, user active time, an
    API error and a failed tool run, in the shape of the fixture's points and
    events (the captured session had none of them)."""
    payload = copy.deepcopy(client.template)
    sm = payload["resourceMetrics"][0]["scopeMetrics"][0]
    cost = next(m for m in sm["metrics"] if m["name"] == "claude_code.cost.usage")
    base = cost["sum"]["dataPoints"][0]

    def metric(name, unit, points):
        m = copy.deepcopy(cost)
        m.update(name=name, unit=unit)
        m["sum"]["dataPoints"] = points
        return m

    def count(point, value):
        point["asInt"] = str(value)
        return point

    sm["metrics"] = [
        metric(
            "claude_code.lines_of_code.count",
            "",
            [count(_with(base, type="added"), 40), count(_with(base, type="removed"), 7)],
        ),
        metric("claude_code.commit.count", "", [count(_with(base), 1)]),
        metric("claude_code.pull_request.count", "", [count(_with(base), 1)]),
        metric(
            "claude_code.code_edit_tool.decision",
            "",
            [
                count(_with(base, tool_name="Edit", decision="accept", language="Python"), 3),
                count(_with(base, tool_name="Write", decision="reject", language="Markdown"), 1),
            ],
        ),
        metric("claude_code.active_time.total", "s", [dict(_with(base, type="user"), asDouble=12.5)]),
    ]
    client.export(collector, payload=payload)
    # One api_error event, made from an api_request record of the fixture.
    logs = copy.deepcopy(EVENTS)
    records = logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    error = copy.deepcopy(next(r for r in records if _attr(r, "event.name") == "api_request"))
    error["body"] = {"stringValue": "claude_code.api_error"}
    error["attributes"] = [
        a
        for a in error["attributes"]
        if a["key"] in ("session.id", "user.id", "team", "terminal.type", "machine.name", "model")
    ] + [
        {"key": "event.name", "value": {"stringValue": "api_error"}},
        {"key": "error", "value": {"stringValue": "Overloaded"}},
        {"key": "status_code", "value": {"stringValue": "529"}},
        {"key": "attempt", "value": {"intValue": "1"}},
        {"key": "duration_ms", "value": {"intValue": "812"}},
    ]
    # And a tool run that failed (the fixture's only one succeeded).
    failed = copy.deepcopy(next(r for r in records if _attr(r, "event.name") == "tool_result"))
    for a in failed["attributes"]:
        if a["key"] == "success":
            a["value"] = {"stringValue": "false"}
    logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"] = [error, failed]
    client.events(collector, payload=logs)


def _attr(record, key):
    return next((next(iter(a["value"].values())) for a in record["attributes"] if a["key"] == key), None)
