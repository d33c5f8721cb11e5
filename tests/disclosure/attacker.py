"""The attacker: linear bounds on every suppressed cell from what a table releases.

Written independently of ``crosswalk.disclosure``: it reads only the released table and
what any reader knows about its shape (totals rows, an overlap matrix), and assumes, as
the strongest attacker would, that every hidden cell is at least 1 (zeros are shown).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa
from scipy.optimize import linprog

Ranges = dict[int, tuple[float, float]]


def linear_bounds(
    released: pa.Table,
    count: str,
    dims: tuple[str, ...],
    margins: dict[str, str] | None = None,
    symmetric: tuple[str, str] | None = None,
    at_least: list[tuple[int, list[int]]] | None = None,
) -> Ranges:
    """Each hidden row's (min, max). ``at_least``: (row, rows) with row >= sum(rows)."""
    rows = released.to_pylist()
    keys = [tuple(str(r[d]) for d in dims) for r in rows]
    where = {k: i for i, k in enumerate(keys)}
    hidden = [i for i, r in enumerate(rows) if r[count] is None]
    var = {row: j for j, row in enumerate(hidden)}
    eqs: list[dict[int, float]] = []
    les: list[dict[int, float]] = []
    for dim, label in (margins or {}).items():
        d = dims.index(dim)
        groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i, k in enumerate(keys):
            groups[k[:d] + k[d + 1 :]].append(i)
        for members in groups.values():
            total = [i for i in members if keys[i][d] == label]
            if total:
                eq = {total[0]: 1.0}
                eq.update({i: -1.0 for i in members if i != total[0]})
                eqs.append(eq)
    if symmetric:
        a, b = (dims.index(x) for x in symmetric)
        for i, k in enumerate(keys):
            if k[a] != k[b]:
                twin = list(k)
                twin[a], twin[b] = k[b], k[a]
                eqs.append({i: 1.0, where[tuple(twin)]: -1.0})
                for side in (k[a], k[b]):
                    diag = list(k)
                    diag[a] = diag[b] = side
                    les.append({i: 1.0, where[tuple(diag)]: -1.0})

    for total, parts in at_least or []:
        rel = dict.fromkeys(parts, 1.0)
        rel[total] = rel.get(total, 0.0) - 1.0
        les.append(rel)

    def matrix(rels: list[dict[int, float]]) -> tuple[np.ndarray | None, np.ndarray | None]:
        if not rels:
            return None, None
        a_rows, b_rows = [], []
        for rel in rels:
            row = np.zeros(len(hidden))
            rhs = 0.0
            for i, coef in rel.items():
                if i in var:
                    row[var[i]] += coef
                else:
                    rhs -= coef * rows[i][count]
            a_rows.append(row)
            b_rows.append(rhs)
        return np.array(a_rows), np.array(b_rows)

    a_eq, b_eq = matrix(eqs)
    a_ub, b_ub = matrix(les)
    ranges: Ranges = {}
    for row, j in var.items():
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(hidden))
            c[j] = sign
            res = linprog(
                c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=[(1, None)] * len(hidden)
            )
            assert res.status in (0, 3), res.message
            ends.append(np.inf if res.status == 3 else sign * res.fun)
        ranges[row] = (ends[0], ends[1])
    return ranges
