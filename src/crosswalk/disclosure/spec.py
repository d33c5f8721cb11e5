"""What a count table is: its dimensions, counts, derived rates and additive structure.

Disclosure control needs to know which released figures an attacker can combine. The
spec says so declaratively: margins (rows whose dimension holds a total label are the sum
of the other rows), an overlap matrix (cell (a, b) equals cell (b, a) and is at most the
diagonal cells (a, a) and (b, b), which hold the program totals), and explicit sums.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from crosswalk.errors import CrosswalkError, ProblemCollector


class DisclosureError(CrosswalkError):
    """A table cannot be protected as described (it does not match its spec)."""

    title = "Disclosure control failed"
    status = 422


@dataclass(frozen=True)
class At:
    """A fixed dimension value, e.g. the total label, in ``Rate.denominator_row``."""

    value: str


@dataclass(frozen=True)
class Rate:
    """A column derived as ``scale * numerator / denominator`` from count columns.

    The denominator is read from the same row unless ``denominator_row`` names another:
    it maps dimensions of the denominator row to the dimension of this row holding the
    value (a column name) or to a fixed value (``At``). For an overlap matrix, the share of
    program A's people also in B is ``Rate("pct", "people", "people",
    {"program_b": "program_a"})``: the denominator is the diagonal cell (A, A).
    """

    column: str
    numerator: str
    denominator: str
    denominator_row: Mapping[str, str | At] = field(default_factory=dict)
    scale: float = 100.0
    digits: int = 1


@dataclass(frozen=True)
class Sum:
    """An additive relation between rows: the ``total`` row equals the sum of ``parts``.

    Rows are named by their dimension values. It holds for every count column, or only for
    ``count`` when given. With ``relation="ge"`` the total is at least the sum (people at
    risk at the start of a year are at least those with an event in it plus those still at
    risk at the next). Margins and overlap matrices need no ``Sum``: use ``margins`` and
    ``symmetric`` on the spec.
    """

    total: Mapping[str, str]
    parts: tuple[Mapping[str, str], ...]
    count: str | None = None
    relation: Literal["eq", "ge"] = "eq"


@dataclass(frozen=True)
class TableSpec:
    """The shape of a count table handed to ``protect``.

    Attributes:
        dimensions: columns that identify a row (program, county, month...).
        counts: columns holding counts of people (or events) to protect.
        rates: columns derived from counts; shown only when their counts are.
        margins: dimension -> label of its total rows; the row with the label equals the
            sum of the rows with the other values of that dimension (all else equal).
        symmetric: the two dimensions of an overlap matrix, whose diagonal holds totals.
        sums: further additive relations between rows.
        statistics: column -> the count column of the people it describes (a median, a
            mean); shown only where that count is shown.
        cell_keys: count column -> column holding the cell key (a keyed hash of the cell's
            members, see ``crosswalk.disclosure.perturb``); counts with a key are
            perturbed consistently, which defeats differencing. Key columns are not released.
    """

    dimensions: tuple[str, ...]
    counts: tuple[str, ...]
    rates: tuple[Rate, ...] = ()
    margins: Mapping[str, str] = field(default_factory=dict)
    symmetric: tuple[str, str] | None = None
    sums: tuple[Sum, ...] = ()
    statistics: Mapping[str, str] = field(default_factory=dict)
    cell_keys: Mapping[str, str] = field(default_factory=dict)

    def check(self, table: pa.Table) -> None:
        """Raise ``DisclosureError`` naming every way ``table`` does not match this spec."""
        problems = ProblemCollector()
        if not self.counts:
            problems.add("a count table needs at least one count column", rule="spec")
        names = set(table.column_names)
        for group, cols in (
            ("dimension", self.dimensions),
            ("count", self.counts),
            ("cell key", tuple(self.cell_keys.values())),
        ):
            for c in cols:
                if c not in names:
                    problems.add(f"{group} column is missing", field=c, rule="spec")
        for c in self.counts:
            if c in names and not pa.types.is_integer(table.schema.field(c).type):
                problems.add(
                    "count column is not an integer",
                    field=c,
                    value=table.schema.field(c).type,
                    rule="spec",
                )
        for r in self.rates:
            for c in (r.numerator, r.denominator):
                if c not in self.counts:
                    problems.add(f"rate {r.column} uses {c}, not a count column", field=c)
            for d in r.denominator_row:
                if d not in self.dimensions:
                    problems.add(f"rate {r.column} names an unknown dimension", field=d)
        for d in self.margins:
            if d not in self.dimensions:
                problems.add("margin on an unknown dimension", field=d, rule="spec")
        if self.symmetric is not None:
            for d in self.symmetric:
                if d not in self.dimensions:
                    problems.add("overlap matrix on an unknown dimension", field=d, rule="spec")
        for stat, c in self.statistics.items():
            if stat not in names:
                problems.add("statistic column is missing", field=stat, rule="spec")
            if c not in self.counts:
                problems.add(f"statistic {stat} describes {c}, not a count column", field=stat)
        for c in self.cell_keys:
            if c not in self.counts:
                problems.add("cell key for a column that is not a count", field=c, rule="spec")
        for s in self.sums:
            for row in (s.total, *s.parts):
                for d in row:
                    if d not in self.dimensions:
                        problems.add("sum names an unknown dimension", field=d, rule="spec")
        problems.raise_if_any(DisclosureError, "the table does not match its disclosure spec")
        if all(c in names for c in self.counts):
            for c in self.counts:
                col = table.column(c)
                if col.null_count:
                    problems.add("count column has missing values", field=c, rule="spec")
                elif len(col) and pc.min(col).as_py() < 0:
                    problems.add("count column has negative values", field=c, rule="spec")
        if all(d in names for d in self.dimensions) and self.dimensions:
            keys = table.select(list(self.dimensions)).group_by(list(self.dimensions))
            if keys.aggregate([]).num_rows != table.num_rows:
                problems.add(
                    "rows are not unique by their dimensions",
                    field=",".join(self.dimensions),
                    rule="spec",
                )
        problems.raise_if_any(DisclosureError, "the table does not match its disclosure spec")
