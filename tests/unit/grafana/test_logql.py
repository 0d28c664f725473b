"""Every LogQL expression parses with Grafana's own grammar and names only fields the collector sends.

The grammar is npm @grafana/lezer-logql (Apache-2.0), the parser of Grafana's
Loki query editor, run by parse_logql.cjs under Node; a parse tree with any
error node fails, with the position. Variables are substituted first
(tools/dashboards/queries.py). Label and field names must be among those the
shared design lists for Claude Code's events in Loki (checked against the
records the Loki stand-in really receives in the Molecule scenario), and
nothing that carries prompt content may be shown.
"""

from __future__ import annotations

import re

import pytest

from tools.dashboards.queries import iter_queries, load_dashboards, substitute

# Loki's names of the event attributes the dashboards may use (dots become
# underscores), plus the stream label.
KNOWN_FIELDS = {
    "service_name",
    "event_name",
    "model",
    "cost_usd",
    "duration_ms",
    "status_code",
    "tool_name",
    "success",
    "session_id",
    "user_id",
    "team",
    "machine_name",
    "terminal_type",
    "prompt_id",
}
# Attributes that carry what people typed or what tools received: never shown.
CONTENT = {"prompt", "prompt_text", "response", "tool_parameters", "tool_input"}
# Where an Identifier names a label or field (not a function or a unit).
LABEL_PARENTS = {
    "Matcher",
    "KeepLabel",
    "DropLabel",
    "Labels",
    "UnwrapExpr",
    "LabelFormatMatcher",
    "LabelExtractionExpression",
}
TEMPLATE_FIELD = re.compile(r"\{\{-?\s*\.(\w+)")

SELECTIONS = (
    {},
    {"user": "(alice|bob)", "team": "platform", "session": "5d7f2a4e-0c1b-4f7e-9a37-0c6d2b7b1c11", "__auto": "5m"},
)


def loki_queries():
    return [q for d in load_dashboards().values() for q in iter_queries(d) if q.datasource_type == "loki"]


def describe(expr: str, errors: list[dict]) -> str:
    lines = []
    for e in errors:
        lines += [
            f"  error node at {e['from']}-{e['to']} near {e['context']!r}",
            f"    {expr}",
            "    " + " " * e["from"] + "^",
        ]
    return "\n".join(lines)


def parse_errors(results: list[dict], exprs: list[str], names: list[str]) -> list[str]:
    return [
        f"{name}:\n{describe(expr, r['errors'])}"
        for name, expr, r in zip(names, exprs, results, strict=True)
        if r["errors"]
    ]


@pytest.mark.parametrize("selection", range(len(SELECTIONS)), ids=["all", "selection"])
def test_every_logql_expression_parses(parse_logql, selection):
    queries = loki_queries()
    assert len(queries) >= 4
    exprs = [substitute(q.expr, SELECTIONS[selection]) for q in queries]
    names = [f"{q.dashboard_uid} / {q.panel_title} / {q.ref_id}" for q in queries]
    failures = parse_errors(parse_logql(exprs), exprs, names)
    assert not failures, "LogQL that Grafana's grammar rejects:\n" + "\n".join(failures)


def test_logql_names_only_known_fields(parse_logql):
    queries = loki_queries()
    results = parse_logql([substitute(q.expr) for q in queries])
    for q, r in zip(queries, results, strict=True):
        where = f"{q.dashboard_uid}/{q.panel_title}/{q.ref_id}"
        names = {i["name"] for i in r["identifiers"] if i["parent"] in LABEL_PARENTS}
        assert names, f"{where}: no label found in the parse tree"
        fields = {f for s in r["strings"] if s["parent"] == "LineFormatExpr" for f in TEMPLATE_FIELD.findall(s["text"])}
        unknown = (names | fields) - KNOWN_FIELDS
        assert not unknown, f"{where}: names {sorted(unknown)} that Claude Code's events in Loki do not carry"
        assert not (names | fields) & CONTENT, f"{where}: shows prompt content"


def test_log_panels_show_no_prompt_content():
    """Every panel that shows lines keeps an explicit list of fields (LogQL keep), without content fields."""
    for q in loki_queries():
        if q.expr.startswith(("sum", "count", "rate")):
            continue
        keep = re.search(r"\| keep ([\w, ]+)", q.expr)
        assert keep, f"{q.dashboard_uid}/{q.panel_title}: log lines without `| keep`"
        kept = {f.strip() for f in keep.group(1).split(",")}
        assert kept <= KNOWN_FIELDS and not kept & CONTENT, f"{q.panel_title}: keeps {sorted(kept)}"
        assert q.expr.startswith('{service_name="claude-code"}'), q.expr


def test_a_broken_expression_is_reported(parse_logql):
    """The parse check can fail: an error node and its position are reported."""
    broken = [
        '{service_name="claude-code"} | event_name=',
        'sum by (event_name) (count_over_time({service_name="claude-code"} | [5m]))',
        '{service_name="claude-code"} | event_name="api_request" | line_format',
    ]
    results = parse_logql(broken)
    for expr, r in zip(broken, results, strict=True):
        assert r["errors"], f"not reported: {expr}"
        assert 0 <= r["errors"][0]["from"] <= len(expr)
    message = "\n".join(parse_errors(results, broken, ["broken"] * len(broken)))
    assert "error node at" in message and "^" in message


def test_variables_left_unsubstituted_are_errors(parse_logql):
    """Why variables are substituted first: Grafana's grammar does not read `$__auto` as a duration."""
    (r,) = parse_logql(['count_over_time({service_name="claude-code"} [$__auto])'])
    assert r["errors"]
