"""The analytic tables: every record and event with the enterprise person it belongs to.

Analytics count people across agencies, so without these tables each question would
first join every service event to the person index. Each linkage run rewrites
``linked_record`` and ``linked_event`` in its transaction, sorted by person, and notes the
batches they were built from in ``linked_batch``. Loading or replacing a batch afterwards
makes them stale: ``sources`` then gives the same rows computed from the hub's own tables
(slower, never out of date) until the next linkage run.
"""

from __future__ import annotations

import duckdb

from crosswalk.errors import NotFound
from crosswalk.identity import households, views
from crosswalk.identity.cluster import person_number_sql
from crosswalk.model import LINKED_EVENT, LINKED_HOUSEHOLD, LINKED_RECORD, Column, ddl

# Analytic table -> (the hub table it is built from, its columns).
TABLES: dict[str, tuple[str, tuple[Column, ...]]] = {
    "linked_record": ("person_record", LINKED_RECORD),
    "linked_event": ("service_event", LINKED_EVENT),
    # Written by ``crosswalk.identity.households`` in the same run.
    "linked_household": ("household_member", LINKED_HOUSEHOLD),
}
# The tables this module rewrites from the person index.
_OF_RECORDS = ("linked_record", "linked_event")


def _select(table: str, index: str = "person_index", rows: str | None = None) -> str:
    """The rows of the analytic ``table`` for the person index ``index``, from its hub
    table (or ``rows``, a relation of some of that table's rows)."""
    if table == "linked_household":
        return households.select_sql()
    source, columns = TABLES[table]
    source = rows or source
    kept = ", ".join(f"s.{c.name}" for c in columns if c.name not in ("person", "enterprise_id"))
    return (
        f"SELECT {person_number_sql('i.enterprise_id')} AS person, i.enterprise_id, {kept} "
        f"FROM {source} s JOIN {index} i ON i.record_key = s.record_key"
    )


def select_sql(table: str, index: str) -> str:
    """The rows of the analytic ``table`` for the person index ``index`` (a relation of
    record_key, enterprise_id), sorted by person."""
    return f"{_select(table, index)} ORDER BY person"


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite the analytic tables of records and events from the person index (inside the
    caller's transaction; the households' table is the households' build)."""
    for table in _OF_RECORDS:
        _, columns = TABLES[table]
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(ddl(table, columns))
        con.execute(f"INSERT INTO {table} {_select(table)} ORDER BY person")
    views.refresh(con)
    con.execute("DELETE FROM linked_batch")
    con.execute("INSERT INTO linked_batch SELECT batch_id FROM batch WHERE status = 'loaded'")


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
    return {name for (name,) in rows.fetchall()}


def is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the analytic tables hold exactly the batches loaded now."""
    if not {*_OF_RECORDS, "linked_batch", "batch"} <= _tables(con):
        return False
    differing = con.execute(
        """SELECT count(*) FROM (
            (SELECT batch_id FROM batch WHERE status = 'loaded' EXCEPT SELECT batch_id FROM linked_batch)
            UNION ALL
            (SELECT batch_id FROM linked_batch EXCEPT SELECT batch_id FROM batch WHERE status = 'loaded'))"""
    ).fetchall()[0][0]
    return bool(differing == 0)


def sources(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per analytic table, the relation to read it from: the table itself when current,
    otherwise a subquery computing the same rows from the hub's tables."""
    tables = _tables(con)
    # Households change only at a linkage run: their table is current whenever it exists
    # (a hub linked before households were built has none until its next run).
    if "linked_household" in tables:
        household = "linked_household"
    elif "household_member" in tables:
        household = f"({_select('linked_household')})"
    else:
        household = f"({households.empty_sql()})"
    if is_current(con):
        return {
            "linked_record": "linked_record",
            "linked_event": "linked_event",
            "linked_household": household,
        }
    if not {"person_index", "person_record", "service_event"} <= tables:
        raise NotFound("the hub has no person index yet: run `crosswalk link` after ingesting")
    return {
        **{table: f"({_select(table)})" for table in _OF_RECORDS},
        "linked_household": household,
    }


def refresh_records(
    con: duckdb.DuckDBPyConnection, relinked: str, dropped: str, records: str = "person_record"
) -> None:
    """Bring the analytic tables up to date after an incremental run (inside its
    transaction): rows of the records in ``relinked`` (whose person may have changed) and
    ``dropped`` (no longer in the hub) are rewritten or removed, and events of batches
    loaded since the last run are added (replacing earlier versions of the same events); the batches are noted as for ``refresh``.
    ``records``: a relation holding the rows of ``person_record`` of at least the
    ``relinked`` records (the run reads them once for this and the households)."""
    touched = f"(SELECT record_key FROM {relinked} UNION ALL SELECT record_key FROM {dropped})"
    # The rows to write are taken from the hub's tables first, then given their persons:
    # joining the person index to the few rows, not to every record and event.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE refreshed_record AS SELECT * FROM {records}
        WHERE record_key IN (SELECT record_key FROM {relinked})"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE refreshed_event AS SELECT * FROM service_event
        WHERE record_key IN (SELECT record_key FROM {relinked})
           OR batch_id NOT IN (SELECT batch_id FROM linked_batch)"""
    )
    # The persons whose view may differ now (before the analytic tables, which still say
    # whose each record and event was at the last run, are rewritten): those of the
    # records relinked or gone, then and now; those with records or events of batches
    # loaded since (the events among those just taken); those whose events went with a
    # replaced batch.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE view_touched AS
        SELECT enterprise_id FROM linked_record WHERE record_key IN {touched}
        UNION SELECT enterprise_id FROM person_index
          WHERE record_key IN (SELECT record_key FROM {relinked})
          OR record_key IN (SELECT record_key FROM person_record
                            WHERE batch_id NOT IN (SELECT batch_id FROM linked_batch))
          OR record_key IN (SELECT record_key FROM refreshed_event
                            WHERE batch_id NOT IN (SELECT batch_id FROM linked_batch))
        UNION SELECT enterprise_id FROM linked_event
          WHERE batch_id NOT IN (SELECT batch_id FROM batch WHERE status = 'loaded')"""
    )
    views.refresh_persons(con, "view_touched")
    con.execute(f"DELETE FROM linked_record WHERE record_key IN {touched}")
    con.execute(f"INSERT INTO linked_record {_select('linked_record', rows='refreshed_record')}")
    # An event sent again by a later batch (its episode closed) replaces its earlier row.
    con.execute(
        f"""DELETE FROM linked_event WHERE record_key IN {touched}
        OR batch_id NOT IN (SELECT batch_id FROM batch WHERE status = 'loaded')
        OR event_key IN (SELECT event_key FROM refreshed_event
                         WHERE batch_id NOT IN (SELECT batch_id FROM linked_batch))"""
    )
    con.execute(f"INSERT INTO linked_event {_select('linked_event', rows='refreshed_event')}")
    con.execute("DELETE FROM linked_batch")
    con.execute("INSERT INTO linked_batch SELECT batch_id FROM batch WHERE status = 'loaded'")
