"""The hub's ingest tables, created and migrated by the code itself.

Migrations are numbered and applied in order inside one transaction; ``schema_migration``
records which have run, per part of the system, so other parts keep their own sequences.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb

from crosswalk import stores
from crosswalk.errors import NotFound
from crosswalk.model import PERSON_RECORD, SERVICE_EVENT, Column, ddl
from crosswalk.stores import apply_migrations

PART = "ingest"

# Columns added by a later migration; the first migration creates the table without them,
# so a new hub and an upgraded one end with the same table.
_ADDED_IN_2 = ("other_ids", "country")
_PERSON_RECORD_1 = tuple(c for c in PERSON_RECORD if c.name not in _ADDED_IN_2)
_ADDED_IN_6 = ("household_id",)
_SERVICE_EVENT_1 = tuple(c for c in SERVICE_EVENT if c.name not in _ADDED_IN_6)


def _add_columns(table: str, columns: tuple[Column, ...], names: tuple[str, ...]) -> str:
    return ";\n".join(
        f"ALTER TABLE {table} ADD COLUMN {c.name} {c.type}" for c in columns if c.name in names
    )


# A record as it stood before an update batch sent a new version of it.
_VERSION = (
    *PERSON_RECORD,
    Column("superseded_by", "VARCHAR", "Update batch that sent the next version.", True),
    Column("superseded_at", "TIMESTAMP", "When that batch was loaded.", True),
)

# An event as it stood before an update batch sent a new version of it (a case closed).
_EVENT_VERSION = (
    *_SERVICE_EVENT_1,
    Column("superseded_by", "VARCHAR", "Update batch that sent the next version.", True),
    Column("superseded_at", "TIMESTAMP", "When that batch was loaded.", True),
)

_BATCH_TABLES = """
    CREATE TABLE IF NOT EXISTS batch (
      batch_id VARCHAR PRIMARY KEY,
      agency VARCHAR NOT NULL,
      mapping VARCHAR NOT NULL,
      mapping_version INTEGER NOT NULL,
      mapping_digest VARCHAR NOT NULL,
      loaded_at TIMESTAMP NOT NULL,
      loaded_by VARCHAR NOT NULL,
      status VARCHAR NOT NULL,              -- loaded | replaced
      replaces VARCHAR,                     -- batch this one corrects
      replaced_by VARCHAR
    );
    CREATE TABLE IF NOT EXISTS batch_file (
      batch_id VARCHAR NOT NULL,
      kind VARCHAR NOT NULL,                -- clients | events
      file VARCHAR NOT NULL,
      sha256 VARCHAR NOT NULL,
      rows_read BIGINT NOT NULL,
      rows_accepted BIGINT NOT NULL,
      rows_quarantined BIGINT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS quarantine (
      batch_id VARCHAR NOT NULL,
      file VARCHAR NOT NULL,
      source_row BIGINT NOT NULL,
      field VARCHAR,
      value VARCHAR,
      rule VARCHAR NOT NULL,
      raw_row JSON
    )"""

MIGRATIONS: tuple[str, ...] = (
    ddl("person_record", _PERSON_RECORD_1)
    + ";\n"
    + ddl("service_event", _SERVICE_EVENT_1)
    + ";\n"
    + _BATCH_TABLES,
    # 2: typed identifiers beyond SSN, and the country whose postcode rule applies.
    _add_columns("person_record", PERSON_RECORD, _ADDED_IN_2),
    # 3: each batch's flagged and quarantined rows per file, field and rule.
    """CREATE TABLE IF NOT EXISTS batch_issue (
      batch_id VARCHAR NOT NULL,
      file VARCHAR NOT NULL,
      field VARCHAR NOT NULL,               -- common-model field ("row": wrong field count)
      rule VARCHAR NOT NULL,
      rows BIGINT NOT NULL,
      quarantined BOOLEAN NOT NULL          -- true: the rows went to quarantine
    )""",
    # 4: earlier versions of records that an update batch sent again (nothing is lost).
    ddl("person_record_version", _VERSION),
    # 5: earlier versions of events an update batch sent again (a closed episode's end).
    ddl("service_event_version", _EVENT_VERSION),
    # 6: the household a service placed the person in (a foster home of a placement).
    _add_columns("service_event", SERVICE_EVENT, _ADDED_IN_6)
    + ";\n"
    + _add_columns("service_event_version", SERVICE_EVENT, _ADDED_IN_6),
    # 7: a person's view reads a few records and their events by key, many times a second
    # through the service: point lookups, not scans of every record and event.
    """CREATE INDEX IF NOT EXISTS person_record_key ON person_record (record_key);
    CREATE INDEX IF NOT EXISTS service_event_record ON service_event (record_key)""",
)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring this part's hub tables to the current version."""
    apply_migrations(con, PART, MIGRATIONS)


# The tables an ingest batch writes.
TABLES = (
    "person_record",
    "service_event",
    "batch",
    "batch_file",
    "quarantine",
    "batch_issue",
    "person_record_version",
    "service_event_version",
)


@cache
def tables() -> dict[str, list[tuple[str, str]]]:
    """The ingest tables as the migrations leave them: name -> (column, DuckDB type), for
    an engine that keeps them elsewhere (the Spark warehouse)."""
    with duckdb.connect(":memory:") as con:
        migrate(con)
        return {
            t: [(str(n), str(ty)) for n, ty in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name = ? ORDER BY ordinal_position",
                [t],
            ).fetchall()]
            for t in TABLES
        }  # fmt: skip


# The tables as the current migrations leave them.
_CURRENT = (
    MIGRATIONS[2]
    + ";\n"
    + MIGRATIONS[3]
    + ";\n"
    + MIGRATIONS[4]
    + ";\n"
    + ddl("person_record", PERSON_RECORD)
    + ";\n"
    + ddl("service_event", SERVICE_EVENT)
    + ";\n"
    + _BATCH_TABLES
)
# What a dry run copies from the hub: the keys that duplicate checks and --replace read.
_SHADOW_COPY = {
    "person_record": ("record_key, agency, source_record_id, batch_id, source_row", True),
    "service_event": (
        "event_key, agency, source_event_id, record_key, batch_id, source_row, program, start_date",
        True,
    ),
    "batch": ("*", False),
    "batch_file": ("*", False),
}


def open_shadow(hub: str | Path | None, agency: str) -> duckdb.DuckDBPyConnection:
    """A connection for a dry run (``ingest --check``) that cannot change the hub.

    The hub is opened read-only (a hub that does not exist is not created: the check runs
    against an empty one in memory), and temporary tables of the same names, holding the
    agency's keys and the batch lineage, stand in front of its tables; whatever the
    check writes goes to them and is gone when the connection closes.
    """
    try:
        con = stores.connect_hub(hub, read_only=True)
    except NotFound:
        con = duckdb.connect(":memory:")
    source = con.execute("SELECT current_database()").fetchall()[0][0]
    quoted = '"' + source.replace('"', '""') + '"'
    present = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'",
            [source],
        ).fetchall()
    }
    for statement in _CURRENT.split(";"):
        if statement.strip():
            con.execute(statement.replace("CREATE TABLE IF NOT EXISTS", "CREATE TEMP TABLE", 1))
    for table, (columns, per_agency) in _SHADOW_COPY.items():
        if table not in present:
            continue
        where = "WHERE agency = ?" if per_agency else ""
        target = "" if columns == "*" else f"({columns})"
        con.execute(
            f"INSERT INTO temp.main.{table} {target} SELECT {columns} FROM {quoted}.main.{table} {where}",
            [agency] if per_agency else [],
        )
    return con
