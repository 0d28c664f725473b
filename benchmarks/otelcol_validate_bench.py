#!/usr/bin/env python3
"""Time the validator engine against `otelcol validate` on the same realistic config.

    python benchmarks/otelcol_validate_bench.py [--binary PATH] [--runs N] [CONFIG]

The binary defaults to $CM_OTELCOL_BIN. Prints the median wall time of each
over N runs and their ratio. Not a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "tests" / "unit" / "fixtures" / "otelcol" / "good" / "claude-code-gateway.yaml"
ENV = {"OTELCOL_BEARER_TOKEN": "benchmark-token"}


def load_engine():
    spec = importlib.util.spec_from_file_location("otelcol_validate", ROOT / "plugins/module_utils/otelcol_validate.py")
    engine = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = engine
    spec.loader.exec_module(engine)
    return engine


def median_seconds(func, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default=str(DEFAULT_CONFIG))
    parser.add_argument("--binary", default=os.environ.get("CM_OTELCOL_BIN"))
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if not args.binary:
        parser.error("no collector binary: pass --binary or set CM_OTELCOL_BIN")
    engine = load_engine()
    text = Path(args.config).read_text(encoding="utf-8")

    def run_engine():
        result = engine.validate(text, env=ENV)
        assert result.valid, result.summary()

    def run_binary():
        subprocess.run([args.binary, "validate", f"--config={args.config}"], env=ENV, check=True, capture_output=True)

    run_engine()
    run_binary()  # warm the page cache
    engine_s = median_seconds(run_engine, args.runs)
    binary_s = median_seconds(run_binary, args.runs)
    print(f"config:              {args.config} ({len(text.splitlines())} lines)")
    print(f"runs:                {args.runs} (median)")
    print(f"engine (in-process): {engine_s * 1000:8.2f} ms")
    print(f"otelcol validate:    {binary_s * 1000:8.2f} ms  ({args.binary})")
    print(f"ratio binary/engine: {binary_s / engine_s:8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
