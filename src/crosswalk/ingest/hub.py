"""The hub's ingest tables: which tables a batch writes, their shape for another engine,
and the shadow copy of a dry run. Their migrations are ``crosswalk.records``'.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb

from crosswalk import stores
from crosswalk.errors import NotFound
from crosswalk.model import PERSON_RECORD, SERVICE_EVENT, ddl
from crosswalk.records import BATCH_TABLES, MIGRATIONS, PART, migrate

__all__ = ["MIGRATIONS", "PART", "TABLES", "migrate", "open_shadow", "tables"]

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
    + BATCH_TABLES
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
