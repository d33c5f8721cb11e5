"""What the records hold: the share of records with each linkage field, per agency.

Linkage builds its model from this (``crosswalk.identity.model.plan``): a field that no
agency fills, or that holds a single value everywhere, tells nothing about who is who and
is left out with a message, instead of failing inside the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crosswalk.identity.features import FIELDS
from crosswalk.identity.sql import Sql

# A field is used when at least this many records hold it, with at least two distinct
# values and (for identifiers compared only exactly) one value shared by two records.
MIN_RECORDS = 20


@dataclass(frozen=True)
class Coverage:
    """Records with a value, per field: overall and per agency; distinct and repeated values."""

    records: int
    filled: dict[str, int]
    distinct: dict[str, int]
    by_agency: dict[str, dict[str, float]] = field(default_factory=dict)

    def share(self, name: str) -> float:
        return self.filled[name] / self.records if self.records else 0.0

    def repeated(self, name: str) -> int:
        """Records whose value another record also holds (at least)."""
        return self.filled[name] - self.distinct[name]

    def usable(self, name: str) -> bool:
        return self.filled[name] >= MIN_RECORDS and self.distinct[name] >= 2

    def to_dict(self) -> dict[str, object]:
        return {
            "records": self.records,
            "share": {f: round(self.share(f), 4) for f in self.filled},
            "by_agency": self.by_agency,
        }


def measure(con: Sql, table: str = "link_input") -> Coverage:
    """Coverage of every linkage field in ``table`` (one pass per statement)."""
    counts = ", ".join(f"count({f})" for f in FIELDS)
    rows = con.execute(
        f"SELECT agency, count(*), {counts} FROM {table} GROUP BY agency ORDER BY agency"
    ).fetchall()
    by_agency = {
        r[0]: {f: round(n / r[1], 4) for f, n in zip(FIELDS, r[2:], strict=True)} for r in rows
    }
    total = sum(r[1] for r in rows)
    filled = {f: sum(r[2 + i] for r in rows) for i, f in enumerate(FIELDS)}
    distinct_sql = ", ".join(f"count(DISTINCT {f})" for f in FIELDS)
    distinct_row = con.execute(f"SELECT {distinct_sql} FROM {table}").fetchall()[0]
    distinct = dict(zip(FIELDS, (int(v) for v in distinct_row), strict=True))
    return Coverage(total, filled, distinct, by_agency)
