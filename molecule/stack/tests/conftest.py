"""The traffic every verifier of the stack scenario reads, sent once: the
emulator's teams (tools/emulator: delta clients over both collectors, a
cumulative client on one), and the real client's payloads sent from the
developer machine with the token its installed headers helper hands Claude
Code, all added up in one ledger of what the clients spent."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter

import claude_traffic
import pytest
from stack import CLIENT, HTTP, SCRAPE_WAIT, emulator, new_run, node

HELPER = "/etc/claude-code/otel-headers-helper.sh"
SENSITIVE = "logs-with-prompts-and-tool-details.json"
# What the sensitive payload holds that must never be stored: the prompt's
# secret, the tool's command line, the developer's e-mail address.
SECRETS = ("hunter2", "hello-from-tool", "dev@example.com")


def docker_post(host, collector, token, path, payload):
    """POST a payload from a container (host: its name) to a collector, as claude_traffic.post does over ansible."""
    out = subprocess.run(
        ["docker", "exec", "-i", host, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
         "-H", "Content-Type: application/json", "-H", f"Authorization: Bearer {token}",
         "--data-binary", "@-", f"{collector}{path}"],
        input=json.dumps(payload), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.stdout.strip() == "200", f"{collector}{path} answered {out.stdout}: {out.stderr}"


claude_traffic.post = docker_post


def client_token():
    """The token Claude Code on the developer machine sends: what its headers helper prints."""
    headers = json.loads(node(CLIENT).check_output(HELPER))
    return headers["Authorization"].removeprefix("Bearer ")


class Ledger:
    """What the clients spent and sent, added up over every run: cost in micro-dollars, tokens, events."""

    def __init__(self):
        self.cost = {"total": Counter(), "user": Counter(), "team": Counter(), "model": Counter()}
        self.tokens = {"total": Counter(), "user": Counter(), "team": Counter(), "model": Counter(), "type": Counter()}
        self.events = Counter()
        self.activity = Counter()
        self.truths = []

    def add_truth(self, truth):
        self.truths.append(truth)
        micros, tokens = truth["cost_usd_micros"], truth["tokens"]
        self.cost["total"][""] += micros["total"]
        self.tokens["total"][""] += tokens["total"]
        for key in ("user", "team", "model"):
            self.cost[key].update(micros[f"by_{key}"])
            self.tokens[key].update(tokens[f"by_{key}"])
        self.tokens["type"].update(tokens["by_type"])
        self.events.update(truth["events"]["by_type"])
        self.activity.update(truth["activity"])

    def add_fixture(self, user, team, exports):
        """`exports` copies of the real client's session (metrics.json and its api_request events)."""
        cost = round(claude_traffic.COST * 1e6) * exports
        tokens = claude_traffic.TOKENS * exports
        for key, k in (("total", ""), ("user", user), ("team", team), ("model", FIXTURE_MODEL)):
            self.cost[key][k] += cost
            self.tokens[key][k] += tokens
        for t, n in FIXTURE_TOKENS_BY_TYPE.items():
            self.tokens["type"][t] += n * exports
        for name, n in FIXTURE_EVENTS.items():
            self.events[name] += n * exports

    def usd(self, by, key=""):
        return self.cost[by][key] / 1e6


def _fixture_events():
    body = json.loads((claude_traffic.FIXTURES / "logs.json").read_text())
    return Counter(
        next(a["value"]["stringValue"] for a in r["attributes"] if a["key"] == "event.name")
        for rl in body["resourceLogs"]
        for sl in rl["scopeLogs"]
        for r in sl["logRecords"]
    )


# One copy of the real client's session: its events by name (logs.json and the
# sensitive payload hold the same events), model and tokens by type.
FIXTURE_EVENTS = _fixture_events()
FIXTURE_MODEL = "claude-opus-5-5"
FIXTURE_TOKENS_BY_TYPE = {"input": 3000, "output": 42, "cacheRead": 16000, "cacheCreation": 1200}


@pytest.fixture(scope="session")
def traffic():
    """Phase one: steady traffic, nothing restarted. Returns the ledger, the runs and the time it started."""
    start = time.time()
    ledger = Ledger()
    runs = {"delta": "d" + new_run(), "cumulative": "c" + new_run(), "fixture": "f" + new_run()}
    # Two teams over both collectors: payments with its team token, search with the shared one.
    delta = emulator(
        "--seed", "19", "--run", runs["delta"], "--users", "6", "--teams", "2", "--team-names", "payments,search",
        "--machines", "4", "--sessions", "2", "--requests", "3", "--duration", "20",
    )  # fmt: skip
    # A client left on cumulative temporality, sticky to one collector as it must
    # be. Ten users in all: the "top 10" panels show every one.
    cumulative = emulator(
        "--seed", "19", "--run", runs["cumulative"], "--users", "1", "--teams", "1", "--team-names", "search",
        "--machines", "1", "--sessions", "2", "--requests", "2", "--duration", "10",
        "--temporality", "cumulative", "--endpoint", HTTP[1],
    )  # fmt: skip
    for truth, _ in (delta, cumulative):
        ledger.add_truth(truth)
    # The real client's payloads from the developer machine, with its helper's
    # token (payments' team token): a one-shot session and one split over both
    # collectors; they claim the fixture's team, the token binds them to payments.
    token = client_token()
    run = runs["fixture"]
    oneshot = claude_traffic.Client(CLIENT, token, run, "oneshot")
    oneshot.export(HTTP[0])
    oneshot.events(HTTP[0])
    split = claude_traffic.Client(CLIENT, token, run, "split")
    for url in (HTTP[0], HTTP[1], HTTP[0]):
        split.export(url)
    split.events(HTTP[1], times=3)
    ledger.add_fixture(oneshot.user, "payments", 1)
    ledger.add_fixture(split.user, "payments", 3)
    # And the payload with prompt text, tool parameters and an e-mail address.
    sensitive = claude_traffic.Client(CLIENT, token, run, "sensitive")
    payload = json.loads((claude_traffic.FIXTURES / SENSITIVE).read_text())
    sensitive.export(HTTP[1])
    sensitive.events(HTTP[1], payload=payload)
    ledger.add_fixture(sensitive.user, "payments", 1)
    time.sleep(SCRAPE_WAIT)
    return {"ledger": ledger, "runs": runs, "start": start, "sensitive_user": sensitive.user,
            "emulator_output": delta[1]}  # fmt: skip
