"""A hub written by an earlier version of Crosswalk is upgraded by linkage, not failed."""

import duckdb

from crosswalk.identity import link


def _as_before_foster_homes(hub):
    """The hub as the ingest of before migration 6 left it: no household of a placement
    on the events, no lookup indexes."""
    con = duckdb.connect(str(hub))
    con.execute("DROP INDEX IF EXISTS person_record_key")
    con.execute("DROP INDEX IF EXISTS service_event_record")
    for table in ("service_event", "service_event_version"):
        con.execute(f"ALTER TABLE {table} DROP COLUMN household_id")
    for table in ("person_record", "person_record_version"):  # later migrations' (8, 9)
        for column in (
            "birth_year",
            "email",
            "mother_first_name",
            "mother_last_name",
            "mother_dob",
        ):
            con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    con.execute("DELETE FROM schema_migration WHERE part = 'ingest' AND version >= 6")
    con.close()


def test_linkage_upgrades_a_hub_from_before_foster_homes(linked_copy):
    _, hub = linked_copy
    _as_before_foster_homes(hub)
    result = link(hub)  # incremental: nothing new, but every household is built again
    assert result.kind == "incremental"
    con = duckdb.connect(str(hub), read_only=True)
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'service_event'"
        ).fetchall()
    }
    version = con.execute(
        "SELECT max(version) FROM schema_migration WHERE part = 'ingest'"
    ).fetchall()[0][0]
    con.close()
    assert "household_id" in columns and version >= 10
