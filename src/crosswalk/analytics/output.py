"""Answers to files: tables (CSV, Parquet, JSON) and charts (PNG, self-contained HTML).

Charts are Vega-Lite specs built with Altair from the released table only, rendered by
vl-convert with the Vega libraries bundled into the HTML, so they open without internet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import altair as alt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import vl_convert as vlc

from crosswalk.errors import ConfigError

FORMATS = ("csv", "parquet", "json")


def write_table(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` in the format its suffix names (.csv, .parquet, .json)."""
    p = Path(path)
    fmt = p.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ConfigError(f"{p}: unknown table format; use one of {', '.join(FORMATS)}")
    p.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        pacsv.write_csv(table, p)
    elif fmt == "parquet":
        pq.write_table(table, p)
    else:
        p.write_text(json.dumps(table.to_pylist(), default=str, indent=1) + "\n")
    return p


def _records(table: pa.Table) -> list[dict[str, Any]]:
    return json.loads(json.dumps(table.to_pylist(), default=str))


def chart(name: str, table: pa.Table, title: str) -> alt.TopLevelMixin:
    """The chart for a question's answer (hidden figures are left out, never guessed;
    the subtitle says how many there are)."""
    data = alt.Data(values=_records(table))
    hidden = sum(  # counts only: a rate hidden with its count is the same cell
        pc.sum(table.column(c)).as_py() or 0
        for c in table.column_names
        if c.endswith("_suppressed")
        and pa.types.is_integer(table.schema.field(c.removesuffix("_suppressed")).type)
    )
    note = (
        f"{hidden} counts hidden by disclosure control; counts perturbed (cell key)"
        if hidden
        else "counts perturbed (cell key)"
    )
    base = alt.Chart(data, title=alt.Title(title, subtitle=note))
    if name == "overlap":
        heat = base.mark_rect().encode(
            x=alt.X("program_b:N", title=None),
            y=alt.Y("program_a:N", title=None),
            color=alt.Color(
                "pct_of_a:Q", title="% of row program", scale=alt.Scale(scheme="blues")
            ),
            tooltip=["program_a:N", "program_b:N", "people:Q", "pct_of_a:Q"],
        )
        text = (
            base.transform_calculate(
                label="datum.people === null ? 'hidden' : format(datum.people, ',')"
            )
            .mark_text(fontSize=9)
            .encode(x="program_b:N", y="program_a:N", text="label:N")
        )
        return (heat + text).properties(width=520, height=520)
    if name == "combinations":
        return (
            base.transform_filter("datum.combination != 'ALL' && datum.people > 0")
            .mark_bar()
            .encode(
                x=alt.X("people:Q"),
                y=alt.Y("combination:N", sort="-x", title=None),
                tooltip=["combination:N", "people:Q"],
            )
            .properties(width=420)
        )
    if name == "pathways":
        return (
            base.transform_filter("datum.program != 'ALL' && datum.people > 0")
            .mark_bar()
            .encode(
                x=alt.X("people:Q"),
                y=alt.Y("program:N", sort="-x", title=None),
                color=alt.Color("direction:N", sort=["before", "after"]),
                row=alt.Row("direction:N", sort=["before", "after"], title=None),
                tooltip=["direction:N", "program:N", "people:Q", "median_days:Q"],
            )
            .resolve_scale(y="independent")
            .properties(width=420)
        )
    if name == "lifetime":
        return (
            base.transform_filter("datum.programs_used != 'ALL' && datum.people != null")
            .mark_bar()
            .encode(
                x=alt.X("group:N", title=None),
                y=alt.Y("people:Q", stack="normalize", title="share of people"),
                color=alt.Color("programs_used:N", title="programs used"),
                tooltip=["group:N", "programs_used:N", "people:Q", "median_days:Q"],
            )
            .properties(width=420)
        )
    if name == "cohort":
        return (
            base.mark_line(point=True)
            .encode(
                x=alt.X("year:O", title="years since the cohort event"),
                y=alt.Y("cumulative_pct:Q", title="cumulative % entered"),
                color=alt.Color("program:N"),
                tooltip=["program:N", "year:O", "at_risk:Q", "entered:Q", "cumulative_pct:Q"],
            )
            .properties(width=480, height=320)
        )
    if name == "trends":
        line = base.mark_line().encode(
            x=alt.X("month:T"),
            y=alt.Y("people:Q"),
            color=alt.Color("program:N"),
            tooltip=[c + ":N" for c in table.column_names if c != "people"] + ["people:Q"],
        )
        if "county" in table.column_names:
            return line.properties(width=220, height=140).facet(facet="county:N", columns=4)
        return line.properties(width=560, height=320)
    raise ConfigError(f"no chart for {name!r}")


def write_chart(spec: alt.TopLevelMixin, path: str | Path) -> Path:
    """PNG or self-contained HTML (the Vega libraries inline), by the path's suffix."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    vl = spec.to_dict()
    if p.suffix.lower() == ".png":
        p.write_bytes(vlc.vegalite_to_png(vl, scale=1.5))
    elif p.suffix.lower() == ".html":
        p.write_text(vlc.vegalite_to_html(vl, bundle=True))
    else:
        raise ConfigError(f"{p}: charts are written as .png or .html")
    return p
