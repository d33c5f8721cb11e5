"""The hub's ingest tables, created and migrated by the code itself.

Migrations are numbered and applied in order inside one transaction; ``schema_migration``
records which have run, per part of the system, so other parts keep their own sequences.
"""

from __future__ import annotations

import duckdb

from crosswalk.model import PERSON_RECORD, SERVICE_EVENT, Column, ddl
from crosswalk.stores import apply_migrations

PART = "ingest"

# Columns added by a later migration; the first migration creates the table without them,
# so a new hub and an upgraded one end with the same table.
_ADDED_IN_2 = ("other_ids", "country")
_PERSON_RECORD_1 = tuple(c for c in PERSON_RECORD if c.name not in _ADDED_IN_2)


def _add_columns(table: str, columns: tuple[Column, ...], names: tuple[str, ...]) -> str:
    return ";\n".join(
        f"ALTER TABLE {table} ADD COLUMN {c.name} {c.type}" for c in columns if c.name in names
    )


MIGRATIONS: tuple[str, ...] = (
    ddl("person_record", _PERSON_RECORD_1)
    + ";\n"
    + ddl("service_event", SERVICE_EVENT)
    + """;
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
    )""",
    # 2: typed identifiers beyond SSN, and the country whose postcode rule applies.
    _add_columns("person_record", PERSON_RECORD, _ADDED_IN_2),
)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring this part's hub tables to the current version."""
    apply_migrations(con, PART, MIGRATIONS)
