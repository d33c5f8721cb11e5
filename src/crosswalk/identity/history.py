"""Enterprise ids with history: every change of the person index, with its cause and time.

Caseworkers, analysts and reports hold enterprise ids for years, so the index keeps what
each id was: ``person_index_history`` holds every record's id over time (``valid_from``,
``valid_to``), and ``enterprise_id_event`` every merge, split, retirement, creation and
move of a record, with the linkage run that made it and, where a steward's review
decision forced it, that decision. From them:

- ``successors``: the current id(s) of a retired id (followed through later merges);
- ``records_as_of``: the records that made up a person on a date;
- ``id_as_of``: the id a record had on a date.

Only the gate calls the readers (``crosswalk.access``); the linkage runs write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from crosswalk.stores import apply_migrations

PART = "identity_history"

MIGRATIONS: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS person_index_history (
      record_key VARCHAR NOT NULL, enterprise_id VARCHAR NOT NULL,
      valid_from TIMESTAMP NOT NULL, valid_to TIMESTAMP, run_id VARCHAR NOT NULL
    );
    CREATE TABLE IF NOT EXISTS enterprise_id_event (
      changed_at TIMESTAMP NOT NULL, run_id VARCHAR NOT NULL,
      kind VARCHAR NOT NULL,        -- created | merged | split | retired | moved
      enterprise_id VARCHAR NOT NULL,
      other_id VARCHAR,             -- merged: the id it went into, split: the new id, moved: the new id
      record_key VARCHAR,           -- moved: the record
      records BIGINT,               -- records concerned
      cause VARCHAR NOT NULL,       -- full run | incremental run | steward decision
      decided_by VARCHAR            -- the steward, when a decision caused it
    );
    CREATE TABLE IF NOT EXISTS link_edge (
      record_key_l VARCHAR NOT NULL, record_key_r VARCHAR NOT NULL, match_weight DOUBLE,
      match_probability DOUBLE, accepted BOOLEAN, run_id VARCHAR NOT NULL,
      model_version INTEGER NOT NULL
    );
    ALTER TABLE link_run ADD COLUMN IF NOT EXISTS kind VARCHAR;
    ALTER TABLE link_run ADD COLUMN IF NOT EXISTS changes JSON""",
)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the history tables to the current version (after ``identity.store``)."""
    apply_migrations(con, PART, MIGRATIONS)


@dataclass(frozen=True)
class IdChanges:
    """What a run does to enterprise ids: the ids it keeps, merges away, splits and
    retires, the ids it creates, and the records that move from one id to another."""

    kept: int
    merged: int
    split: int
    retired: int
    created: int
    moved_records: int

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)

    def sentence(self) -> str:
        return (
            f"keeps {self.kept:,} ids, merges {self.merged:,} into others, splits {self.split:,},"
            f" retires {self.retired:,} with no records left, creates {self.created:,};"
            f" {self.moved_records:,} records change id"
        )


def diff(con: duckdb.DuckDBPyConnection, before: str, after: str) -> IdChanges:
    """Compare two assignments (record_key, enterprise_id) of the same scope.

    ``before`` may hold records ``after`` lacks (deleted) and the reverse (new)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE id_diff AS
        SELECT coalesce(b.record_key, a.record_key) AS record_key,
               b.enterprise_id AS old_id, a.enterprise_id AS new_id
        FROM {before} b FULL JOIN {after} a USING (record_key)"""
    )
    row = con.execute(
        """WITH olds AS (SELECT DISTINCT old_id FROM id_diff WHERE old_id IS NOT NULL),
        news AS (SELECT DISTINCT new_id FROM id_diff WHERE new_id IS NOT NULL),
        fate AS (
          SELECT o.old_id, o.old_id IN (SELECT new_id FROM news) AS kept,
                 count(DISTINCT d.new_id) AS successors
          FROM olds o LEFT JOIN id_diff d ON d.old_id = o.old_id GROUP BY ALL),
        split AS (SELECT DISTINCT old_id FROM id_diff WHERE old_id IS NOT NULL
                  AND new_id IS NOT NULL AND new_id <> old_id
                  AND old_id IN (SELECT new_id FROM news))
        SELECT count(*) FILTER (WHERE kept),
               count(*) FILTER (WHERE NOT kept AND successors > 0),
               (SELECT count(*) FROM split),
               count(*) FILTER (WHERE NOT kept AND successors = 0),
               (SELECT count(*) FROM news WHERE new_id NOT IN (SELECT old_id FROM olds)),
               (SELECT count(*) FROM id_diff WHERE old_id IS NOT NULL AND new_id IS NOT NULL
                  AND old_id <> new_id)
        FROM fate"""
    ).fetchall()[0]
    return IdChanges(*(int(x or 0) for x in row))


def record(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    at: datetime,
    cause: str,
) -> None:
    """Write the events and the history rows of the last ``diff`` (inside the run's
    transaction). A change touching a record that a steward decision named since the
    previous run is caused by that decision (and names the steward)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE decided_since AS
        SELECT k AS record_key, arg_max(decided_by, decided_at) AS decided_by FROM (
          SELECT record_key_l AS k, decided_by, decided_at FROM review_decision
          UNION ALL SELECT record_key_r, decided_by, decided_at FROM review_decision) d
        WHERE decided_at > coalesce((SELECT max(finished_at) FROM link_run), TIMESTAMP '1900-01-01')
        GROUP BY 1"""
    )
    common = "?::TIMESTAMP, ?"
    cause_sql = f"CASE WHEN s.decided_by IS NOT NULL THEN 'steward decision' ELSE '{cause}' END"
    # Ids no longer held: merged into the id holding most of their records, or retired.
    con.execute(
        f"""INSERT INTO enterprise_id_event
        WITH gone AS (
          SELECT d.old_id, d.new_id, count(*) AS n, max(s.decided_by) AS decided_by
          FROM id_diff d LEFT JOIN decided_since s USING (record_key)
          WHERE d.old_id IS NOT NULL AND d.old_id NOT IN (SELECT new_id FROM id_diff WHERE new_id IS NOT NULL)
          GROUP BY ALL)
        SELECT {common}, CASE WHEN new_id IS NULL THEN 'retired' ELSE 'merged' END, old_id, new_id,
               NULL, n, CASE WHEN decided_by IS NOT NULL THEN 'steward decision' ELSE '{cause}' END,
               decided_by
        FROM gone""",
        [at, run_id],
    )
    con.execute(
        """INSERT INTO enterprise_id_retired
        SELECT DISTINCT enterprise_id, other_id, run_id FROM enterprise_id_event
        WHERE run_id = ? AND kind IN ('merged', 'retired')""",
        [run_id],
    )
    # Ids kept that gave records to another id (a split), and ids created.
    con.execute(
        f"""INSERT INTO enterprise_id_event
        WITH moved AS (
          SELECT d.old_id, d.new_id, count(*) AS n, max(s.decided_by) AS decided_by
          FROM id_diff d LEFT JOIN decided_since s USING (record_key)
          WHERE d.old_id IS NOT NULL AND d.new_id IS NOT NULL AND d.old_id <> d.new_id
            AND d.old_id IN (SELECT new_id FROM id_diff WHERE new_id IS NOT NULL)
          GROUP BY ALL)
        SELECT {common}, 'split', old_id, new_id, NULL, n,
               CASE WHEN decided_by IS NOT NULL THEN 'steward decision' ELSE '{cause}' END, decided_by
        FROM moved""",
        [at, run_id],
    )
    con.execute(
        f"""INSERT INTO enterprise_id_event
        SELECT {common}, 'created', new_id, NULL, NULL, count(*), '{cause}', NULL FROM id_diff
        WHERE new_id IS NOT NULL AND new_id NOT IN (SELECT old_id FROM id_diff WHERE old_id IS NOT NULL)
          AND new_id NOT IN (SELECT enterprise_id FROM enterprise_id_event WHERE kind = 'created')
        GROUP BY new_id""",
        [at, run_id],
    )
    # Each record that changed id.
    con.execute(
        f"""INSERT INTO enterprise_id_event
        SELECT {common}, 'moved', d.old_id, d.new_id, d.record_key, 1, {cause_sql}, s.decided_by
        FROM id_diff d LEFT JOIN decided_since s USING (record_key)
        WHERE d.old_id IS NOT NULL AND d.new_id IS NOT NULL AND d.old_id <> d.new_id""",
        [at, run_id],
    )
    # Every record's id over time: close what changed, open what is new.
    con.execute(
        """UPDATE person_index_history SET valid_to = ?::TIMESTAMP
        WHERE valid_to IS NULL AND record_key IN (
          SELECT record_key FROM id_diff WHERE old_id IS DISTINCT FROM new_id)""",
        [at],
    )
    con.execute(
        """INSERT INTO person_index_history
        SELECT record_key, new_id, ?::TIMESTAMP, NULL, ? FROM id_diff
        WHERE new_id IS NOT NULL AND (old_id IS DISTINCT FROM new_id
          OR record_key NOT IN (SELECT record_key FROM person_index_history WHERE valid_to IS NULL))""",
        [at, run_id],
    )


def _moment(on: date | datetime) -> datetime:
    """A date means the end of that day: what held on it."""
    if isinstance(on, datetime):
        return on
    return datetime(on.year, on.month, on.day, 23, 59, 59, 999999)


def successors(con: duckdb.DuckDBPyConnection, enterprise_id: str) -> list[str]:
    """The ids a retired id's records are in today, following later merges; [] for an id
    that is current or unknown, or whose records are all gone."""
    seen = {enterprise_id}
    frontier = [enterprise_id]
    current: set[str] = set()
    while frontier:
        rows = con.execute(
            """SELECT DISTINCT merged_into FROM enterprise_id_retired
            WHERE enterprise_id IN (SELECT unnest(?::VARCHAR[])) AND merged_into IS NOT NULL""",
            [frontier],
        ).fetchall()
        frontier = []
        for (next_id,) in rows:
            if next_id in seen:
                continue
            seen.add(next_id)
            held = con.execute(
                "SELECT count(*) FROM person_index WHERE enterprise_id = ?", [next_id]
            ).fetchall()[0][0]
            if held:
                current.add(next_id)
            else:
                frontier.append(next_id)
    return sorted(current)


def records_as_of(
    con: duckdb.DuckDBPyConnection, enterprise_id: str, on: date | datetime
) -> list[str]:
    """The record keys that made up person ``enterprise_id`` on ``on``."""
    rows = con.execute(
        """SELECT record_key FROM person_index_history WHERE enterprise_id = ?
          AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?) ORDER BY record_key""",
        [enterprise_id, _moment(on), _moment(on)],
    ).fetchall()
    return [r[0] for r in rows]


def id_as_of(con: duckdb.DuckDBPyConnection, record_key: str, on: date | datetime) -> str | None:
    """The enterprise id record ``record_key`` had on ``on`` (None: not linked then)."""
    rows = con.execute(
        """SELECT enterprise_id FROM person_index_history WHERE record_key = ?
          AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)""",
        [record_key, _moment(on), _moment(on)],
    ).fetchall()
    return rows[0][0] if rows else None


EVENT_COLUMNS = (
    "changed_at",
    "run_id",
    "kind",
    "enterprise_id",
    "other_id",
    "record_key",
    "records",
    "cause",
    "decided_by",
)


def events(con: duckdb.DuckDBPyConnection, enterprise_id: str) -> list[dict[str, Any]]:
    """Every event of an id (as the id changed, or as the other id of a merge or split)."""
    rows = con.execute(
        f"""SELECT {", ".join(EVENT_COLUMNS)} FROM enterprise_id_event
        WHERE (enterprise_id = ? OR other_id = ?) AND kind <> 'moved'
        ORDER BY changed_at, kind, enterprise_id""",
        [enterprise_id, enterprise_id],
    ).fetchall()
    return [dict(zip(EVENT_COLUMNS, r, strict=True)) for r in rows]


def records_ever(con: duckdb.DuckDBPyConnection, enterprise_id: str) -> list[str]:
    """Every record that was ever part of ``enterprise_id``."""
    rows = con.execute(
        "SELECT DISTINCT record_key FROM person_index_history WHERE enterprise_id = ? ORDER BY 1",
        [enterprise_id],
    ).fetchall()
    return [r[0] for r in rows]


def changes_by_cause(con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> dict[str, int]:
    """Id changes of the given runs, counted by kind and cause (e.g. 'merged: steward
    decision')."""
    rows = con.execute(
        """SELECT kind || ': ' || cause, count(*) FROM enterprise_id_event
        WHERE run_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1 ORDER BY 1""",
        [run_ids],
    ).fetchall()
    return {k: int(n) for k, n in rows}


def migrate_readonly_check(con: duckdb.DuckDBPyConnection) -> None:
    """Raise ``NotFound`` when the hub keeps no history yet (a reader cannot migrate)."""
    from crosswalk.errors import NotFound

    present = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
        ).fetchall()
    }
    if not {"person_index_history", "enterprise_id_event", "enterprise_id_retired"} <= present:
        raise NotFound("the hub keeps no history of its person index yet: run `crosswalk link`")


def record_ids(con: duckdb.DuckDBPyConnection, record_key: str) -> list[dict[str, Any]]:
    """Every enterprise id a record has had, oldest first."""
    names = ("enterprise_id", "valid_from", "valid_to", "run_id")
    rows = con.execute(
        f"SELECT {', '.join(names)} FROM person_index_history WHERE record_key = ? ORDER BY valid_from",
        [record_key],
    ).fetchall()
    return [dict(zip(names, r, strict=True)) for r in rows]
