"""The command line: ``python -m tools.emulator --help``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import client
from .planner import plan as make_plan
from .sender import PROTOCOLS, Connection, quiet_sdk_logs, run
from .truth import summary, truth


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text}: must be > 0")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tools.emulator",
        description="Emulate Claude Code clients sending OTLP telemetry, and write the ground truth of what was sent.",
        epilog="Exit status: 0 when every export was acknowledged (2xx / OK), 1 when one was not, 2 on bad usage.",
    )
    net = p.add_argument_group("where to send")
    net.add_argument(
        "--endpoint",
        action="append",
        default=[],
        metavar="URL",
        help="OTLP/HTTP base URL (http://10.0.0.1:4318) or, with --protocol grpc, host:4317; repeat for several "
        "collectors (processes are spread over them round-robin). Default http://127.0.0.1:4318 (grpc: 127.0.0.1:4317)",
    )
    net.add_argument("--protocol", choices=PROTOCOLS, default="http/protobuf")
    net.add_argument("--token", help="bearer token (visible in the process list: prefer --token-file)")
    net.add_argument("--token-file", metavar="PATH", help="file holding the bearer token (else env CM_EMULATOR_TOKEN)")
    net.add_argument(
        "--team-token",
        action="append",
        default=[],
        metavar="TEAM=PATH",
        help="that team's machines send this file's token; TEAM is a team name, t<N> or <N> (repeatable)",
    )
    net.add_argument("--insecure-tls", action="store_true", help="https without certificate verification (not grpc)")
    net.add_argument("--ca-file", metavar="PATH", help="CA bundle for https endpoints (and TLS with grpc)")
    net.add_argument(
        "--export-timeout",
        type=_positive(float),
        default=5.0,
        metavar="SECONDS",
        help="per export, the SDK's retries of 429/502/503/504 and connection errors included (default 5)",
    )
    mix = p.add_argument_group("what to send (deterministic from --seed, except timestamps)")
    mix.add_argument("--seed", type=int, default=1)
    mix.add_argument("--users", type=_positive(int), default=6)
    mix.add_argument("--teams", type=_positive(int), default=2)
    mix.add_argument("--machines", type=_positive(int), default=4)
    mix.add_argument(
        "--models",
        default=",".join(client.DEFAULT_MODELS),
        metavar="LIST",
        help="comma-separated model ids (default: %(default)s)",
    )
    mix.add_argument("--sessions", type=_positive(int), default=3, help="sessions per user (default 3)")
    mix.add_argument("--requests", type=int, default=4, help="API requests per session (default 4)")
    mix.add_argument("--parallel", type=_positive(int), default=4, help="most sessions running at once (default 4)")
    mix.add_argument("--run", metavar="ID", help="prefix of user, team, machine and session ids (default emu<seed>)")
    mix.add_argument(
        "--team-names",
        metavar="LIST",
        help="comma-separated team names instead of <run>-t<N> (e.g. the collector's otel_collector_team_tokens teams)",
    )
    mix.add_argument(
        "--no-email", action="store_true", help="no user.email in the resource attributes (nor on points and events)"
    )
    how = p.add_argument_group("how the clients behave")
    how.add_argument(
        "--export-interval",
        type=_positive(float),
        default=2.0,
        metavar="SECONDS",
        help="metric reader and log batch interval (default 2)",
    )
    how.add_argument(
        "--duration", type=_positive(float), default=30.0, metavar="SECONDS", help="spread the sessions over it"
    )
    how.add_argument(
        "--no-metrics", action="store_true", help="events only, as a client with OTEL_METRICS_EXPORTER off"
    )
    how.add_argument("--temporality", choices=("delta", "cumulative"), default="delta")
    out = p.add_argument_group("output")
    out.add_argument("--truth", metavar="PATH", help="write the ground truth JSON there")
    out.add_argument("--dry-run", action="store_true", help="send nothing: print the ground truth's summary")
    out.add_argument("-v", "--verbose", action="store_true", help="let the SDK log its retries and failures")
    return p


def _token(args, p) -> str | None:
    if args.token:
        return args.token
    if args.token_file:
        try:
            return Path(args.token_file).read_text().strip()
        except OSError as error:
            p.error(f"--token-file: {error}")
    return os.environ.get("CM_EMULATOR_TOKEN") or None


def _team_tokens(args, p, teams: list[str]) -> dict[str, str]:
    tokens = {}
    for item in args.team_token:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            p.error(f"--team-token {item!r}: TEAM=PATH")
        team = None
        if name in teams:
            team = name
        else:
            number = name[1:] if name.startswith("t") else name
            if number.isdigit() and 1 <= int(number) <= len(teams):
                team = teams[int(number) - 1]
        if team is None:
            p.error(f"--team-token {name}: no such team (teams: {', '.join(teams)})")
        try:
            tokens[team] = Path(path).read_text().strip()
        except OSError as error:
            p.error(f"--team-token {name}: {error}")
    return tokens


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.requests < 0:
        p.error("--requests must be >= 0")
    if args.insecure_tls and args.protocol == "grpc":
        p.error("--insecure-tls is not available with grpc: pass --ca-file")
    endpoints = args.endpoint or ["127.0.0.1:4317" if args.protocol == "grpc" else "http://127.0.0.1:4318"]
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models:
        p.error("--models: at least one model id")
    try:
        the_plan = make_plan(
            seed=args.seed,
            users=args.users,
            teams=args.teams,
            machines=args.machines,
            models=models,
            sessions=args.sessions,
            requests=args.requests,
            parallel=args.parallel,
            duration=args.duration,
            run=args.run,
            endpoints=endpoints,
            team_names=[t.strip() for t in args.team_names.split(",")] if args.team_names else None,
            emails=not args.no_email,
        )
    except ValueError as error:
        p.error(str(error))
    team_tokens = _team_tokens(args, p, the_plan.teams)
    temporality = args.temporality
    if args.dry_run:
        result_truth, errors, elapsed = truth(the_plan, args.protocol, temporality, not args.no_metrics), [], None
    else:
        if not args.verbose:
            quiet_sdk_logs()
        conn = Connection(
            endpoints=endpoints,
            protocol=args.protocol,
            token=_token(args, p),
            team_tokens=team_tokens,
            ca_file=args.ca_file,
            insecure_tls=args.insecure_tls,
            timeout=args.export_timeout,
        )
        result = run(the_plan, conn, temporality, args.export_interval, metrics=not args.no_metrics)
        result_truth, errors, elapsed = result.truth, list(result.errors), result.elapsed
        if not errors and not all(e["ok"] for e in result_truth["exports"]):
            errors.append("an export failed")
    if args.truth:
        Path(args.truth).write_text(json.dumps(result_truth, indent=1) + "\n")
    print(summary(result_truth, elapsed))
    for message in errors:
        print(f"error: {message}", file=sys.stderr)
    return 1 if errors else 0
