"""The released answers of a real (synthetic) hub withstand the linear-bounds attack."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from tests.analytics.engine import compute, exact_counts

from crosswalk.analytics import (
    Answer,
    CohortOutcomes,
    Filters,
    LifetimeUse,
    Pathways,
    ProgramCombinations,
    ProgramOverlap,
)

sys.path.insert(0, str(Path(__file__).parents[1] / "disclosure"))
from attacker import linear_bounds

SECRET = b"analytics test secret"

K = 11
F = Filters(start=date(2015, 1, 1), end=date(2020, 12, 31))


@pytest.fixture(scope="module")
def con(state_hub: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(state_hub), read_only=True)


def assert_no_narrow_cell(ranges: dict[int, tuple[float, float]]) -> None:
    narrow = {row: r for row, r in ranges.items() if r[1] - r[0] < K - 1e-6}
    assert not narrow


def shown_counts_are_safe(values: list[int | None]) -> bool:
    return all(v is None or v == 0 or v >= K for v in values)


def test_overlap(con: duckdb.DuckDBPyConnection) -> None:
    answer = compute(con, ProgramOverlap(F), k=K, secret=SECRET)
    table = answer.protected.table
    assert shown_counts_are_safe(table.column("people").to_pylist())
    assert table.column("people_suppressed").to_pylist().count(True) > 0
    dims = ("program_a", "program_b")
    assert_no_narrow_cell(
        linear_bounds(_exact_released(con, answer), "people", dims, symmetric=dims)
    )


def test_combinations(con: duckdb.DuckDBPyConnection) -> None:
    answer = compute(con, ProgramCombinations(F), k=K, secret=SECRET)
    ranges = linear_bounds(
        _exact_released(con, answer), "people", ("combination",), {"combination": "ALL"}
    )
    assert_no_narrow_cell(ranges)


def test_lifetime(con: duckdb.DuckDBPyConnection) -> None:
    answer = compute(con, LifetimeUse(F, by="age_group"), k=K, secret=SECRET)
    margins = {"group": "ALL", "programs_used": "ALL"}
    ranges = linear_bounds(
        _exact_released(con, answer), "people", ("group", "programs_used"), margins
    )
    assert_no_narrow_cell(ranges)
    table = answer.table.to_pylist()
    assert all(r["median_days"] is None for r in table if r["people"] is None)


def test_pathways(con: duckdb.DuckDBPyConnection) -> None:
    answer = compute(con, Pathways(F, program="TANF"), k=K, secret=SECRET)
    released = _exact_released(con, answer)
    rows = released.to_pylist()
    total = {r["direction"]: i for i, r in enumerate(rows) if r["program"] == "ALL"}
    ranges = linear_bounds(
        released,
        "people",
        ("direction", "program"),
        {"program": "ALL"},
        at_least=[(total["before"], [total["after"]]), (total["after"], [total["before"]])],
    )
    assert_no_narrow_cell(ranges)


def test_cohort(con: duckdb.DuckDBPyConnection) -> None:
    q = CohortOutcomes(
        Filters(end=date(2024, 12, 31)),
        program="SNAP",
        event="entry",
        cohort_start=date(2015, 1, 1),
        cohort_end=date(2016, 12, 31),
        years=4,
        outcomes=("MEDICAID", "TANF", "HOMELESS_SERVICES"),
    )
    answer = compute(con, q, k=K, secret=SECRET)
    released = _exact_released(con, answer)
    rows = released.to_pylist()
    at = {(r["program"], r["year"], r["measure"]): i for i, r in enumerate(rows)}
    relations = []
    for p in q.outcome_programs:
        for y in range(1, q.years + 1):
            parts = [at[p, str(y), "entered"]]
            if y < q.years:
                parts.append(at[p, str(y + 1), "at_risk"])
            relations.append((at[p, str(y), "at_risk"], parts))
        relations.append((at[p, "1", "at_risk"], [at[q.outcome_programs[0], "1", "at_risk"]]))
    assert_no_narrow_cell(
        linear_bounds(released, "people", ("program", "year", "measure"), at_least=relations)
    )
    curve = answer.table.to_pylist()
    assert any(r["cumulative_pct"] for r in curve)


def _exact_released(con: duckdb.DuckDBPyConnection, answer: Answer) -> pa.Table:
    """The released table with the exact values of shown cells: an attacker who sees
    through the perturbation is stronger than any real one."""
    exact = exact_counts(con, answer.question, SECRET)
    hidden = answer.protected.table.column("people_suppressed").to_pylist()
    values = [
        None if h else v for h, v in zip(hidden, exact.column("people").to_pylist(), strict=True)
    ]
    dims = answer.question.spec.dimensions
    return pa.table({**{d: exact.column(d) for d in dims}, "people": pa.array(values, pa.int64())})
