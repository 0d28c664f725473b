"""The prometheus role's alert rules, checked and unit-tested by the real promtool.

The template is rendered with the role's defaults (render_rules.py), then
`promtool check rules` and `promtool test rules` run on it with the test files
of this directory (*.test.yml). CM_PROMTOOL_BIN names the promtool binary
(scripts/test sets it); without it the test fails rather than skip.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("_prometheus_render_rules", HERE / "render_rules.py")
render_rules = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = render_rules
_spec.loader.exec_module(render_rules)
TEST_FILES = sorted(HERE.glob("*.test.yml"))
RULES = "claude_code.rules.yml"


@pytest.fixture(scope="module")
def promtool():
    path = os.environ.get("CM_PROMTOOL_BIN", "")
    if not path:
        pytest.fail("CM_PROMTOOL_BIN is not set: it must name the promtool built by tests/platform/binaries.sh")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"CM_PROMTOOL_BIN={path} is not an executable file")
    return path


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("rules")
    (d / RULES).write_text(render_rules.render(), encoding="utf-8")
    for f in TEST_FILES:
        shutil.copy(f, d / f.name)
    return d


def run(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def alert_names(text):
    return {r["alert"] for g in yaml.safe_load(text)["groups"] for r in g["rules"] if "alert" in r}


@pytest.mark.binary
def test_rules_pass_promtool_check(promtool, rules_dir):
    out = run([promtool, "check", "rules", RULES], rules_dir)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.binary
@pytest.mark.parametrize("test_file", [f.name for f in TEST_FILES])
def test_rule_unit_tests(promtool, rules_dir, test_file):
    out = run([promtool, "test", "rules", test_file], rules_dir)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_alert_is_unit_tested():
    tested = set()
    for f in TEST_FILES:
        for case in yaml.safe_load(f.read_text(encoding="utf-8")).get("tests", []):
            for a in case.get("alert_rule_test", []):
                if a.get("exp_alerts"):
                    tested.add(a["alertname"])
    missing = alert_names(render_rules.render()) - tested
    assert not missing, f"alerts without a unit test that fires them: {sorted(missing)}"


def test_every_alert_is_ready_for_alertmanager():
    for group in yaml.safe_load(render_rules.render())["groups"]:
        for rule in (r for r in group["rules"] if "alert" in r):
            assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
            for key in ("summary", "description", "runbook"):
                assert rule["annotations"].get(key), f"{rule['alert']}: no {key}"


def test_thresholds_and_switches_come_from_variables():
    text = render_rules.render(
        {
            "prometheus_alert_fleet_daily_budget_usd": 0,
            "prometheus_alert_user_daily_budget_usd": 12.5,
            "prometheus_alert_team_daily_budgets_usd": {"platform": 500, "data.science": 80},
            "prometheus_alert_labels": {"route": "finops"},
            "prometheus_alert_runbook_base_url": "https://runbooks.example.org/claude",
        }
    )
    names = alert_names(text)
    assert "ClaudeCodeFleetDailySpendOverBudget" not in names
    rules = [r for g in yaml.safe_load(text)["groups"] for r in g["rules"] if "alert" in r]
    user = next(r for r in rules if r["alert"] == "ClaudeCodeUserDailySpendOverBudget")
    assert user["expr"].endswith("> 12.5")
    team = [r["expr"] for r in rules if r["alert"] == "ClaudeCodeTeamDailySpendOverBudget"]
    assert len(team) == 3
    assert any("team!~`data\\.science|platform`" in e for e in team)
    assert any('team="platform"' in e and e.endswith("> 500") for e in team)
    assert all(r["labels"]["route"] == "finops" for r in rules)
    assert all(r["annotations"]["runbook_url"].startswith("https://runbooks.example.org/claude#") for r in rules)


@pytest.mark.binary
def test_rendered_variants_pass_promtool_check(promtool, tmp_path):
    text = render_rules.render(
        {
            "prometheus_alert_team_daily_budgets_usd": {"platform": 500, "data.science": 80},
            "prometheus_alert_labels": {"route": "finops"},
            "prometheus__storage_capacity_bytes": 0,
        }
    )
    (tmp_path / RULES).write_text(text, encoding="utf-8")
    out = run([promtool, "check", "rules", RULES], tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PrometheusStorageFilling" not in alert_names(text)
