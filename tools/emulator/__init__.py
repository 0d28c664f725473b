"""A Claude Code telemetry emulator: many users, teams, machines and sessions
sending exactly what Claude Code 2.1.330 sends (tests/fixtures/claude-code-2.1.330)
over OTLP with the OpenTelemetry Python SDK, and the ground truth of it.

    python -m tools.emulator --endpoint http://10.0.0.1:4318 --token-file tok --truth truth.json
    python -m tools.emulator --dry-run            # the ground truth of a seed, nothing sent

From Python:

    from tools.emulator import plan, run
    p = plan(seed=3, users=2, sessions=2, requests=2, duration=3, endpoints=["http://127.0.0.1:4318"])
    result = run(p, Connection(token="..."))  # the plan's endpoints
    result.ok, result.truth["cost_usd"]["total"]

docs/emulator.md describes what is sent, the CLI and the truth's format.
"""

from .planner import Plan, plan
from .sender import Connection, Result, run
from .truth import summary
from .truth import truth as ground_truth

__all__ = ["Connection", "Plan", "Result", "ground_truth", "plan", "run", "summary"]
