"""Shared set-up for the dashboard tests: the committed dashboards, promtool and Grafana's LogQL grammar.

Real binaries and packages come from the test platform: CM_PROMTOOL_BIN
(scripts/test sets it; else the platform's cache) and CM_NODE_MODULES
(tests/platform/node.sh). When one is missing the test fails under CI
(CI=true) and is skipped elsewhere, with the command that installs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.dashboards.queries import DASHBOARD_DIR, load_dashboards  # noqa: E402

HERE = Path(__file__).resolve().parent
CACHE = Path(
    os.environ.get("CM_CACHE_DIR")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "claude-monitoring-stack"
)


def missing(what: str, how: str):
    """Fail under CI, skip elsewhere."""
    message = f"{what} not found; {how}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def dashboards() -> dict[str, dict]:
    found = load_dashboards(DASHBOARD_DIR)
    assert found, f"no dashboards in {DASHBOARD_DIR}; run: python -m tools.dashboards"
    return found


@pytest.fixture(scope="session")
def promtool() -> str:
    path = os.environ.get("CM_PROMTOOL_BIN") or str(CACHE / "bin" / "promtool")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        missing(f"promtool ({path})", "set CM_PROMTOOL_BIN or run: scripts/test platform")
    return path


@pytest.fixture(scope="session")
def node_modules() -> str:
    path = os.environ.get("CM_NODE_MODULES")
    if not path:
        path = subprocess.run(
            ["bash", str(ROOT / "tests/platform/node.sh"), "--path"], capture_output=True, text=True, check=True
        ).stdout.strip()
    if not (Path(path) / "@grafana" / "lezer-logql" / "package.json").is_file():
        missing(f"@grafana/lezer-logql under {path}", "run: bash tests/platform/node.sh")
    if shutil.which("node") is None:
        missing("node", "install Node.js (tests/platform/node.sh does)")
    return path


@pytest.fixture(scope="session")
def parse_logql(node_modules):
    """Grafana's LogQL grammar as a function: expressions -> [{errors, identifiers, strings}] (parse_logql.cjs)."""
    return lambda exprs: _parse_logql(node_modules, exprs)


def _parse_logql(node_modules: str, exprs: list[str]) -> list[dict]:
    payload = json.dumps([{"id": i, "expr": e} for i, e in enumerate(exprs)])
    proc = subprocess.run(
        ["node", str(HERE / "parse_logql.cjs")],
        input=payload,
        capture_output=True,
        text=True,
        env={**os.environ, "CM_NODE_MODULES": node_modules},
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"parse_logql.cjs failed ({proc.returncode}): {proc.stderr}"
    return json.loads(proc.stdout)
