"""The person index's tables in the hub, created by the code itself."""

from __future__ import annotations

import duckdb

from crosswalk.model import LINKED_EVENT, LINKED_RECORD, PERSON_INDEX, ddl
from crosswalk.stores import apply_migrations

PART = "identity"

MIGRATIONS: tuple[str, ...] = (
    ddl("person_index", PERSON_INDEX)
    + """;
    CREATE TABLE IF NOT EXISTS link_run (
      run_id VARCHAR PRIMARY KEY, started_at TIMESTAMP, finished_at TIMESTAMP, model_version INTEGER,
      records BIGINT, candidate_pairs BIGINT, threshold_weight DOUBLE, review_floor_weight DOUBLE,
      clusters BIGINT, split_components BIGINT, summary JSON
    );
    CREATE TABLE IF NOT EXISTS link_model (
      version INTEGER PRIMARY KEY, created_at TIMESTAMP, settings JSON, training JSON
    );
    CREATE TABLE IF NOT EXISTS link_evidence (
      run_id VARCHAR, record_key_l VARCHAR, record_key_r VARCHAR, match_weight DOUBLE,
      match_probability DOUBLE, accepted BOOLEAN, fields JSON
    );
    CREATE TABLE IF NOT EXISTS review_queue (
      run_id VARCHAR, record_key_l VARCHAR, record_key_r VARCHAR, match_weight DOUBLE,
      match_probability DOUBLE, fields JSON
    );
    CREATE TABLE IF NOT EXISTS review_decision (
      record_key_l VARCHAR, record_key_r VARCHAR, decision VARCHAR, decided_by VARCHAR,
      decided_at TIMESTAMP
    );
    CREATE TABLE IF NOT EXISTS enterprise_id_retired (
      enterprise_id VARCHAR, merged_into VARCHAR, run_id VARCHAR
    );
    CREATE TABLE IF NOT EXISTS enterprise_id_counter (next_value BIGINT)""",
    # The analytic tables (crosswalk.identity.linked) and the batches they were built from.
    ddl("linked_record", LINKED_RECORD)
    + ";\n"
    + ddl("linked_event", LINKED_EVENT)
    + ";\nCREATE TABLE IF NOT EXISTS linked_batch (batch_id VARCHAR)",
    # Why a steward decided a review pair.
    "ALTER TABLE review_decision ADD COLUMN IF NOT EXISTS note VARCHAR",
    # A person's view finds the person's records by enterprise id (a point lookup).
    "CREATE INDEX IF NOT EXISTS person_index_enterprise ON person_index (enterprise_id)",
    # A row store of each person's view (crosswalk.identity.views), and how many batches
    # the hub held when it was written.
    """CREATE TABLE IF NOT EXISTS person_view (
      enterprise_id VARCHAR NOT NULL, records VARCHAR NOT NULL, events VARCHAR NOT NULL);
    CREATE INDEX IF NOT EXISTS person_view_enterprise ON person_view (enterprise_id);
    CREATE TABLE IF NOT EXISTS person_view_built (batches BIGINT NOT NULL)""",
)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring this part's hub tables to the current version (a person view store never
    written is filled from the hub's tables)."""
    from crosswalk.identity import views  # it reads the index's columns: not at import

    apply_migrations(con, PART, MIGRATIONS)
    views.build_if_missing(con)
