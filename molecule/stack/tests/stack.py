"""What the stack scenario's verifiers share: the hosts, their addresses, and
how to reach them (docker exec from the controller, as root)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from functools import cache
from pathlib import Path

import testinfra
import yaml


@cache
def node(name):
    """A testinfra host for a container of the scenario."""
    return testinfra.get_host(f"docker://{name}")


def copy_to(name, src, dest):
    """Copy a controller file into a container (root-owned, as docker cp leaves it)."""
    subprocess.run(["docker", "cp", str(src), f"{name}:{dest}"], check=True, capture_output=True)


ROOT = Path(__file__).resolve().parents[3]
SCENARIO = Path(__file__).resolve().parents[1]

COLLECTORS = {"stack-otelcol-1": "172.30.40.11", "stack-otelcol-2": "172.30.40.12"}
HTTP = [f"http://{ip}:4318" for ip in COLLECTORS.values()]
STORAGE, GRAFANA, CLIENT = "stack-storage", "stack-grafana", "stack-client"
SCRAPE_WAIT = 12  # over two scrape intervals (5 s)
LOKI = "http://127.0.0.1:3100"


def inventory():
    """The scenario's group_vars for all hosts (the test-only vault stand-ins among them)."""
    return yaml.safe_load((SCENARIO / "molecule.yml").read_text())["provisioner"]["inventory"]["group_vars"]["all"]


def token_file(token):
    """A controller file holding a token, for the emulator's --token-file (never on a command line)."""
    fd, path = tempfile.mkstemp(prefix="stack-token-")
    os.write(fd, token.encode())
    os.close(fd)
    return path


def emulator(*args, truth=None, background=False):
    """Run tools/emulator against the collectors with the site's shared token and the payments team token."""
    inv = inventory()
    shared = token_file(inv["claude_monitoring_ingest_tokens"][0])
    team = token_file(next(t["token"] for t in inv["otel_collector_team_tokens"] if t["team"] == "payments"))
    truth = truth or tempfile.mktemp(prefix="stack-truth-", suffix=".json")
    cmd = [sys.executable, "-m", "tools.emulator", "--token-file", shared, "--truth", truth, *args]
    if "--team-names" in args and "payments" in args[args.index("--team-names") + 1]:
        cmd += ["--team-token", f"payments={team}"]
    if not any(a == "--endpoint" for a in args):
        for url in HTTP:
            cmd += ["--endpoint", url]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if background:
        return proc, truth
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, f"emulator failed ({' '.join(cmd)}):\n{out}"
    return json.loads(Path(truth).read_text()), out


def finish(proc, truth):
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, f"emulator failed:\n{out}"
    return json.loads(Path(truth).read_text()), out


def wait_for(what, check, timeout=120, every=3):
    deadline = time.time() + timeout
    while True:
        got = check()
        if got or time.time() > deadline:
            assert got, f"timed out waiting for {what}"
            return got
        time.sleep(every)


def loki_records():
    """Every record the event store (the Loki stand-in on stack-storage) holds, as it lists them."""
    return json.loads(node(STORAGE).check_output(f"curl -sf {LOKI}/standin/records"))


def new_run():
    return uuid.uuid4().hex[:6]


_PROM_BATCH = """
import base64, json, sys, urllib.error, urllib.parse, urllib.request
req = json.load(sys.stdin)
auth = base64.b64encode(req["auth"].encode()).decode()
out = []
for path, params in req["calls"]:
    url = "http://127.0.0.1:9090%s?%s" % (path, urllib.parse.urlencode(params))
    request = urllib.request.Request(url, headers={"Authorization": "Basic " + auth})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            out.append(json.load(r))
    except urllib.error.HTTPError as e:
        out.append(json.load(e))
print(json.dumps(out))
"""


def prom_batch(calls):
    """Many Prometheus API calls on stack-storage in one round trip: [(path, params)] -> replies.
    The credentials travel on stdin, never on a command line."""
    user, password = next(iter(inventory()["prometheus_web_basic_auth_users"].items()))
    out = subprocess.run(
        ["docker", "exec", "-i", STORAGE, "python3", "-c", _PROM_BATCH],
        input=json.dumps({"auth": f"{user}:{password}", "calls": calls}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def api(path, **params):
    """One Prometheus API call on stack-storage; its data."""
    reply = prom_batch([[path, params]])[0]
    assert reply["status"] == "success", f"{path} {params}: {reply}"
    return reply["data"]


def event_key(record):
    """An event's identity in the store: (session id, sequence, name), as the emulator's truth lists them."""
    a = record["attributes"]
    return (str(a.get("session.id")), str(a.get("event.sequence")), str(a.get("event.name")))


def assert_events_stored(truth, records):
    """Every event of an emulator run is in `records` once, by name as sent, and the
    api_request events carry each user's spend to the micro-dollar."""
    keys = {tuple(map(str, k)) for k in truth["event_keys"]}
    mine = [r for r in records if event_key(r) in keys]
    missing = keys - {event_key(r) for r in mine}
    assert not missing, f"run {truth['run']}: {len(missing)} of {len(keys)} missing: {sorted(missing)[:3]}"
    assert len(mine) == len(keys) == truth["events"]["total"], f"run {truth['run']}: {len(mine)} records"
    names = {}
    for r in mine:
        names[r["attributes"]["event.name"]] = names.get(r["attributes"]["event.name"], 0) + 1
    assert names == truth["events"]["by_type"]
    spent = {}
    for r in mine:
        if r["attributes"]["event.name"] == "api_request":
            user = r["attributes"]["user.id"]
            spent[user] = spent.get(user, 0) + round(float(r["attributes"]["cost_usd"]) * 1e6)
    assert spent == truth["cost_usd_micros"]["by_user"]
