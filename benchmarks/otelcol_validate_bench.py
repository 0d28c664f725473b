#!/usr/bin/env python3
"""Time the validator engine against `otelcol validate` on the same realistic config.

    python benchmarks/otelcol_validate_bench.py [--binary PATH] [--runs N] [CONFIG]
    python benchmarks/otelcol_validate_bench.py --lines 5000 [--binary PATH] [--runs N]

The binary defaults to $CM_OTELCOL_BIN. Prints the median wall time of each
over N runs and their ratio. --lines N generates a valid config of about N
lines (N/45 gateways' worth of receivers, processors with OTTL, exporters and
pipelines, on distinct ports) instead of reading CONFIG. Not a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "tests" / "unit" / "fixtures" / "otelcol" / "good" / "claude-code-gateway.yaml"
ENV = {"OTELCOL_BEARER_TOKEN": "benchmark-token"}


def load_engine():
    package = ROOT / "plugins" / "module_utils" / "otelcol_validate"
    spec = importlib.util.spec_from_file_location(
        "otelcol_validate", package / "__init__.py", submodule_search_locations=[str(package)]
    )
    engine = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = engine
    spec.loader.exec_module(engine)
    return engine


def generated_config(lines: int) -> str:
    """A valid configuration of about ``lines`` lines: blocks of 45 lines."""
    sections = {k: [] for k in ("receivers", "processors", "exporters", "pipelines")}
    for i in range((lines + 44) // 45):
        sections["receivers"] += [
            f"  otlp/{i}:",
            "    protocols:",
            "      grpc:",
            f"        endpoint: 127.0.0.1:{20000 + 2 * i}",
            "      http:",
            f"        endpoint: 127.0.0.1:{20001 + 2 * i}",
        ]
        sections["processors"] += [
            f"  memory_limiter/{i}:",
            "    check_interval: 1s",
            "    limit_mib: 512",
            "    spike_limit_mib: 128",
            f"  batch/{i}:",
            "    timeout: 5s",
            "    send_batch_size: 1024",
            "    send_batch_max_size: 2048",
            f"  transform/{i}:",
            "    error_mode: ignore",
            "    log_statements:",
            "      - context: log",
            "        statements:",
            '          - set(attributes["tenant"], "t' + str(i) + '") where attributes["tenant"] == nil',
            '          - delete_key(attributes, "user.email")',
            f"  attributes/{i}:",
            "    actions:",
            "      - key: deployment",
            "        value: bench",
            "        action: upsert",
        ]
        sections["exporters"] += [
            f"  otlphttp/{i}:",
            f"    endpoint: http://backend-{i}.example.internal:4318",
            "    compression: gzip",
            "    timeout: 10s",
            "    sending_queue:",
            "      queue_size: 1000",
            "    retry_on_failure:",
            "      initial_interval: 5s",
            "      max_interval: 30s",
            f"  debug/{i}:",
            "    verbosity: basic",
        ]
        for signal, procs, exps in (
            ("logs", f"memory_limiter/{i}, transform/{i}, attributes/{i}, batch/{i}", f"otlphttp/{i}"),
            ("metrics", f"memory_limiter/{i}, batch/{i}", f"otlphttp/{i}, debug/{i}"),
        ):
            sections["pipelines"] += [
                f"    {signal}/{i}:",
                f"      receivers: [otlp/{i}]",
                f"      processors: [{procs}]",
                f"      exporters: [{exps}]",
            ]
    out = []
    for key in ("receivers", "processors", "exporters"):
        out += [f"{key}:", *sections[key]]
    out += ["service:", "  pipelines:", *sections["pipelines"]]
    return "\n".join(out) + "\n"


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
    parser.add_argument("--lines", type=int, default=0, help="generate a config of about this many lines")
    args = parser.parse_args()
    if args.lines:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False, encoding="utf-8") as handle:
            handle.write(generated_config(args.lines))
        args.config = handle.name
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
    if args.lines:
        os.unlink(args.config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
