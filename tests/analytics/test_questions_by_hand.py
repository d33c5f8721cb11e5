"""Each question on the hand-built hub (see conftest.py), against answers worked by hand."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from tests.analytics.engine import exact_counts

from crosswalk.analytics import (
    CohortOutcomes,
    Filters,
    HeavyUsers,
    LifetimeUse,
    Pathways,
    ProgramCombinations,
    ProgramOverlap,
    Question,
    Trends,
    cumulative_incidence,
)

SECRET = b"analytics test secret"

YEAR_2015 = Filters(start=date(2015, 1, 1), end=date(2015, 12, 31))


def nonzero(con: duckdb.DuckDBPyConnection, q: Question, *dims: str) -> dict:
    rows = exact_counts(con, q, SECRET).to_pylist()
    return {tuple(r[d] for d in dims): r["people"] for r in rows if r["people"]}


def test_overlap_matrix(hub: duckdb.DuckDBPyConnection) -> None:
    cells = nonzero(hub, ProgramOverlap(YEAR_2015), "program_a", "program_b")
    # In 2015: E1 MEDICAID+SNAP, E2 FOSTER_CARE+MEDICAID, E3 UI_CLAIM+SNAP+TANF,
    # E4 MEDICAID+AGING_IN_HOME, E5 FOSTER_CARE.
    assert cells["MEDICAID", "MEDICAID"] == 3
    assert cells["SNAP", "SNAP"] == 2
    assert cells["FOSTER_CARE", "FOSTER_CARE"] == 2
    assert cells["MEDICAID", "SNAP"] == cells["SNAP", "MEDICAID"] == 1
    assert cells["TANF", "UI_CLAIM"] == 1
    assert ("FOSTER_CARE", "SNAP") not in cells
    assert len(cells) == 18


def test_overlap_grid_is_complete_with_zeros(hub: duckdb.DuckDBPyConnection) -> None:
    q = ProgramOverlap(YEAR_2015.model_copy(update={"programs": ("SNAP", "WIC")}))
    rows = exact_counts(hub, q, SECRET).to_pylist()
    assert [(r["program_a"], r["program_b"], r["people"]) for r in rows] == [
        ("SNAP", "SNAP", 2),
        ("SNAP", "WIC", 0),
        ("WIC", "SNAP", 0),
        ("WIC", "WIC", 0),
    ]


def test_combinations(hub: duckdb.DuckDBPyConnection) -> None:
    assert nonzero(hub, ProgramCombinations(YEAR_2015), "combination") == {
        ("AGING_IN_HOME+MEDICAID",): 1,
        ("FOSTER_CARE",): 1,
        ("FOSTER_CARE+MEDICAID",): 1,
        ("MEDICAID+SNAP",): 1,
        ("SNAP+TANF+UI_CLAIM",): 1,
        ("ALL",): 5,
    }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(age_groups=("25-44",), end=date(2015, 12, 31)), 2),  # E1 (25), E3 (35)
        (Filters(sexes=("M",), end=date(2015, 12, 31)), 2),  # E2, E4
        (Filters(counties=("kane",), end=date(2015, 12, 31)), 1),  # E4
        # Open services overlap every later period: E3's SNAP and E4's Medicaid.
        (Filters(start=date(2019, 1, 1)), 5),  # E2 (prison), E3, E4, E5, E6
        (Filters(start=date(2019, 1, 2), programs=("AGING_IN_HOME",)), 0),  # ended 01-01
        (Filters(programs=("SNAP",)), 4),  # E1, E3, E5, E6
    ],
)
def test_filters(hub: duckdb.DuckDBPyConnection, filters: Filters, expected: int) -> None:
    rows = nonzero(hub, ProgramCombinations(filters), "combination")
    assert rows.get(("ALL",), 0) == expected


def test_pathways_around_snap(hub: duckdb.DuckDBPyConnection) -> None:
    q = Pathways(Filters(end=date(2021, 12, 31)), program="SNAP")
    rows = exact_counts(hub, q, SECRET).to_pylist()
    links = {(r["direction"], r["program"]): (r["people"], r["median_days"]) for r in rows}
    # Before SNAP: E1 MEDICAID (59 days), E3 UI_CLAIM (120), E5 FOSTER_CARE (2953), E6 none.
    assert links["before", "MEDICAID"] == (1, 59)
    assert links["before", "UI_CLAIM"] == (1, 120)
    assert links["before", "FOSTER_CARE"] == (1, 2953)
    assert links["before", "(none)"] == (1, None)
    # After: E3 TANF (92 days), E5 MEDICAID (334), E1 and E6 none.
    assert links["after", "TANF"] == (1, 92)
    assert links["after", "MEDICAID"] == (1, 334)
    assert links["after", "(none)"] == (2, None)
    assert links["before", "ALL"][0] == links["after", "ALL"][0] == 4


def test_pathways_only_count_first_entries_in_the_period(
    hub: duckdb.DuckDBPyConnection,
) -> None:
    q = Pathways(Filters(start=date(2018, 1, 1), end=date(2018, 12, 31)), program="SNAP")
    rows = exact_counts(hub, q, SECRET).to_pylist()
    assert {(r["direction"], r["program"]): r["people"] for r in rows if r["people"]} == {
        ("before", "FOSTER_CARE"): 1,
        ("before", "ALL"): 1,
        ("after", "MEDICAID"): 1,
        ("after", "ALL"): 1,
    }


def test_lifetime_use_by_sex(hub: duckdb.DuckDBPyConnection) -> None:
    rows = exact_counts(hub, LifetimeUse(YEAR_2015, by="sex"), SECRET).to_pylist()
    cells = {(r["group"], r["programs_used"]): r for r in rows if r["people"]}
    # Up to the end of 2015: E5 one program (FOSTER_CARE), E1, E2, E4 two, E3 three.
    assert {k: r["people"] for k, r in cells.items()} == {
        ("F", "1"): 1,
        ("F", "2"): 1,
        ("F", "3"): 1,
        ("F", "ALL"): 3,
        ("M", "2"): 2,
        ("M", "ALL"): 2,
        ("ALL", "1"): 1,
        ("ALL", "2"): 3,
        ("ALL", "3"): 1,
        ("ALL", "ALL"): 5,
    }
    # E5's foster care from 2010-01-01, open to the horizon 2015-12-31: 2,191 days.
    assert cells["F", "1"]["median_days"] == 2191
    assert cells["F", "3"]["median_episodes"] == 3
    assert cells["ALL", "ALL"]["median_amount"] == 200


@pytest.mark.parametrize(("unit", "total", "two_programs"), [("person", 5, 3), ("household", 4, 2)])
def test_lifetime_use_without_breakdown_counts_each_unit_once(
    hub: duckdb.DuckDBPyConnection, unit: str, total: int, two_programs: int
) -> None:
    # Everyone in one group: the ALL group is not counted again as a breakdown.
    cells = nonzero(hub, LifetimeUse(YEAR_2015, unit=unit), "group", "programs_used")
    assert {g for g, _ in cells} == {"ALL"}
    assert cells["ALL", "ALL"] == total
    assert cells["ALL", "2"] == two_programs


def test_lifetime_use_by_household(hub: duckdb.DuckDBPyConnection) -> None:
    q = LifetimeUse(YEAR_2015, by="county", unit="household")
    cells = nonzero(hub, q, "group", "programs_used")
    # Enterprise households: E1 and E3 (one SNAP case) use four programs together; E2
    # (LAKE) and E4 two each, E5 one.
    assert cells["ALL", "ALL"] == 4
    assert cells["ALL", "4"] == 1
    assert cells["ALL", "2"] == 2
    assert cells["LAKE", "ALL"] == 1


def test_overlap_of_households(hub: duckdb.DuckDBPyConnection) -> None:
    q = ProgramOverlap(YEAR_2015, unit="household")
    cells = nonzero(hub, q, "program_a", "program_b")
    # E1 (MEDICAID, SNAP) and E3 (UI_CLAIM, SNAP, TANF) are one family: a family on
    # Medicaid and TANF, which no one person is.
    assert cells["MEDICAID", "TANF"] == 1
    assert cells["SNAP", "SNAP"] == 1
    assert cells["MEDICAID", "MEDICAID"] == 3
    assert ("MEDICAID", "TANF") not in nonzero(
        hub, ProgramOverlap(YEAR_2015), "program_a", "program_b"
    )


def test_cohort_leaving_foster_care(hub: duckdb.DuckDBPyConnection) -> None:
    q = CohortOutcomes(
        Filters(end=date(2021, 12, 31)),
        outcomes=("JUVENILE_DETENTION", "INCARCERATION", "MEDICAID"),
    )
    curve = cumulative_incidence(exact_counts(hub, q, SECRET)).to_pylist()
    by = {(r["program"], r["year"]): r for r in curve}
    # E2 left care 2016-06-30: detention 244 days later (year 1), prison 1,280 (year 4).
    # E5 left 2017-12-31: Medicaid 366 days later (year 2); followed 1,461 days (4 years).
    assert (by["JUVENILE_DETENTION", 1]["at_risk"], by["JUVENILE_DETENTION", 1]["entered"]) == (
        2,
        1,
    )
    assert by["JUVENILE_DETENTION", 1]["cumulative_pct"] == 50.0
    assert by["INCARCERATION", 3]["cumulative_pct"] == 0.0
    assert by["INCARCERATION", 4]["entered"] == 1
    assert by["INCARCERATION", 5]["at_risk"] == 0
    assert by["MEDICAID", 2]["entered"] == 1
    assert by["MEDICAID", 5]["at_risk"] == 1  # E2 only: E5's follow-up has ended


def test_cohort_curve_stops_at_a_hidden_count() -> None:
    import pyarrow as pa

    table = pa.table(
        {
            "program": ["X"] * 4,
            "year": ["1", "1", "2", "2"],
            "measure": ["at_risk", "entered", "at_risk", "entered"],
            "people": pa.array([100, 20, 80, None], pa.int64()),
        }
    )
    curve = cumulative_incidence(table).column("cumulative_pct").to_pylist()
    assert curve == [20.0, None]


def test_trends(hub: duckdb.DuckDBPyConnection) -> None:
    q = Trends(Filters(start=date(2015, 1, 1), end=date(2015, 3, 31)))
    cells = nonzero(hub, q, "month", "program", "county")
    assert cells[date(2015, 1, 1), "MEDICAID", "LAKE"] == 1
    assert (date(2015, 1, 1), "UI_CLAIM", "COOK") not in cells
    assert cells[date(2015, 2, 1), "UI_CLAIM", "COOK"] == 1
    assert cells[date(2015, 3, 1), "SNAP", "COOK"] == 1
    assert sum(v for (m, *_), v in cells.items() if m == date(2015, 3, 1)) == 7


def test_heavy_users(hub: duckdb.DuckDBPyConnection) -> None:
    rows = hub.sql(HeavyUsers(YEAR_2015, limit=2).render()).fetchall()
    # E3: UI_CLAIM 90 days, SNAP from 06-01 (open: to 12-31) 214, TANF to 12-31 122 = 426.
    # E2: Medicaid and foster care all year: 730 days, before E1's 671 (365 + 306).
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in rows] == [
        ("E3", 3, "SNAP+TANF+UI_CLAIM", 3, 426),
        ("E2", 2, "FOSTER_CARE+MEDICAID", 2, 730),
    ]
