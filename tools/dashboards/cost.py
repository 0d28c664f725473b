"""Claude Code / Cost: daily spend by model, team and user, cost per million tokens, cache savings."""

from __future__ import annotations

from .panels import (
    ALL_VARIABLES,
    GOOD_HIGH,
    Column,
    Layout,
    bargauge_panel,
    field_properties,
    new_dashboard,
    piechart_panel,
    prom,
    query_variables,
    stat_panel,
    table_panel,
    timeseries_panel,
)
from .promql import COST, TOKENS, budget, total

UID = "claude-code-cost"

DAILY = (
    "One bar per day (UTC days: Grafana aligns the 1d steps to midnight UTC), each the exact increase of the "
    "client's cost counter in that day (anchored). Client-side estimate, not the invoice."
)
PROMPT_TYPES = 'type=~"input|cacheRead|cacheCreation"'
CACHE_PRICES = (
    "Savings estimate: without the cache every cache-read token would have been sent as fresh input. Anthropic's "
    "published prices bill a cache read at about 0.1 times and a 5-minute cache write at 1.25 times the model's "
    "input price, so the saving is roughly cache reads x 0.9 x input price minus cache creation x 0.25 x input "
    "price; check the prices of your contract. The client reports no prices, so no dollar figure is shown."
)


def _per_million(by: str = "") -> str:
    return f"{total(COST, '$__range', by=by, model=True)} / {total(TOKENS, '$__range', by=by, model=True)} * 1e6"


def _hit_rate(window: str, by: str = "") -> str:
    reads = total(TOKENS, window, 'type="cacheRead"', by=by, model=True)
    prompt = total(TOKENS, window, PROMPT_TYPES, by=by, model=True)
    return f"{reads} / {prompt}"


def _daily(title: str, description: str, by: str, legend: str, *, with_budget: bool = False):
    targets = [prom(total(COST, "$__interval", by=by, model=True), "A", legend)]
    if with_budget:
        targets.append(prom(f"max({budget('fleet')})", "B", "Fleet daily budget"))
    panel = timeseries_panel(
        title, description, targets, "currencyUSD", bars=True, stacked=True, interval="1d", decimals=2
    )
    if with_budget:
        panel = panel.override_by_query(
            "B",
            field_properties(
                color="red",
                custom={
                    "drawStyle": "line",
                    "lineStyle": {"dash": [10, 10], "fill": "dash"},
                    "lineWidth": 2,
                    "fillOpacity": 0,
                    "stacking": {"group": "B", "mode": "none"},
                },
            ),
        )
    return panel


def build():
    d = new_dashboard(
        UID,
        "Claude Code / Cost",
        "Where Claude Code spend goes: daily trend by model, team and user, cost per million tokens, cache savings.",
        ["cost"],
        "now-30d",
        "15m",
    )
    for v in query_variables(ALL_VARIABLES):
        d = d.with_variable(v)
    layout = Layout(d)

    layout.row("Selected range")
    layout.add(
        stat_panel(
            "Spend",
            "USD spent in the selected range with the filters above (exact: anchored increase of the client's "
            "cost counter). Client-side estimate, not the invoice.",
            [prom(total(COST, "$__range", model=True), instant=True)],
            "currencyUSD",
            decimals=2,
        ),
        6,
        4,
    )
    layout.add(
        stat_panel(
            "Average per day",
            "Spend in the selected range divided by its length in days. Compare it with the fleet daily budget "
            "(prometheus_alert_fleet_daily_budget_usd) when planning budgets.",
            [prom(f"{total(COST, '$__range', model=True)} / ($__range_s / 86400)", instant=True)],
            "currencyUSD",
            decimals=2,
        ),
        6,
        4,
    )
    layout.add(
        stat_panel(
            "Cost per million tokens",
            "Spend divided by all tokens (input, output, cache reads, cache creation) in the selected range, per "
            "million. It rises with output-heavy work and expensive models and falls with cache reads; compare "
            "models below.",
            [prom(_per_million(), instant=True)],
            "currencyUSD",
            decimals=2,
        ),
        6,
        4,
    )
    layout.add(
        stat_panel(
            "Cache hit rate",
            "Share of prompt tokens read from the prompt cache: cacheRead / (input + cacheRead + cacheCreation) in "
            "the selected range. Higher is cheaper; see 'Cache savings' below.",
            [prom(_hit_rate("$__range"), instant=True)],
            "percentunit",
            decimals=0,
            steps=GOOD_HIGH,
        ),
        6,
        4,
    )

    layout.row("Daily spend")
    layout.add(
        _daily(
            "Daily spend by model",
            "Spend per day by model, with the fleet's daily budget of the alert rules as a dashed line (absent when "
            "that budget is 0; it is the whole fleet's budget, for scale, whatever the filters). " + DAILY,
            "model",
            "{{model}}",
            with_budget=True,
        ),
        24,
        9,
    )
    layout.add(
        _daily(
            "Daily spend by team",
            "Spend per day by team; clients without a team attribute form the series with an empty team. A team "
            "whose bars climb day after day is the one to talk to before its budget alert fires. " + DAILY,
            "team",
            "{{team}}",
        ),
        12,
        9,
    )
    layout.add(
        _daily(
            "Daily spend by user",
            "Spend per day by user. A single tall bar is usually one runaway or highly parallel session: find it "
            "on the Events dashboard with the user selected. " + DAILY,
            "user_id",
            "{{user_id}}",
        ),
        12,
        9,
    )

    layout.row("Efficiency")
    layout.add(
        bargauge_panel(
            "Cost per million tokens by model",
            "Spend per million tokens (all token types) in the selected range, by model. The spread between models "
            "shows what moving routine work to a cheaper model would save.",
            [prom(f"sort_desc({_per_million('model')})", legend="{{model}}", instant=True)],
            "currencyUSD",
            decimals=2,
        ),
        8,
        8,
    )
    layout.add(
        piechart_panel(
            "Spend by query source",
            "Share of the spend in the selected range by the client's query_source (the main conversation or "
            "another source such as subagents). A large non-main share means background work costs more than the "
            "conversation itself.",
            [prom(total(COST, "$__range", by="query_source", model=True), legend="{{query_source}}", instant=True)],
            "currencyUSD",
        ),
        8,
        8,
    )
    layout.add(
        timeseries_panel(
            "Daily cache hit rate by model",
            "Share of prompt tokens read from the cache, per day and model. A drop means sessions restart their "
            "context more often (short sessions, many /clear, cache expiring between requests).",
            [prom(_hit_rate("$__interval", by="model"), legend="{{model}}")],
            "percentunit",
            interval="1d",
            decimals=0,
            soft_max=1,
            legend_calcs=("mean",),
        ),
        8,
        8,
    )

    layout.row("Cache savings")
    layout.add(
        table_panel(
            "Cache use by model",
            "Tokens by type and cache hit rate per model in the selected range. " + CACHE_PRICES,
            [("model", "Model")],
            [
                Column("A", total(TOKENS, "$__range", 'type="input"', by="model", model=True), "Input", "short"),
                Column(
                    "B", total(TOKENS, "$__range", 'type="cacheRead"', by="model", model=True), "Cache reads", "short"
                ),
                Column(
                    "C",
                    total(TOKENS, "$__range", 'type="cacheCreation"', by="model", model=True),
                    "Cache creation",
                    "short",
                ),
                Column("D", total(TOKENS, "$__range", 'type="output"', by="model", model=True), "Output", "short"),
                Column(
                    "E",
                    _hit_rate("$__range", by="model"),
                    "Hit rate",
                    "percentunit",
                    GOOD_HIGH,
                    gauge=True,
                    max_value=1,
                ),
                Column("F", total(COST, "$__range", by="model", model=True), "Spend", "currencyUSD", decimals=2),
            ],
            sort_by="Spend",
        ),
        24,
        8,
    )
    return d
