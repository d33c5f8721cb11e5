"""The hub's ingest tables, created and migrated by the code itself.

Migrations are numbered and applied in order inside one transaction; ``schema_migration``
records which have run, per part of the system, so other parts keep their own sequences.
"""

from __future__ import annotations

import duckdb

from crosswalk.model import PERSON_RECORD, SERVICE_EVENT, ddl
from crosswalk.stores import apply_migrations

PART = "ingest"

MIGRATIONS: tuple[str, ...] = (
    ddl("person_record", PERSON_RECORD)
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
)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring this part's hub tables to the current version."""
    apply_migrations(con, PART, MIGRATIONS)
