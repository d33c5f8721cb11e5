"""The hub's record tables (agency records, their events, earlier versions of both, and
the batches that brought them), created and migrated by the code itself.

Ingest writes these tables and identity reads them: both bring a hub to the current
version before they touch it, so a hub written by an earlier version of Crosswalk is
upgraded by whichever runs first, instead of failing halfway through a run on a column
it lacks. Migrations are numbered and applied in order inside one transaction;
``schema_migration`` records which have run, per part of the system, so other parts keep
their own sequences.
"""

from __future__ import annotations

import duckdb

from crosswalk.model import PERSON_RECORD, SERVICE_EVENT, Column, ddl
from crosswalk.stores import apply_migrations

PART = "ingest"

# Columns added by a later migration; the first migration creates the table without them,
# so a new hub and an upgraded one end with the same table.
_ADDED_IN_2 = ("other_ids", "country")
_ADDED_IN_8 = ("birth_year",)
_ADDED_IN_9 = ("email",)
_ADDED_IN_10 = ("mother_first_name", "mother_last_name", "mother_dob")
_PERSON_RECORD_1 = tuple(
    c
    for c in PERSON_RECORD
    if c.name not in (*_ADDED_IN_2, *_ADDED_IN_8, *_ADDED_IN_9, *_ADDED_IN_10)
)
_ADDED_IN_6 = ("household_id",)
_SERVICE_EVENT_1 = tuple(c for c in SERVICE_EVENT if c.name not in _ADDED_IN_6)


def _add_columns(table: str, columns: tuple[Column, ...], names: tuple[str, ...]) -> str:
    return ";\n".join(
        f"ALTER TABLE {table} ADD COLUMN {c.name} {c.type}" for c in columns if c.name in names
    )


# A record as it stood before an update batch sent a new version of it.
_VERSION = (
    *(c for c in PERSON_RECORD if c.name not in (*_ADDED_IN_8, *_ADDED_IN_9, *_ADDED_IN_10)),
    Column("superseded_by", "VARCHAR", "Update batch that sent the next version.", True),
    Column("superseded_at", "TIMESTAMP", "When that batch was loaded.", True),
)

# An event as it stood before an update batch sent a new version of it (a case closed).
_EVENT_VERSION = (
    *_SERVICE_EVENT_1,
    Column("superseded_by", "VARCHAR", "Update batch that sent the next version.", True),
    Column("superseded_at", "TIMESTAMP", "When that batch was loaded.", True),
)

BATCH_TABLES = """
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

_BIRTH_YEAR = ";\n".join(
    f"{_add_columns(t, PERSON_RECORD, _ADDED_IN_8)};\n"
    f"UPDATE {t} SET birth_year = year(dob) WHERE dob IS NOT NULL"
    for t in ("person_record", "person_record_version")
)

MIGRATIONS: tuple[str, ...] = (
    ddl("person_record", _PERSON_RECORD_1)
    + ";\n"
    + ddl("service_event", _SERVICE_EVENT_1)
    + ";\n"
    + BATCH_TABLES,
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
    # 8: the year of birth, where an extract gives a year or an age instead of a DOB (and
    # the DOB's year for every record that has one).
    _BIRTH_YEAR,
    # 9: an email address, a common field linkage compares and blocks on.
    ";\n".join(
        _add_columns(t, PERSON_RECORD, _ADDED_IN_9)
        for t in ("person_record", "person_record_version")
    ),
    # 10: the mother a record names (a birth certificate's), a family relation households
    # use.
    ";\n".join(
        _add_columns(t, PERSON_RECORD, _ADDED_IN_10)
        for t in ("person_record", "person_record_version")
    ),
)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring this part's hub tables to the current version."""
    apply_migrations(con, PART, MIGRATIONS)
