"""Every query of a Grafana dashboard, and Grafana's variables substituted for tests.

Standard library only: importable without the Foundation SDK, from the unit
tests and from Molecule verifiers alike.

    from tools.dashboards.queries import DASHBOARD_DIR, load_dashboards, iter_queries, substitute

    for dashboard in load_dashboards():              # every JSON file in DASHBOARD_DIR, by uid
        for q in iter_queries(dashboard):            # Query(dashboard_uid, panel_title, ...)
            expr = substitute(q.expr, {"__range": "1h", "user": "alice"})

API
- ``DASHBOARD_DIR``: roles/grafana/files/dashboards, where the generator writes.
- ``load_dashboards(directory=DASHBOARD_DIR) -> dict[str, dict]``: the dashboards by uid.
- ``iter_queries(dashboard) -> Iterator[Query]``: every target of every panel (rows
  and their collapsed panels included), hidden targets too, in panel order. ``Query``
  fields: ``dashboard_uid``, ``panel_id``, ``panel_title``, ``ref_id``,
  ``datasource_type`` ("prometheus" or "loki"), ``datasource_uid``, ``expr``,
  ``instant`` (True for an instant query: evaluated once at the range's end),
  ``interval`` (the panel's or target's minimum interval, "" when none).
- ``substitute(expr, values=None) -> str``: replaces Grafana's variables in every
  syntax Grafana accepts (``$name``, ``${name}``, ``${name:format}``,
  ``[[name]]``, ``[[name:format]]``). ``values`` maps a name (without ``$``) to
  its value; names missing there fall back to ``DEFAULTS`` (``__range`` 1h,
  ``__rate_interval`` 4m, ``__interval`` and ``__auto`` 1m, and "All" (``.*``)
  for the dashboards' own variables). ``__range_s``, ``__range_ms`` and
  ``__interval_ms`` follow the durations given. A format suffix is ignored: the
  value is inserted as given. A name without a value raises ``KeyError``.
- ``variables_used(expr) -> set[str]``: the variable names an expression uses.
- ``BUILTINS``: Grafana's global variables (``__range``, ``__interval``, ...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = ROOT / "roles" / "grafana" / "files" / "dashboards"

# Grafana's global variables (docs: "Global variables"); the ones with a value in
# DEFAULTS are the ones the dashboards may use.
BUILTINS = frozenset(
    {
        "__auto",
        "__dashboard",
        "__from",
        "__interval",
        "__interval_ms",
        "__name",
        "__org",
        "__range",
        "__range_ms",
        "__range_s",
        "__rate_interval",
        "__rate_interval_ms",
        "__timeFilter",
        "__to",
        "__user",
        "timeFilter",
    }
)

# Values used when a test gives none: a one-hour dashboard range, Grafana's
# default step for it, and "All" for every variable the dashboards define.
DEFAULTS: dict[str, str] = {
    "__range": "1h",
    "__rate_interval": "4m",
    "__interval": "1m",
    "__auto": "1m",
    "team": ".*",
    "user": ".*",
    "model": ".*",
    "machine": ".*",
    "terminal": ".*",
    "session": "",
}

# Grafana's own variable pattern (public/app/features/templating/template_srv):
# $name, [[name]] or [[name:format]], ${name}, ${name.field} or ${name:format}.
VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}")

_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000, "y": 31_536_000_000}


@dataclass(frozen=True)
class Query:
    """One target of one panel."""

    dashboard_uid: str
    panel_id: int | None
    panel_title: str
    ref_id: str
    datasource_type: str
    datasource_uid: str
    expr: str
    instant: bool
    interval: str


def load_dashboards(directory: Path | str = DASHBOARD_DIR) -> dict[str, dict]:
    """Every dashboard JSON file of a directory, by uid (sorted by file name)."""
    out: dict[str, dict] = {}
    for path in sorted(Path(directory).glob("*.json")):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        out[dashboard["uid"]] = dashboard
    return out


def _panels(panels: list[dict]) -> Iterator[dict]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels") or [])


def iter_queries(dashboard: Mapping) -> Iterator[Query]:
    """Every query of every panel of a dashboard (a dict as in the JSON file)."""
    uid = dashboard.get("uid", "")
    for panel in _panels(dashboard.get("panels") or []):
        panel_ds = panel.get("datasource") or {}
        for target in panel.get("targets") or []:
            ds = target.get("datasource") or panel_ds
            if "expr" not in target:
                continue
            ds_type = ds.get("type", "")
            if ds_type == "loki":
                instant = target.get("queryType") == "instant" or bool(target.get("instant"))
            else:
                instant = bool(target.get("instant")) and not target.get("range")
            yield Query(
                dashboard_uid=uid,
                panel_id=panel.get("id"),
                panel_title=panel.get("title", ""),
                ref_id=target.get("refId", ""),
                datasource_type=ds_type,
                datasource_uid=ds.get("uid", ""),
                expr=target["expr"],
                instant=instant,
                interval=target.get("interval") or panel.get("interval") or "",
            )


def variables_used(expr: str) -> set[str]:
    """The names of the variables an expression uses (builtins included)."""
    return {m.group(1) or m.group(2) or m.group(4) for m in VARIABLE.finditer(expr)}


def duration_ms(text: str) -> int:
    """A Prometheus-style duration ("1h30m", "5m", "1d") in milliseconds."""
    pos, total = 0, 0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += int(m.group(1)) * _UNIT_MS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"not a duration: {text!r}")
    return total


def substitute(expr: str, values: Mapping[str, str] | None = None) -> str:
    """The expression with every Grafana variable replaced by its value (see the module docstring)."""
    merged = {**DEFAULTS, **(values or {})}
    for name in ("__range", "__interval", "__rate_interval"):
        if name in merged:
            ms = duration_ms(merged[name])
            merged.setdefault(f"{name}_ms", str(ms))
            if name == "__range":
                merged.setdefault("__range_s", str(ms // 1000))

    def replace(m: re.Match) -> str:
        name = m.group(1) or m.group(2) or m.group(4)
        if name not in merged:
            raise KeyError(f"no value for variable ${name} in {expr!r}")
        return merged[name]

    return VARIABLE.sub(replace, expr)
