"""Primary and complementary cell suppression, checked by linear programming.

Primary suppression hides every count from 1 to k - 1 (zero may be shown). Complementary
suppression then hides further cells until no hidden cell can be narrowed, by the
relations of the table, to a range less than k wide. The check is the attack itself: for
each hidden cell, minimise and maximise it subject to the released cells, the table's
relations and what an attacker knows about hidden cells (each is at least 1, since zeros
are shown and complements are never zero).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import numpy as np

from crosswalk.disclosure.spec import DisclosureError
from crosswalk.disclosure.structure import Cells, Relation


def primary(values: np.ndarray, k: int) -> np.ndarray:
    """Cells holding a count from 1 to k - 1."""
    return (values >= 1) & (values < k)


def complementary(cells: Cells, hidden: np.ndarray, k: int) -> np.ndarray:
    """``hidden`` grown with complementary cells until every hidden cell is protected.

    Greedy: the equalities with exactly one hidden cell are fixed first (a lone hidden
    cell in a sum is recomputed by subtraction); then the linear-programming check finds a
    group of hidden cells (tied by relations) with a range under k wide, and one released
    cell related to the group is hidden: the smallest count (the least information lost),
    then the one tied to most relations with hidden cells. The check runs again until
    every group passes.
    """
    hidden = hidden.copy()
    if not cells.relations or not hidden.any():
        return hidden
    by_cell: dict[int, list[Relation]] = defaultdict(list)
    for rel in cells.relations:
        for c in rel.cells:
            by_cell[c].append(rel)
    safe: set[frozenset[int]] = set()
    while True:
        _fix_lone_cells(cells, hidden, by_cell)
        failing = None
        for component in _components(hidden, by_cell):
            if component in safe:
                continue
            narrow = _first_narrow(cells, hidden, component, by_cell, k)
            if narrow is None:
                safe.add(component)
            else:
                failing = (narrow, component)
                break
        if failing is None:
            return hidden
        cell, component = failing
        near = {c for rel in by_cell[cell] for c in rel.cells}
        around = {c for m in component for rel in by_cell[m] for c in rel.cells}
        _hide_one(cells, hidden, around, by_cell, near)


def feasible_ranges(
    cells: Cells, hidden: np.ndarray, component: frozenset[int], by_cell: dict[int, list[Relation]]
) -> dict[int, tuple[float, float]]:
    """Min and max of each hidden cell of ``component`` given everything released."""
    return {c: (lo, hi) for c, lo, hi in _ranges(cells, hidden, component, by_cell, exact=True)}


def _ranges(
    cells: Cells,
    hidden: np.ndarray,
    component: frozenset[int],
    by_cell: dict[int, list[Relation]],
    exact: bool = False,
) -> Iterator[tuple[int, float, float]]:
    """(cell, min, max) for each hidden cell, smallest counts first (the likeliest to be
    narrow). Unless ``exact``, the minimum is not computed (reported as 1) when the
    maximum is unbounded: the range is wide enough either way."""
    from scipy.optimize import linprog  # the solver loads only when cells are hidden

    order = sorted(component)
    index = {c: i for i, c in enumerate(order)}
    relations = {id(r): r for c in order for r in by_cell[c]}.values()
    a_eq: list[np.ndarray] = []
    a_ub: list[np.ndarray] = []
    b_eq: list[float] = []
    b_ub: list[float] = []
    for rel in relations:
        row = np.zeros(len(order))
        rhs = 0.0
        for c, coef in rel.coefficients:
            if hidden[c]:
                row[index[c]] += coef
            else:
                rhs -= coef * float(cells.values[c])
        (a_eq if rel.kind == "eq" else a_ub).append(row)
        (b_eq if rel.kind == "eq" else b_ub).append(rhs)
    constraints = {
        "A_ub": np.array(a_ub) if a_ub else None,
        "b_ub": np.array(b_ub) if b_ub else None,
        "A_eq": np.array(a_eq) if a_eq else None,
        "b_eq": np.array(b_eq) if b_eq else None,
    }

    def optimum(c: int, sign: float) -> float:
        objective = np.zeros(len(order))
        objective[index[c]] = sign
        result = linprog(objective, **constraints, bounds=[(1, None)] * len(order), method="highs")
        if result.status == 3:  # unbounded
            return np.inf
        if result.status != 0:
            raise DisclosureError(f"the relations of the table are inconsistent ({result.message})")
        return float(sign * result.fun)

    for c in sorted(order, key=lambda x: (int(cells.values[x]), x)):
        hi = optimum(c, -1.0)
        lo = optimum(c, 1.0) if exact or np.isfinite(hi) else 1.0
        yield c, lo, hi


def _fix_lone_cells(cells: Cells, hidden: np.ndarray, by_cell: dict[int, list[Relation]]) -> None:
    changed = True
    while changed:
        changed = False
        for rel in cells.relations:
            if rel.kind == "eq" and sum(bool(hidden[c]) for c in rel.cells) == 1:
                _hide_one(cells, hidden, set(rel.cells), by_cell)
                changed = True


def _hide_one(
    cells: Cells,
    hidden: np.ndarray,
    candidates: set[int],
    by_cell: dict[int, list[Relation]],
    near: set[int] | None = None,
) -> None:
    """Hide the cheapest released, non-zero candidate.

    Cheapest: first the fewest equalities in which it would be the only hidden cell (each
    needs a complement in turn), then tied to the narrow cell itself (``near``), then
    tied to the most relations with hidden cells, then the smallest count.
    """
    released = [c for c in candidates if not hidden[c] and cells.values[c] > 0]
    if not released:
        raise DisclosureError("no released cell can protect a suppressed cell")

    def cost(c: int) -> tuple[int, bool, int, int, int]:
        forced = sum(
            rel.kind == "eq" and not any(hidden[x] for x in rel.cells) for rel in by_cell[c]
        )
        ties = sum(any(hidden[x] for x in rel.cells) for rel in by_cell[c])
        return (forced, near is not None and c not in near, -ties, int(cells.values[c]), c)

    hidden[min(released, key=cost)] = True


def _components(hidden: np.ndarray, by_cell: dict[int, list[Relation]]) -> list[frozenset[int]]:
    """Hidden cells grouped by the relations that tie them together."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for c in np.flatnonzero(hidden).tolist():
        find(c)
        for rel in by_cell[c]:
            for other in rel.cells:
                if hidden[other]:
                    parent[find(other)] = find(c)
    groups: dict[int, set[int]] = defaultdict(set)
    for c in parent:
        groups[find(c)].add(c)
    return [frozenset(g) for g in groups.values()]


def _first_narrow(
    cells: Cells,
    hidden: np.ndarray,
    component: frozenset[int],
    by_cell: dict[int, list[Relation]],
    k: int,
) -> int | None:
    if not any(by_cell[c] for c in component):
        return None
    for c, lo, hi in _ranges(cells, hidden, component, by_cell):
        if hi - lo < k - 1e-6:
            return c
    return None
