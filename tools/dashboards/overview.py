"""Claude Code / Overview: spend against the budgets, activity, tokens, models, top users and teams."""

from __future__ import annotations

from .panels import (
    ALL_VARIABLES,
    BAD_HIGH,
    GOOD_HIGH,
    Column,
    Layout,
    bargauge_panel,
    new_dashboard,
    piechart_panel,
    prom,
    query_variables,
    stat_panel,
    table_panel,
    timeseries_panel,
)
from .promql import COST, SESSIONS, TOKENS, budget, inc, total

UID = "claude-code-overview"

SPEND_NOTE = (
    "Exact: the increase of the client's cost counter with the anchored modifier, so sessions that exported once "
    "count in full (docs/exact-spend.md). Client-side estimate, not the invoice."
)


def _spend_stat(days: int, label: str):
    window = f"{days}d"
    spend = total(COST, window, model=True)
    share = f"{spend} / ({days} * max({budget('fleet')}))" if days > 1 else f"{spend} / max({budget('fleet')})"
    times = "" if days == 1 else f", times {days},"
    return stat_panel(
        f"Spend, {label}",
        f"USD spent in the {label} before the end of the selected range, with the filters above. 'Of fleet budget' "
        f"compares it with the fleet's daily budget of the alert rules{times} "
        "(prometheus_alert_fleet_daily_budget_usd; empty when that budget is 0). Orange from 80 %, red over the "
        "budget: open the Cost dashboard to find the team, user or model behind it. " + SPEND_NOTE,
        [prom(spend, "A", "Spend", instant=True), prom(share, "B", "Of fleet budget", instant=True)],
        "currencyUSD",
        decimals=2,
        overrides=[("B", {"unit": "percentunit", "steps": BAD_HIGH, "decimals": 0})],
    )


def _budget_columns(spend, daily_budget, label):
    """Spend of the last 24 hours, the daily budget and the share of it, per `label`."""
    return [
        Column("A", spend, "Spend (24 h)", "currencyUSD", decimals=2),
        Column("B", daily_budget, "Daily budget", "currencyUSD", decimals=2),
        Column(
            "C",
            f"{spend} / on ({label}) ({daily_budget})",
            "Of budget",
            "percentunit",
            BAD_HIGH,
            gauge=True,
            max_value=1,
        ),
    ]


def _team_budget_table():
    spend = total(COST, "1d", 'team!=""', 'team=~"$team"', by="team", filters=False)
    explicit_budgets = budget("team", 'team!=""', 'team=~"$team"')
    default_budget = budget("team", 'team=""')
    explicit = f"max by (team) ({explicit_budgets})"
    default = f"0 * {spend} + on () group_left () max({default_budget})"
    team_budget = f"(({explicit}) or on (team) ({default})) and on (team) {spend}"
    return table_panel(
        "Teams against their daily budget",
        "Each team's spend in the 24 hours before the end of the selected range against its daily budget: the "
        "team's own entry in prometheus_alert_team_daily_budgets_usd, else prometheus_alert_team_daily_budget_usd; "
        "no budget column when neither is set. Only the team filter applies, because the alert counts all of a "
        "team's spend. A team over 100 % fires ClaudeCodeTeamDailySpendOverBudget; break it down by user and model "
        "on the Cost dashboard.",
        [("team", "Team")],
        _budget_columns(spend, team_budget, "team"),
        sort_by="Spend (24 h)",
    )


def _user_budget_table():
    spend = total(COST, "1d", 'user_id!=""', 'team=~"$team"', 'user_id=~"$user"', by="user_id", filters=False)
    user_budget = f"0 * {spend} + on () group_left () max({budget('user')})"
    return table_panel(
        "Users against the daily budget",
        "Each user's spend in the 24 hours before the end of the selected range against the per-user daily budget "
        "(prometheus_alert_user_daily_budget_usd; no budget column when it is 0). Only the team and user filters "
        "apply. A user over 100 % fires ClaudeCodeUserDailySpendOverBudget: parallel or runaway agent sessions are "
        "the usual cause; look at the user's sessions on the Events dashboard.",
        [("user_id", "User")],
        _budget_columns(spend, user_budget, "user_id"),
        sort_by="Spend (24 h)",
    )


def build():
    d = new_dashboard(
        UID,
        "Claude Code / Overview",
        "Claude Code spend against the alert budgets, activity, tokens, models, top users and teams.",
        ["overview"],
        "now-7d",
        "5m",
    )
    for v in query_variables(ALL_VARIABLES):
        d = d.with_variable(v)
    layout = Layout(d)

    layout.row("Spend against the budgets")
    layout.add(_spend_stat(1, "last 24 hours"), 8, 5)
    layout.add(_spend_stat(7, "last 7 days"), 8, 5)
    layout.add(_spend_stat(30, "last 30 days"), 8, 5)
    layout.add(_team_budget_table(), 12, 8)
    layout.add(_user_budget_table(), 12, 8)

    layout.row("Activity in the selected range")
    active_users = f"count(sum by (user_id) ({inc(COST, '$__range', model=True)}) > 0)"
    layout.add(
        stat_panel(
            "Active users",
            "Users with any spend in the selected range (filters applied). Fewer than expected: check that the "
            "clients have telemetry enabled (claude_code role) and that ClaudeCodeSilentMeter is quiet.",
            [prom(active_users, instant=True)],
            "short",
            decimals=0,
        ),
        4,
        4,
    )
    layout.add(
        stat_panel(
            "Sessions started",
            "Claude Code sessions started in the selected range (claude_code_session_count_total; new, resumed "
            "and continued sessions count each time they start).",
            [prom(total(SESSIONS, "$__range"), instant=True)],
            "short",
            decimals=0,
        ),
        4,
        4,
    )
    layout.add(
        stat_panel(
            "Sessions with spend",
            "Distinct sessions that spent anything in the selected range, including sessions started before it. "
            "Needs session ids on the metrics (OTEL_METRICS_INCLUDE_SESSION_ID, on by default): without them every "
            "user counts as one session.",
            [prom(f"count(sum by (session_id) ({inc(COST, '$__range', model=True)}) > 0)", instant=True)],
            "short",
            decimals=0,
        ),
        4,
        4,
    )
    layout.add(
        stat_panel(
            "Spend",
            "USD spent in the selected range with the filters above. " + SPEND_NOTE,
            [prom(total(COST, "$__range", model=True), instant=True)],
            "currencyUSD",
            decimals=2,
        ),
        4,
        4,
    )
    layout.add(
        stat_panel(
            "Tokens",
            "All tokens in the selected range: input, output, cache reads and cache creation. The split is in "
            "'Tokens by type'.",
            [prom(total(TOKENS, "$__range", model=True), instant=True)],
            "short",
        ),
        4,
        4,
    )
    cache_read = total(TOKENS, "$__range", 'type="cacheRead"', model=True)
    prompt_side = total(TOKENS, "$__range", 'type=~"input|cacheRead|cacheCreation"', model=True)
    layout.add(
        stat_panel(
            "Cache hit rate",
            "Share of prompt tokens read from the prompt cache: cacheRead / (input + cacheRead + cacheCreation). "
            "Cache reads cost a fraction of fresh input; a low rate means short sessions, frequent context changes "
            "or a cache that expires between requests.",
            [prom(f"{cache_read} / {prompt_side}", instant=True)],
            "percentunit",
            decimals=0,
            steps=GOOD_HIGH,
        ),
        4,
        4,
    )

    layout.row("Usage")
    layout.add(
        timeseries_panel(
            "Tokens by type",
            "Tokens per interval by type (input, output, cacheRead, cacheCreation); each bar is the exact "
            "increase in its interval. A jump in input or cacheCreation with few cacheRead means contexts are "
            "rebuilt instead of reused.",
            [prom(f"sum by (type) ({inc(TOKENS, '$__interval', model=True)})", legend="{{type}}")],
            "short",
            bars=True,
            stacked=True,
        ),
        12,
        9,
    )
    layout.add(
        piechart_panel(
            "Spend by model",
            "Share of the spend in the selected range per model. A large share of the most expensive model for "
            "routine work is the first place to save: see cost per million tokens on the Cost dashboard.",
            [prom(f"sum by (model) ({inc(COST, '$__range', model=True)})", legend="{{model}}", instant=True)],
            "currencyUSD",
        ),
        12,
        9,
    )
    layout.add(
        bargauge_panel(
            "Top users by spend",
            "The ten users who spent most in the selected range. Compare with the per-user budget above; select "
            "a user in the filter to see their models and sessions.",
            [
                prom(
                    f"sort_desc(topk(10, sum by (user_id) ({inc(COST, '$__range', model=True)})))",
                    legend="{{user_id}}",
                    instant=True,
                )
            ],
            "currencyUSD",
            decimals=2,
        ),
        12,
        9,
    )
    layout.add(
        bargauge_panel(
            "Top teams by spend",
            "The ten teams that spent most in the selected range (clients without a team attribute are not "
            "listed; set team in OTEL_RESOURCE_ATTRIBUTES through the claude_code role).",
            [
                prom(
                    "sort_desc(topk(10, sum by (team) (" + inc(COST, "$__range", 'team!=""', model=True) + ")))",
                    legend="{{team}}",
                    instant=True,
                )
            ],
            "currencyUSD",
            decimals=2,
        ),
        12,
        9,
    )
    return d
