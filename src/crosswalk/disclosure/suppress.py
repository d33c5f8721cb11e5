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

import numpy as np
from scipy.optimize import linprog

from crosswalk.disclosure.spec import DisclosureError
from crosswalk.disclosure.structure import Cells, Relation


def primary(values: np.ndarray, k: int) -> np.ndarray:
    """Cells holding a count from 1 to k - 1."""
    return (values >= 1) & (values < k)


def complementary(cells: Cells, hidden: np.ndarray, k: int) -> np.ndarray:
    """``hidden`` grown with complementary cells until every hidden cell is protected.

    Greedy: the equalities with exactly one hidden cell are fixed first (a lone hidden
    cell in a sum is recomputed by subtraction); then the linear-programming check finds a
    hidden cell whose feasible range is under k wide, and one released cell related to
    it is hidden, preferring cells tied to many relations with hidden cells (they protect
    several at once), then the smallest count (the least information lost).
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
            failing = _first_narrow(cells, hidden, component, by_cell, k)
            if failing is None:
                safe.add(component)
            else:
                break
        if failing is None:
            return hidden
        related = {c for m in failing for rel in by_cell[m] for c in rel.cells}
        _hide_one(cells, hidden, related, by_cell)


def feasible_ranges(
    cells: Cells, hidden: np.ndarray, component: frozenset[int], by_cell: dict[int, list[Relation]]
) -> dict[int, tuple[float, float]]:
    """Min and max of each hidden cell of ``component`` given everything released."""
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
    ranges = {}
    for c in order:
        bounds = []
        for sign in (1.0, -1.0):
            objective = np.zeros(len(order))
            objective[index[c]] = sign
            result = linprog(
                objective,
                A_ub=np.array(a_ub) if a_ub else None,
                b_ub=np.array(b_ub) if b_ub else None,
                A_eq=np.array(a_eq) if a_eq else None,
                b_eq=np.array(b_eq) if b_eq else None,
                bounds=[(1, None)] * len(order),
                method="highs",
            )
            if result.status == 3:  # unbounded
                bounds.append(np.inf)
            elif result.status == 0:
                bounds.append(sign * result.fun)
            else:
                raise DisclosureError(
                    f"the relations of the table are inconsistent ({result.message})"
                )
        ranges[c] = (bounds[0], bounds[1])
    return ranges


def _fix_lone_cells(cells: Cells, hidden: np.ndarray, by_cell: dict[int, list[Relation]]) -> None:
    changed = True
    while changed:
        changed = False
        for rel in cells.relations:
            if rel.kind == "eq" and sum(bool(hidden[c]) for c in rel.cells) == 1:
                _hide_one(cells, hidden, set(rel.cells), by_cell)
                changed = True


def _hide_one(
    cells: Cells, hidden: np.ndarray, candidates: set[int], by_cell: dict[int, list[Relation]]
) -> None:
    released = [c for c in candidates if not hidden[c] and cells.values[c] > 0]
    if not released:
        raise DisclosureError("no released cell can protect a suppressed cell")

    def cost(c: int) -> tuple[int, int, int]:
        ties = sum(any(hidden[x] for x in rel.cells) for rel in by_cell[c])
        return (-ties, int(cells.values[c]), c)

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
) -> frozenset[int] | None:
    if not any(by_cell[c] for c in component):
        return None
    ranges = feasible_ranges(cells, hidden, component, by_cell)
    narrow = [c for c, (lo, hi) in ranges.items() if hi - lo < k - 1e-6]
    return frozenset(narrow) if narrow else None
