"""No hidden cell can be recomputed, or narrowed below k, from what a table releases."""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from crosswalk.disclosure import Rate, Sum, TableSpec, protect

K = 11
small_or_large = st.one_of(st.integers(0, 14), st.integers(15, 400))


def one_way(parts: list[int]) -> pa.Table:
    names = [f"P{i}" for i in range(len(parts))]
    return pa.table({"program": [*names, "ALL"], "people": [*parts, sum(parts)]})


def two_way(grid: list[list[int]]) -> pa.Table:
    m = np.array(grid)
    rows, cols, counts = [], [], []
    for i in range(m.shape[0] + 1):
        for j in range(m.shape[1] + 1):
            rows.append("ALL" if i == m.shape[0] else f"C{i}")
            cols.append("ALL" if j == m.shape[1] else f"P{j}")
            counts.append(
                int(
                    m.sum()
                    if i == m.shape[0] and j == m.shape[1]
                    else m[:, j].sum()
                    if i == m.shape[0]
                    else m[i].sum()
                    if j == m.shape[1]
                    else m[i, j]
                )
            )
    return pa.table({"county": rows, "program": cols, "people": counts})


def overlap(membership: np.ndarray) -> pa.Table:
    """Pairwise overlap of programs (columns) among people (rows); diagonal = totals."""
    n = membership.shape[1]
    counts = membership.T.astype(int) @ membership.astype(int)
    a = [f"P{i}" for i in range(n) for _ in range(n)]
    b = [f"P{j}" for _ in range(n) for j in range(n)]
    return pa.table({"program_a": a, "program_b": b, "people": counts.reshape(-1).tolist()})


def assert_protected(ranges: dict[int, tuple[float, float]]) -> None:
    for row, (lo, hi) in ranges.items():
        assert hi - lo >= K - 1e-6, f"row {row} narrowed to [{lo}, {hi}]"


def test_one_small_cell_and_a_total(attack: Callable) -> None:
    released = protect(
        one_way([40, 3, 100]), TableSpec(("program",), ("people",), margins={"program": "ALL"}), K
    ).table
    assert released.column("people").to_pylist() == [None, None, 100, 143]
    assert_protected(attack(released, "people", ("program",), {"program": "ALL"}))


def test_two_small_cells_whose_sum_is_small_get_a_third(attack: Callable) -> None:
    spec = TableSpec(("program",), ("people",), margins={"program": "ALL"})
    released = protect(one_way([3, 4, 90, 200]), spec, K).table
    # 3 + 4 = 7: hiding both leaves each in [1, 6]; the 90 must go too.
    assert released.column("people").to_pylist() == [None, None, None, 200, 297]
    assert_protected(attack(released, "people", ("program",), {"program": "ALL"}))


def test_overlap_cell_bounded_by_a_small_program_total(attack: Callable) -> None:
    table = pa.table(
        {"a": ["X", "X", "Y", "Y"], "b": ["X", "Y", "X", "Y"], "people": [12, 5, 5, 200]}
    )
    spec = TableSpec(("a", "b"), ("people",), symmetric=("a", "b"))
    released = protect(table, spec, K).table
    # 5 is hidden with its mirror image; X's total of 12 bounds it to [1, 12]: 11 wide.
    assert released.column("people").to_pylist() == [12, None, None, 200]
    assert_protected(attack(released, "people", ("a", "b"), symmetric=("a", "b")))
    table = table.set_column(2, "people", pa.array([10 + 1, 5, 5, 200]))
    released = protect(table, spec, K).table
    assert released.column("people").to_pylist() == [None, None, None, 200]


@settings(max_examples=40, deadline=None)
@given(st.lists(small_or_large, min_size=2, max_size=8))
def test_one_way_tables_with_a_total(attack: Callable, parts: list[int]) -> None:
    spec = TableSpec(("program",), ("people",), margins={"program": "ALL"})
    result = protect(one_way(parts), spec, K)
    assert_protected(attack(result.table, "people", ("program",), {"program": "ALL"}))
    assert all(v is None or v == 0 or v >= K for v in result.table.column("people").to_pylist())


@settings(max_examples=30, deadline=None)
@given(
    st.integers(2, 5).flatmap(
        lambda r: st.integers(2, 5).flatmap(
            lambda c: st.lists(
                st.lists(small_or_large, min_size=c, max_size=c), min_size=r, max_size=r
            )
        )
    )
)
def test_two_way_tables_with_margins(attack: Callable, grid: list[list[int]]) -> None:
    margins = {"county": "ALL", "program": "ALL"}
    spec = TableSpec(("county", "program"), ("people",), margins=margins)
    result = protect(two_way(grid), spec, K)
    assert_protected(attack(result.table, "people", ("county", "program"), margins))


@settings(max_examples=30, deadline=None)
@given(
    st.integers(2, 6).flatmap(
        lambda n: st.lists(
            st.lists(st.floats(0.0, 0.6), min_size=n, max_size=n), min_size=1, max_size=1
        )
    ),
    st.integers(30, 300),
    st.integers(0, 2**31),
)
def test_overlap_matrices(
    attack: Callable, rates: list[list[float]], people: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    membership = rng.random((people, len(rates[0]))) < np.array(rates[0])
    spec = TableSpec(
        ("program_a", "program_b"),
        ("people",),
        rates=(Rate("pct", "people", "people", {"program_b": "program_a"}),),
        symmetric=("program_a", "program_b"),
    )
    result = protect(overlap(membership), spec, K)
    dims = ("program_a", "program_b")
    assert_protected(attack(result.table, "people", dims, symmetric=dims))
    # A shown percentage never rests on a hidden count.
    for row in result.table.to_pylist():
        if row["people"] is None:
            assert row["pct"] is None


def test_every_pair_of_a_symmetric_matrix_is_hidden_together() -> None:
    rng = np.random.default_rng(3)
    membership = rng.random((120, 5)) < np.array([0.5, 0.05, 0.3, 0.08, 0.6])
    spec = TableSpec(("program_a", "program_b"), ("people",), symmetric=("program_a", "program_b"))
    rows = protect(overlap(membership), spec, K).table.to_pylist()
    cell = {(r["program_a"], r["program_b"]): r["people"] for r in rows}
    for a, b in combinations({r["program_a"] for r in rows}, 2):
        assert (cell[a, b] is None) == (cell[b, a] is None)


def test_the_attack_recovers_a_cell_hidden_without_complements(attack: Callable) -> None:
    released = pa.table({"program": ["P0", "P1", "ALL"], "people": [None, 40, 43]})
    assert attack(released, "people", ("program",), {"program": "ALL"}) == {0: (3.0, 3.0)}


def test_inequalities_between_rows_are_protected_too(attack: Callable) -> None:
    # A follow-up table: at risk at the start of a year >= entered + at risk next year.
    table = pa.table(
        {
            "year": ["1", "1", "2", "2"],
            "measure": ["at_risk", "entered", "at_risk", "entered"],
            "people": [100, 4, 95, 30],
        }
    )
    at_risk_1 = {"year": "1", "measure": "at_risk"}
    spec = TableSpec(
        ("year", "measure"),
        ("people",),
        sums=(
            Sum(
                at_risk_1,
                ({"year": "1", "measure": "entered"}, {"year": "2", "measure": "at_risk"}),
                relation="ge",
            ),
            Sum(
                {"year": "2", "measure": "at_risk"},
                ({"year": "2", "measure": "entered"},),
                relation="ge",
            ),
        ),
    )
    released = protect(table, spec, K).table
    # 4 alone would be pinned to [1, 5] by 100 - 95: something else must go.
    assert released.column("people").null_count >= 2
    assert_protected(
        attack(released, "people", ("year", "measure"), at_least=[(0, [1, 2]), (2, [3])])
    )


def test_statistics_follow_their_count() -> None:
    table = pa.table({"county": ["COOK", "LAKE"], "people": [50, 4], "median_days": [120.0, 300.0]})
    spec = TableSpec(("county",), ("people",), statistics={"median_days": "people"})
    result = protect(table, spec, K)
    assert result.table.column("median_days").to_pylist() == [120.0, None]
    assert ("median_days", "derived") in {(c.column, c.reason) for c in result.suppressed}
