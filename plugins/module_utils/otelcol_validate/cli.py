# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The otelcol-validate command line."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from .api import check
from .env import build_env
from .findings import RULES
from .values import parse_version


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="otelcol-validate",
        description="Validate OpenTelemetry Collector configuration files without the collector.",
        epilog="Exit status: 0 valid, 1 errors (or warnings with --strict), 2 usage or unreadable input.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="configuration file ('-' for stdin)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="environment variable")
    parser.add_argument("--env-file", action="append", default=[], metavar="PATH", help="systemd EnvironmentFile")
    parser.add_argument("--strict", action="store_true", help="warnings count as errors")
    parser.add_argument("--binary", metavar="PATH", help="also run '<PATH> validate --config=FILE'")
    parser.add_argument("--version", dest="collector_version", metavar="VERSION", help="target collector version")
    parser.add_argument("--feature-gate", action="append", default=[], metavar="GATE", help="enabled feature gate")
    parser.add_argument("--ignore", action="append", default=[], metavar="RULE", help="rule id to skip")
    parser.add_argument("--json", action="store_true", help="print a JSON document")
    args = parser.parse_args(argv)
    try:
        env = build_env(args.env_file, args.env)
        parse_version(args.collector_version)
    except (OSError, ValueError) as exc:
        _err(f"otelcol-validate: {exc}")
        return 2
    unknown = [r for r in args.ignore if r not in RULES]
    if unknown:
        _err(f"otelcol-validate: unknown rule id(s): {', '.join(unknown)}")
        return 2
    status, report = 0, {}
    for name in args.files:
        try:
            if name == "-":
                content = sys.stdin.read()
            else:
                with open(name, encoding="utf-8") as handle:
                    content = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            _err(f"otelcol-validate: {name}: {exc}")
            return 2
        try:
            result = check(
                content,
                env=env,
                version=args.collector_version,
                feature_gates=args.feature_gate,
                ignore=args.ignore,
                binary=args.binary,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            _err(f"otelcol-validate: cannot run {args.binary}: {exc}")
            return 2
        if not result.ok(args.strict):
            status = 1
        report[name] = result.as_dict()
        if not args.json:
            for f in result.errors + result.warnings:
                where = f"{name}:{f.line}" if f.line else name
                _out(f"{where}: {f.rule}: {f.severity}: {f.message}" + (f" [{f.path}]" if f.path else ""))
    if args.json:
        _out(json.dumps(report if len(args.files) > 1 else report[args.files[0]], indent=2))
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
