"""``protect``: the disclosure control every aggregate result passes through."""

from __future__ import annotations

import contextlib
import hashlib
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from crosswalk.disclosure.history import Matcher, Release, ReleaseHistory, differing_buckets
from crosswalk.disclosure.perturb import (
    SIGNATURE_WORDS,
    perturb,
    perturb_magnitude,
    round_significant,
)
from crosswalk.disclosure.spec import At, DisclosureError, TableSpec
from crosswalk.disclosure.structure import cells_of, row_keys
from crosswalk.disclosure.suppress import complementary, primary

Reason = Literal["primary", "history", "complementary", "derived"]


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
    ``repeated`` counts the cells released before with the same people, ``near`` those
    released as an earlier cell a few people away (what probing by differencing looks
    like, for the privacy officer reading the audit log).
    """

    table: pa.Table
    suppressed: tuple[SuppressedCell, ...]
    k: int
    perturbed: tuple[str, ...]
    repeated: int = 0
    near: int = 0
    remembered: int = 0  # cells matched to the history or newly kept in it

    def repeated_now(self) -> Protected:
        """The same release asked for again: what ``protect`` says of the same table
        with this one in the history (each of its cells a repeat of itself, or still
        near the earlier cell it was released as)."""
        return replace(self, repeated=self.remembered - self.near)

    def released(self) -> dict[str, Any]:
        """What the reader is told of the protection: the minimum cell, the rows, how many
        figures are hidden (each is null in the table anyway) and what was perturbed.

        Never why a figure is hidden (a primary cell is below k) nor what the release
        history matched: ``near`` on the second of two questions says that their cells
        differ by a few people, and ``repeated`` that they are the same people, which is
        the very difference the history hides (a person in the cell, or not)."""
        return {
            "k": self.k,
            "rows": self.table.num_rows,
            "hidden": len(self.suppressed),
            "perturbed": list(self.perturbed),
        }

    def to_dict(self) -> dict[str, Any]:
        """A summary for the audit log (the privacy officer's, never the reader's:
        ``released`` is what leaves)."""
        return {
            "k": self.k,
            "rows": self.table.num_rows,
            "suppressed": dict(Counter(c.reason for c in self.suppressed)),
            "perturbed": list(self.perturbed),
            "history": {"repeated": self.repeated, "near": self.near},
        }


def protect(
    table: pa.Table, spec: TableSpec, k: int, history: ReleaseHistory | None = None
) -> Protected:
    """Apply primary, complementary and derived suppression and cell-key perturbation.

    Args:
        table: the exact counts, one row per combination of the spec's dimensions.
        spec: what the table is (see ``TableSpec``); columns it does not declare are
            refused, since nothing can say whether they are safe.
        k: the smallest count that may be shown (zero aside), from the agreement.
        history: the cells released before (``crosswalk.disclosure.history``); a cell
            within k - 1 people of one of them is released as that one was. The gate
            passes the hub's; without one, each cell stands alone.

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
    n = len(spec.counts)
    counts = cells.values.reshape(-1, n)
    keys = {c: _keys(table, spec, c) for c in spec.cell_keys}
    perturbed = counts.copy()
    for j, c in enumerate(spec.counts):
        if c in keys:
            perturbed[:, j] = perturb(counts[:, j], keys[c][0], k)
    with history.hold() if history is not None else contextlib.nullcontext():
        matches = _match(history, counts, spec, keys, perturbed, k)
        first = primary(cells.values, k)
        # A cell near one hidden before is hidden too: showing it would tell that the people
        # who differ brought it to k or more.
        again = np.array(
            [
                m is not None and m.value is None and v >= k
                for m, v in zip(matches, cells.values, strict=True)
            ],
            dtype=bool,
        )
        hidden = complementary(cells, first | again, k)
        row_names = row_keys(table, spec)
        dims = [table.column(d).to_pylist() for d in spec.dimensions]

        def where(row: int) -> dict[str, Any]:
            return {d: dims[i][row] for i, d in enumerate(spec.dimensions)}

        suppressed: list[SuppressedCell] = []
        for cell in np.flatnonzero(hidden).tolist():
            row, j = cells.locate(cell)
            reason: Reason = (
                "primary" if first[cell] else "history" if again[cell] else "complementary"
            )
            suppressed.append(SuppressedCell(row, spec.counts[j], where(row), reason))

        flat = perturbed.reshape(-1).copy()
        for cell, m in enumerate(matches):
            if m is not None and m.value is not None:
                flat[cell] = m.value
        released = flat.reshape(-1, n)
        mask = hidden.reshape(-1, n)

        out: dict[str, pa.Array] = {d: table.column(d) for d in spec.dimensions}
        for j, c in enumerate(spec.counts):
            out[c] = pa.array(released[:, j], type=pa.int64(), mask=mask[:, j])
        for rate in spec.rates:
            num_j = spec.counts.index(rate.numerator)
            den_j = spec.counts.index(rate.denominator)
            values = np.full(table.num_rows, np.nan)
            rate_hidden = np.zeros(table.num_rows, dtype=bool)
            for row, name in enumerate(row_names):
                den_row = _denominator_row(cells.rows, spec, name, rate.denominator_row)
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
        updated: dict[int, Release] = {}
        for stat, c in spec.statistics.items():
            j = spec.counts.index(c)
            hide = mask[:, j]
            for row in np.flatnonzero(hide).tolist():
                suppressed.append(SuppressedCell(row, stat, where(row), "derived"))
            exact = table.column(stat).cast(pa.float64()).to_numpy(zero_copy_only=False)
            shown = (
                perturb_magnitude(exact, keys[c][0], _salt(stat))
                if c in keys
                else round_significant(exact)
            )
            # A statistic of a cell matched to an earlier one is that cell's, once released.
            stat_name = f"{','.join(spec.dimensions)}:{stat}"
            for row in np.flatnonzero(~hide).tolist():
                m = matches[row * n + j]
                if m is None:
                    continue
                if stat_name in m.statistics:
                    earlier = m.statistics[stat_name]
                    shown[row] = np.nan if earlier is None else earlier
                else:
                    m.statistics[stat_name] = None if np.isnan(shown[row]) else float(shown[row])
                    if m.id is not None:
                        updated[m.id] = m
            out[stat] = pa.array(shown, type=pa.float64(), mask=hide | np.isnan(shown))
        for j, c in enumerate(spec.counts):
            out[f"{c}_suppressed"] = pa.array(mask[:, j])

        def sig(cell: int) -> np.ndarray:
            row, j = divmod(cell, n)
            fingerprints = keys[spec.counts[j]][1]
            assert fingerprints is not None  # only cells with a fingerprint are matched
            return fingerprints[row]

        released_before = [
            (cell, m) for cell, m in enumerate(matches) if m is not None and m.id is not None
        ]
        near = sum(
            m.count != cells.values[cell]
            or differing_buckets(m.signature[None, :], sig(cell))[0] > 0
            for cell, m in released_before
        )
        if history is not None:
            new = [m for m in dict.fromkeys(m for m in matches if m is not None) if m.id is None]
            history.save(new, list(updated.values()))
    shown_perturbed = tuple(c for c in spec.counts if c in spec.cell_keys)
    shown_perturbed += tuple(s for s, c in spec.statistics.items() if c in spec.cell_keys)
    return Protected(
        pa.table(out),
        tuple(suppressed),
        k,
        shown_perturbed,
        len(released_before) - near,
        near,
        sum(m is not None for m in matches),
    )


def _keys(table: pa.Table, spec: TableSpec, count: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The cell keys of a count column (an empty cell has none: key 0), and the cells'
    fingerprints where the key column holds them (``cell_key_sql``)."""
    column = table.column(spec.cell_keys[count])
    if not pa.types.is_list(column.type) and not pa.types.is_large_list(column.type):
        raw = column.fill_null(0).to_numpy(zero_copy_only=False)
        return raw.astype(np.int64).astype(np.uint64), None
    width = 1 + SIGNATURE_WORDS
    rows = [v if v is not None else [0] * width for v in column.to_pylist()]
    if any(len(v) != width for v in rows):
        raise DisclosureError(f"cell key column {spec.cell_keys[count]} is not a cell key")
    values = np.array([[0 if x is None else x for x in v] for v in rows], dtype=np.int64)
    values = values.reshape(-1, width)
    return values[:, 0].astype(np.uint64), values[:, 1:]


def _match(
    history: ReleaseHistory | None,
    counts: np.ndarray,
    spec: TableSpec,
    keys: dict[str, tuple[np.ndarray, np.ndarray | None]],
    perturbed: np.ndarray,
    k: int,
) -> list[Release | None]:
    """Per cell (row-major), the remembered cell it is released as: an earlier one within
    k - 1 of it, or itself, newly remembered; None for cells not matched (empty, without
    a fingerprint, or no history)."""
    n = len(spec.counts)
    out: list[Release | None] = [None] * counts.size
    if history is None:
        return out
    fingerprinted = [
        (j, sig) for j, c in enumerate(spec.counts) if c in keys and (sig := keys[c][1]) is not None
    ]
    if not fingerprinted:
        return out
    wanted = {int(counts[row, j]) for j, _ in fingerprinted for row in range(len(counts))}
    known = Matcher(history.candidates(wanted - {0}, k), k)
    for row in range(len(counts)):
        for j, sig in fingerprinted:
            count = int(counts[row, j])
            if count == 0:
                continue
            found = known.nearest(count, sig[row])
            if found is None:
                value = int(perturbed[row, j]) if count >= k else None
                found = known.add(Release(count, sig[row].copy(), value))
            out[row * n + j] = found
    return out


def _salt(statistic: str) -> int:
    """A fixed number per statistic's name, so each statistic of a cell gets its own draw."""
    return int.from_bytes(hashlib.sha256(statistic.encode()).digest()[:8], "big")


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
