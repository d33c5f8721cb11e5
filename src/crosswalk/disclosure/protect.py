"""``protect``: the disclosure control every aggregate result passes through."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crosswalk.disclosure.perturb import perturb
from crosswalk.disclosure.spec import At, DisclosureError, TableSpec
from crosswalk.disclosure.structure import cells_of, row_keys
from crosswalk.disclosure.suppress import complementary, primary

Reason = Literal["primary", "complementary", "derived"]


@dataclass(frozen=True)
class SuppressedCell:
    """One hidden figure and why. For the audit log and stewards, not for release:
    telling an attacker which cells are primary would tell them those are below k."""

    row: int
    column: str
    dimensions: dict[str, Any]
    reason: Reason


@dataclass(frozen=True)
class Protected:
    """A count table fit for release.

    ``table`` has the spec's dimensions, counts and rates, hidden figures as null, and a
    boolean ``<column>_suppressed`` beside each count and rate column; cell keys are gone.
    """

    table: pa.Table
    suppressed: tuple[SuppressedCell, ...]
    k: int
    perturbed: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A summary for the audit log."""
        return {
            "k": self.k,
            "rows": self.table.num_rows,
            "suppressed": dict(Counter(c.reason for c in self.suppressed)),
            "perturbed": list(self.perturbed),
        }


def protect(table: pa.Table, spec: TableSpec, k: int) -> Protected:
    """Apply primary, complementary and derived suppression and cell-key perturbation.

    Args:
        table: the exact counts, one row per combination of the spec's dimensions.
        spec: what the table is (see ``TableSpec``); columns it does not declare are
            refused, since nothing can say whether they are safe.
        k: the smallest count that may be shown (zero aside), from the agreement.

    Example:
        >>> spec = TableSpec(("program",), ("people",), margins={"program": "ALL"})
        >>> t = pa.table({"program": ["SNAP", "TANF", "ALL"], "people": [40, 3, 43]})
        >>> protect(t, spec, 11).table.column("people").null_count
        2
    """
    if k < 1:
        raise DisclosureError(f"the minimum cell size must be at least 1, not {k}")
    spec.check(table)
    declared = {*spec.dimensions, *spec.counts, *(r.column for r in spec.rates)}
    declared |= set(spec.cell_keys.values()) | set(spec.statistics)
    extra = [c for c in table.column_names if c not in declared]
    if extra:
        raise DisclosureError(
            f"the table has columns its spec does not declare, refused: {', '.join(extra)}"
        )
    cells = cells_of(table, spec)
    first = primary(cells.values, k)
    hidden = complementary(cells, first, k)
    n = len(spec.counts)
    keys = row_keys(table, spec)
    dims = [table.column(d).to_pylist() for d in spec.dimensions]

    def where(row: int) -> dict[str, Any]:
        return {d: dims[i][row] for i, d in enumerate(spec.dimensions)}

    suppressed: list[SuppressedCell] = []
    for cell in np.flatnonzero(hidden).tolist():
        row, j = cells.locate(cell)
        reason: Reason = "primary" if first[cell] else "complementary"
        suppressed.append(SuppressedCell(row, spec.counts[j], where(row), reason))

    released = cells.values.reshape(-1, n).copy()
    mask = hidden.reshape(-1, n)
    for j, c in enumerate(spec.counts):
        key_column = spec.cell_keys.get(c)
        if key_column is not None:
            raw = table.column(key_column).fill_null(0).to_numpy(zero_copy_only=False)
            released[:, j] = perturb(released[:, j], raw.astype(np.uint64), k)

    out: dict[str, pa.Array] = {d: table.column(d) for d in spec.dimensions}
    for j, c in enumerate(spec.counts):
        out[c] = pa.array(released[:, j], type=pa.int64(), mask=mask[:, j])
    for rate in spec.rates:
        num_j = spec.counts.index(rate.numerator)
        den_j = spec.counts.index(rate.denominator)
        values = np.full(table.num_rows, np.nan)
        rate_hidden = np.zeros(table.num_rows, dtype=bool)
        for row, key in enumerate(keys):
            den_row = _denominator_row(cells.rows, spec, key, rate.denominator_row)
            if den_row is None:
                continue
            if mask[row, num_j] or mask[den_row, den_j]:
                rate_hidden[row] = True
                suppressed.append(SuppressedCell(row, rate.column, where(row), "derived"))
            elif released[den_row, den_j] > 0:
                value = rate.scale * released[row, num_j] / released[den_row, den_j]
                values[row] = round(float(value), rate.digits)
        out[rate.column] = pa.array(values, type=pa.float64(), mask=np.isnan(values))
        out[f"{rate.column}_suppressed"] = pa.array(rate_hidden)
    for stat, c in spec.statistics.items():
        hide = mask[:, spec.counts.index(c)]
        for row in np.flatnonzero(hide).tolist():
            suppressed.append(SuppressedCell(row, stat, where(row), "derived"))
        column = table.column(stat).combine_chunks()
        out[stat] = pc.if_else(pa.array(hide), pa.nulls(len(column), column.type), column)
    for j, c in enumerate(spec.counts):
        out[f"{c}_suppressed"] = pa.array(mask[:, j])
    perturbed = tuple(c for c in spec.counts if c in spec.cell_keys)
    return Protected(pa.table(out), tuple(suppressed), k, perturbed)


def _denominator_row(
    rows: dict[tuple[str, ...], int],
    spec: TableSpec,
    key: tuple[str, ...],
    at: Any,
) -> int | None:
    if not at:
        return rows[key]
    target = list(key)
    for dim, source in at.items():
        i = spec.dimensions.index(dim)
        target[i] = source.value if isinstance(source, At) else key[spec.dimensions.index(source)]
    return rows.get(tuple(target))
