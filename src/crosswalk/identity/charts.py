"""Charts of a trained model, written as files (PNG and self-contained HTML) for stewards
and, later, the web UI. Rendering needs no internet: vl-convert embeds what it needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import vl_convert as vlc
from splink import Linker

from crosswalk import privatefile
from crosswalk.errors import ConfigError

# Splink's charts tell the reader to zoom with the mouse wheel: true of the HTML, not of
# a picture.
ZOOM_HINT = "Use mousewheel to zoom"


def without_zoom_hint(spec: Any) -> Any:
    """The spec with Splink's zoom hint taken out of every title's subtitle."""
    if isinstance(spec, list):
        return [without_zoom_hint(s) for s in spec]
    if not isinstance(spec, dict):
        return spec
    out = {k: without_zoom_hint(v) for k, v in spec.items()}
    title = out.get("title")
    if isinstance(title, dict) and "subtitle" in title:
        sub = title["subtitle"]
        kept = [s for s in sub if s != ZOOM_HINT] if isinstance(sub, list) else sub
        if kept == ZOOM_HINT or kept == []:
            out["title"] = {k: v for k, v in title.items() if k != "subtitle"}
        else:
            out["title"] = {**title, "subtitle": kept}
    return out


def _write(chart: Any, folder: Path, name: str) -> list[Path]:
    spec = chart.chart_dict
    png = folder / f"{name}.png"
    html = folder / f"{name}.html"
    png.write_bytes(vlc.vegalite_to_png(without_zoom_hint(spec), scale=1.5))
    html.write_text(vlc.vegalite_to_html(spec, bundle=True))
    return [png, html]


def write_charts(linker: Linker, folder: str | Path) -> list[Path]:
    """The match-weights chart and the m/u parameters chart of the trained model."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    files = _write(linker.visualisations.match_weights_chart(), out, "match_weights")
    files += _write(linker.visualisations.m_u_parameters_chart(), out, "m_u_parameters")
    return files


# Which record columns each comparison of the model reads, to show a pair side by side.
COMPARED_COLUMNS: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name",),
    "middle_name": ("middle_name",),
    "last_name": ("last_name",),
    "dob": ("dob",),
    "ssn": ("ssn", "ssn_last4"),
    "sex": ("sex",),
    "generation": ("name_suffix",),
    "address": ("address_line", "zip", "county"),
    "phone": ("phone",),
    "medicaid_id": ("medicaid_id",),
}


def _shown(record: dict[str, Any], columns: tuple[str, ...]) -> str:
    values = [str(record[c]) for c in columns if record.get(c) not in (None, "")]
    return ", ".join(values)


def pair_steps(
    match_weight: float,
    fields: dict[str, dict[str, Any]],
    record_a: dict[str, Any] | None = None,
    record_b: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """A pair's evidence as the steps of a waterfall: the prior (the starting weight, the
    final weight less the comparisons' partial weights), each comparison with both records'
    values, its level and partial match weight, then the final match weight. ``start`` and
    ``end`` place each step's bar."""
    a, b = record_a or {}, record_b or {}
    partial = sum(float(f["weight"]) for f in fields.values())
    steps: list[dict[str, Any]] = [
        {
            "step": "prior",
            "a": "",
            "b": "",
            "level": "before comparing: how often two records match at all",
            "weight": match_weight - partial,
        }
    ]
    for name, f in fields.items():
        columns = COMPARED_COLUMNS.get(name, (name,))
        steps.append(
            {
                "step": name,
                "a": _shown(a, columns),
                "b": _shown(b, columns),
                "level": f["level"],
                "weight": float(f["weight"]),
            }
        )
    running = 0.0
    for s in steps:
        s["start"], running = running, running + s["weight"]
        s["end"] = running
    steps.append(
        {
            "step": "final match weight",
            "a": "",
            "b": "",
            "level": "",
            "weight": match_weight,
            "start": 0.0,
            "end": match_weight,
        }
    )
    for i, s in enumerate(steps):
        s["order"] = i
        s["weight"] = round(s["weight"], 3)
        s["lo"], s["hi"] = min(s["start"], s["end"]), max(s["start"], s["end"])
    return steps


def waterfall(steps: list[dict[str, Any]], title: str) -> Any:
    """A waterfall of a pair's partial match weights (as Splink draws one): a bar per step
    from the running total before it to after it, green up and red down, the final weight
    from zero; each comparison labelled with its level and both records' values."""
    import altair as alt

    order = [s["step"] for s in steps]
    lowest, highest = min(s["lo"] for s in steps), max(s["hi"] for s in steps)
    data = alt.Data(
        values=[
            {**s, "kind": "total" if s["step"] == "final match weight" else
             ("up" if s["weight"] >= 0 else "down")}
            for s in steps
        ]
    )  # fmt: skip
    base = alt.Chart(data)
    y = alt.Y("step:N", sort=order, title=None)
    bars = base.mark_bar().encode(
        y=y,
        x=alt.X(
            "start:Q",
            title="match weight (log2 of the odds that the records match)",
            scale=alt.Scale(domain=[lowest - 4, highest + 1], nice=False),
        ),
        x2="end:Q",
        color=alt.Color(
            "kind:N",
            scale=alt.Scale(
                domain=["up", "down", "total"], range=["#2e7d32", "#c62828", "#455a64"]
            ),
            legend=None,
        ),
        tooltip=["step:N", "a:N", "b:N", "level:N", "weight:Q"],
    )
    label = (
        base.transform_calculate(
            text="datum.level + (datum.a || datum.b ? ' — ' + datum.a + ' | ' + datum.b : '')"
        )
        .mark_text(align="left", dx=6, fontSize=10)
        .encode(y=y, x=alt.X("hi:Q"), text="text:N")
    )
    value = base.mark_text(align="right", dx=-4, fontSize=10, color="#333333").encode(
        y=y, x=alt.X("lo:Q"), text=alt.Text("weight:Q", format="+.2f")
    )
    zero = alt.Chart(alt.Data(values=[{"x": 0}])).mark_rule(color="#888888").encode(x="x:Q")
    return (bars + label + value + zero).properties(
        width=420,
        height=22 * len(steps),
        title=alt.Title(
            title,
            subtitle="bars: each comparison's partial match weight, from the running total; "
            "labels: level — record A | record B",
        ),
    )


def write_waterfall(steps: list[dict[str, Any]], title: str, path: str | Path) -> Path:
    """The waterfall as self-contained HTML, or PNG, by the path's suffix."""
    p = Path(path)
    if p.suffix.lower() not in (".png", ".html"):
        raise ConfigError(f"{p}: charts are written as .png or .html")
    spec = waterfall(steps, title).to_dict()
    p.parent.mkdir(parents=True, exist_ok=True)
    # Its labels are both records' values (names, dates of birth, SSNs): the file is its
    # owner's only, and a link planted at the path is replaced, not followed.
    if p.suffix.lower() == ".png":
        drawn = vlc.vegalite_to_png(spec, scale=1.5)
        return privatefile.write(p, lambda q: q.write_bytes(drawn))
    page = vlc.vegalite_to_html(spec, bundle=True)
    return privatefile.write(p, lambda q: q.write_text(page))


def weight_distribution(
    bins: list[dict[str, Any]], threshold: float | None, floor: float | None
) -> Any:
    """The candidate pairs' match weights (bars of one unit, accepted pairs apart from
    the rest), with the threshold and the review floor as rules."""
    import altair as alt

    values = [
        {"low": b["low"], "high": b["high"], "pairs": b[kind], "kind": kind}
        for b in bins
        for kind in ("accepted", "rejected")
        if b[kind]
    ]
    bars = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            x=alt.X("low:Q", title="match weight", bin="binned"),
            x2="high:Q",
            y=alt.Y("pairs:Q", title="candidate pairs", stack=True),
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(domain=["accepted", "rejected"], range=["#2e7d32", "#9e9e9e"]),
                title="pairs",
            ),
        )
    )
    rules = [
        {"x": x, "what": what}
        for x, what in ((threshold, "threshold"), (floor, "review floor"))
        if x is not None
    ]
    lines = (
        alt.Chart(alt.Data(values=rules))
        .mark_rule(strokeDash=[4, 3], color="#c62828")
        .encode(x="x:Q")
    )
    labels = (
        alt.Chart(alt.Data(values=rules))
        .mark_text(align="left", dx=3, dy=-4, color="#c62828", fontSize=10)
        .encode(x="x:Q", y=alt.value(0), text="what:N")
    )
    return (bars + lines + labels).properties(
        width=520,
        height=220,
        title=alt.Title(
            "Match weights of the candidate pairs",
            subtitle="pairs at or over the threshold are linked; between the floor and the "
            "threshold they await clerical review",
        ),
    )


def m_u_chart(parameters: list[dict[str, Any]]) -> Any:
    """The trained m (among matches) and u (among non-matches) probability of each
    comparison level, side by side, as Splink draws them."""
    import altair as alt

    values = [
        {"row": f"{p['comparison']}: {p['level']}", "probability": p[kind], "kind": kind}
        for p in parameters
        for kind in ("m", "u")
        if p[kind] is not None
    ]
    order = list(dict.fromkeys(v["row"] for v in values))
    base = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            y=alt.Y("row:N", sort=order, title=None, axis=alt.Axis(labelLimit=320)),
            x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(domain=["m", "u"], range=["#1565c0", "#ef6c00"]),
                legend=None,
            ),
        )
    )
    return alt.hconcat(
        base.transform_filter("datum.kind == 'm'").properties(
            width=180, height=14 * len(order), title="m: among true matches"
        ),
        base.transform_filter("datum.kind == 'u'")
        .encode(y=alt.Y("row:N", sort=order, axis=None))
        .properties(width=180, height=14 * len(order), title="u: among non-matches"),
    ).properties(title=alt.Title("Trained m and u probabilities of each comparison level"))


def accuracy_chart(measures: list[dict[str, Any]], misses: list[dict[str, Any]]) -> Any:
    """Accuracy against a truth set: precision, recall and F1 (pairwise and B-cubed) as
    bars, and the pairs missed or wrongly joined by their kind."""
    import altair as alt

    scores = (
        alt.Chart(alt.Data(values=measures))
        .mark_bar(color="#1565c0")
        .encode(
            y=alt.Y("measure:N", sort=[m["measure"] for m in measures], title=None),
            x=alt.X("value:Q", scale=alt.Scale(domain=[0, 1]), title="score"),
        )
        .properties(width=260, height=18 * len(measures), title="Scores")
    )
    # Room for the labels: the browser's fonts may be wider than those the SVG was laid
    # out with.
    padding = {"left": 40, "top": 5, "right": 10, "bottom": 5}
    if not misses:
        return scores.properties(padding=padding)
    wrong = (
        alt.Chart(alt.Data(values=misses))
        .mark_bar()
        .encode(
            y=alt.Y("kind:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X("pairs:Q", title="record pairs", axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color(
                "error:N",
                scale=alt.Scale(
                    domain=["missed (false negative)", "wrongly joined (false positive)"],
                    range=["#ef6c00", "#a4161a"],
                ),
                legend=alt.Legend(orient="bottom", title=None, labelLimit=320, columns=1),
            ),
        )
        .properties(width=300, height=18 * len(misses), title="Errors by kind")
    )
    return alt.hconcat(scores, wrong).properties(padding=padding)
