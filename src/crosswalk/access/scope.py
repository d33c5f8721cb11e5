"""What a query may read: the relations standing for the hub's tables.

Analytic questions render their SQL against a ``Scope`` rather than naming hub tables: the
analytic tables (records and events with their enterprise person, see
``crosswalk.identity.linked``), or their live equivalent while a batch is not yet linked.
The gate builds the scope of one decision with ``granted_scope``: temporary views that
hold only the agencies and the columns the decision granted, so a question that reads
anything it did not declare fails instead of reading it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from crosswalk.engines import CELL_KEY_SECRET, reader
from crosswalk.errors import NotFound
from crosswalk.model import LINKED_EVENT, LINKED_HOUSEHOLD, LINKED_RECORD

HUB_TABLES = ("linked_event", "linked_record", "linked_household")

# Per analytic table: the agreement dataset suffix its rows belong to, the columns every
# view keeps because rows are joined and grouped by them (they never leave the hub in an
# aggregate; row-level answers pseudonymise the enterprise id), and, for a table whose
# columns all stand for one data element, that element (a row is kept only where it is
# granted for the row's agency).
_KEYS = ("person", "enterprise_id", "record_key", "agency")
_TABLES: dict[str, tuple[str, tuple[str, ...], tuple, str | None]] = {
    "linked_record": ("clients", _KEYS, LINKED_RECORD, None),
    "linked_event": ("events", (*_KEYS, "event_key"), LINKED_EVENT, None),
    # Enterprise households: a membership shows only where the agency whose data placed
    # the person there grants its ``household`` element.
    "linked_household": (
        "clients",
        ("person", "enterprise_id", "agency"),
        LINKED_HOUSEHOLD,
        "household",
    ),
}


@dataclass(frozen=True)
class Scope:
    """Where a query reads from: relation names for the hub tables, and the SQL that
    yields the cell-key secret.

    The default names the hub's own tables (for code that built the hub itself: tests,
    benchmarks); the gate passes views restricted to one decision.
    """

    relations: Mapping[str, str] = field(default_factory=lambda: {t: t for t in HUB_TABLES})
    secret: str = f"getvariable('{CELL_KEY_SECRET}')"

    @classmethod
    def default(cls, dialect: str = "duckdb") -> Scope:
        """The hub's tables; the secret as a DuckDB variable, or elsewhere a named
        parameter (Spark: ``spark.sql(query, args={"crosswalk_cell_key_secret": ...})``)."""
        return cls() if dialect == "duckdb" else cls(secret=f"${CELL_KEY_SECRET}")

    def __getitem__(self, table: str) -> str:
        if table not in self.relations and table in _TABLES:
            raise NotFound(
                f"this hub's engine holds no {table}: link it again (`crosswalk link`, on "
                "the hub or the warehouse) for a question that reads it"
            )
        return self.relations[table]


def granted_scope(
    con: Any,
    granted: Iterable[tuple[str, str]],
    name: str = "granted",
    year_only: Iterable[tuple[str, str]] = (),
) -> Scope:
    """Create temporary views of the hub tables holding only the ``granted`` (dataset,
    element) pairs, and return the scope that names them.

    A row is kept when its agency's dataset has a granted element; a column when it is
    granted for every agency kept (the gate refuses partial grants before this). A date
    granted as its ``year_only`` holds the first day of its year. ``con`` is a read of
    any engine (``crosswalk.engines.reader``); the scope reads the secret as it does.
    """
    read = reader(con)
    granted = set(granted)
    years = {e for _, e in year_only}
    relations = {}
    sources = read.sources()
    for table, (suffix, keys, columns, element) in _TABLES.items():
        if table not in sources:
            continue
        datasets = {d for d, e in granted if d.endswith(f".{suffix}") and element in (None, e)}
        agencies = sorted(d.split(".")[0] for d in datasets)
        shown = [
            c.name
            for c in columns
            if c.name in keys
            or (agencies and all((d, element or c.name) in granted for d in datasets))
        ]
        shown = [
            f"CAST(date_trunc('year', {c}) AS DATE) AS {c}" if c in years else c for c in shown
        ]
        where = ", ".join("'" + a.replace("'", "''") + "'" for a in agencies) or "NULL"
        view = f"{name}_{table}"
        read.temp_view(
            view,
            f"SELECT {', '.join(shown)} FROM {sources[table]} AS t WHERE agency IN ({where})",
        )
        relations[table] = view
    return Scope(relations, secret=read.secret)


def run_counts(con: Any, sql: str, secret: bytes) -> pa.Table:
    """Run a question's SQL (rendered for the engine of ``con``) with the cell-key secret
    bound as that engine binds it (a DuckDB session variable, a Spark named parameter)."""
    return reader(con).arrow(sql, secret)
