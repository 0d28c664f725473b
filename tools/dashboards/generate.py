#!/usr/bin/env python3
"""Write the Claude Code dashboards as JSON into roles/grafana/files/dashboards, and their README section.

    python -m tools.dashboards [--check] [--out DIR] [--readme FILE]

Each dashboard is built with Grafana's Foundation SDK and written as
``<uid>.json``: sorted keys, two-space indent, a final newline, so the output
is stable and diffs stay readable. JSON files in the directory that no
dashboard writes are removed (a dashboard the collection drops disappears).
The README block between ``<!-- dashboards:start -->`` and
``<!-- dashboards:end -->`` lists every dashboard and panel.

``--check`` writes nothing and exits 1 when a file differs from what would
be written (the unit tests use the same comparison).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: tools/dashboards/generate.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from tools.dashboards import api_tools, cost, events, overview, productivity, readme
from tools.dashboards.queries import DASHBOARD_DIR

MODULES = (overview, cost, productivity, api_tools, events)
REGENERATE = "python -m tools.dashboards"


def to_json(obj) -> str:
    """Stable JSON text of an SDK object or a plain dict."""
    plain = json.loads(json.dumps(obj, cls=JSONEncoder))
    return json.dumps(plain, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render() -> dict[str, str]:
    """File name -> JSON text of every dashboard, in dashboard order."""
    out = {}
    for module in MODULES:
        model = module.build().build()
        if model.uid != module.UID:
            raise ValueError(f"{module.__name__}: uid {model.uid!r} != {module.UID!r}")
        out[f"{model.uid}.json"] = to_json(model)
    return out


def readme_block(files: dict[str, str]) -> str:
    return readme.block(json.loads(text) for text in files.values())


def differences(out_dir: Path = DASHBOARD_DIR, readme_path: Path = readme.README) -> list[str]:
    """What is out of date on disk, one line per file."""
    files = render()
    problems = []
    for name, text in files.items():
        path = out_dir / name
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path}: differs from what the generator writes")
    for path in sorted(out_dir.glob("*.json")):
        if path.name not in files:
            problems.append(f"{path}: no dashboard writes it")
    if readme.current_block(readme_path) != readme_block(files):
        problems.append(f"{readme_path}: dashboards section out of date")
    return problems


def write(out_dir: Path = DASHBOARD_DIR, readme_path: Path = readme.README) -> list[str]:
    """Write every file that differs; return what changed."""
    files = render()
    out_dir.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in files.items():
        path = out_dir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(f"wrote {path}")
    for path in sorted(out_dir.glob("*.json")):
        if path.name not in files:
            path.unlink()
            changed.append(f"removed {path}")
    old = readme_path.read_text(encoding="utf-8") if readme_path.is_file() else ""
    new = readme.splice(old, readme_block(files))
    if new != old:
        readme_path.parent.mkdir(parents=True, exist_ok=True)
        readme_path.write_text(new, encoding="utf-8")
        changed.append(f"wrote {readme_path} (dashboards section)")
    return changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is out of date")
    ap.add_argument("--out", type=Path, default=DASHBOARD_DIR, help="dashboard directory (default: %(default)s)")
    ap.add_argument("--readme", type=Path, default=readme.README, help="README to update (default: %(default)s)")
    args = ap.parse_args(argv)
    if args.check:
        problems = differences(args.out, args.readme)
        for p in problems:
            print(p)
        if problems:
            print(f"regenerate with: {REGENERATE}")
        return 1 if problems else 0
    for line in write(args.out, args.readme):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
