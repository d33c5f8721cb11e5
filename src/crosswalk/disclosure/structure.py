"""The linear relations an attacker can use between the cells of a count table.

A cell is one count in one row; cells are numbered ``row * len(counts) + column``. Each
relation is ``sum(coefficient * cell) == 0`` (an equality) or ``<= 0`` (an inequality).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa

from crosswalk.disclosure.spec import DisclosureError, TableSpec

RowKey = tuple[str, ...]


@dataclass(frozen=True)
class Relation:
    """``sum(coefficient * cell) == 0`` (``eq``) or ``<= 0`` (``le``)."""

    coefficients: tuple[tuple[int, float], ...]
    kind: Literal["eq", "le"]

    @property
    def cells(self) -> tuple[int, ...]:
        return tuple(c for c, _ in self.coefficients)


@dataclass(frozen=True)
class Cells:
    """The counts of a table as one flat vector, with the relations between them."""

    values: np.ndarray  # int64, one per cell
    n_counts: int
    rows: dict[RowKey, int]
    relations: tuple[Relation, ...]

    def cell(self, row: int, count: int) -> int:
        return row * self.n_counts + count

    def locate(self, cell: int) -> tuple[int, int]:
        return divmod(cell, self.n_counts)


def row_keys(table: pa.Table, spec: TableSpec) -> list[RowKey]:
    """Each row's dimension values, as text (how ``Sum`` and ``At`` name rows)."""
    columns = [table.column(d).to_pylist() for d in spec.dimensions]
    return [tuple("" if v is None else str(v) for v in vals) for vals in zip(*columns, strict=True)]


def cells_of(table: pa.Table, spec: TableSpec) -> Cells:
    """The table's cells and every relation its spec declares."""
    n = len(spec.counts)
    values = (
        np.column_stack(
            [table.column(c).to_numpy(zero_copy_only=False).astype(np.int64) for c in spec.counts]
        ).reshape(-1)
        if table.num_rows
        else np.zeros(0, dtype=np.int64)
    )
    keys = row_keys(table, spec)
    rows = {k: i for i, k in enumerate(keys)}
    relations: list[Relation] = []
    dims = spec.dimensions

    for dim, label in spec.margins.items():
        d = dims.index(dim)
        groups: dict[RowKey, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for i, k in enumerate(keys):
            rest = k[:d] + k[d + 1 :]
            groups[rest][0 if k[d] == label else 1].append(i)
        for totals, parts in groups.values():
            if len(totals) == 1 and parts:
                for j in range(n):
                    relations.append(
                        Relation(
                            ((totals[0] * n + j, 1.0), *((p * n + j, -1.0) for p in parts)), "eq"
                        )
                    )

    if spec.symmetric is not None:
        a, b = (dims.index(x) for x in spec.symmetric)
        for i, k in enumerate(keys):
            if k[a] == k[b]:
                continue
            twin = list(k)
            twin[a], twin[b] = k[b], k[a]
            t = rows.get(tuple(twin))
            diagonals = []
            for side in (a, b):
                diag = list(k)
                diag[a] = diag[b] = k[side]
                diagonals.append(rows.get(tuple(diag)))
            for j in range(n):
                if t is not None and i < t:
                    relations.append(Relation(((i * n + j, 1.0), (t * n + j, -1.0)), "eq"))
                for g in diagonals:
                    if g is not None:
                        relations.append(Relation(((i * n + j, 1.0), (g * n + j, -1.0)), "le"))

    for s in spec.sums:
        total = _row(rows, spec, s.total)
        parts = [_row(rows, spec, p) for p in s.parts]
        for j, c in enumerate(spec.counts):
            if s.count is None or s.count == c:
                # total == sum(parts), or total >= sum(parts): sum(parts) - total <= 0
                sign = 1.0 if s.relation == "eq" else -1.0
                relations.append(
                    Relation(
                        ((total * n + j, sign), *((p * n + j, -sign) for p in parts)),
                        "eq" if s.relation == "eq" else "le",
                    )
                )
    return Cells(values, n, rows, tuple(relations))


def _row(rows: dict[RowKey, int], spec: TableSpec, named: Mapping[str, str]) -> int:
    key = tuple(str(named[d]) if d in named else "" for d in spec.dimensions)
    if key not in rows:
        raise DisclosureError(f"a sum names a row that is not in the table: {dict(named)}")
    return rows[key]
