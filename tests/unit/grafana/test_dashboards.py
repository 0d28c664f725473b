"""The grafana role's dashboards: generated, importable, consistent, and every query following the rules.

The committed JSON (roles/grafana/files/dashboards) and the README section are
what the generator (tools/dashboards, Grafana's Foundation SDK) writes now;
each dashboard round-trips through the SDK's model unchanged; every panel
uses a datasource the role provisions and variables the dashboard defines;
every PromQL expression follows docs/exact-spend.md (anchored increase over
a range, never a raw counter).
"""

from __future__ import annotations

import json
import re

import pytest

from tools.dashboards import generate, readme
from tools.dashboards.queries import BUILTINS, DASHBOARD_DIR, iter_queries, variables_used

PROVISIONED_UIDS = {"prometheus", "loki"}
EXPECTED_UIDS = (
    "claude-code-overview",
    "claude-code-cost",
    "claude-code-productivity",
    "claude-code-api-tools",
    "claude-code-events",
)
REGENERATE = f"out of date: regenerate with `{generate.REGENERATE}` and commit the result"


def panels(dashboard: dict):
    for p in dashboard.get("panels", []):
        yield p
        yield from p.get("panels", [])


def variable_names(dashboard: dict) -> set[str]:
    return {v["name"] for v in dashboard.get("templating", {}).get("list", [])}


# ------------------------------ Generated ---------------------------------


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return generate.render()


def test_committed_json_is_what_the_generator_writes(rendered):
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in DASHBOARD_DIR.glob("*.json")}
    assert sorted(on_disk) == sorted(rendered), f"dashboard files differ from the generator's: {REGENERATE}"
    stale = [name for name, text in rendered.items() if on_disk[name] != text]
    assert not stale, f"{', '.join(stale)}: {REGENERATE}"


def test_json_is_stable_and_pretty(rendered):
    assert generate.render() == rendered, "two runs of the generator differ"
    for name, text in rendered.items():
        data = json.loads(text)
        assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", name


def test_readme_section_is_current(rendered):
    block = readme.current_block()
    assert block is not None, (
        f"{readme.README}: the markers {readme.START} / {readme.END} are missing; run `{generate.REGENERATE}`"
    )
    assert block == generate.readme_block(rendered), f"{readme.README} dashboards section {REGENERATE}"


def test_readme_lists_every_dashboard_and_panel(dashboards):
    block = readme.current_block() or ""
    for d in dashboards.values():
        assert f"`{d['uid']}`" in block
        for p in panels(d):
            assert readme._cell(p["title"]) in block, f"{d['uid']}: panel {p['title']!r} not in the README"


def test_every_dashboard_round_trips_through_the_sdk_model():
    from grafana_foundation_sdk.cog import plugins
    from grafana_foundation_sdk.models.dashboard import Dashboard

    plugins.register_default_plugins()
    for path in sorted(DASHBOARD_DIR.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        model = Dashboard.from_json(json.loads(text))
        assert generate.to_json(model) == text, f"{path.name}: changes when loaded into the SDK's Dashboard model"


# ------------------------------ Structure ---------------------------------


def test_uids_stable_and_unique(dashboards):
    assert sorted(dashboards) == sorted(EXPECTED_UIDS)
    for uid in dashboards:
        assert (DASHBOARD_DIR / f"{uid}.json").is_file(), f"{uid}: the file is not named after its uid"
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid), f"{uid}: not a valid Grafana uid"
    titles = [d["title"] for d in dashboards.values()]
    assert len(set(titles)) == len(titles), "dashboard titles must differ (Grafana refuses duplicates in a folder)"


def test_importable_by_hand(dashboards):
    for uid, d in dashboards.items():
        text = json.dumps(d)
        assert "${DS_" not in text and "__inputs" not in d, f"{uid}: import inputs instead of datasource uids"
        assert d.get("id") is None, f"{uid}: a numeric id pins the dashboard to one Grafana instance"
        assert d["schemaVersion"] >= 39, f"{uid}: schemaVersion below Grafana 11's"
        assert "claude-code" in d["tags"]


def test_panel_datasources_are_provisioned(dashboards):
    for uid, d in dashboards.items():
        for p in panels(d):
            if p["type"] == "row":
                continue
            refs = [p.get("datasource")] + [t.get("datasource") for t in p.get("targets", [])]
            for ref in refs:
                assert ref and ref.get("uid") in PROVISIONED_UIDS, f"{uid}/{p['title']}: datasource {ref}"
                assert ref["type"] == ref["uid"], f"{uid}/{p['title']}: type {ref['type']} for uid {ref['uid']}"
        for v in d["templating"]["list"]:
            if "datasource" in v:
                assert v["datasource"]["uid"] in PROVISIONED_UIDS, f"{uid}: variable {v['name']}"


def test_every_panel_has_a_description_and_a_query(dashboards):
    for uid, d in dashboards.items():
        for p in panels(d):
            if p["type"] == "row":
                continue
            assert p.get("title", "").strip(), f"{uid}: panel {p.get('id')} has no title"
            desc = p.get("description", "").strip()
            assert len(desc) >= 40, f"{uid}/{p['title']}: description too short to act on: {desc!r}"
            assert p.get("targets"), f"{uid}/{p['title']}: no query"
            assert {t["refId"] for t in p["targets"]} == {chr(65 + i) for i in range(len(p["targets"]))}, (
                f"{uid}/{p['title']}: refIds must be A, B, C..."
            )


def test_panels_have_units(dashboards):
    for uid, d in dashboards.items():
        for p in panels(d):
            if p["type"] in ("row", "logs", "table"):
                continue
            unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
            assert unit in {"currencyUSD", "percentunit", "ms", "s", "short"}, f"{uid}/{p['title']}: unit {unit}"


def test_layout(dashboards):
    """Ids unique, panels inside the 24-column grid, no two overlapping."""
    for uid, d in dashboards.items():
        ids = [p["id"] for p in panels(d)]
        assert len(ids) == len(set(ids)), f"{uid}: duplicate panel ids"
        boxes = []
        for p in panels(d):
            g = p["gridPos"]
            assert g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24, f"{uid}/{p['title']}: outside the grid"
            for other, og in boxes:
                overlap = (
                    g["x"] < og["x"] + og["w"]
                    and og["x"] < g["x"] + g["w"]
                    and g["y"] < og["y"] + og["h"]
                    and og["y"] < g["y"] + g["h"]
                )
                assert not overlap, f"{uid}: {p['title']!r} overlaps {other!r}"
            boxes.append((p["title"], g))


# ------------------------------ Variables ---------------------------------


def test_variables(dashboards):
    for uid, d in dashboards.items():
        for v in d["templating"]["list"]:
            if v["type"] != "query":
                continue
            assert v["multi"] and v["includeAll"], f"{uid}: variable {v['name']} must be multi with All"
            assert v["allValue"] == ".*", f"{uid}: variable {v['name']}: All must match series without the label"
            assert v["query"].startswith("label_values("), f"{uid}: variable {v['name']}"
        expected = {"team", "user", "machine", "terminal"} | ({"model"} if uid != "claude-code-productivity" else set())
        assert expected <= variable_names(d), f"{uid}: variables {sorted(expected - variable_names(d))} missing"


def test_every_variable_used_is_defined(dashboards):
    for uid, d in dashboards.items():
        defined = variable_names(d)
        for q in iter_queries(d):
            undefined = variables_used(q.expr) - defined - BUILTINS
            assert not undefined, f"{uid}/{q.panel_title}/{q.ref_id}: undefined variables {sorted(undefined)}"
        for i, v in enumerate(d["templating"]["list"]):
            query = v.get("query") if isinstance(v.get("query"), str) else ""
            earlier = {w["name"] for w in d["templating"]["list"][:i]}
            undefined = variables_used(query) - earlier - BUILTINS
            assert not undefined, f"{uid}: variable {v['name']} uses {sorted(undefined)}, not defined before it"


def test_every_variable_defined_is_used(dashboards):
    """No filter on a dashboard that filters nothing."""
    for uid, d in dashboards.items():
        used = set().union(*(variables_used(q.expr) for q in iter_queries(d)))
        unused = variable_names(d) - used
        assert not unused, f"{uid}: variables {sorted(unused)} are used by no panel"


# ---------------------------- PromQL rules --------------------------------

# Counters: every one of them only inside an anchored increase() (or a bucket inside rate() for quantiles).
COUNTER = re.compile(r"\bclaude_code_\w+")
ANCHORED = re.compile(r"increase\((claude_code_\w+)\{[^}]*\}\[([^\]]+)\] anchored\)")
RATE_BUCKET = re.compile(r"rate\((claude_code_\w+_bucket)\{[^}]*\}\[\$__rate_interval\]\)")
SELECTOR = re.compile(r"\b(claude_code_\w+)\{([^}]*)\}")
WITH_MODEL = ("claude_code_cost_usage", "claude_code_token_usage", "claude_code_api_")
# Panels that leave the model filter out on purpose: a budget counts all of a team's or user's spend.
BUDGET_PANELS = {"Teams against their daily budget", "Users against the daily budget"}


def prometheus_queries(dashboards):
    return [q for d in dashboards.values() for q in iter_queries(d) if q.datasource_type == "prometheus"]


def test_counters_only_in_anchored_increase(dashboards):
    for q in prometheus_queries(dashboards):
        where = f"{q.dashboard_uid}/{q.panel_title}/{q.ref_id}"
        allowed = {m.start(1) for m in ANCHORED.finditer(q.expr)} | {m.start(1) for m in RATE_BUCKET.finditer(q.expr)}
        for m in COUNTER.finditer(q.expr):
            assert m.start() in allowed, f"{where}: {m.group()} outside increase(...[range] anchored): {q.expr}"
        assert COUNTER.search(q.expr) or "claude_code:daily_budget_usd" in q.expr, f"{where}: no Claude Code series"


def test_ranges_match_the_query_kind(dashboards):
    """Instant queries cover the dashboard's range (or a budget day/week/month); range queries one interval."""
    for q in prometheus_queries(dashboards):
        windows = {m.group(2) for m in ANCHORED.finditer(q.expr)}
        where = f"{q.dashboard_uid}/{q.panel_title}/{q.ref_id}"
        if q.instant:
            assert windows <= {"$__range", "1d", "7d", "30d"}, f"{where}: instant query over {windows}"
            assert "$__rate_interval" not in q.expr, where
        else:
            assert windows <= {"$__interval"}, f"{where}: range query over {windows}"


def test_filters_follow_the_variables(dashboards):
    for d in dashboards.values():
        defined = variable_names(d)
        for q in iter_queries(d):
            if q.datasource_type != "prometheus":
                continue
            for metric, matchers in SELECTOR.findall(q.expr):
                where = f"{q.dashboard_uid}/{q.panel_title}/{q.ref_id}: {metric}"
                assert 'team=~"$team"' in matchers, f"{where} ignores the team variable"
                if q.panel_title in BUDGET_PANELS:
                    continue
                for label, var in (("user_id", "user"), ("machine_name", "machine"), ("terminal_type", "terminal")):
                    assert f'{label}=~"${var}"' in matchers, f"{where} ignores the {var} variable"
                if "model" in defined and metric.startswith(WITH_MODEL):
                    assert 'model=~"$model"' in matchers, f"{where} ignores the model variable"
                if not metric.startswith(WITH_MODEL):
                    assert "model=" not in matchers, f"{where} has no model label"


def test_range_queries_have_a_bar_per_interval_or_a_rate(dashboards):
    """Time series panels: increase per $__interval (bars add up to the range) or quantiles over rate()."""
    for d in dashboards.values():
        for p in panels(d):
            if p["type"] != "timeseries" or p["datasource"]["uid"] != "prometheus":
                continue
            for t in p["targets"]:
                assert not t.get("instant"), f"{d['uid']}/{p['title']}: instant query in a time series"


def test_daily_panels_use_one_day_bars(dashboards):
    cost = dashboards["claude-code-cost"]
    daily = [p for p in panels(cost) if p["title"].startswith("Daily spend") and p["type"] == "timeseries"]
    assert len(daily) == 3
    for p in daily:
        assert p["interval"] == "1d", p["title"]
        assert p["fieldConfig"]["defaults"]["custom"]["drawStyle"] == "bars", p["title"]


def test_active_time_uses_both_metric_names(dashboards):
    exprs = [q.expr for q in iter_queries(dashboards["claude-code-productivity"])]
    both = [
        e
        for e in exprs
        if "claude_code_active_time_seconds_total" in e and "claude_code_active_time_total_seconds_total" in e
    ]
    assert both and all(" or " in e for e in both)
    assert not [e for e in exprs if "active_time" in e and e not in both]


def test_budget_panels_use_the_recording_rule(dashboards):
    exprs = [q.expr for q in iter_queries(dashboards["claude-code-overview"])]
    budgets = [e for e in exprs if "claude_code:daily_budget_usd" in e]
    assert any('scope="fleet"' in e and "7 *" in e for e in budgets)
    assert any('scope="fleet"' in e and "30 *" in e for e in budgets)
    assert any('scope="team"' in e for e in budgets) and any('scope="user"' in e for e in budgets)
