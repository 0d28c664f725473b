"""Claude Code / Events: recent api_request, api_error and tool_result events from Loki, no prompt content."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.models import dashboard as dm

from .panels import ALL_VARIABLES, LOKI, Layout, logql, logs_panel, new_dashboard, query_variables, timeseries_panel
from .promql import event_lines, events

UID = "claude-code-events"

NO_CONTENT = (
    "Only the fields listed in the line are kept (LogQL keep): prompts, responses and tool parameters are never "
    "shown, even from clients that send them."
)
SCOPE = "Filtered by the variables above; paste a session id (or its start) into Session to follow one session."


def build():
    d = new_dashboard(
        UID,
        "Claude Code / Events",
        "Recent Claude Code events from Loki (api_request, api_error, tool_result) for a user or a session, with "
        "event counts over time. No prompt content is shown.",
        ["events", "loki"],
        "now-24h",
        "1m",
    )
    for v in query_variables(ALL_VARIABLES):
        d = d.with_variable(v)
    d = d.with_variable(
        db.TextBoxVariable("session")
        .label("Session")
        .description("A session id (session.id) or its first characters; empty for every session.")
        .default_value("")
        .current(dm.VariableOption(selected=False, text="", value=""))
    )
    layout = Layout(d)

    layout.add(
        timeseries_panel(
            "Events per interval",
            "Number of api_request, api_error and tool_result events per interval, by event name (LogQL "
            "count_over_time over Loki's raw events). api_error climbing against api_request: see the API and "
            "tools dashboard for status codes. " + SCOPE,
            [
                logql(
                    f"sum by (event_name) (count_over_time({events('api_request|api_error|tool_result')} [$__auto]))",
                    legend="{{event_name}}",
                )
            ],
            "short",
            bars=True,
            stacked=True,
            decimals=0,
            datasource=LOKI,
        ),
        24,
        7,
    )
    layout.add(
        logs_panel(
            "API requests",
            "Recent api_request events, newest first: model, cost, duration, user, session and prompt id (all "
            "events of one prompt share the prompt id). " + SCOPE + " " + NO_CONTENT,
            event_lines(
                "api_request",
                "{{.model}} cost_usd={{.cost_usd}} duration_ms={{.duration_ms}} user={{.user_id}} "
                "session={{.session_id}} prompt_id={{.prompt_id}}",
                model=True,
            ),
        ),
        24,
        10,
    )
    layout.add(
        logs_panel(
            "API errors",
            "Recent api_error events, newest first: model, HTTP status code, duration. Many errors for one user "
            "only point at that machine (network, proxy, credentials); for everyone at the API. "
            + SCOPE
            + " "
            + NO_CONTENT,
            event_lines(
                "api_error",
                "{{.model}} status_code={{.status_code}} duration_ms={{.duration_ms}} user={{.user_id}} "
                "session={{.session_id}} prompt_id={{.prompt_id}}",
                model=True,
            ),
        ),
        12,
        10,
    )
    layout.add(
        logs_panel(
            "Tool results",
            "Recent tool_result events, newest first: tool, success, duration. Follow a failing call's prompt id in "
            "'API requests' to see what the session was doing. " + SCOPE + " " + NO_CONTENT,
            event_lines(
                "tool_result",
                "{{.tool_name}} success={{.success}} duration_ms={{.duration_ms}} user={{.user_id}} "
                "session={{.session_id}} prompt_id={{.prompt_id}}",
            ),
        ),
        12,
        10,
    )
    return d
