"""Claude Code / Productivity: lines of code, commits, pull requests, edit decisions, active time."""

from __future__ import annotations

from .panels import (
    GOOD_HIGH,
    MACHINE,
    TEAM,
    TERMINAL,
    USER,
    Column,
    Layout,
    bargauge_panel,
    field_properties,
    new_dashboard,
    prom,
    query_variables,
    stat_panel,
    table_panel,
    timeseries_panel,
)
from .promql import COMMITS, COST, EDIT_DECISIONS, LINES, PULL_REQUESTS, active_time, total

UID = "claude-code-productivity"

BARS = "Each bar is the exact increase in its interval (anchored)."
ACCEPT = 'decision="accept"'


def _acceptance(by: str = "") -> str:
    return f"{total(EDIT_DECISIONS, '$__range', ACCEPT, by=by)} / {total(EDIT_DECISIONS, '$__range', by=by)}"


def build():
    d = new_dashboard(
        UID,
        "Claude Code / Productivity",
        "What Claude Code sessions produce: lines of code, commits, pull requests, accepted and rejected edits, "
        "active time. These client metrics carry no model label, so this dashboard has no model filter.",
        ["productivity"],
        "now-7d",
        "15m",
    )
    for v in query_variables((TEAM, USER, MACHINE, TERMINAL)):
        d = d.with_variable(v)
    layout = Layout(d)

    layout.row("Selected range")
    layout.add(
        stat_panel(
            "Lines added",
            "Lines of code Claude Code added in the selected range (claude_code_lines_of_code_count_total, "
            'type="added"), accepted edits only.',
            [prom(total(LINES, "$__range", 'type="added"'), instant=True)],
            "short",
            decimals=0,
            color="green",
        ),
        4,
        4,
    )
    layout.add(
        stat_panel(
            "Lines removed",
            'Lines of code Claude Code removed in the selected range (type="removed").',
            [prom(total(LINES, "$__range", 'type="removed"'), instant=True)],
            "short",
            decimals=0,
            color="red",
        ),
        4,
        4,
    )
    layout.add(
        stat_panel(
            "Commits",
            "Git commits created by Claude Code in the selected range (claude_code_commit_count_total). Commits "
            "made by hand are not counted.",
            [prom(total(COMMITS, "$__range"), instant=True)],
            "short",
            decimals=0,
        ),
        4,
        4,
    )
    layout.add(
        stat_panel(
            "Pull requests",
            "Pull requests created by Claude Code in the selected range (claude_code_pull_request_count_total).",
            [prom(total(PULL_REQUESTS, "$__range"), instant=True)],
            "short",
            decimals=0,
        ),
        4,
        4,
    )
    layout.add(
        stat_panel(
            "Edit acceptance rate",
            "Accepted edit, write and notebook-edit proposals out of all decided ones in the selected range. A low "
            "rate means Claude proposes changes people do not want: look at the languages and tools below.",
            [prom(_acceptance(), instant=True)],
            "percentunit",
            decimals=0,
            steps=GOOD_HIGH,
        ),
        4,
        4,
    )
    layout.add(
        stat_panel(
            "Active time",
            "Active time in the selected range: user (people interacting with Claude Code) and cli (Claude "
            "working), from both of the client's active-time metric names. Much more cli than user time means long "
            "autonomous runs: check their spend on the Cost dashboard.",
            [prom(active_time("$__range", by="type"), legend="{{type}}", instant=True)],
            "s",
        ),
        4,
        4,
    )

    layout.row("Over time")
    layout.add(
        timeseries_panel(
            "Lines of code",
            "Lines added (up) and removed (down) per interval. Large removals with few additions are refactoring "
            "or clean-up; check against commits. " + BARS,
            [prom(total(LINES, "$__interval", by="type"), legend="{{type}}")],
            "short",
            bars=True,
        ).override_by_name("removed", field_properties(custom={"transform": "negative-Y"})),
        12,
        8,
    )
    layout.add(
        timeseries_panel(
            "Commits and pull requests",
            "Commits and pull requests created by Claude Code per interval. " + BARS,
            [
                prom(total(COMMITS, "$__interval"), "A", "Commits"),
                prom(total(PULL_REQUESTS, "$__interval"), "B", "Pull requests"),
            ],
            "short",
            bars=True,
            decimals=0,
        ),
        12,
        8,
    )
    layout.add(
        timeseries_panel(
            "Active time",
            "Active time per interval: user (people interacting) and cli (Claude working). Much cli time for "
            "little user time means long autonomous runs; compare with spend on the Cost dashboard. " + BARS,
            [prom(active_time("$__interval", by="type"), legend="{{type}}")],
            "s",
            bars=True,
            stacked=True,
        ),
        12,
        8,
    )
    layout.add(
        timeseries_panel(
            "Edit decisions",
            "Edit proposals accepted and rejected per interval (claude_code_code_edit_tool_decision_total). A rise "
            "in rejections after a model or settings change deserves a look. " + BARS,
            [prom(total(EDIT_DECISIONS, "$__interval", by="decision"), legend="{{decision}}")],
            "short",
            bars=True,
            stacked=True,
            decimals=0,
        ),
        12,
        8,
    )

    layout.row("Edit decisions")
    layout.add(
        bargauge_panel(
            "Acceptance rate by language",
            "Accepted out of decided edit proposals in the selected range, by file language. The lowest languages "
            "are where project instructions (CLAUDE.md) or examples would help most.",
            [prom(f"sort_desc({_acceptance('language')})", legend="{{language}}", instant=True)],
            "percentunit",
            steps=GOOD_HIGH,
            max_value=1,
            decimals=0,
        ),
        12,
        8,
    )
    layout.add(
        bargauge_panel(
            "Acceptance rate by tool",
            "Accepted out of decided proposals in the selected range, by tool (Edit, Write, NotebookEdit).",
            [prom(f"sort_desc({_acceptance('tool_name')})", legend="{{tool_name}}", instant=True)],
            "percentunit",
            steps=GOOD_HIGH,
            max_value=1,
            decimals=0,
        ),
        12,
        8,
    )
    layout.add(
        table_panel(
            "Edit decisions by tool and language",
            "Accepted and rejected proposals per tool and language in the selected range, with the acceptance "
            "rate. Sort by Rejected to find where most work is thrown away.",
            [("tool_name", "Tool"), ("language", "Language")],
            [
                Column("A", total(EDIT_DECISIONS, "$__range", ACCEPT, by="tool_name, language"), "Accepted", "short"),
                Column(
                    "B",
                    total(EDIT_DECISIONS, "$__range", 'decision="reject"', by="tool_name, language"),
                    "Rejected",
                    "short",
                ),
                Column(
                    "C",
                    _acceptance("tool_name, language"),
                    "Acceptance",
                    "percentunit",
                    GOOD_HIGH,
                    gauge=True,
                    max_value=1,
                ),
            ],
            sort_by="Rejected",
        ),
        24,
        8,
    )

    layout.row("People")
    layout.add(
        table_panel(
            "Per user",
            "Output and active time per user in the selected range, with their spend (all models) for context. "
            "Use it to find who benefits most and who may need help getting started, not to rank people.",
            [("user_id", "User")],
            [
                Column("A", total(LINES, "$__range", 'type="added"', by="user_id"), "Lines added", "short"),
                Column("B", total(LINES, "$__range", 'type="removed"', by="user_id"), "Lines removed", "short"),
                Column("C", total(COMMITS, "$__range", by="user_id"), "Commits", "short"),
                Column("D", total(PULL_REQUESTS, "$__range", by="user_id"), "Pull requests", "short"),
                Column("E", active_time("$__range", 'type="user"', by="user_id"), "Active time (user)", "s"),
                Column("F", total(COST, "$__range", by="user_id"), "Spend", "currencyUSD", decimals=2),
            ],
            sort_by="Lines added",
        ),
        24,
        9,
    )
    return d
