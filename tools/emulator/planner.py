"""The deterministic plan of a run: who works where, which sessions run in
parallel or are resumed, and every event and counter increment of every
emulated Claude Code process, with its time offset. Same seed and options,
same plan (ids, values, order); only wall-clock timestamps differ between runs.

Standard library only.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field

from . import client

TOOLS = (("Bash", 4), ("Read", 3), ("Edit", 3), ("Write", 1), ("Grep", 2))
EDIT_TOOLS = frozenset({"Edit", "Write"})
LANGUAGES = ("Python", "TypeScript", "Markdown", "YAML", "Go")
API_ERRORS = (("529", "Overloaded"), ("500", "Internal server error"), ("429", "Rate limited"))
PLATFORMS = (
    ("amd64", "linux", "6.8.0-45-generic"),
    ("arm64", "darwin", "24.6.0"),
    ("amd64", "linux", "6.18.44-fc-v595"),
    ("arm64", "linux", "6.12.48-1-arm64"),
)
TERMINALS = ("xterm", "vscode", "iTerm.app", "tmux")


@dataclass(frozen=True)
class Machine:
    name: str
    team: str
    host_arch: str
    os_type: str
    os_version: str
    terminal: str


@dataclass(frozen=True)
class User:
    id: str
    team: str
    email: str  # "" for none: no user.email attribute
    machines: tuple[str, ...]


@dataclass
class Event:
    name: str
    sequence: int
    attributes: dict  # the event's own attributes (common ones are added when sent)


@dataclass
class Count:
    metric: str
    attributes: dict  # the point's own attributes (common ones are added when sent)
    units: int  # integer units: micro-dollars for cost, milliseconds for active time


@dataclass
class Step:
    at: float  # seconds after the run's start
    events: list[Event] = field(default_factory=list)
    counts: list[Count] = field(default_factory=list)


@dataclass
class Process:
    """One run of the client: a session's first process, or a later one that resumes it."""

    index: int
    session_id: str
    user: str
    machine: str
    start_type: str  # "fresh" or "resume"
    start: float
    end: float
    lane: int
    endpoint: int = 0  # index into Plan.endpoints
    after: int | None = None  # the process this one resumes: it starts once that one ended
    steps: list[Step] = field(default_factory=list)


@dataclass
class Plan:
    run: str
    seed: int
    duration: float
    parallel: int
    endpoints: list[str]
    teams: list[str]
    models: list[str]
    users: dict[str, User]
    machines: dict[str, Machine]
    processes: list[Process]

    def events(self):
        for p in self.processes:
            for s in p.steps:
                for e in s.events:
                    yield p, e

    def counts(self):
        for p in self.processes:
            for s in p.steps:
                for c in s.counts:
                    yield p, c


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _weighted(rng: random.Random, pairs) -> str:
    names = [n for n, _ in pairs]
    return rng.choices(names, weights=[w for _, w in pairs])[0]


def plan(
    seed: int = 1,
    users: int = 6,
    teams: int = 2,
    machines: int = 4,
    models: list[str] | tuple[str, ...] | None = None,
    sessions: int = 3,
    requests: int = 4,
    parallel: int = 4,
    duration: float = 30.0,
    run: str | None = None,
    endpoints: list[str] | None = None,
    team_names: list[str] | None = None,
    emails: bool = True,
) -> Plan:
    """Everything a run sends, from the seed. See docs/emulator.md for the shape of the mix."""
    if users < 1 or teams < 1 or sessions < 1 or requests < 0 or parallel < 1:
        raise ValueError("users, teams, sessions and parallel must be >= 1, requests >= 0")
    if machines < teams:
        raise ValueError(f"--machines ({machines}) must be at least --teams ({teams}): every team needs a machine")
    if duration <= 0:
        raise ValueError("duration must be > 0")
    models = list(models or client.DEFAULT_MODELS)
    endpoints = list(endpoints or ["http://127.0.0.1:4318"])
    rng = random.Random(seed)
    run = run or f"emu{seed}"
    if team_names:
        if len(team_names) != teams:
            raise ValueError(f"{len(team_names)} team names for {teams} teams")
        team_list = list(team_names)
    else:
        team_list = [f"{run}-t{j}" for j in range(1, teams + 1)]

    machine_map: dict[str, Machine] = {}
    for k in range(1, machines + 1):
        arch, os_type, os_version = rng.choice(PLATFORMS)
        name = f"{run}-m{k}"
        machine_map[name] = Machine(name, team_list[(k - 1) % teams], arch, os_type, os_version, rng.choice(TERMINALS))

    user_map: dict[str, User] = {}
    for i in range(1, users + 1):
        team = team_list[(i - 1) % teams]
        own = [m.name for m in machine_map.values() if m.team == team]
        first = own[((i - 1) // teams) % len(own)]
        mine = [first]
        if len(own) > 1 and rng.random() < 0.5:
            mine.append(rng.choice([m for m in own if m != first]))
        uid = f"{run}-u{i}"
        user_map[uid] = User(uid, team, f"{uid}@example.com" if emails else "", tuple(mine))

    # Sessions: (user, number, machine, resumed).
    session_list = []
    for uid, user in user_map.items():
        for s in range(1, sessions + 1):
            machine = user.machines[0] if s == 1 else rng.choice(user.machines)
            session_list.append([uid, s, machine, rng.random() < 1 / 3])
    if not any(s[3] for s in session_list):
        rng.choice(session_list)[3] = True

    # Users in a seeded order, each user's sessions next to each other: they
    # share a round of the lanes, so one user's sessions run in parallel.
    order = list(user_map)
    rng.shuffle(order)
    session_list.sort(key=lambda s: (order.index(s[0]), s[1]))

    processes: list[Process] = []
    continuations: list[tuple[int, list]] = []
    for uid, s, machine, resumed in session_list:
        sid = f"{uid}-s{s}"
        processes.append(Process(len(processes), sid, uid, machine, "fresh", 0.0, 0.0, 0))
        if resumed:
            continuations.append((processes[-1].index, [uid, s, machine]))
    for first, (uid, s, machine) in continuations:
        sid = f"{uid}-s{s}"
        processes.append(Process(len(processes), sid, uid, machine, "resume", 0.0, 0.0, 0, after=first))

    # Schedule: `lanes` processes at a time, continuations in rounds after every first process.
    fresh = [p for p in processes if p.start_type == "fresh"]
    resumes = [p for p in processes if p.start_type == "resume"]
    lanes = max(1, min(parallel, len(fresh)))
    rounds_fresh = math.ceil(len(fresh) / lanes)
    rounds = rounds_fresh + math.ceil(len(resumes) / lanes)
    slot = duration / rounds
    for group, base in ((fresh, 0), (resumes, rounds_fresh)):
        for n, p in enumerate(group):
            r = base + n // lanes
            p.lane = n % lanes
            p.start = round(r * slot + rng.uniform(0.0, 0.08) * slot, 3)
            p.end = round(r * slot + rng.uniform(0.8, 0.92) * slot, 3)

    # Endpoints round-robin from a seeded offset; a load balancer sends at least
    # one resumed session's processes to different collectors.
    offset = rng.randrange(len(endpoints))
    for p in processes:
        p.endpoint = (offset + p.index) % len(endpoints)
    if len(endpoints) > 1 and resumes and all(p.endpoint == processes[p.after].endpoint for p in resumes):
        p = resumes[0]
        p.endpoint = (processes[p.after].endpoint + 1) % len(endpoints)

    # The work: requests of each session split into prompts, prompts split
    # between a session's processes.
    by_session: dict[str, list[Process]] = {}
    for p in processes:
        by_session.setdefault(p.session_id, []).append(p)
    error_budget = [0]
    for sid, procs in by_session.items():
        model = rng.choice(models)
        prompts = []
        left = requests
        while left > 0:
            size = min(left, rng.randint(1, 3))
            if not prompts and sid == processes[0].session_id:
                size = min(left, 2)  # the first session uses a tool whenever it can
            prompts.append(size)
            left -= size
        shares: list[list[int]] = [[] for _ in procs]
        if len(procs) == 1:
            shares[0] = prompts
        else:
            cut = max(1, math.ceil(len(prompts) / 2)) if len(prompts) > 1 else len(prompts)
            shares[0], shares[1] = prompts[:cut], prompts[cut:]
        sequence = 0
        for proc, share in zip(procs, shares, strict=True):
            sequence = _fill(rng, proc, share, model, models, sequence, error_budget)

    # A few API errors in every run that makes requests.
    if error_budget[0] == 0 and requests > 0:
        _force_error(rng, processes)
    return Plan(run, seed, duration, parallel, endpoints, team_list, models, user_map, machine_map, processes)


def _fill(rng, proc: Process, prompts: list[int], model: str, models: list[str], sequence: int, errors) -> int:
    """The steps of one process; returns the session's next event.sequence."""
    window = proc.end - proc.start
    t = proc.start + min(0.05, window * 0.02)

    def event(step: Step, name: str, attrs: dict):
        nonlocal sequence
        step.events.append(Event(name, sequence, attrs))
        sequence += 1

    startup = Step(round(t, 3))
    startup.counts.append(Count("claude_code.session.count", {"start_type": proc.start_type}, 1))
    for name, attrs in client.startup_events():
        event(startup, name, attrs)
    proc.steps.append(startup)

    if not prompts:
        return sequence
    span = (proc.end - t) * 0.95 / len(prompts)
    for k, size in enumerate(prompts):
        # Per prompt: user_prompt, then per request [api_error] [tool_decision] api_request [tool_result],
        # then assistant_response: the order logs.json shows.
        plan_steps: list[Step] = []
        pid = _uuid(rng)
        s = Step(0)
        event(s, "user_prompt", client.user_prompt(pid, rng.randint(8, 400), _uuid(rng)))
        s.counts.append(Count("claude_code.active_time.total", {"type": "user"}, rng.randint(1500, 20000)))
        plan_steps.append(s)
        for j in range(size):
            use = model if rng.random() < 0.75 else rng.choice(models)
            if rng.random() < 0.12:
                errors[0] += 1
                status, text = rng.choice(API_ERRORS)
                s = Step(0)
                event(s, "api_error", client.api_error(pid, use, text, status, rng.randint(200, 3000), 1))
                plan_steps.append(s)
            tool = j < size - 1  # every request but a prompt's last one asks for a tool
            s = Step(0)
            if tool:
                name = _weighted(rng, TOOLS)
                tool_id = f"toolu_{rng.getrandbits(64):016x}"
                accept = rng.random() < 0.85
                decision = "accept" if accept else "reject"
                source = rng.choice(("config", "user_temporary")) if accept else "user_reject"
                event(s, "tool_decision", client.tool_decision(pid, name, tool_id, decision, source))
                if name in EDIT_TOOLS:
                    language = rng.choice(LANGUAGES)
                    s.counts.append(
                        Count(
                            "claude_code.code_edit_tool.decision",
                            {"tool_name": name, "decision": decision, "language": language},
                            1,
                        )
                    )
            _request(rng, s, event, pid, use)
            plan_steps.append(s)
            if tool and accept:
                s = Step(0)
                ok = rng.random() < 0.9
                duration = rng.randint(5, 4000)
                event(
                    s,
                    "tool_result",
                    client.tool_result(pid, name, tool_id, ok, duration, rng.randint(20, 4000), rng.randint(0, 20000)),
                )
                if ok and name in EDIT_TOOLS:
                    added, removed = rng.randint(1, 120), rng.randint(0, 40)
                    s.counts.append(Count("claude_code.lines_of_code.count", {"type": "added"}, added))
                    if removed:
                        s.counts.append(Count("claude_code.lines_of_code.count", {"type": "removed"}, removed))
                if ok and name == "Bash" and rng.random() < 0.3:
                    s.counts.append(Count("claude_code.commit.count", {}, 1))
                    if rng.random() < 0.4:
                        s.counts.append(Count("claude_code.pull_request.count", {}, 1))
                plan_steps.append(s)
        s = Step(0)
        event(s, "assistant_response", client.assistant_response(pid, rng.randint(5, 4000), _uuid(rng), model))
        plan_steps.append(s)
        begin = t + k * span
        gap = span * 0.9 / len(plan_steps)
        for n, step in enumerate(plan_steps):
            step.at = round(begin + n * gap, 3)
        proc.steps.extend(plan_steps)
    return sequence


def _request(rng, step: Step, event, pid: str, model: str) -> None:
    tokens = {
        "input": rng.randint(100, 5000),
        "output": rng.randint(10, 3000),
        "cacheRead": rng.choice((0, rng.randint(1000, 80000))),
        "cacheCreation": rng.choice((0, rng.randint(100, 8000))),
    }
    micros = client.cost_micros(model, tokens)
    duration = rng.randint(300, 30000)
    event(step, "api_request", client.api_request(pid, model, tokens, micros, duration, rng.randint(50, 2000)))
    point = client.request_point(model)
    step.counts.append(Count("claude_code.cost.usage", dict(point), micros))
    for kind in client.TOKEN_TYPES:  # zero counts too, as the client adds every type of every request
        step.counts.append(Count("claude_code.token.usage", {**point, "type": kind}, tokens[kind]))
    step.counts.append(Count("claude_code.active_time.total", {"type": "cli"}, duration))


def _force_error(rng, processes: list[Process]) -> None:
    """Put one api_error before a random api_request (renumbering that session's later events)."""
    spots = [(p, s, e) for p in processes for s in p.steps for e in s.events if e.name == "api_request"]
    if not spots:
        return
    proc, step, req = rng.choice(spots)
    status, text = rng.choice(API_ERRORS)
    attrs = client.api_error(req.attributes["prompt.id"], req.attributes["model"], text, status, 812, 1)
    seq = req.sequence
    for p in processes:
        if p.session_id != proc.session_id:
            continue
        for s in p.steps:
            for e in s.events:
                if e.sequence >= seq:
                    e.sequence += 1
    step.events.insert(step.events.index(req), Event("api_error", seq, attrs))
