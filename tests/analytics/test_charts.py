"""Charts tell the truth under suppression: shares of released totals, hidden cells
shown as hidden, ordered categories in order, one quantity per colour and text."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from crosswalk.analytics import chart, chart_data, cumulative_incidence, write_chart
from crosswalk.identity.charts import ZOOM_HINT, without_zoom_hint

BANDS = ("1", "2", "3", "4", "5+", "ALL")


def _values(spec: object) -> list[dict]:
    """Every inline data row of a Vega-Lite spec, wherever it sits."""
    if isinstance(spec, list):
        return [v for s in spec for v in _values(s)]
    if not isinstance(spec, dict):
        return []
    own = spec["data"]["values"] if isinstance(spec.get("data"), dict) else []
    inline = list(own or []) + [v for d in spec.get("datasets", {}).values() for v in d]
    return inline + [v for k, s in spec.items() if k != "data" for v in _values(s)]


def lifetime_table(cells: dict[str, dict[str, int | None]]) -> pa.Table:
    rows = [
        {"group": g, "programs_used": b, "people": people.get(b), "median_days": None,
         "people_suppressed": people.get(b) is None}
        for g, people in cells.items()
        for b in BANDS
    ]  # fmt: skip
    return pa.Table.from_pylist(rows)


# The case: 440 of the 727 people of 0-5 are in hidden bands.
LIFETIME = lifetime_table(
    {
        "6-17": {"1": 300, "2": 200, "3": 100, "4": 50, "5+": 30, "ALL": 680},
        "0-5": {"1": None, "2": 287, "3": None, "4": None, "5+": 0, "ALL": 727},
        "18-24": {"1": None, "2": None, "3": None, "4": None, "5+": None, "ALL": None},
        "ALL": {"1": 700, "2": 600, "3": 300, "4": 150, "5+": 80, "ALL": 1830},
    }
)


def _by(segments, group):
    return {s["programs_used"]: s for s in segments if s["group"] == group}


def test_lifetime_shares_are_of_the_released_total_with_hidden_in_grey() -> None:
    segments = chart_data.lifetime_shares(LIFETIME.to_pylist())
    young = _by(segments, "0-5")
    assert young["2"]["share"] == pytest.approx(287 / 727)  # not 100%
    assert young["hidden"]["share"] == pytest.approx(440 / 727)
    assert young["hidden"]["label"] == "hidden: 1, 3, 4 programs"
    assert sum(s["share"] for s in young.values()) == pytest.approx(1.0)
    assert young["hidden"]["end"] == pytest.approx(1.0)
    # A group whose total is hidden is hidden whole: no share can be known.
    assert _by(segments, "18-24") == {"hidden": pytest.approx(_by(segments, "18-24")["hidden"])}
    assert _by(segments, "18-24")["hidden"]["label"] == "total hidden"


def test_age_groups_keep_their_order() -> None:
    groups = ["65+", "ALL", "6-17", "18-24", "0-5", "unknown", "45-64", "25-44"]
    assert chart_data.category_order(groups) == [
        "0-5", "6-17", "18-24", "25-44", "45-64", "65+", "unknown", "ALL"
    ]  # fmt: skip
    segments = chart_data.lifetime_shares(LIFETIME.to_pylist())
    assert list(dict.fromkeys(s["group"] for s in segments)) == ["0-5", "6-17", "18-24", "ALL"]


def test_the_lifetime_chart_draws_hidden_in_grey_and_groups_in_order() -> None:
    spec = chart("lifetime", LIFETIME, "Programs used per person, by age_group").to_dict()
    bars = spec["layer"][0]["encoding"]
    assert bars["x"]["sort"] == ["0-5", "6-17", "18-24", "ALL"]
    colour = bars["color"]["scale"]
    assert colour["domain"][-1] == "hidden" and colour["range"][-1] == "#bdbdbd"
    assert spec["layer"][1]["encoding"]["text"] == {"value": "hidden"}


def cohort_counts(cells: dict[tuple[str, int], tuple[int | None, int | None]]) -> pa.Table:
    rows = [
        {"program": p, "year": str(y), "measure": m, "people": v}
        for (p, y), (n, d) in cells.items()
        for m, v in (("at_risk", n), ("entered", d))
    ]
    return pa.Table.from_pylist(rows)


def test_the_life_table_says_why_a_point_is_missing_and_gives_a_band() -> None:
    cells = {
        ("A", 1): (100, 20), ("A", 2): (80, None), ("A", 3): (60, 5),
        ("B", 1): (30, 0), ("B", 2): (12, 3), ("B", 3): (0, 0),
    }  # fmt: skip
    curve = cumulative_incidence(cohort_counts(cells)).to_pylist()
    by = {(r["program"], r["year"]): r for r in curve}
    assert [by["A", y]["status"] for y in (1, 2, 3)] == ["shown", "hidden", "hidden"]
    assert by["B", 3]["status"] == "not followed" and by["B", 3]["cumulative_pct"] is None
    a1 = by["A", 1]
    assert a1["cumulative_pct"] == 20.0
    assert a1["ci_low_pct"] < 20.0 < a1["ci_high_pct"]
    # log-log band: S=0.8, Greenwood 20/(100*80); exp(+-1.96*sqrt(v)/|log S|) powers of S
    import math

    spread = 1.959964 * math.sqrt(20 / 8000) / abs(math.log(0.8))
    assert a1["ci_low_pct"] == round(100 * (1 - 0.8 ** math.exp(-spread)), 2)
    assert a1["ci_high_pct"] == round(100 * (1 - 0.8 ** math.exp(spread)), 2)
    # None entered among 30: the band reaches the exact upper bound, not zero.
    assert by["B", 1]["ci_high_pct"] == round(100 * (1 - 0.025 ** (1 / 30)), 2)


def test_the_cohort_chart_marks_hidden_points_and_names_what_is_not_drawn() -> None:
    cells = {
        ("A", 1): (100, 20), ("A", 2): (80, None),
        ("C", 1): (100, None), ("C", 2): (None, 0),
    }  # fmt: skip
    curve = cumulative_incidence(cohort_counts(cells))
    spec = chart("cohort", curve, "After X exit (yearly life table)").to_dict()
    subtitle = " ".join(spec["title"]["subtitle"])
    assert "hidden throughout, not drawn: C" in subtitle
    assert "yearly life table" in subtitle and "Greenwood" in subtitle
    line = spec["layer"][1]["encoding"]["color"]
    assert line["scale"]["domain"] == ["A"]  # no legend entry without a line
    markers = spec["layer"][2]
    assert markers["mark"]["shape"] == "cross"
    assert any(v.get("marker", "").startswith("hidden point") for v in _values(spec))


PATHWAYS = pa.Table.from_pylist(
    [
        {"direction": "before", "program": "SNAP", "people": 215},
        {"direction": "before", "program": "MEDICAID", "people": 92},
        {"direction": "before", "program": "WIC", "people": None},
        {"direction": "before", "program": "ALL", "people": 345},
        {"direction": "after", "program": "MEDICAID", "people": 159},
        {"direction": "after", "program": "(none)", "people": 31},
        {"direction": "after", "program": "WIC", "people": None},
        {"direction": "after", "program": "ALL", "people": 345},
    ]
)


def test_the_sankey_keeps_every_entrant_hidden_steps_in_one_grey_node() -> None:
    nodes, links = chart_data.sankey(PATHWAYS.to_pylist(), "TANF", height=360)
    by = {(n["column"], n["program"]): n for n in nodes}
    assert by["centre", "TANF"]["people"] == 345
    assert by["before", "hidden"]["people"] == 345 - 215 - 92
    assert by["after", "hidden"]["people"] == 345 - 159 - 31
    scale = (by["centre", "TANF"]["y2"] - by["centre", "TANF"]["y"]) / 345
    snap = by["before", "SNAP"]
    assert snap["y2"] - snap["y"] == pytest.approx(215 * scale)
    # One ribbon per step, as thick as its node at both ends.
    ribbon = [p for p in links if p["link"] == "before:SNAP"]
    assert all(p["y2"] - p["y"] == pytest.approx(215 * scale) for p in ribbon)
    assert ribbon[0]["y"] == pytest.approx(snap["y"])
    assert ribbon[-1]["y"] == pytest.approx(by["centre", "TANF"]["y"])
    assert {p["link"] for p in links} == {f"{c}:{n}" for c, n in by if c != "centre"}


def test_combinations_are_an_upset_chart_with_the_hidden_bar() -> None:
    rows = [
        {"combination": "MEDICAID", "people": 1582},
        {"combination": "MEDICAID+SNAP", "people": 338},
        {"combination": "SNAP", "people": 672},
        {"combination": "SNAP+TANF", "people": None},
        {"combination": "ALL", "people": 2700},
    ]
    bars, matrix = chart_data.upset(rows)
    assert [b["combination"] for b in bars] == [
        "MEDICAID", "SNAP", "MEDICAID+SNAP", "1 hidden combinations"
    ]  # fmt: skip
    assert bars[-1]["people"] == 2700 - 1582 - 672 - 338
    members = {(m["combination"], m["program"]) for m in matrix if m["member"]}
    assert members == {
        ("MEDICAID", "MEDICAID"), ("SNAP", "SNAP"),
        ("MEDICAID+SNAP", "MEDICAID"), ("MEDICAID+SNAP", "SNAP"),
    }  # fmt: skip
    spec = chart("combinations", pa.Table.from_pylist(rows), "Combinations").to_dict()
    assert len(spec["vconcat"]) == 2  # bars over the membership matrix


def test_overlap_colour_and_text_show_the_same_count_and_hidden_fits() -> None:
    rows = [
        {"program_a": a, "program_b": b, "people": n, "pct_of_a": None,
         "people_suppressed": n is None}
        for a, b, n in (("A", "A", 500), ("A", "B", None), ("B", "A", None), ("B", "B", 12_345))
    ]  # fmt: skip
    spec = chart("overlap", pa.Table.from_pylist(rows), "Overlap").to_dict()
    colour = spec["layer"][0]["encoding"]["color"]["field"]
    text = spec["layer"][2]["encoding"]["text"]["field"]
    values = {(v["program_a"], v["program_b"]): v for v in _values(spec)}
    assert colour == "people" and text == "text"
    assert values["A", "A"]["text"] == "500" and values["B", "B"]["text"] == "12k"
    assert values["A", "B"]["text"] == ""  # hidden: a grey cell, no word to overflow it
    assert spec["layer"][1]["mark"]["color"] == "#bdbdbd"


@pytest.mark.parametrize(
    ("name", "table", "title"),
    [
        ("lifetime", LIFETIME, "Programs used per person, by age_group"),
        ("pathways", PATHWAYS, "Pathways into and out of TANF"),
        ("cohort", cumulative_incidence(cohort_counts({("A", 1): (50, 12)})), "Cohort"),
    ],
)
def test_charts_render_to_png(name: str, table: pa.Table, title: str, tmp_path: Path) -> None:
    out = write_chart(chart(name, table, title, "TANF"), tmp_path / f"{name}.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_linkage_chart_pictures_drop_the_zoom_hint() -> None:
    import splink

    defs = Path(splink.__file__).parent / "internals" / "files" / "chart_defs"
    spec = json.loads((defs / "match_weights_interactive_history.json").read_text())
    assert ZOOM_HINT in json.dumps(spec)
    cleaned = without_zoom_hint(spec)
    assert ZOOM_HINT not in json.dumps(cleaned)
    assert json.dumps(cleaned).count('"title"') == json.dumps(spec).count('"title"')


def test_hidden_months_of_a_trend_are_drawn_as_the_range_they_hide() -> None:
    rows = [
        {"month": "2019-01-01", "program": "TANF", "people": 40, "people_suppressed": False},
        {"month": "2019-02-01", "program": "TANF", "people": None, "people_suppressed": True},
        {"month": "2019-03-01", "program": "TANF", "people": 38, "people_suppressed": False},
    ]
    spec = chart("trends", pa.Table.from_pylist(rows), "People enrolled per month").to_dict()
    rule = spec["layer"][1]
    assert rule["mark"]["type"] == "rule" and rule["mark"]["color"] == "#bdbdbd"
    assert {"calculate": "1", "as": "low"} in rule["transform"]
    assert "grey bars: hidden months" in " ".join(spec["title"]["subtitle"])
