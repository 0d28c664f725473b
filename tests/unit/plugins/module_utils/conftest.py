"""Shared set-up for the otelcol_validate tests.

Makes ``ansible_collections.claude_monitoring.stack`` importable from a plain
checkout and parametrises tests over the fixture corpus in
tests/unit/fixtures/otelcol/{bad,good,warn}. Fixture headers:

    # expect: <rule> line <N>     a finding the engine must report (bad, warn)
    # warnings: <rule> ...        the exact warnings of a good config
    # env: NAME=VALUE             the environment to validate with
    # version: X.Y.Z              the target collector version
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
FIXTURES = ROOT / "tests" / "unit" / "fixtures" / "otelcol"
ENGINE_NAME = "ansible_collections.claude_monitoring.stack.plugins.module_utils.otelcol_validate"


def ensure_collection_importable() -> None:
    """Put the checkout on sys.path as ansible_collections/claude_monitoring/stack."""
    try:
        importlib.import_module(ENGINE_NAME)
        return
    except ImportError:
        pass
    if ROOT.parent.name == "claude_monitoring" and ROOT.parent.parent.name == "ansible_collections":
        base = ROOT.parent.parent.parent
    else:
        base = Path(tempfile.gettempdir()) / f"cm-collections-{os.getuid()}"
        link = base / "ansible_collections" / "claude_monitoring" / "stack"
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink() or link.resolve() != ROOT:
            tmp = link.with_name(f"stack.{os.getpid()}")
            tmp.symlink_to(ROOT, target_is_directory=True)
            os.replace(tmp, link)
    sys.path.insert(0, str(base))  # ansible_collections is a namespace package: it picks this up
    importlib.invalidate_caches()
    importlib.import_module(ENGINE_NAME)


ensure_collection_importable()


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # bad, good or warn
    path: Path
    text: str
    expects: tuple  # ((rule, line), ...)
    warnings: tuple | None  # good configs: the exact warning rules
    env: dict | None
    version: str | None

    def __str__(self):
        return f"{self.kind}/{self.name}"


def load_case(path: Path) -> Case:
    text = path.read_text(encoding="utf-8")
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    expects = tuple(
        (m.group(1), int(m.group(2))) for h in header if (m := re.match(r"^# expect: (\S+) line (\d+)$", h))
    )
    env = dict(h[len("# env: ") :].split("=", 1) for h in header if h.startswith("# env: ")) or None
    version = next((h.split(": ", 1)[1] for h in header if h.startswith("# version: ")), None)
    warnings = next((tuple(h.split(": ", 1)[1].split()) for h in header if h.startswith("# warnings: ")), None)
    return Case(path.stem, path.parent.name, path, text, expects, warnings, env, version)


def load_cases(*kinds: str) -> list[Case]:
    return [load_case(p) for kind in kinds for p in sorted((FIXTURES / kind).glob("*.yaml"))]


CASE_FIXTURES = {
    "bad_case": ("bad",),
    "good_case": ("good",),
    "warn_case": ("warn",),
    "corpus_case": ("bad", "good", "warn"),
}


def pytest_generate_tests(metafunc):
    for name, kinds in CASE_FIXTURES.items():
        if name in metafunc.fixturenames:
            cases = load_cases(*kinds)
            metafunc.parametrize(name, cases, ids=[str(c) for c in cases])


@pytest.fixture(scope="session")
def engine():
    return importlib.import_module(ENGINE_NAME)


@pytest.fixture(scope="session")
def otelcol_bin():
    path = os.environ.get("CM_OTELCOL_BIN")
    if not path:
        pytest.fail(
            "CM_OTELCOL_BIN is not set: run `bash tests/platform/binaries.sh otelcol`, extract the archive and "
            'export CM_OTELCOL_BIN=/path/to/otelcol-contrib (or deselect with -m "not binary")'
        )
    if not os.access(path, os.X_OK):
        pytest.fail(f"CM_OTELCOL_BIN={path} is not an executable file")
    return path
