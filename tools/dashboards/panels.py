"""Panels, variables and layout shared by the dashboards (Grafana Foundation SDK builders)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import bargauge, logs, loki, piechart, stat, table, timeseries
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus as prom_builder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import piechart as pm
from grafana_foundation_sdk.models import prometheus as prom_model

from .promql import COST

# The datasources role grafana provisions (fixed uids: no ${DS_...} import inputs).
PROMETHEUS = dm.DataSourceRef(type_val="prometheus", uid="prometheus")
LOKI = dm.DataSourceRef(type_val="loki", uid="loki")

TAG = "claude-code"

# Colours of a ratio where high is good (cache hit rate, success rate) and
# where high is bad (share of a budget, error rate).
GOOD_HIGH = ((None, "red"), (0.5, "orange"), (0.8, "green"))
BAD_HIGH = ((None, "green"), (0.8, "orange"), (1.0, "red"))
ERRORS = ((None, "green"), (0.01, "orange"), (0.05, "red"))


def thresholds(steps: Sequence[tuple[float | None, str]]) -> db.ThresholdsConfig:
    return (
        db.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps([dm.Threshold(value=v, color=c) for v, c in steps])
    )


def _thresholds_value(steps: Sequence[tuple[float | None, str]]) -> dict:
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in steps]}


def fixed_color(color: str) -> db.FieldColor:
    return db.FieldColor().mode(dm.FieldColorModeId.FIXED).fixed_color(color)


def palette() -> db.FieldColor:
    return db.FieldColor().mode(dm.FieldColorModeId.PALETTE_CLASSIC)


# --------------------------------- Queries ----------------------------------


def prom(expr: str, ref: str = "A", legend: str = "", *, instant: bool = False, table_format: bool = False):
    """A Prometheus target: a range query unless ``instant`` (one value at the range's end)."""
    q = (
        prom_builder.Dataquery()
        .expr(expr)
        .ref_id(ref)
        .datasource(PROMETHEUS)
        .editor_mode(prom_model.QueryEditorMode.CODE)
    )
    q = q.instant() if instant else q.range()
    if table_format:
        q = q.format(prom_model.PromQueryFormat.TABLE)
    if legend:
        q = q.legend_format(legend)
    return q


def logql(expr: str, ref: str = "A", legend: str = "", *, max_lines: int | None = None):
    """A Loki range target (log lines, or a metric query over the range)."""
    q = loki.Dataquery().expr(expr).ref_id(ref).datasource(LOKI).query_type("range").editor_mode("code")
    if legend:
        q = q.legend_format(legend)
    if max_lines is not None:
        q = q.max_lines(max_lines)
    return q


# --------------------------------- Panels -----------------------------------


def _common(panel, title: str, description: str, targets, datasource=PROMETHEUS):
    panel = panel.title(title).description(description).datasource(datasource)
    for t in targets:
        panel = panel.with_target(t)
    return panel


def stat_panel(
    title: str,
    description: str,
    targets,
    unit: str,
    *,
    decimals: int | None = None,
    steps: Sequence[tuple[float | None, str]] | None = None,
    color: str = "blue",
    overrides: Sequence[tuple[str, dict]] = (),
):
    """One or more figures (one per target); ``overrides`` maps a refId to field config (unit, thresholds)."""
    panel = (
        _common(stat.Panel(), title, description, targets)
        .unit(unit)
        .no_value("0")
        .graph_mode(cm.BigValueGraphMode.NONE)
        .text_mode(cm.BigValueTextMode.VALUE_AND_NAME if len(targets) > 1 else cm.BigValueTextMode.AUTO)
        .color_mode(cm.BigValueColorMode.VALUE)
        .justify_mode(cm.BigValueJustifyMode.CENTER)
        .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False).fields(""))
    )
    if decimals is not None:
        panel = panel.decimals(decimals)
    if steps:
        panel = panel.thresholds(thresholds(steps)).color_scheme(db.FieldColor().mode(dm.FieldColorModeId.THRESHOLDS))
    else:
        panel = panel.color_scheme(fixed_color(color))
    for ref, props in overrides:
        panel = panel.override_by_query(ref, field_properties(**props))
    return panel


def field_properties(
    *,
    unit: str | None = None,
    steps: Sequence[tuple[float | None, str]] | None = None,
    decimals: int | None = None,
    display_name: str | None = None,
    gauge: bool = False,
    max_value: float | None = None,
    color: str | None = None,
    custom: dict | None = None,
) -> list[dm.DynamicConfigValue]:
    """Field config properties for an override."""
    props = []
    if display_name is not None:
        props.append(dm.DynamicConfigValue(id_val="displayName", value=display_name))
    if unit is not None:
        props.append(dm.DynamicConfigValue(id_val="unit", value=unit))
    if decimals is not None:
        props.append(dm.DynamicConfigValue(id_val="decimals", value=decimals))
    if max_value is not None:
        props.append(dm.DynamicConfigValue(id_val="max", value=max_value))
    if steps is not None:
        props.append(dm.DynamicConfigValue(id_val="thresholds", value=_thresholds_value(steps)))
        props.append(dm.DynamicConfigValue(id_val="color", value={"mode": "thresholds"}))
    if color is not None:
        props.append(dm.DynamicConfigValue(id_val="color", value={"fixedColor": color, "mode": "fixed"}))
    if gauge:
        props.append(
            dm.DynamicConfigValue(
                id_val="custom.cellOptions", value={"type": "gauge", "mode": "basic", "valueDisplayMode": "text"}
            )
        )
    for key, value in (custom or {}).items():
        props.append(dm.DynamicConfigValue(id_val=f"custom.{key}", value=value))
    return props


def timeseries_panel(
    title: str,
    description: str,
    targets,
    unit: str,
    *,
    bars: bool = False,
    stacked: bool = False,
    interval: str | None = None,
    decimals: int | None = None,
    soft_max: float | None = None,
    datasource=PROMETHEUS,
    legend_calcs: Sequence[str] = ("sum",),
):
    """A time series; ``bars``: one bar per interval (the increase in it), stacked when ``stacked``."""
    legend = (
        cb.VizLegendOptions()
        .display_mode(cm.LegendDisplayMode.TABLE)
        .placement(cm.LegendPlacement.RIGHT if len(legend_calcs) > 1 else cm.LegendPlacement.BOTTOM)
        .show_legend(True)
        .calcs(list(legend_calcs))
    )
    if legend_calcs:
        legend = legend.sort_by(_calc_name(legend_calcs[0])).sort_desc(True)
    panel = (
        _common(timeseries.Panel(), title, description, targets, datasource)
        .unit(unit)
        .min(0)
        .legend(legend)
        .tooltip(cb.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI).sort(cm.SortOrder.DESCENDING))
        .color_scheme(palette())
        .axis_soft_min(0)
        .span_nulls(False)
    )
    if bars:
        panel = (
            panel.draw_style(cm.GraphDrawStyle.BARS)
            .fill_opacity(80)
            .line_width(1)
            .bar_alignment(cm.BarAlignment.BEFORE)
            .show_points(cm.VisibilityMode.NEVER)
        )
    else:
        panel = (
            panel.draw_style(cm.GraphDrawStyle.LINE)
            .line_interpolation(cm.LineInterpolation.LINEAR)
            .fill_opacity(10)
            .line_width(1)
            .show_points(cm.VisibilityMode.NEVER)
        )
    if stacked:
        panel = panel.stacking(cb.StackingConfig().mode(cm.StackingMode.NORMAL).group("A"))
    if interval:
        panel = panel.interval(interval)
    if decimals is not None:
        panel = panel.decimals(decimals)
    if soft_max is not None:
        panel = panel.axis_soft_max(soft_max)
    return panel


def _calc_name(calc: str) -> str:
    return {"sum": "Total", "mean": "Mean", "max": "Max", "lastNotNull": "Last *"}.get(calc, calc)


def bargauge_panel(
    title: str,
    description: str,
    targets,
    unit: str,
    *,
    steps: Sequence[tuple[float | None, str]] | None = None,
    max_value: float | None = None,
    decimals: int | None = None,
):
    """Horizontal bars, one per series of an instant query (sorted by the query: sort_desc)."""
    panel = (
        _common(bargauge.Panel(), title, description, targets)
        .unit(unit)
        .min(0)
        .display_mode(cm.BarGaugeDisplayMode.BASIC)
        .value_mode(cm.BarGaugeValueMode.TEXT)
        .name_placement(cm.BarGaugeNamePlacement.LEFT)
        .orientation(cm.VizOrientation.HORIZONTAL)
        .show_unfilled(True)
        .sizing(cm.BarGaugeSizing.AUTO)
        .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False).fields(""))
    )
    if steps:
        panel = panel.thresholds(thresholds(steps)).color_scheme(db.FieldColor().mode(dm.FieldColorModeId.THRESHOLDS))
    else:
        panel = panel.color_scheme(
            db.FieldColor().mode(dm.FieldColorModeId.CONTINUOUS_BLUES).series_by(dm.FieldColorSeriesByMode.LAST)
        )
    if max_value is not None:
        panel = panel.max(max_value)
    if decimals is not None:
        panel = panel.decimals(decimals)
    return panel


def piechart_panel(title: str, description: str, targets, unit: str):
    """Shares of a whole (instant queries over the dashboard's range)."""
    return (
        _common(piechart.Panel(), title, description, targets)
        .unit(unit)
        .pie_type(pm.PieChartType.DONUT)
        .display_labels([pm.PieChartLabels.PERCENT])
        .legend(
            piechart.PieChartLegendOptions()
            .display_mode(cm.LegendDisplayMode.TABLE)
            .placement(cm.LegendPlacement.RIGHT)
            .show_legend(True)
            .values([pm.PieChartLegendValues.VALUE, pm.PieChartLegendValues.PERCENT])
        )
        .tooltip(cb.VizTooltipOptions().mode(cm.TooltipDisplayMode.SINGLE).sort(cm.SortOrder.NONE))
        .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False).fields(""))
        .color_scheme(palette())
        .hide_from(cb.HideSeriesConfig().legend(False).tooltip(False).viz(False))
    )


@dataclass(frozen=True)
class Column:
    """One value column of a table: an instant query, its header, unit and display."""

    ref: str
    expr: str
    header: str
    unit: str
    steps: tuple[tuple[float | None, str], ...] | None = None
    gauge: bool = False
    max_value: float | None = None
    decimals: int | None = None


def table_panel(
    title: str,
    description: str,
    labels: Sequence[tuple[str, str]],
    columns: Sequence[Column],
    *,
    sort_by: str | None = None,
):
    """A table keyed by ``labels`` ((label, header) pairs), one column per instant query, merged."""
    panel = _common(
        table.Panel(), title, description, [prom(c.expr, c.ref, instant=True, table_format=True) for c in columns]
    )
    order = {label: i for i, (label, _) in enumerate(labels)}
    order.update({f"Value #{c.ref}": len(labels) + i for i, c in enumerate(columns)})
    panel = (
        panel.with_transformation(dm.DataTransformerConfig(id_val="merge", options={}))
        .with_transformation(
            dm.DataTransformerConfig(
                id_val="organize",
                options={
                    "excludeByName": {"Time": True},
                    "indexByName": order,
                    "renameByName": dict(labels),
                },
            )
        )
        .show_header(True)
        .cell_height(cm.TableCellHeight.SM)
        .filterable(False)
        .footer(cb.TableFooterOptions().show(False).reducer(["sum"]).count_rows(False))
        .align(cm.FieldTextAlignment.AUTO)
    )
    for c in columns:
        panel = panel.override_by_name(
            f"Value #{c.ref}",
            field_properties(
                display_name=c.header,
                unit=c.unit,
                steps=c.steps,
                gauge=c.gauge,
                max_value=c.max_value,
                decimals=c.decimals,
            ),
        )
    if sort_by:
        panel = panel.sort_by([cb.TableSortByFieldState().display_name(sort_by).desc(True)])
    return panel


def logs_panel(title: str, description: str, expr: str, max_lines: int = 200):
    """Log lines of Loki, newest first."""
    return (
        _common(logs.Panel(), title, description, [logql(expr, max_lines=max_lines)], LOKI)
        .show_time(True)
        .show_labels(False)
        .show_common_labels(False)
        .wrap_log_message(True)
        .prettify_log_message(False)
        .enable_log_details(True)
        .dedup_strategy(cm.LogsDedupStrategy.NONE)
        .sort_order(cm.LogsSortOrder.DESCENDING)
    )


# ------------------------------- Variables ----------------------------------


@dataclass(frozen=True)
class Var:
    name: str
    label: str
    series_label: str
    description: str


TEAM = Var("team", "Team", "team", "Team (resource attribute team); All includes clients that send no team.")
USER = Var("user", "User", "user_id", "User id (the client's pseudonymous user.id).")
MODEL = Var("model", "Model", "model", "Claude model; applies to spend, tokens and API panels.")
MACHINE = Var(
    "machine", "Machine", "machine_name", "Machine (resource attribute machine.name); All includes clients without one."
)
TERMINAL = Var("terminal", "Terminal", "terminal_type", "Terminal or IDE the session ran in (terminal.type).")
ALL_VARIABLES = (TEAM, USER, MODEL, MACHINE, TERMINAL)


def query_variables(variables: Sequence[Var], metric: str = COST) -> list[db.QueryVariable]:
    """Prometheus label-value variables, multi-select with All (.*); each narrowed by the ones before it."""
    out = []
    before: list[str] = []
    for v in variables:
        selector = f"{metric}{{{', '.join(before)}}}" if before else metric
        out.append(
            db.QueryVariable(v.name)
            .label(v.label)
            .description(v.description)
            .datasource(PROMETHEUS)
            .query(f"label_values({selector}, {v.series_label})")
            .multi(True)
            .include_all(True)
            .all_value(".*")
            .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"]))
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dm.VariableSort.ALPHABETICAL_CASE_INSENSITIVE_ASC)
        )
        before.append(f'{v.series_label}=~"${v.name}"')
    return out


# --------------------------------- Layout -----------------------------------


class Layout:
    """Places panels left to right on Grafana's 24-column grid and numbers them (stable ids)."""

    def __init__(self, dashboard: db.Dashboard) -> None:
        self.dashboard = dashboard
        self.x = self.y = self.line_height = 0
        self.next_id = 1

    def _newline(self) -> None:
        if self.x:
            self.y += self.line_height
        self.x = self.line_height = 0

    def row(self, title: str) -> Layout:
        self._newline()
        self.dashboard.with_row(
            db.Row(title).id(self.next_id).collapsed(False).grid_pos(dm.GridPos(h=1, w=24, x=0, y=self.y))
        )
        self.next_id += 1
        self.y += 1
        return self

    def add(self, panel, w: int, h: int) -> Layout:
        if self.x + w > 24:
            self._newline()
        self.dashboard.with_panel(panel.id(self.next_id).grid_pos(dm.GridPos(h=h, w=w, x=self.x, y=self.y)))
        self.next_id += 1
        self.x += w
        self.line_height = max(self.line_height, h)
        return self


def new_dashboard(uid: str, title: str, description: str, tags: Sequence[str], time_from: str, refresh: str):
    """A dashboard with the collection's defaults and links to the other Claude Code dashboards."""
    return (
        db.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG, *tags])
        .timezone("browser")
        .editable()
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .time(time_from, "now")
        .refresh(refresh)
        .week_start("")
        .fiscal_year_start_month(0)
        .live_now(False)
        # Grafana's built-in annotation query, as Grafana itself writes it (alerts and manual annotations).
        .annotation(
            db.AnnotationQuery()
            .name("Annotations & Alerts")
            .datasource(dm.DataSourceRef(type_val="grafana", uid="-- Grafana --"))
            .enable(True)
            .hide(True)
            .icon_color("rgba(0, 211, 255, 1)")
            .type("dashboard")
            .built_in(1)
        )
        .link(
            db.DashboardLink("Claude Code")
            .type(dm.DashboardLinkType.DASHBOARDS)
            .tags([TAG])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
            .target_blank(False)
            .icon("external link")
            .tooltip("")
            .url("")
        )
    )
