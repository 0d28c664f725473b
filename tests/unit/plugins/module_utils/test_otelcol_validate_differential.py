"""Differential test: the engine and `otelcol validate` on seeded mutants of
valid configurations (see otelcol_differential.py). Every disagreement must be
documented (STRICTER, LENIENT); the figures are printed (pytest -s, or in the
failure message).

CM_DIFF_COUNT (default 300) and CM_DIFF_SEED (default 15) size the run; a
longer one by hand:

    CM_DIFF_COUNT=3000 CM_DIFF_SEED=7 python -m pytest tests/unit/plugins -k differential -s
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import otelcol_differential as diff
import pytest

pytestmark = pytest.mark.binary
ROOT = Path(__file__).resolve().parents[4]


def test_engine_agrees_with_the_binary(engine, otelcol_bin):
    count = int(os.environ.get("CM_DIFF_COUNT", "300"))
    seed = int(os.environ.get("CM_DIFF_SEED", "15"))
    bases, outcomes, seconds = diff.differential(engine, otelcol_bin, count, seed)
    text = diff.report(bases, outcomes, seconds)
    print("\n" + text)
    assert len(bases) >= 4, "too few valid base configs: " + text
    undocumented = [o for o in outcomes if o.verdict not in diff.DOCUMENTED]
    assert not undocumented, text


def test_mutants_are_deterministic():
    bases = [(name, diff.yaml.safe_load(text)) for name, text in diff.base_configs()[:3]]
    first = [m.text for m in diff.mutants(bases, 30, 99)]
    assert first == [m.text for m in diff.mutants(bases, 30, 99)]
    assert len(set(first)) > 20


def test_documented_cases_are_in_the_docs():
    doc = (ROOT / "docs" / "otelcol_validate.md").read_text(encoding="utf-8")
    section = doc.split("## Differential testing", 1)[1]
    for rule in diff.STRICTER:
        assert re.search(rf"`{re.escape(rule)}`", section), rule
    for name, *_rest in diff.LENIENT:
        assert name in section, name
