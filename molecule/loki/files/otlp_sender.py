#!/usr/bin/env python3
"""Send Claude Code events to a collector over OTLP/HTTP JSON, and record what was sent.

Runs inside a test host with the standard library only. Each batch holds the
real client's fixture events plus generated api_request events; every record
gets `test.run` (this run) and `test.record` (unique id) attributes and current
timestamps. A batch counts as sent once the collector answered 200; other
answers are retried, so the ledger (--out, one JSON line per record: id, body,
attributes, resource) lists exactly what the collector accepted.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import time
import urllib.error
import urllib.request


def records(payload):
    for rl in payload["resourceLogs"]:
        for sl in rl["scopeLogs"]:
            for record in sl["logRecords"]:
                yield rl, record


def attr(key, value):
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": str(value)}}


def generated(template, rng, batch, count):
    """api_request events like the fixture's, with other sessions, models and costs, and a few api_error events."""
    out = copy.deepcopy(template)
    rl = out["resourceLogs"][0]
    sl = rl["scopeLogs"][0]
    base = next(
        r for r in sl["logRecords"] if any(a["value"].get("stringValue") == "api_request" for a in r["attributes"])
    )
    sl["logRecords"] = []
    for i in range(count):
        record = copy.deepcopy(base)
        values = {
            "session.id": f"generated-{batch}-{i % 3}",
            "model": rng.choice(["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"]),
            "cost_usd": round(rng.uniform(0.0001, 0.2), 6),
            "input_tokens": rng.randint(1, 5000),
            "output_tokens": rng.randint(1, 2000),
        }
        if i % 10 == 9:
            # A failed request: an api_error event as the client documents it (the captured session had none).
            keep = ("session.id", "user.id", "organization.id", "team", "machine.name", "terminal.type")
            record["body"] = {"stringValue": "claude_code.api_error"}
            record["attributes"] = [a for a in record["attributes"] if a["key"] in keep]
            values = {
                "session.id": values["session.id"],
                "event.name": "api_error",
                "model": values["model"],
                "error": "Overloaded",
                "status_code": rng.choice(["429", "500", "529"]),
                "attempt": rng.randint(1, 3),
                "duration_ms": rng.randint(100, 30000),
            }
        record["attributes"] = [a for a in record["attributes"] if a["key"] not in values]
        record["attributes"] += [attr(k, v) for k, v in values.items()]
        sl["logRecords"].append(record)
    return out


def stamp(payload, run, batch, part):
    now = time.time_ns()
    for n, (_, record) in enumerate(records(payload)):
        for key in ("timeUnixNano", "observedTimeUnixNano"):
            record[key] = str(now + n)
        record["attributes"].append(attr("test.run", run))
        record["attributes"].append(attr("test.record", f"{batch}-{part}-{n}"))


def post(endpoint, token, body):
    request = urllib.request.Request(
        endpoint + "/v1/logs",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", default="http://127.0.0.1:4318")
    parser.add_argument("--token", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--generated", type=int, default=20, help="generated events per batch")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    parser.add_argument("fixtures", nargs="+")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    fixtures = []
    for path in args.fixtures:
        with open(path, encoding="utf-8") as f:
            fixtures.append(json.load(f))
    retries = 0
    with open(args.out, "w", encoding="utf-8") as ledger:
        for batch in range(args.batches):
            started = time.monotonic()
            parts = [*fixtures, generated(fixtures[0], rng, batch, args.generated)]
            for part, template in enumerate(parts):
                payload = copy.deepcopy(template)
                stamp(payload, args.run, batch, part)
                body = json.dumps(payload).encode()
                while (status := post(args.endpoint, args.token, body)) != 200:
                    retries += 1
                    print(f"batch {batch} part {part}: collector answered {status}, retrying", flush=True)
                    time.sleep(1)
                for rl, record in records(payload):
                    ledger.write(json.dumps({"resource": rl["resource"], "record": record}) + "\n")
                ledger.flush()
            time.sleep(max(0.0, args.interval - (time.monotonic() - started)))
    print(f"sent {args.batches} batches, {retries} retries", flush=True)


if __name__ == "__main__":
    main()
