"""A row store of each person's view: their records and service events in one row.

A person's view read from the hub's own tables takes three point queries (the person
index, then the records and the events by key), each fetching a few rows out of the
compressed column segments of a wide table. ``person_view`` holds the same rows, one
row per person (enterprise id, records as JSON, events as JSON), indexed by enterprise
id, so a view is one point read of one row.

It is rewritten with the analytic tables, in the same transaction: whole at a full
linkage run (``refresh``), and for the persons an incremental run touches
(``refresh_persons``). ``person_view_built`` notes how many batches the hub held when it
was written: records and events change only by batches (a new batch, or a correction
that replaces one adds a row to ``batch``, and rows of ``batch`` are never deleted), so
while that count stands the store holds exactly what the hub's tables give. Once a batch
is loaded after it, the store is stale and ``read`` says so: the reader then reads the
hub's tables, until the next linkage run brings the store up to date.

Only the gate reads it, as it reads ``crosswalk.identity.index.person_records``: it
holds agency data like the tables it is made from.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb

from crosswalk.identity.index import EVENT_ELEMENTS, RECORD_COLUMNS
from crosswalk.model import PERSON_RECORD, SERVICE_EVENT, Column

TABLE = "person_view"
BUILT = "person_view_built"

# The store's tables are an identity migration (``crosswalk.identity.store``): empty, and
# not current until built.
_CREATE = f"""CREATE TABLE {TABLE} (
  enterprise_id VARCHAR NOT NULL, records VARCHAR NOT NULL, events VARCHAR NOT NULL)"""

# The columns of a view's records and events, in the order of their JSON arrays, and the
# order of the rows: those of the hub's tables read live (``index.person_records``).
EVENT_COLUMNS = ("record_key", "agency", *EVENT_ELEMENTS)
RECORD_ORDER = "r.agency, r.source_record_id, r.record_key"
EVENT_ORDER = "e.start_date, e.agency, e.event_key"


def _decoder(columns: tuple[Column, ...], names: tuple[str, ...]) -> list[Callable[[str], Any]]:
    """How each column's text (every value is stored as DuckDB's VARCHAR cast of it) is
    read back as the value the hub's table gives: dates as dates, decimals as decimals
    (with their scale: '12.50' stays 12.50), text as text."""
    types = {c.name: c.type for c in columns}
    out: list[Callable[[str], Any]] = []
    for name in names:
        kind = types[name].upper()
        if kind == "DATE":
            out.append(date.fromisoformat)
        elif kind.startswith("DECIMAL"):
            out.append(Decimal)
        elif kind == "VARCHAR":
            out.append(str)
        else:
            raise ValueError(f"the person view cannot hold {name} ({kind})")
    return out


def _rows(
    text: str, names: tuple[str, ...], decode: list[Callable[[str], Any]]
) -> list[dict[str, Any]]:
    out = []
    for row in json.loads(text):
        out.append(
            {
                name: None if value is None else read(value)
                for name, value, read in zip(names, row, decode, strict=True)
            }
        )
    return out


def _select(persons: str | None = None, ranged: bool = False) -> str:
    """The store's rows computed from the hub's tables: of every person, only of the
    enterprise ids in the relation ``persons``, or (``ranged``) of those from the first
    bound parameter to the second, both included (given twice: once for the records,
    once for the events)."""
    if persons is not None:
        where = f"WHERE i.enterprise_id IN (SELECT enterprise_id FROM {persons})"
    elif ranged:
        where = "WHERE i.enterprise_id BETWEEN ? AND ?"
    else:
        where = ""
    records = ", ".join(f"r.{c}::VARCHAR" for c in RECORD_COLUMNS)
    events = ", ".join(f"e.{c}::VARCHAR" for c in EVENT_COLUMNS)
    return f"""WITH r AS (
          SELECT i.enterprise_id,
                 to_json(list([{records}] ORDER BY {RECORD_ORDER}))::VARCHAR AS records
          FROM person_index i JOIN person_record r ON r.record_key = i.record_key {where}
          GROUP BY 1),
        e AS (
          SELECT i.enterprise_id,
                 to_json(list([{events}] ORDER BY {EVENT_ORDER}))::VARCHAR AS events
          FROM person_index i JOIN service_event e ON e.record_key = i.record_key {where}
          GROUP BY 1)
        SELECT r.enterprise_id, r.records, coalesce(e.events, '[]') AS events
        FROM r LEFT JOIN e ON e.enterprise_id = r.enterprise_id"""


def _note_built(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DELETE FROM {BUILT}")
    con.execute(f"INSERT INTO {BUILT} SELECT count(*) FROM batch")


# Persons written by one statement of a whole rewrite. Gathering each person's records and
# events into lists holds every list of the statement in memory at once (DuckDB does not
# spill list aggregates): at a million persons in one statement that outgrew a linkage
# run's memory budget of 1 GiB. A slice of persons keeps it to a few hundred MiB whatever
# the hub's size.
PERSONS_PER_STATEMENT = 200_000


def _slices(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """The first and last enterprise id of each slice of at most ``PERSONS_PER_STATEMENT``
    persons, in order."""
    return [
        (first, last)
        for first, last in con.execute(
            """SELECT min(enterprise_id), max(enterprise_id) FROM (
                 SELECT enterprise_id,
                        (row_number() OVER (ORDER BY enterprise_id) - 1) // ? AS slice
                 FROM (SELECT DISTINCT enterprise_id FROM person_index))
               GROUP BY slice ORDER BY 1""",
            [PERSONS_PER_STATEMENT],
        ).fetchall()
    ]


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite the whole store from the hub's tables (inside the caller's transaction),
    a slice of persons at a time, in the order of their enterprise ids."""
    con.execute(f"DROP TABLE IF EXISTS {TABLE}")
    con.execute(_CREATE)
    for first, last in _slices(con):
        con.execute(
            f"INSERT INTO {TABLE} {_select(ranged=True)} ORDER BY 1", [first, last, first, last]
        )
    con.execute(f"CREATE INDEX {TABLE}_enterprise ON {TABLE} (enterprise_id)")
    _note_built(con)


def refresh_persons(con: duckdb.DuckDBPyConnection, persons: str) -> None:
    """Rewrite the rows of the enterprise ids in the relation ``persons`` (inside the
    caller's transaction): a person with no records left loses their row."""
    con.execute(f"DELETE FROM {TABLE} WHERE enterprise_id IN (SELECT enterprise_id FROM {persons})")
    con.execute(f"INSERT INTO {TABLE} {_select(persons)}")
    _note_built(con)


def build_if_missing(con: duckdb.DuckDBPyConnection) -> None:
    """Fill a store that was never written, where the hub has the tables it is made of
    (a hub linked before the store existed gets it at its first migration)."""
    tables = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
        ).fetchall()
    }
    if not {TABLE, BUILT, "person_index", "person_record", "service_event", "batch"} <= tables:
        return
    if con.execute(f"SELECT count(*) FROM {BUILT}").fetchall()[0][0]:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        refresh(con)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def exists(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the hub has the store (a hub migrated since it was added)."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name IN (?, ?)",
        [TABLE, BUILT],
    ).fetchall()[0][0]
    return bool(found == 2)


_READ = f"SELECT records, events FROM {TABLE} WHERE enterprise_id = ?"
# The same, and whether the store is current (two more scans: asked only when the reader
# cannot tell otherwise, see ``crosswalk.access.core``).
_READ_CHECKED = f"""SELECT records, events,
  coalesce((SELECT max(batches) FROM {BUILT}) = (SELECT count(*) FROM batch), false)
FROM {TABLE} WHERE enterprise_id = ?"""


def read(
    con: duckdb.DuckDBPyConnection, enterprise_id: str, *, check: bool = True
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool | None] | None:
    """The person's records and events from the store, in one point read, and (with
    ``check``) whether the store is current: holds what the hub's tables give. None for
    a person the store does not hold (the hub's tables then answer, and say why not).

    Without ``check`` the reader must know otherwise that the store is current (the
    third value is then None): records and events of a stale store are those of the
    last linkage run, not of the batches loaded since."""
    found = con.execute(_READ_CHECKED if check else _READ, [enterprise_id]).fetchall()
    if not found:
        return None
    records, events, *current = found[0]
    decoders = _decoders()
    return (
        _rows(records, RECORD_COLUMNS, decoders[0]),
        _rows(events, EVENT_COLUMNS, decoders[1]),
        bool(current[0]) if check else None,
    )


_DECODERS: list[list[Callable[[str], Any]]] = []


def _decoders() -> list[list[Callable[[str], Any]]]:
    if not _DECODERS:
        _DECODERS.extend(
            [_decoder(PERSON_RECORD, RECORD_COLUMNS), _decoder(SERVICE_EVENT, EVENT_COLUMNS)]
        )
    return _DECODERS
