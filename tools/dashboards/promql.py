"""PromQL and LogQL building blocks of the dashboards (standard library only).

Rules (docs/exact-spend.md, the shared design of issue 13):
- Claude Code's counters are per session and start above 0: every count or sum
  of money over a range is ``increase(<series>[<range>] anchored)``, summed;
  never a raw counter, never plain ``increase()``/``rate()``.
- Ranges: ``$__range`` for "over the dashboard's time range" (instant queries),
  fixed 1d/7d/30d for the budget figures, ``$__interval`` for bars per interval.
- Latency quantiles: ``histogram_quantile`` over ``rate(..._bucket[$__rate_interval])``.
- Every selector carries the dashboard variables' filters, for the labels the
  series has (``model`` only where it exists).
"""

from __future__ import annotations

# Client counters (Claude Code's own metrics, per session).
COST = "claude_code_cost_usage_USD_total"
TOKENS = "claude_code_token_usage_tokens_total"
SESSIONS = "claude_code_session_count_total"
ACTIVE_TIME = "claude_code_active_time_seconds_total"
# The same counter under the name some client versions export.
ACTIVE_TIME_OLD = "claude_code_active_time_total_seconds_total"
LINES = "claude_code_lines_of_code_count_total"
COMMITS = "claude_code_commit_count_total"
PULL_REQUESTS = "claude_code_pull_request_count_total"
EDIT_DECISIONS = "claude_code_code_edit_tool_decision_total"

# Derived by the collector from events (signal_to_metrics connector); no session_id.
API_DURATION = "claude_code_api_request_duration_milliseconds"
API_COST = "claude_code_api_request_cost_USD_total"
API_INPUT_TOKENS = "claude_code_api_request_input_tokens_total"
API_OUTPUT_TOKENS = "claude_code_api_request_output_tokens_total"
API_ERRORS = "claude_code_api_error_count_total"
TOOL_RESULTS = "claude_code_tool_result_count_total"
TOOL_DURATION = "claude_code_tool_result_duration_milliseconds"

# Recording rule of role prometheus: the daily budgets of the alert rules.
BUDGET = "claude_code:daily_budget_usd"

# Label filters from the dashboard variables; every series has these labels
# (absent ones match the "All" value .*).
COMMON_FILTERS = ('team=~"$team"', 'user_id=~"$user"', 'machine_name=~"$machine"', 'terminal_type=~"$terminal"')
MODEL_FILTER = 'model=~"$model"'


def sel(metric: str, *matchers: str, model: bool = False, filters: bool = True) -> str:
    """A selector with the variables' filters (and ``model`` when the series has it) plus extra matchers."""
    parts = [*(COMMON_FILTERS if filters else ()), *((MODEL_FILTER,) if model else ()), *matchers]
    return f"{metric}{{{', '.join(parts)}}}"


def inc(metric: str, window: str, *matchers: str, model: bool = False, filters: bool = True) -> str:
    """The exact increase of a counter over a window: ``increase(sel[window] anchored)``."""
    return f"increase({sel(metric, *matchers, model=model, filters=filters)}[{window}] anchored)"


def total(metric: str, window: str, *matchers: str, by: str = "", model: bool = False, filters: bool = True) -> str:
    """``sum [by (...)] (increase(...[window] anchored))``."""
    grouping = f" by ({by}) " if by else ""
    return f"sum{grouping}({inc(metric, window, *matchers, model=model, filters=filters)})"


def active_time(window: str, *matchers: str, by: str = "") -> str:
    """Active time in seconds under both of the client's metric names (a client exports one of them).

    ``or`` rather than a name regex: increase() drops the name, and the same
    label set under both names would be an evaluation error.
    """
    grouping = f" by ({by}) " if by else ""
    return f"sum{grouping}({inc(ACTIVE_TIME, window, *matchers)} or {inc(ACTIVE_TIME_OLD, window, *matchers)})"


def quantile(q: float, histogram: str, by: str, *matchers: str, model: bool = False) -> str:
    """A latency quantile of a collector-derived histogram, per ``by``, over ``$__rate_interval``."""
    return (
        f"histogram_quantile({q}, sum by (le, {by}) "
        f"(rate({sel(histogram + '_bucket', *matchers, model=model)}[$__rate_interval])))"
    )


def quantile_over(q: float, histogram: str, window: str, by: str = "", *matchers: str, model: bool = False) -> str:
    """A quantile over a whole window (exact bucket counts: anchored increase)."""
    grouping = f"le, {by}" if by else "le"
    return (
        f"histogram_quantile({q}, sum by ({grouping}) ({inc(histogram + '_bucket', window, *matchers, model=model)}))"
    )


def budget(scope: str, *matchers: str) -> str:
    """One daily budget of the alert rules (recording rule ``claude_code:daily_budget_usd``)."""
    parts = ", ".join(('scope="' + scope + '"', *matchers))
    return f"{BUDGET}{{{parts}}}"


# --------------------------------- LogQL -----------------------------------

# Loki stream selector of Claude Code's events; everything else is structured
# metadata, filtered after the pipe with Loki's names (dots become underscores).
STREAM = '{service_name="claude-code"}'
LOKI_FILTERS = (
    'team=~"$team"',
    'user_id=~"$user"',
    'machine_name=~"$machine"',
    'terminal_type=~"$terminal"',
    # Empty textbox: every session; otherwise the session id (or its start).
    'session_id=~"${session}.*"',
)
# The only fields an event panel shows: nothing of a prompt, a response or a
# tool's input (prompt, prompt_text, response, tool_parameters, tool_input are
# dropped by `keep`).
SHOWN_FIELDS = (
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
)


def events(names: str, *, model: bool = False) -> str:
    """Claude Code events named ``names`` (a regex) with the variables' filters."""
    op = "=~" if "|" in names else "="
    stages = [f'event_name{op}"{names}"', *LOKI_FILTERS, *((MODEL_FILTER,) if model else ())]
    return STREAM + "".join(f" | {s}" for s in stages)


def event_lines(name: str, line: str, *, model: bool = False) -> str:
    """Log lines of one event, reduced to ``SHOWN_FIELDS`` and formatted with ``line``."""
    return f"{events(name, model=model)} | keep {', '.join(SHOWN_FIELDS)} | line_format `{line}`"
