"""The dashboards section of roles/grafana/README.md, written from the dashboard JSON (standard library only).

Only the text between the two markers belongs to the generator; the rest of
the README is written by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from .queries import ROOT

README = ROOT / "roles" / "grafana" / "README.md"
START = "<!-- dashboards:start -->"
END = "<!-- dashboards:end -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _panels(dashboard: Mapping) -> Iterable[Mapping]:
    for panel in dashboard.get("panels") or []:
        yield panel
        yield from panel.get("panels") or []


def block(dashboards: Iterable[Mapping]) -> str:
    """The Markdown between the markers (markers excluded), ending in a newline."""
    lines = [
        "<!-- Written by `python -m tools.dashboards` from the dashboards' JSON; do not edit by hand. -->",
        "",
        "## Dashboards",
        "",
        "Written with Grafana's Foundation SDK by `tools/dashboards` (regenerate: `python -m tools.dashboards`).",
        "Each file in `files/dashboards/` can also be imported by hand: datasources are referenced by uid",
        "(`prometheus`, `loki`), without import inputs. Tag `claude-code`; every dashboard links to the others,",
        "keeping the time range and the variables. Variables are multi-select with All (`.*`, which also matches",
        "series without the label). Money and counts over a range are exact (`increase(...[range] anchored)`,",
        "see docs/exact-spend.md); the spend is the client's estimate, not the invoice.",
        "",
    ]
    for d in dashboards:
        variables = ", ".join(v["name"] for v in d.get("templating", {}).get("list", []))
        lines += [
            f"### {d['title']} (`{d['uid']}`)",
            "",
            f"{_cell(d.get('description', ''))} Default range: {d['time']['from']} to {d['time']['to']}; "
            f"variables: {variables}.",
            "",
            "| Panel | What it shows and what to do |",
            "|---|---|",
        ]
        for p in _panels(d):
            if p.get("type") == "row":
                lines.append(f"| **{_cell(p['title'])}** | |")
            else:
                lines.append(f"| {_cell(p['title'])} | {_cell(p.get('description', ''))} |")
        lines.append("")
    return "\n".join(lines)


def splice(text: str, new_block: str) -> str:
    """The README text with the block between the markers replaced (markers appended when missing)."""
    if START not in text or END not in text:
        sep = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        return f"{text}{sep}{START}\n{new_block}{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{new_block}{END}{tail}"


def current_block(path: Path = README) -> str | None:
    """The block now in the README, or None when the file or a marker is missing."""
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return None
    return text.split(START, 1)[1].split(END, 1)[0].removeprefix("\n")
