"""Fixtures of the emulator's tests: the collector binary, a running collector.

The binary is CM_OTELCOL_BIN (scripts/test sets it), else the platform's
cache ($CM_CACHE_DIR/bin/otelcol-contrib). Missing, the tests fail and say how
to get it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from emulator_collector import Collector  # noqa: E402

CACHE = Path(
    os.environ.get("CM_CACHE_DIR")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "claude-monitoring-stack"
)


@pytest.fixture(scope="session")
def otelcol_bin() -> str:
    path = os.environ.get("CM_OTELCOL_BIN") or str(CACHE / "bin" / "otelcol-contrib")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"no collector binary at {path}: set CM_OTELCOL_BIN=/path/to/otelcol-contrib or run "
            "`scripts/test platform` (it unpacks the binaries into $CM_CACHE_DIR/bin)"
        )
    return path


@pytest.fixture(scope="module")
def collector(otelcol_bin, tmp_path_factory):
    c = Collector(otelcol_bin, tmp_path_factory.mktemp("otelcol"))
    yield c
    c.stop()
