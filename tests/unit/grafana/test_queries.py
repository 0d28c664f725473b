"""tools/dashboards/queries.py: finding every query of a dashboard and substituting Grafana's variables."""

from __future__ import annotations

import pytest

from tools.dashboards.queries import BUILTINS, DEFAULTS, duration_ms, iter_queries, substitute, variables_used

DASHBOARD = {
    "uid": "d",
    "panels": [
        {
            "id": 1,
            "type": "stat",
            "title": "Instant",
            "datasource": {"type": "prometheus", "uid": "prometheus"},
            "targets": [{"refId": "A", "expr": "sum(x)", "instant": True, "range": False}],
        },
        {
            "id": 2,
            "type": "row",
            "title": "Collapsed row",
            "collapsed": True,
            "panels": [
                {
                    "id": 3,
                    "type": "logs",
                    "title": "Logs",
                    "interval": "1m",
                    "datasource": {"type": "loki", "uid": "loki"},
                    "targets": [{"refId": "A", "expr": '{a="b"}', "queryType": "range"}],
                }
            ],
        },
        {
            "id": 4,
            "type": "timeseries",
            "title": "Range",
            "datasource": {"type": "prometheus", "uid": "prometheus"},
            "targets": [
                {"refId": "A", "expr": "rate(x[$__rate_interval])", "range": True, "interval": "1d"},
                {"refId": "B", "expr": "y", "hide": True, "datasource": {"type": "prometheus", "uid": "other"}},
            ],
        },
    ],
}


def test_iter_queries_walks_every_target():
    qs = list(iter_queries(DASHBOARD))
    assert [(q.panel_title, q.ref_id) for q in qs] == [("Instant", "A"), ("Logs", "A"), ("Range", "A"), ("Range", "B")]
    instant, logs, rng, other = qs
    assert instant.instant and instant.datasource_uid == "prometheus" and instant.dashboard_uid == "d"
    assert logs.datasource_type == "loki" and not logs.instant and logs.interval == "1m" and logs.panel_id == 3
    assert not rng.instant and rng.interval == "1d"
    assert other.datasource_uid == "other", "a target's own datasource wins over the panel's"


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('x{user_id=~"$user"}', 'x{user_id=~"alice"}'),
        ('x{user_id=~"${user}"}', 'x{user_id=~"alice"}'),
        ('x{user_id=~"${user:regex}"}', 'x{user_id=~"alice"}'),
        ('x{user_id=~"[[user]]"}', 'x{user_id=~"alice"}'),
        ('x{user_id=~"[[user:csv]]"}', 'x{user_id=~"alice"}'),
        ("increase(x[$__range] anchored)", "increase(x[2h] anchored)"),
        ("rate(x[$__rate_interval])", "rate(x[4m])"),
        ("increase(x[$__interval] anchored)", "increase(x[1m] anchored)"),
        ('count_over_time({a="b"} [$__auto])', 'count_over_time({a="b"} [1m])'),
        ("x / ($__range_s / 86400)", "x / (7200 / 86400)"),
        ("$__range_ms $__interval_ms", "7200000 60000"),
        ('session_id=~"${session}.*"', 'session_id=~".*"'),
    ],
)
def test_substitute(expr, expected):
    assert substitute(expr, {"user": "alice", "__range": "2h"}) == expected


def test_substitute_defaults_are_all():
    assert substitute('x{team=~"$team", model=~"$model", machine_name=~"$machine", terminal_type=~"$terminal"}') == (
        'x{team=~".*", model=~".*", machine_name=~".*", terminal_type=~".*"}'
    )
    assert DEFAULTS["__range"] == "1h"


def test_substitute_unknown_variable_raises():
    with pytest.raises(KeyError, match=r"\$nope"):
        substitute('x{a=~"$nope"}')


def test_variables_used():
    assert variables_used('x{a=~"$team", b=~"${user:regex}", c="[[model]]"}[$__range]') == {
        "team",
        "user",
        "model",
        "__range",
    }
    assert "__rate_interval" in BUILTINS and "__auto" in BUILTINS


@pytest.mark.parametrize(
    ("text", "ms"), [("1h", 3_600_000), ("1h30m", 5_400_000), ("30d", 2_592_000_000), ("500ms", 500)]
)
def test_duration_ms(text, ms):
    assert duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "1x", "h", "5m1"])
def test_duration_ms_rejects(text):
    with pytest.raises(ValueError):
        duration_ms(text)
