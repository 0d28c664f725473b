"""Ground truth of a plan (and of the exports a run made), and the human summary.

Money is summed in integer micro-dollars and only turned into dollars at the
end: every figure is exact to the micro-dollar, the client's own precision
(`cost_usd_micros` on api_request).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from . import client


def _usd(table: dict[str, int]) -> dict[str, float]:
    return {k: client.usd(v) for k, v in sorted(table.items())}


def truth(plan, protocol: str = "http/protobuf", temporality: str = "delta", metrics: bool = True, exports=None):
    """The JSON-able ground truth (docs/emulator.md has the schema)."""
    cost: dict[str, dict[str, int]] = {"by_user": Counter(), "by_team": Counter(), "by_model": Counter()}
    tokens: dict[str, dict[str, int]] = {
        "by_user": Counter(),
        "by_team": Counter(),
        "by_model": Counter(),
        "by_type": Counter({t: 0 for t in client.TOKEN_TYPES}),
    }
    events: Counter = Counter()
    keys = []
    for proc, event in plan.events():
        user = plan.users[proc.user]
        events[event.name] += 1
        keys.append([proc.session_id, event.sequence, event.name])
        if event.name != "api_request":
            continue
        a = event.attributes
        micros = a["cost_usd_micros"]
        cost["by_user"][user.id] += micros
        cost["by_team"][user.team] += micros
        cost["by_model"][a["model"]] += micros
        for kind, attr in client.TOKEN_TYPES.items():
            n = a[attr]
            tokens["by_user"][user.id] += n
            tokens["by_team"][user.team] += n
            tokens["by_model"][a["model"]] += n
            tokens["by_type"][kind] += n
    # The counters carry the same numbers as the events: checked here, once.
    metric_cost = sum(c.units for _, c in plan.counts() if c.metric == "claude_code.cost.usage")
    assert metric_cost == sum(cost["by_model"].values()), "cost metric and api_request events disagree"

    activity: Counter = Counter()
    for _, c in plan.counts():
        if c.metric == "claude_code.lines_of_code.count":
            activity["lines_" + c.attributes["type"]] += c.units
        elif c.metric == "claude_code.commit.count":
            activity["commits"] += c.units
        elif c.metric == "claude_code.pull_request.count":
            activity["pull_requests"] += c.units
        elif c.metric == "claude_code.code_edit_tool.decision":
            activity["edit_decisions_" + c.attributes["decision"]] += c.units

    sessions_by_user: dict[str, set] = defaultdict(set)
    start_types: Counter = Counter()
    for p in plan.processes:
        sessions_by_user[p.user].add(p.session_id)
        start_types[p.start_type] += 1
    total_micros = sum(cost["by_model"].values())
    return {
        "run": plan.run,
        "seed": plan.seed,
        "endpoints": list(plan.endpoints),
        "protocol": protocol,
        "temporality": temporality,
        "metrics": metrics,
        "cost_usd": {
            "total": client.usd(total_micros),
            "by_user": _usd(cost["by_user"]),
            "by_team": _usd(cost["by_team"]),
            "by_model": _usd(cost["by_model"]),
        },
        "cost_usd_micros": {
            "total": total_micros,
            **{k: dict(sorted(v.items())) for k, v in cost.items()},
        },
        "tokens": {
            "total": sum(tokens["by_type"].values()),
            **{k: dict(sorted(v.items())) if k != "by_type" else dict(v) for k, v in tokens.items()},
        },
        "sessions": {
            "total": sum(len(s) for s in sessions_by_user.values()),
            "by_user": {u: len(s) for u, s in sorted(sessions_by_user.items())},
            "processes": len(plan.processes),
            "by_start_type": dict(sorted(start_types.items())),
        },
        "events": {"total": sum(events.values()), "by_type": dict(sorted(events.items()))},
        "event_keys": keys,
        "activity": dict(sorted(activity.items())),
        "exports": list(exports or []),
        "processes": [
            {
                "session_id": p.session_id,
                "user": p.user,
                "machine": p.machine,
                "start_type": p.start_type,
                "endpoint": plan.endpoints[p.endpoint],
                "start": p.start,
                "end": p.end,
            }
            for p in plan.processes
        ],
        "users": {
            u.id: {"team": u.team, "email": u.email or None, "machines": list(u.machines)} for u in plan.users.values()
        },
        "teams": {
            t: {
                "users": [u.id for u in plan.users.values() if u.team == t],
                "machines": [m.name for m in plan.machines.values() if m.team == t],
            }
            for t in plan.teams
        },
    }


def summary(t: dict, elapsed: float | None = None) -> str:
    """A table a human reads after a run: per team and user, per model, per endpoint."""
    lines = [
        f"run {t['run']}  seed {t['seed']}  protocol {t['protocol']}  temporality {t['temporality']}"
        + ("" if t["metrics"] else "  (no metrics: events only)")
    ]
    lines.append(f"{'team / user':<28}{'sessions':>9}{'cost USD':>14}{'tokens':>12}")
    for team, info in t["teams"].items():
        lines.append(
            f"{team:<28}{sum(t['sessions']['by_user'].get(u, 0) for u in info['users']):>9}"
            f"{t['cost_usd']['by_team'].get(team, 0):>14.6f}{t['tokens']['by_team'].get(team, 0):>12}"
        )
        for u in info["users"]:
            lines.append(
                f"  {u:<26}{t['sessions']['by_user'].get(u, 0):>9}"
                f"{t['cost_usd']['by_user'].get(u, 0):>14.6f}{t['tokens']['by_user'].get(u, 0):>12}"
            )
    lines.append(
        f"{'total':<28}{t['sessions']['total']:>9}{t['cost_usd']['total']:>14.6f}{t['tokens']['total']:>12}"
        f"   ({t['sessions']['processes']} processes: {t['sessions']['by_start_type']})"
    )
    lines.append(f"{'model':<28}{'':>9}{'cost USD':>14}{'tokens':>12}")
    for model, usd in t["cost_usd"]["by_model"].items():
        lines.append(f"  {model:<26}{'':>9}{usd:>14.6f}{t['tokens']['by_model'].get(model, 0):>12}")
    lines.append("tokens by type: " + ", ".join(f"{k} {v}" for k, v in t["tokens"]["by_type"].items()))
    lines.append(f"events {t['events']['total']}: " + ", ".join(f"{k} {v}" for k, v in t["events"]["by_type"].items()))
    if t["activity"]:
        lines.append("activity: " + ", ".join(f"{k} {v}" for k, v in t["activity"].items()))
    if t["exports"]:
        table: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        for e in t["exports"]:
            row = table[(e["endpoint"], e["signal"])]
            row[0 if e["ok"] else 1] += 1
            row[2] += e["cost_usd_micros"]
        lines.append(f"{'endpoint':<40}{'signal':>8}{'ok':>6}{'failed':>8}{'cost USD':>14}")
        for (endpoint, signal), (ok, failed, micros) in sorted(table.items()):
            lines.append(f"{endpoint:<40}{signal:>8}{ok:>6}{failed:>8}{client.usd(micros):>14.6f}")
    elif t["endpoints"] and elapsed is None:
        lines.append("dry run: nothing sent")
    if elapsed is not None:
        lines.append(f"elapsed {elapsed:.1f}s")
    return "\n".join(lines)
