"""Every PromQL expression of every dashboard parses in real Prometheus (promtool check rules).

Grafana's variables are substituted first (tools/dashboards/queries.py), for
"All" and for a concrete multi-value selection, short and long ranges; each
expression becomes a recording rule of its own group (named after the
dashboard, panel and query), so promtool's error names the query. Running
every expression on real data is the Molecule scenario's job.
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tools.dashboards.queries import iter_queries, load_dashboards, substitute

SELECTIONS = {
    "all, 1 hour": {"__range": "1h", "__interval": "1m", "__rate_interval": "4m"},
    "two users and a team, 30 days": {
        "__range": "30d",
        "__interval": "1d",
        "__rate_interval": "2d",
        # What Grafana puts in a regex matcher for a multi-value selection.
        "user": "(alice|bob)",
        "team": "platform",
        "model": "claude-opus-5-5",
        "machine": ".*",
        "terminal": "(vscode|ghostty)",
    },
}


def rule_file(tmp_path, exprs: dict[str, str]):
    groups = [
        {"name": name, "rules": [{"record": f"dashboard:query_{i}", "expr": expr}]}
        for i, (name, expr) in enumerate(exprs.items())
    ]
    path = tmp_path / "dashboards.rules.yml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, width=1000), encoding="utf-8")
    return path


def check_rules(promtool: str, path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def all_prometheus_queries():
    return [q for d in load_dashboards().values() for q in iter_queries(d) if q.datasource_type == "prometheus"]


@pytest.mark.binary
@pytest.mark.parametrize("selection", sorted(SELECTIONS))
def test_every_promql_expression_parses(promtool, tmp_path, selection):
    queries = all_prometheus_queries()
    assert len(queries) > 50, "fewer Prometheus queries than the dashboards hold"
    exprs = {
        f"{q.dashboard_uid} / {q.panel_title} / {q.ref_id}": substitute(q.expr, SELECTIONS[selection]) for q in queries
    }
    proc = check_rules(promtool, rule_file(tmp_path, exprs))
    assert proc.returncode == 0, f"promtool check rules ({selection}):\n{proc.stdout}\n{proc.stderr}"
    assert f"SUCCESS: {len(exprs)} rules found" in proc.stdout, proc.stdout


@pytest.mark.binary
def test_variable_queries_name_real_metrics(promtool, tmp_path):
    """label_values(<selector>, label): the selector is valid PromQL and the label a valid name."""
    exprs = {}
    for uid, d in load_dashboards().items():
        for v in d["templating"]["list"]:
            if v["type"] != "query":
                continue
            inner = v["query"].removeprefix("label_values(").removesuffix(")")
            selector, _, label = inner.rpartition(", ")
            assert label.isidentifier(), f"{uid}: variable {v['name']}: label {label!r}"
            exprs[f"{uid} / variable {v['name']}"] = substitute(selector)
    proc = check_rules(promtool, rule_file(tmp_path, exprs))
    assert proc.returncode == 0, f"promtool check rules:\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.binary
def test_a_broken_expression_is_reported(promtool, tmp_path):
    """The check above can fail: promtool names the broken query."""
    exprs = {
        "good": "sum(increase(claude_code_cost_usage_USD_total[1h] anchored))",
        "overview / Broken panel / A": "sum(increase(claude_code_cost_usage_USD_total[1h] anchored)",
    }
    proc = check_rules(promtool, rule_file(tmp_path, exprs))
    assert proc.returncode != 0
    assert "Broken panel" in proc.stdout + proc.stderr
