"""Claude Code / API and tools: latency, errors, retries, tool outcomes (metrics the collector derives from events)."""

from __future__ import annotations

from .panels import (
    ALL_VARIABLES,
    ERRORS,
    GOOD_HIGH,
    Column,
    Layout,
    bargauge_panel,
    new_dashboard,
    prom,
    query_variables,
    stat_panel,
    table_panel,
    timeseries_panel,
)
from .promql import (
    API_COST,
    API_DURATION,
    API_ERRORS,
    COST,
    TOOL_DURATION,
    TOOL_RESULTS,
    quantile,
    quantile_over,
    total,
)

UID = "claude-code-api-tools"

REQUESTS = API_DURATION + "_count"
DERIVED = (
    "Derived by the collector from Claude Code's events (signal_to_metrics connector), so it needs the clients' "
    "events (OTEL_LOGS_EXPORTER=otlp)."
)
# Drift between two measurements of the same spend: green within 1 %, red beyond 5 %, either way.
DRIFT = ((None, "red"), (-0.05, "orange"), (-0.01, "green"), (0.01, "orange"), (0.05, "red"))


def _error_ratio(window: str, by: str = "") -> str:
    errors = total(API_ERRORS, window, by=by, model=True)
    attempts = f"(({total(REQUESTS, window, model=True)} or vector(0)) + {total(API_ERRORS, window, model=True)})"
    if by:
        return f"{errors} / on () group_left () {attempts}"
    return f"({errors} or vector(0)) / {attempts}"


def _tool_success(by: str = "") -> str:
    ok = total(TOOL_RESULTS, "$__range", 'success="true"', by=by)
    decided = total(TOOL_RESULTS, "$__range", 'success=~"true|false"', by=by)
    return f"{ok} / {decided}"


def _drift(window: str, by: str = "") -> str:
    client = total(COST, window, by=by, model=True)
    events = total(API_COST, window, by=by, model=True)
    return f"({client} - {events}) / {client}"


def build():
    d = new_dashboard(
        UID,
        "Claude Code / API and tools",
        "API request latency, errors and retries, tool success and duration, and a cross-check of the client's cost "
        "counter against the api_request events, from metrics the collector derives from the events.",
        ["api", "tools"],
        "now-24h",
        "5m",
    )
    for v in query_variables(ALL_VARIABLES, REQUESTS):
        d = d.with_variable(v)
    layout = Layout(d)

    layout.row("API requests")
    layout.add(
        stat_panel(
            "API requests",
            "Successful API requests (api_request events) in the selected range. " + DERIVED,
            [prom(total(REQUESTS, "$__range", model=True), instant=True)],
            "short",
            decimals=0,
        ),
        6,
        4,
    )
    layout.add(
        stat_panel(
            "Error rate",
            "API errors (api_error events) out of all attempts (requests plus errors) in the selected range. Above "
            "1 %: look at the status codes below (429 rate limits, 529 overload, 5xx outages) and at "
            "status.anthropic.com.",
            [prom(_error_ratio("$__range"), instant=True)],
            "percentunit",
            decimals=2,
            steps=ERRORS,
        ),
        6,
        4,
    )
    layout.add(
        stat_panel(
            "p95 latency",
            "95th percentile of API request duration over the selected range, all models (exact bucket counts; the "
            "estimate is only as fine as the histogram's buckets). Rising latency with a steady error rate usually "
            "means larger contexts or a slower model.",
            [prom(quantile_over(0.95, API_DURATION, "$__range", model=True), instant=True)],
            "ms",
            decimals=0,
        ),
        6,
        4,
    )
    layout.add(
        stat_panel(
            "Cost drift",
            "(client cost counter - sum of cost_usd in api_request events) / client cost counter, over the selected "
            "range. Both measure the same spend and should agree within rounding; beyond 1 % either metrics or "
            "events are being lost (check ClaudeCodeSilentMeter and ClaudeCodeExportFailing), positive when events "
            "are missing.",
            [prom(_drift("$__range"), instant=True)],
            "percentunit",
            decimals=2,
            steps=DRIFT,
        ),
        6,
        4,
    )
    layout.add(
        timeseries_panel(
            "Request latency by model (p50, p95, p99)",
            "Quantiles of API request duration (api_request duration_ms) by model, over Grafana's rate interval. "
            "p99 far above p95 points at occasional very long requests (large contexts, retries inside the API); "
            "a rise for every model at once is usually the API, not the clients. " + DERIVED,
            [
                prom(quantile(0.5, API_DURATION, "model", model=True), "A", "p50 {{model}}"),
                prom(quantile(0.95, API_DURATION, "model", model=True), "B", "p95 {{model}}"),
                prom(quantile(0.99, API_DURATION, "model", model=True), "C", "p99 {{model}}"),
            ],
            "ms",
            legend_calcs=("mean", "max"),
        ),
        24,
        9,
    )
    layout.add(
        timeseries_panel(
            "API errors by status code",
            "API errors per interval by HTTP status code (unknown when the event carries none). 429: rate or "
            "spend limits of the organisation; 529: API overloaded; 401/403: credentials. Each bar is the exact "
            "increase in its interval.",
            [prom(total(API_ERRORS, "$__interval", by="status_code", model=True), legend="{{status_code}}")],
            "short",
            bars=True,
            stacked=True,
            decimals=0,
        ),
        12,
        8,
    )
    layout.add(
        timeseries_panel(
            "Error rate by status code",
            "Errors per interval by status code out of all attempts (requests plus errors) in the same interval. "
            "A sustained rate above a few percent slows every session down: check the API status and the "
            "organisation's rate limits.",
            [prom(_error_ratio("$__interval", by="status_code"), legend="{{status_code}}")],
            "percentunit",
            decimals=1,
            legend_calcs=("mean", "max"),
        ),
        12,
        8,
    )
    layout.add(
        timeseries_panel(
            "Retries: API errors by attempt",
            "API errors per interval by the client's attempt number (1 is the first try, higher numbers are "
            "retries). Errors at high attempt numbers mean the client retried and still failed: users saw the "
            "error.",
            [prom(total(API_ERRORS, "$__interval", by="attempt", model=True), legend="attempt {{attempt}}")],
            "short",
            bars=True,
            stacked=True,
            decimals=0,
        ),
        12,
        8,
    )
    layout.add(
        timeseries_panel(
            "Requests by model",
            "Successful API requests per interval by model; the denominator of the rates above. Each bar is the "
            "exact increase in its interval.",
            [prom(total(REQUESTS, "$__interval", by="model", model=True), legend="{{model}}")],
            "short",
            bars=True,
            stacked=True,
            decimals=0,
        ),
        12,
        8,
    )

    layout.row("Tools")
    layout.add(
        bargauge_panel(
            "Tool success rate",
            "Successful tool results out of those with a known outcome in the selected range, worst tool first. "
            "A failing Bash or MCP tool usually means a missing binary, a permission or a broken server on the "
            "developer machines; the Events dashboard shows the failing calls.",
            [prom(f"sort({_tool_success('tool_name')})", legend="{{tool_name}}", instant=True)],
            "percentunit",
            steps=GOOD_HIGH,
            max_value=1,
            decimals=1,
        ),
        8,
        9,
    )
    layout.add(
        bargauge_panel(
            "Tool calls by tool",
            "Tool results (tool_result events) in the selected range by tool. " + DERIVED,
            [
                prom(
                    f"sort_desc({total(TOOL_RESULTS, '$__range', by='tool_name')})",
                    legend="{{tool_name}}",
                    instant=True,
                )
            ],
            "short",
            decimals=0,
        ),
        8,
        9,
    )
    layout.add(
        table_panel(
            "Tool duration by tool",
            "Median and 95th percentile duration per tool over the selected range, with the number of failures. "
            "Slow tools with many failures are timeouts: long test runs, hanging commands or slow MCP servers.",
            [("tool_name", "Tool")],
            [
                Column("A", quantile_over(0.5, TOOL_DURATION, "$__range", "tool_name"), "p50", "ms", decimals=0),
                Column("B", quantile_over(0.95, TOOL_DURATION, "$__range", "tool_name"), "p95", "ms", decimals=0),
                Column(
                    "C",
                    total(TOOL_RESULTS, "$__range", 'success="false"', by="tool_name"),
                    "Failures",
                    "short",
                    decimals=0,
                ),
            ],
            sort_by="p95",
        ),
        8,
        9,
    )
    layout.add(
        timeseries_panel(
            "Tool duration p95 by tool",
            "95th percentile of tool_result duration_ms by tool over Grafana's rate interval. A step up for one "
            "tool after a change on the developer machines (a new MCP server, a slower test suite) shows here "
            "first.",
            [prom(quantile(0.95, TOOL_DURATION, "tool_name"), legend="{{tool_name}}")],
            "ms",
            legend_calcs=("mean", "max"),
        ),
        12,
        8,
    )
    layout.add(
        timeseries_panel(
            "Tool failures by tool",
            "Failed tool results per interval by tool. Each bar is the exact increase in its interval.",
            [prom(total(TOOL_RESULTS, "$__interval", 'success="false"', by="tool_name"), legend="{{tool_name}}")],
            "short",
            bars=True,
            stacked=True,
            decimals=0,
        ),
        12,
        8,
    )

    layout.row("Cross-check")
    layout.add(
        timeseries_panel(
            "Spend: client counter vs api_request events",
            "The same spend measured twice per interval: the client's cost counter (metrics pipeline) and the sum "
            "of cost_usd in api_request events (logs pipeline). The lines should cover each other; a gap points "
            "at the pipeline that loses data (metrics: ClaudeCodeSilentMeter; events: ClaudeCodeExportFailing, "
            "LokiDiscardingEvents).",
            [
                prom(total(COST, "$__interval", model=True), "A", "client cost counter"),
                prom(total(API_COST, "$__interval", model=True), "B", "api_request events"),
            ],
            "currencyUSD",
            decimals=4,
        ),
        16,
        8,
    )
    layout.add(
        table_panel(
            "Cross-check by model",
            "Client cost counter against the api_request events per model over the selected range. A drift on one "
            "model only points at a client version that reports that model differently.",
            [("model", "Model")],
            [
                Column(
                    "A", total(COST, "$__range", by="model", model=True), "Client counter", "currencyUSD", decimals=4
                ),
                Column("B", total(API_COST, "$__range", by="model", model=True), "Events", "currencyUSD", decimals=4),
                Column("C", _drift("$__range", "model"), "Drift", "percentunit", DRIFT, decimals=2),
            ],
            sort_by="Client counter",
        ),
        8,
        8,
    )
    return d
