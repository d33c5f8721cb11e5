"""Charts of released answers (Vega-Lite specs built with Altair).

Each chart is drawn from the released table only (``chart_data`` computes what to draw).
Hidden figures are grey and labelled, never guessed and never left out silently; ordered
categories keep their order; colour and text show the same quantity.
"""

from __future__ import annotations

import json
from typing import Any

import altair as alt
import pyarrow as pa
import pyarrow.compute as pc

from crosswalk.analytics import chart_data as cd
from crosswalk.errors import ConfigError

GREY = "#bdbdbd"
BAND_COLOURS = ("#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b")


def _records(table: pa.Table) -> list[dict[str, Any]]:
    return json.loads(json.dumps(table.to_pylist(), default=str))


def _hidden_count(table: pa.Table) -> int:
    # Counts only: a rate hidden with its count is the same cell.
    return sum(
        pc.sum(table.column(c)).as_py() or 0
        for c in table.column_names
        if c.endswith("_suppressed")
        and pa.types.is_integer(table.schema.field(c.removesuffix("_suppressed")).type)
    )


def _note(table: pa.Table, *more: str) -> list[str]:
    hidden = _hidden_count(table)
    first = (
        f"{hidden} counts hidden by disclosure control (grey); counts perturbed (cell key)"
        if hidden
        else "counts perturbed (cell key)"
    )
    return [first, *more]


def chart(name: str, table: pa.Table, title: str, about: str | None = None) -> alt.TopLevelMixin:
    """The chart for a question's answer; ``about`` names what the question is around
    (the program at the centre of a pathways Sankey)."""
    build = {
        "overlap": _overlap,
        "combinations": _combinations,
        "pathways": _pathways,
        "lifetime": _lifetime,
        "cohort": _cohort,
        "trends": _trends,
    }.get(name)
    if build is None:
        raise ConfigError(f"no chart for {name!r}")
    if name == "pathways":
        return _pathways(table, title, about or "entrants")
    return build(table, title)


def _overlap(table: pa.Table, title: str) -> alt.TopLevelMixin:
    rows = _records(table)
    programs = list(dict.fromkeys(r["program_a"] for r in rows))
    top = max((r["people"] or 0 for r in rows), default=0)
    for r in rows:
        n = r["people"]
        r["text"] = "" if n is None else (f"{n:,}" if n < 10_000 else f"{n / 1000:.0f}k")
        r["dark"] = n is not None and n > top / 4
    base = alt.Chart(
        alt.Data(values=rows),
        title=alt.Title(title, subtitle=_note(table, "colour and numbers: people in both")),
    )
    axis_x = alt.X("program_b:N", title=None, sort=programs)
    axis_y = alt.Y("program_a:N", title=None, sort=programs)
    shown = (
        base.transform_filter("datum.people !== null")
        .mark_rect()
        .encode(
            x=axis_x,
            y=axis_y,
            color=alt.Color(
                "people:Q",
                title="people in both",
                scale=alt.Scale(type="symlog", scheme="blues"),
            ),
            tooltip=["program_a:N", "program_b:N", "people:Q", "pct_of_a:Q"],
        )
    )
    hidden = (
        base.transform_filter("datum.people === null")
        .mark_rect(color=GREY)
        .encode(x=axis_x, y=axis_y, tooltip=["program_a:N", "program_b:N"])
    )
    text = base.mark_text(fontSize=8).encode(
        x=axis_x,
        y=axis_y,
        text="text:N",
        color=alt.condition("datum.dark", alt.value("white"), alt.value("black")),
    )
    return (shown + hidden + text).properties(width=34 * len(programs), height=24 * len(programs))


def _combinations(table: pa.Table, title: str) -> alt.TopLevelMixin:
    bars, matrix = cd.upset(_records(table))
    order = [b["combination"] for b in bars]
    x = alt.X("combination:N", sort=order, axis=None)
    colour = alt.Color(
        "kind:N",
        scale=alt.Scale(
            domain=["combination", "other", cd.HIDDEN], range=["#4c78a8", "#9ecae1", GREY]
        ),
        legend=alt.Legend(title=None, orient="top"),
    )
    sizes = alt.Chart(alt.Data(values=bars)).encode(x=x)
    top = (
        sizes.mark_bar().encode(
            y=alt.Y("people:Q", title="people"),
            color=colour,
            tooltip=["combination:N", "people:Q"],
        )
        + sizes.mark_text(dy=-6, fontSize=9).encode(y="people:Q", text="label:N")
    ).properties(width=max(24 * len(bars), 240), height=220)
    programs = sorted(
        {m["program"] for m in matrix},
        key=lambda p: next(m["row"] for m in matrix if m["program"] == p),
    )
    grid = alt.Chart(alt.Data(values=matrix)).encode(
        x=alt.X("combination:N", sort=order, scale=alt.Scale(domain=order), axis=None),
        y=alt.Y("program:N", sort=programs, title=None),
    )
    absent = grid.transform_filter("!datum.member").mark_circle(size=70, color="#e6e6e6")
    present = grid.transform_filter("datum.member").mark_circle(size=70, color="#222222")
    lines = (
        grid.transform_filter("datum.member")
        .mark_line(color="#222222")
        .encode(detail="combination:N")
    )
    bottom = (absent + lines + present).properties(
        width=max(24 * len(bars), 240), height=18 * max(len(programs), 1)
    )
    hidden = next((b for b in bars if b["kind"] == cd.HIDDEN), None)
    more = (
        [f"grey bar: {hidden['combination']} (everyone minus what is released)"] if hidden else []
    )
    return alt.vconcat(top, bottom, spacing=4).properties(
        title=alt.Title(
            title, subtitle=_note(table, "dots: the programs of each combination", *more)
        )
    )


def _pathways(table: pa.Table, title: str, program: str = "entrants") -> alt.TopLevelMixin:
    rows = _records(table)
    nodes, links = cd.sankey(rows, program)
    names = sorted({n["program"] for n in nodes if n["program"] != cd.HIDDEN})
    colour = alt.Color(
        "program:N",
        scale=alt.Scale(domain=[*names, cd.HIDDEN], range=[*_palette(len(names)), GREY]),
        legend=None,
    )
    x = alt.X("x:Q", axis=None, scale=alt.Scale(domain=[-0.5, 1.5]))
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[0, 360], reverse=True))
    ribbons = (
        alt.Chart(alt.Data(values=links))
        .mark_area(opacity=0.45, interpolate="linear")
        .encode(
            x=x,
            y=alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[0, 360], reverse=True), stack=None),
            y2="y2:Q",
            detail="link:N",
            color=colour,
            tooltip=["direction:N", "program:N", "people:Q"],
        )
    )
    blocks = alt.Chart(alt.Data(values=nodes))
    rects = blocks.mark_rect().encode(
        x=x, x2="x2:Q", y=y, y2="y2:Q", color=colour, tooltip=["program:N", "people:Q"]
    )
    left = (
        blocks.transform_filter("datum.column == 'before'")
        .transform_calculate(mid="(datum.y + datum.y2) / 2")
        .mark_text(align="right", dx=-4, fontSize=10)
        .encode(
            x=x,
            y=alt.Y("mid:Q", axis=None, scale=alt.Scale(domain=[0, 360], reverse=True)),
            text="label:N",
        )
    )
    right = (
        blocks.transform_filter("datum.column == 'after'")
        .transform_calculate(mid="(datum.y + datum.y2) / 2", right_x="datum.x2")
        .mark_text(align="left", dx=4, fontSize=10)
        .encode(
            x=alt.X("right_x:Q", axis=None, scale=alt.Scale(domain=[-0.5, 1.5])),
            y=alt.Y("mid:Q", axis=None, scale=alt.Scale(domain=[0, 360], reverse=True)),
            text="label:N",
        )
    )
    centre = (
        blocks.transform_filter("datum.column == 'centre'")
        .mark_text(dy=-8, fontSize=11, fontWeight="bold")
        .encode(x=x, y=y, text="label:N")
    )
    heads = (
        alt.Chart(
            alt.Data(
                values=[{"x": 0.015, "t": "entered before"}, {"x": 0.985, "t": "entered after"}]
            )
        )
        .mark_text(fontSize=10, color="#555555", dy=-12)
        .encode(x=x, y=alt.value(0), text="t:N")
    )
    return (
        (ribbons + rects + left + right + centre + heads)
        .properties(
            width=760,
            height=380,
            title=alt.Title(
                title,
                subtitle=_note(
                    table,
                    "each side's programs with hidden counts form one grey 'hidden programs' node",
                ),
            ),
        )
        .configure_view(stroke=None)
    )


def _palette(n: int) -> list[str]:
    tableau = [
        "#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2",
        "#ff9da6", "#9d755d", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939",
    ]  # fmt: skip
    return [tableau[i % len(tableau)] for i in range(n)]


def _lifetime(table: pa.Table, title: str) -> alt.TopLevelMixin:
    rows = _records(table)
    kind = next((k for k in cd.ORDERED if k in title), None)
    segments = cd.lifetime_shares(rows, kind)
    groups = cd.category_order((s["group"] for s in segments), kind)
    domain = [*cd.PROGRAM_BANDS, cd.HIDDEN]
    base = alt.Chart(
        alt.Data(values=segments),
        title=alt.Title(
            title,
            subtitle=_note(
                table, "shares of each group's released total; hidden bands together in grey"
            ),
        ),
    )
    x = alt.X("group:N", title=None, sort=groups, axis=alt.Axis(labelAngle=0))
    bars = base.mark_bar().encode(
        x=x,
        y=alt.Y("start:Q", title="share of people", axis=alt.Axis(format="%")),
        y2="end:Q",
        color=alt.Color(
            "programs_used:N",
            title="programs used",
            scale=alt.Scale(domain=domain, range=[*BAND_COLOURS, GREY]),
            sort=domain,
        ),
        tooltip=[
            "group:N",
            "programs_used:N",
            "people:Q",
            alt.Tooltip("share:Q", format=".1%"),
            "label:N",
        ],
    )
    labels = (
        base.transform_filter(f"datum.programs_used == '{cd.HIDDEN}' && datum.share >= 0.04")
        .mark_text(fontSize=9, color="#333333")
        .encode(x=x, y="mid:Q", text=alt.value("hidden"))
    )
    return (bars + labels).properties(width=max(56 * len(groups), 300), height=320)


def _cohort(table: pa.Table, title: str) -> alt.TopLevelMixin:
    shown, hidden, never = cd.cohort_points(_records(table))
    drawn = list(dict.fromkeys(r["program"] for r in shown))
    colour = alt.Color("program:N", scale=alt.Scale(domain=drawn), title="program")
    x = alt.X("year:O", title="years since the cohort event", axis=alt.Axis(labelAngle=0))
    y = alt.Y("cumulative_pct:Q", title="cumulative % entered")
    data = alt.Chart(alt.Data(values=shown))
    band = data.mark_area(opacity=0.15).encode(
        x=x,
        y=alt.Y("ci_low_pct:Q", title="cumulative % entered"),
        y2="ci_high_pct:Q",
        fill=alt.Fill("program:N", scale=alt.Scale(domain=drawn), legend=None),
    )
    line = data.mark_line(point=True).encode(
        x=x, y=y, color=colour,
        tooltip=["program:N", "year:O", "at_risk:Q", "entered:Q", "cumulative_pct:Q",
                 "ci_low_pct:Q", "ci_high_pct:Q"],
    )  # fmt: skip
    layers: list[Any] = [band, line]
    if hidden:
        layers.append(
            alt.Chart(alt.Data(values=hidden))
            .mark_point(shape="cross", size=70, filled=True, color="#888888")
            .encode(
                x=x,
                y=y,
                shape=alt.Shape(
                    "marker:N",
                    legend=alt.Legend(title=None, orient="bottom", labelLimit=0),
                    scale=alt.Scale(range=["cross"]),
                ),
                tooltip=["program:N", "year:O", "marker:N"],
            )
        )
    more = [
        "yearly life table: product over yearly intervals of (1 - entered / at risk), "
        "follow-up ends censored; band: 95% (Greenwood, log-log)",
    ]
    if hidden:
        more.insert(0, f"{len(hidden)} points hidden by disclosure control (grey crosses)")
    if never:
        more.append(f"hidden throughout, not drawn: {', '.join(never)}")
    return (
        alt.layer(*layers)
        .resolve_legend(color="independent", fill="independent")
        .properties(width=480, height=320, title=alt.Title(title, subtitle=_note(table, *more)))
    )


def _trends(table: pa.Table, title: str) -> alt.TopLevelMixin:
    rows = _records(table)
    hidden = sum(r["people"] is None for r in rows)
    more = (
        ["grey bars: hidden months, a count below the minimum cell size (1 to 10 at 11)"]
        if hidden
        else []
    )
    base = alt.Chart(alt.Data(values=rows))
    x = alt.X("month:T")
    # Each month stands alone (no totals): only small counts are hidden, drawn as their range.
    line = base.mark_line().encode(
        x=x,
        y=alt.Y("people:Q", title="people"),
        color=alt.Color("program:N"),
        tooltip=[c + ":N" for c in table.column_names if c != "people"] + ["people:Q"],
    )
    gaps = (
        base.transform_filter("datum.people === null")
        .transform_calculate(low="1", high="10")
        .mark_rule(color=GREY, strokeWidth=3)
        .encode(
            x=x,
            y=alt.Y("low:Q", title="people"),
            y2="high:Q",
            tooltip=["month:T", "program:N"],
        )
    )
    note = alt.Title(title, subtitle=_note(table, *more))
    if "county" in table.column_names:
        return (
            alt.layer(line, gaps)
            .properties(width=220, height=140)
            .facet(facet="county:N", columns=4)
            .properties(title=note)
        )
    return alt.layer(line, gaps).properties(width=560, height=320, title=note)
