"""Enterprise households: persons grouped into families across agencies, over time.

Each agency knows part of a family: a SNAP case and its household id, a child-welfare
case, a Medicaid case, an address. A linkage run (full or incremental, in the same
transaction as the person index) groups the persons of the index into households from
that evidence, for any state's data, using what each record has:

- **case and household ids**: two persons whose records carry the same case id or
  household id of one agency (``<agency>:<id>``: numbers of different agencies never
  meet) live together;
- **addresses**: two persons whose records give the same residential street line
  (standardised at ingest) and postcode live together. Every address a record gives
  counts, not only the latest: a family's records are snapshots taken on different days
  (a birth certificate's residence, an older Medicaid record). Shelters, PO boxes and
  ``homeless`` are not homes, and an address or an id shared by more than
  ``MAX_MEMBERS`` persons (a building, an institution, a placeholder number) groups
  nobody;
- **family relations**: a record that names the person's mother (a birth certificate
  gives her first name, maiden name and date of birth; the mapping declares the
  columns) puts the child with every person one of whose records is hers: the same first
  name and date of birth, and her maiden name or the child's last name;
- **placements**: a service event that names a household of its agency (a foster care
  placement's home) puts the person in the household whose members' records carry that
  id, for the dates of the service, and takes them out of their own for that time; a
  home that no record carries (a group home) is a household of the children placed in
  it.

A person with none of these is a household of one; an agency that keeps no household id
or no address adds what it has. Membership has dates (``valid_from``, ``valid_to``, both
included; open ends are NULL): a child in foster care belongs to the birth family, then
to the foster household, then to the birth family again; a death recorded by vital
records ends every membership.

Household ids are stable the way enterprise person ids are: a household keeps the oldest
earlier id among those it holds the most records of (its members' records, the way a
person keeps the id of most of its records); an id split across households stays with the
one holding most of its records; ids no household keeps are retired, with the household
that holds most of their records as successor, in ``household_id_event``.

Each membership row names the agency whose data placed the person there, so a reader
sees a membership only where that agency's data is granted (``crosswalk.access``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from crosswalk.errors import NotFound
from crosswalk.identity.cluster import person_number_sql
from crosswalk.model import HOUSEHOLD_MEMBER, LINKED_HOUSEHOLD, ddl
from crosswalk.stores import apply_migrations

PART = "households"

# An address or an id shared by more persons than this groups nobody.
MAX_MEMBERS = 12
# The program of a death record: a death ends every membership of the person.
DEATH = "DEATH_RECORD"
# Street lines that are not a home (matched on the standardised, upper-case line).
NOT_A_HOME = r"(^|\b)(PO BOX|P O BOX|POB|BOX \d|GENERAL DELIVERY|HOMELESS|SHELTER|UNKNOWN|NONE)\b"

MIGRATIONS: tuple[str, ...] = (
    ddl("household_member", HOUSEHOLD_MEMBER)
    + """;
    CREATE TABLE IF NOT EXISTS household_index (
      member_key VARCHAR NOT NULL, household_id VARCHAR NOT NULL, link_run_id VARCHAR NOT NULL
    );
    CREATE TABLE IF NOT EXISTS household_id_event (
      household_id VARCHAR NOT NULL, event VARCHAR NOT NULL, successor VARCHAR,
      link_run_id VARCHAR NOT NULL, happened_at TIMESTAMP NOT NULL
    );
    CREATE TABLE IF NOT EXISTS household_id_counter (next_value BIGINT);
    """
    + ddl("linked_household", LINKED_HOUSEHOLD),
    # The keys each record gives (its case and household ids, its residential address),
    # kept between runs so that an incremental run finds who shares a key without
    # reading every record again.
    """CREATE TABLE IF NOT EXISTS household_key (
      record_key VARCHAR NOT NULL, agency VARCHAR NOT NULL, basis VARCHAR NOT NULL,
      key VARCHAR NOT NULL
    );
    CREATE TABLE IF NOT EXISTS household_key_state (link_run_id VARCHAR NOT NULL)""",
)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring this part's hub tables to the current version."""
    apply_migrations(con, PART, MIGRATIONS)


def household_id_sql(number: str) -> str:
    """SQL for the household id of a household number: ``H`` and ten digits."""
    return f"'H' || lpad(CAST({number} AS VARCHAR), 10, '0')"


@dataclass(frozen=True)
class HouseholdCounts:
    """What a run did to the households."""

    households: int
    members: int
    kept: int
    new: int
    retired: int

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def build(
    con: duckdb.DuckDBPyConnection, run_id: str, touched: str | None = None
) -> HouseholdCounts:
    """Build the households from the person index (inside the caller's transaction).

    With ``touched`` (a relation of ``record_key``: the records an incremental run linked
    again or deleted, those of batches loaded since the last run, and those whose service
    events changed), only the households those records can reach are built again: those
    of the persons holding them, of every person sharing a key with those persons, and,
    closed over, every member of those households and of the homes they are placed in.
    Every other household is left as it is, which is what a full build would give it:
    nothing it is built from has changed. A hub whose kept keys predate this (no
    ``household_key_state``) is built in full."""
    scoped = touched is not None and _keys_kept(con)
    if scoped:
        _update_keys(con, str(touched))
        _region(con, str(touched))
    else:
        _write_keys(con)
    _evidence(con, scoped)
    _components(con, scoped)
    _stretches(con)
    kept, new, retired = _allot(con, run_id, scoped)
    _write(con, run_id, scoped)
    con.execute("DELETE FROM household_key_state")
    con.execute("INSERT INTO household_key_state VALUES (?)", [run_id])
    households, members = con.execute(
        "SELECT count(DISTINCT household_id), count(DISTINCT enterprise_id) FROM household_member"
    ).fetchall()[0]
    return HouseholdCounts(int(households), int(members), kept, new, retired)


def _keys_sql(records: str) -> str:
    """The household keys (record_key, agency, basis, key) of the records ``records``: its
    case and household ids (``<agency>:<id>``) and its residential address."""
    return f"""SELECT record_key, agency, 'case' AS basis, 'c|' || agency || '|' || case_id AS key
        FROM {records} WHERE case_id IS NOT NULL
        UNION ALL
        SELECT record_key, agency, 'case', 'h|' || agency || '|' || household_id
        FROM {records} WHERE household_id IS NOT NULL
        UNION ALL
        SELECT record_key, agency, 'address', 'a|' || address_line || '|' || coalesce(zip, city)
        FROM {records}
        WHERE address_line IS NOT NULL AND coalesce(zip, city) IS NOT NULL
          AND NOT regexp_matches(upper(address_line), $not_a_home)"""


def _relation_sql(children: str, mothers: str, with_children: bool = True) -> str:
    """The relation keys (record_key, agency, basis, key) that a record naming its mother
    (a birth certificate: her first name, maiden name and DOB) gives: one for the child's
    record, ``m|<record_key>``, and the same for every record of ``mothers`` that is hers
    (same first name and DOB, and her maiden name or the child's last name). The key is
    the child's agency's: its record placed the two together. ``with_children=False``:
    the mothers' rows only."""
    child_rows = (
        f"""SELECT record_key, agency, 'relation' AS basis, 'm|' || record_key AS key
        FROM {children}
        WHERE mother_first_name IS NOT NULL AND mother_dob IS NOT NULL
        UNION ALL
        """
        if with_children
        else ""
    )
    return f"""{child_rows}SELECT m.record_key, c.agency, 'relation', 'm|' || c.record_key
        FROM {children} c JOIN {mothers} m
          ON m.dob = c.mother_dob AND m.first_name = c.mother_first_name
         AND (m.last_name = c.mother_last_name OR m.last_name = c.last_name)
        WHERE c.mother_first_name IS NOT NULL AND c.mother_dob IS NOT NULL
          AND m.record_key <> c.record_key"""


def _keys_kept(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM household_key_state").fetchall()[0][0])


def _write_keys(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM household_key")
    con.execute(
        f"INSERT INTO household_key {_keys_sql('person_record')}", {"not_a_home": NOT_A_HOME}
    )
    con.execute(f"INSERT INTO household_key {_relation_sql('person_record', 'person_record')}")


def _update_keys(con: duckdb.DuckDBPyConnection, touched: str) -> None:
    """The kept keys of the ``touched`` records again; ``hh_old_key``: the keys they gave
    before (a changed or deleted record may have left a household)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hh_touched AS SELECT DISTINCT record_key FROM {touched}"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_old_key AS SELECT DISTINCT key FROM household_key
        WHERE record_key IN (SELECT record_key FROM hh_touched)"""
    )
    # A touched child's relation key leaves its mother's records too.
    con.execute(
        """DELETE FROM household_key WHERE record_key IN (SELECT record_key FROM hh_touched)
        OR key IN (SELECT 'm|' || record_key FROM hh_touched)"""
    )
    records = (
        "(SELECT * FROM person_record WHERE record_key IN (SELECT record_key FROM hh_touched))"
    )
    others = (
        "(SELECT * FROM person_record WHERE record_key NOT IN (SELECT record_key FROM hh_touched))"
    )
    con.execute(f"INSERT INTO household_key {_keys_sql(records)}", {"not_a_home": NOT_A_HOME})
    # Relations: touched children and their mothers among all records; touched records
    # that are the mother of a child no run touched.
    con.execute(f"INSERT INTO household_key {_relation_sql(records, 'person_record')}")
    con.execute(f"INSERT INTO household_key {_relation_sql(others, records, with_children=False)}")


def _region(con: duckdb.DuckDBPyConnection, touched: str) -> None:
    """``hh_scope`` (enterprise_id): the persons whose households are built again, and
    ``hh_region`` (household_id): the households they held; closed, so that no key,
    household or placement joins a person inside to one outside."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_scope AS SELECT DISTINCT enterprise_id FROM person_index
        WHERE record_key IN (SELECT record_key FROM hh_touched)"""
    )
    # Every key the touched persons give, or their records gave: whoever holds one is in.
    con.execute(
        """INSERT INTO hh_scope
        WITH keys AS (
          SELECT key FROM hh_old_key
          UNION SELECT k.key FROM household_key k JOIN person_index i USING (record_key)
          WHERE i.enterprise_id IN (SELECT enterprise_id FROM hh_scope))
        SELECT DISTINCT i.enterprise_id FROM household_key k JOIN person_index i USING (record_key)
        WHERE k.key IN (SELECT key FROM keys)
          AND i.enterprise_id NOT IN (SELECT enterprise_id FROM hh_scope)"""
    )
    # The households the touched records were at home in, and those of persons no longer
    # in the index (merged away or deleted).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_region AS
        SELECT household_id FROM household_index WHERE member_key IN (SELECT record_key FROM hh_touched)
        UNION SELECT household_id FROM household_member
        WHERE enterprise_id NOT IN (SELECT enterprise_id FROM person_index)"""
    )
    # Persons a placement ties: the person placed and whoever holds the home's id.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_tied AS
        WITH placed AS (
          SELECT DISTINCT i.enterprise_id, 'h|' || e.agency || '|' || e.household_id AS key
          FROM service_event e JOIN person_index i USING (record_key)
          WHERE e.household_id IS NOT NULL AND e.start_date IS NOT NULL),
        holders AS (
          SELECT DISTINCT k.key, i.enterprise_id FROM household_key k JOIN person_index i USING (record_key)
          WHERE k.key IN (SELECT key FROM placed))
        SELECT p.enterprise_id AS a, h.enterprise_id AS b FROM placed p JOIN holders h USING (key)
        WHERE p.enterprise_id <> h.enterprise_id"""
    )
    while True:
        con.execute(
            """INSERT INTO hh_region SELECT DISTINCT household_id FROM household_member
            WHERE enterprise_id IN (SELECT enterprise_id FROM hh_scope)
              AND household_id NOT IN (SELECT household_id FROM hh_region)"""
        )
        added = con.execute(
            """INSERT INTO hh_scope
            WITH found AS (
              SELECT enterprise_id FROM household_member
              WHERE household_id IN (SELECT household_id FROM hh_region)
              UNION SELECT b FROM hh_tied WHERE a IN (SELECT enterprise_id FROM hh_scope)
              UNION SELECT a FROM hh_tied WHERE b IN (SELECT enterprise_id FROM hh_scope))
            SELECT DISTINCT enterprise_id FROM found
            WHERE enterprise_id NOT IN (SELECT enterprise_id FROM hh_scope)
              AND enterprise_id IN (SELECT enterprise_id FROM person_index)"""
        ).fetchall()[0][0]
        if not added:
            break


def _evidence(con: duckdb.DuckDBPyConnection, scoped: bool = False) -> None:
    """``hh_key``: (enterprise_id, agency, basis, key, record_key) for every id and
    residential address of a person's records; ``hh_edge``: the keys that group (2 to
    MAX_MEMBERS persons, counted over the whole index). Scoped: of ``hh_scope`` only."""
    where = "WHERE i.enterprise_id IN (SELECT enterprise_id FROM hh_scope)" if scoped else ""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hh_record AS
        SELECT r.record_key, r.agency, i.enterprise_id, r.case_id, r.household_id,
               r.address_line, coalesce(r.zip, r.city) AS place
        FROM person_record r JOIN person_index i USING (record_key) {where}"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hh_key AS
        SELECT i.enterprise_id, k.agency, k.basis, k.key, k.record_key
        FROM household_key k JOIN person_index i USING (record_key) {where}"""
    )
    among = (
        "(SELECT k.key, i.enterprise_id FROM household_key k JOIN person_index i USING (record_key)"
        " WHERE k.key IN (SELECT key FROM hh_key))"
        if scoped
        else "hh_key"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hh_edge AS
        SELECT k.* FROM hh_key k JOIN (
          SELECT key FROM {among} GROUP BY key
          HAVING count(DISTINCT enterprise_id) BETWEEN 2 AND {MAX_MEMBERS}) USING (key)"""
    )


def _components(con: duckdb.DuckDBPyConnection, scoped: bool = False) -> None:
    """``hh_component``: (enterprise_id, component) of every person of the index (scoped:
    of ``hh_scope``)."""
    where = "WHERE enterprise_id IN (SELECT enterprise_id FROM hh_scope)" if scoped else ""
    persons = con.execute(
        f"SELECT DISTINCT enterprise_id FROM person_index {where} ORDER BY 1"
    ).fetchnumpy()["enterprise_id"]
    keys = con.execute("SELECT DISTINCT key FROM hh_edge ORDER BY 1").fetchnumpy()["key"]
    con.register(
        "_hh_nodes",
        pa.table(
            {
                "node": pa.array(np.concatenate([persons, keys]), pa.string()),
                "idx": np.arange(len(persons) + len(keys), dtype=np.int64),
            }
        ),
    )
    edges = con.execute(
        """SELECT p.idx AS l, k.idx AS r FROM (SELECT DISTINCT enterprise_id, key FROM hh_edge) e
        JOIN _hh_nodes p ON p.node = e.enterprise_id JOIN _hh_nodes k ON k.node = e.key"""
    ).fetchnumpy()
    con.unregister("_hh_nodes")
    from scipy.sparse import coo_matrix  # loads only for a link run
    from scipy.sparse.csgraph import connected_components

    n = len(persons) + len(keys)
    graph = coo_matrix((np.ones(len(edges["l"])), (edges["l"], edges["r"])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    con.register(
        "_hh_labels",
        pa.table(
            {
                "enterprise_id": pa.array(persons, pa.string()),
                "component": pa.array(["b" + str(v) for v in labels[: len(persons)]], pa.string()),
            }
        ),
    )
    con.execute("CREATE OR REPLACE TEMP TABLE hh_component AS SELECT * FROM _hh_labels")
    con.unregister("_hh_labels")


def _stretches(con: duckdb.DuckDBPyConnection) -> None:
    """``hh_stretch``: (enterprise_id, component, valid_from, valid_to, agency) — each
    person's time at home (agency NULL) and in each placement (its agency)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_death AS
        SELECT r.enterprise_id, min(e.start_date) AS died
        FROM service_event e JOIN hh_record r USING (record_key)
        WHERE e.program = ? GROUP BY 1""",
        [DEATH],
    )
    # A placement's home: the household holding most persons whose records carry its id.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_home AS
        WITH votes AS (
          SELECT k.key, c.component, count(DISTINCT k.enterprise_id) AS n
          FROM hh_key k JOIN hh_component c USING (enterprise_id)
          WHERE k.basis = 'case' GROUP BY ALL)
        SELECT key, arg_min(component, (-n, component)) AS component FROM votes GROUP BY key"""
    )
    placed = con.execute(
        """SELECT r.enterprise_id, coalesce(h.component, 'p|' || k.key) AS home, e.agency,
                  e.start_date, e.end_date
        FROM service_event e JOIN hh_record r USING (record_key)
        CROSS JOIN LATERAL (SELECT 'h|' || e.agency || '|' || e.household_id AS key) k
        LEFT JOIN hh_home h ON h.key = k.key
        JOIN hh_component c ON c.enterprise_id = r.enterprise_id
        WHERE e.household_id IS NOT NULL AND e.start_date IS NOT NULL
          AND coalesce(h.component, '') <> c.component
        ORDER BY r.enterprise_id, e.start_date, e.end_date NULLS LAST"""
    ).fetchall()
    own = dict(
        con.execute(
            """SELECT c.enterprise_id, c.component FROM hh_component c
            WHERE c.enterprise_id IN (SELECT enterprise_id FROM hh_record r
              JOIN service_event e USING (record_key) WHERE e.household_id IS NOT NULL)"""
        ).fetchall()
    )
    death = dict(con.execute("SELECT enterprise_id, died FROM hh_death").fetchall())
    by_person: dict[str, list[tuple[str, str, date, date | None]]] = {}
    for person, home, agency, start, end in placed:
        by_person.setdefault(person, []).append((home, agency, start, end))
    placed_rows = [
        (person, *stretch)
        for person, stays in by_person.items()
        for stretch in _person_stretches(own[person], stays, death.get(person))
    ]
    con.register(
        "_hh_stretch",
        pa.table(
            {
                "enterprise_id": pa.array([r[0] for r in placed_rows], pa.string()),
                "component": pa.array([r[1] for r in placed_rows], pa.string()),
                "valid_from": pa.array([r[2] for r in placed_rows], pa.date32()),
                "valid_to": pa.array([r[3] for r in placed_rows], pa.date32()),
                "agency": pa.array([r[4] for r in placed_rows], pa.string()),
            }
        ),
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_stretch AS
        SELECT * FROM _hh_stretch
        UNION ALL
        SELECT c.enterprise_id, c.component, NULL::DATE, d.died, NULL::VARCHAR
        FROM hh_component c LEFT JOIN hh_death d USING (enterprise_id)
        WHERE c.enterprise_id NOT IN (SELECT enterprise_id FROM _hh_stretch)"""
    )
    con.unregister("_hh_stretch")


def _person_stretches(
    own: str, stays: list[tuple[str, str, date, date | None]], died: date | None
) -> list[tuple[str, date | None, date | None, str | None]]:
    """One person's stretches at home and in placements, in order: a placement that starts
    before the previous one ended starts the day after it; nothing after a death."""
    day = timedelta(days=1)
    out: list[tuple[str, date | None, date | None, str | None]] = []
    since: date | None = None
    for home, agency, start, end in stays:
        if since is not None and start < since:
            start = since
        if died is not None:
            if start > died:
                break
            end = died if end is None or end > died else end
        if end is not None and end < start:
            continue
        if since is None or start > since:
            out.append((own, since, start - day, None))
        out.append((home, start, end, agency))
        if end is None:
            return out
        since = end + day
    if died is None or since is None or since <= died:
        out.append((own, since, died, None))
    return out


def _allot(
    con: duckdb.DuckDBPyConnection, run_id: str, scoped: bool = False
) -> tuple[int, int, int]:
    """``hh_assigned`` (component, household_id) by the rule of stable ids; returns how
    many households kept an earlier id, got a new one, and how many ids were retired
    (scoped: of the ids of ``hh_region``, which the persons of ``hh_scope`` held)."""
    # What a household holds: its members' records (those at home there) and, for a home
    # no record carries, the placement's own key.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_holds AS
        SELECT DISTINCT s.component, r.record_key AS member_key
        FROM hh_stretch s JOIN hh_record r USING (enterprise_id) WHERE s.agency IS NULL
        UNION
        SELECT DISTINCT component, component FROM hh_stretch WHERE component LIKE 'p|%'"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_kept AS
        WITH votes AS (
          SELECT h.component, p.household_id, count(*) AS n
          FROM hh_holds h JOIN household_index p USING (member_key) GROUP BY ALL),
        won AS (
          SELECT *, row_number() OVER (PARTITION BY household_id ORDER BY n DESC, component) AS rank
          FROM votes)
        SELECT component, min(household_id) AS household_id FROM won WHERE rank = 1 GROUP BY component"""
    )
    start = con.execute("SELECT coalesce(max(next_value), 1) FROM household_id_counter").fetchall()[
        0
    ][0]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hh_assigned AS
        WITH fresh AS (
          SELECT component, {start} - 1 + row_number() OVER (ORDER BY min(member_key)) AS seq
          FROM hh_holds WHERE component NOT IN (SELECT component FROM hh_kept) GROUP BY component)
        SELECT component, household_id FROM hh_kept
        UNION ALL SELECT component, {household_id_sql("seq")} FROM fresh"""
    )
    kept, new = con.execute(
        """SELECT count(*) FILTER (WHERE component IN (SELECT component FROM hh_kept)),
                   count(*) FILTER (WHERE component NOT IN (SELECT component FROM hh_kept))
        FROM (SELECT DISTINCT component FROM hh_holds)"""
    ).fetchall()[0]
    con.execute("DELETE FROM household_id_counter")
    con.execute("INSERT INTO household_id_counter VALUES (?)", [start + new])
    # Retired: earlier ids no household keeps; the successor holds most of their records.
    within = "AND household_id IN (SELECT household_id FROM hh_region)" if scoped else ""
    retired = con.execute(
        f"""WITH gone AS (
          SELECT DISTINCT household_id FROM household_index
          WHERE household_id NOT IN (SELECT household_id FROM hh_assigned) {within}),
        heir AS (
          SELECT p.household_id, a.household_id AS successor, count(*) AS n
          FROM household_index p JOIN hh_holds h USING (member_key)
          JOIN hh_assigned a USING (component)
          WHERE p.household_id IN (SELECT household_id FROM gone) GROUP BY ALL)
        SELECT g.household_id, arg_min(h.successor, (-h.n, h.successor))
        FROM gone g LEFT JOIN heir h USING (household_id) GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    for household_id, successor in retired:
        con.execute(
            "INSERT INTO household_id_event VALUES (?, 'retired', ?, ?, now()::TIMESTAMP)",
            [household_id, successor, run_id],
        )
    con.execute(
        """INSERT INTO household_id_event
        SELECT household_id, 'created', NULL, ?, now()::TIMESTAMP FROM hh_assigned
        WHERE component NOT IN (SELECT component FROM hh_kept)""",
        [run_id],
    )
    return int(kept), int(new), len(retired)


def _write(con: duckdb.DuckDBPyConnection, run_id: str, scoped: bool = False) -> None:
    """Rewrite ``household_member``, ``household_index`` and ``linked_household``."""
    # Which agencies' data placed a person at home: those whose ids or address of the
    # person group them with someone; a person grouped with nobody is at home alone in
    # every agency that knows them.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_basis AS
        WITH grouped AS (
          SELECT enterprise_id, agency,
                 CASE WHEN bool_or(basis = 'case') THEN 'case'
                      WHEN bool_or(basis = 'relation') THEN 'relation' ELSE 'address' END AS basis
          FROM hh_edge GROUP BY ALL)
        SELECT * FROM grouped
        UNION ALL
        SELECT DISTINCT enterprise_id, agency, 'alone' FROM hh_record
        WHERE enterprise_id NOT IN (SELECT enterprise_id FROM grouped)"""
    )
    if scoped:
        gone = (
            "household_id IN (SELECT household_id FROM hh_region)"
            " OR enterprise_id IN (SELECT enterprise_id FROM hh_scope)"
        )
        con.execute(f"DELETE FROM household_member WHERE {gone}")
        con.execute(
            """DELETE FROM household_index WHERE household_id IN (SELECT household_id FROM hh_region)
            OR member_key IN (SELECT member_key FROM hh_holds)"""
        )
        con.execute(f"DELETE FROM linked_household WHERE {gone}")
    else:
        con.execute("DELETE FROM household_member")
        con.execute("DELETE FROM household_index")
    con.execute(
        """INSERT INTO household_member
        SELECT a.household_id, s.enterprise_id, b.agency, s.valid_from, s.valid_to, b.basis, ?
        FROM hh_stretch s JOIN hh_assigned a USING (component) JOIN hh_basis b USING (enterprise_id)
        WHERE s.agency IS NULL
        UNION ALL
        SELECT a.household_id, s.enterprise_id, s.agency, s.valid_from, s.valid_to, 'placement', ?
        FROM hh_stretch s JOIN hh_assigned a USING (component)
        WHERE s.agency IS NOT NULL""",
        [run_id, run_id],
    )
    con.execute(
        "INSERT INTO household_index SELECT h.member_key, a.household_id, ? FROM hh_holds h JOIN hh_assigned a USING (component)",
        [run_id],
    )
    if scoped:
        con.execute(
            f"INSERT INTO linked_household {select_sql()}"
            " WHERE enterprise_id IN (SELECT enterprise_id FROM hh_scope)"
        )
    else:
        refresh(con)


def select_sql() -> str:
    """The rows of ``linked_household``, computed from ``household_member``."""
    return f"""SELECT DISTINCT {person_number_sql("household_id")} AS household, household_id,
               {person_number_sql("enterprise_id")} AS person, enterprise_id, agency,
               valid_from, valid_to
        FROM household_member"""


def empty_sql() -> str:
    """``linked_household`` with no rows (a hub linked before households were built)."""
    cols = ", ".join(f"CAST(NULL AS {c.type}) AS {c.name}" for c in LINKED_HOUSEHOLD)
    return f"SELECT {cols} WHERE FALSE"


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite the analytic table ``linked_household`` from ``household_member``."""
    con.execute("DROP TABLE IF EXISTS linked_household")
    con.execute(ddl("linked_household", LINKED_HOUSEHOLD))
    con.execute(f"INSERT INTO linked_household {select_sql()} ORDER BY person")


@dataclass(frozen=True)
class HouseholdScores:
    """Pairs of persons living together on a day, against the ground truth."""

    on: date
    true_pairs: int
    found_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.found_pairs if self.found_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    def to_dict(self) -> dict[str, object]:
        return {
            **self.__dict__,
            "on": self.on.isoformat(),
            "precision": self.precision,
            "recall": self.recall,
        }


def scores(con: duckdb.DuckDBPyConnection, truth: str | Path, on: date) -> HouseholdScores:
    """Precision and recall of household co-membership pairs on ``on`` against a synthetic
    state's truth folder (``records.parquet``, ``household_members.parquet``).

    Each enterprise person stands for the true person most of its records belong to;
    the true pairs are those of persons with a record in the hub. For the hub's builder
    (benchmarks, tests): readers ask through the gate.
    """
    folder = Path(truth)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE hs_records AS SELECT record_key, person_id FROM read_parquet(?)",
        [str(folder / "records.parquet")],
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hs_truth AS SELECT * FROM read_parquet(?)
        WHERE (start_date IS NULL OR start_date <= ?) AND (end_date IS NULL OR end_date >= ?)
          AND person_id IN (SELECT r.person_id FROM hs_records r JOIN person_index USING (record_key))""",
        [str(folder / "household_members.parquet"), on, on],
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hs_person AS
        SELECT i.enterprise_id, arg_min(r.person_id, (-n, r.person_id)) AS person_id FROM (
          SELECT i.enterprise_id, r.person_id, count(*) AS n
          FROM person_index i JOIN hs_records r USING (record_key) GROUP BY ALL) AS v
        JOIN person_index i USING (enterprise_id) JOIN hs_records r USING (record_key)
        GROUP BY i.enterprise_id"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hs_found AS
        SELECT DISTINCT m.household_id, p.person_id FROM household_member m
        JOIN hs_person p USING (enterprise_id)
        WHERE (m.valid_from IS NULL OR m.valid_from <= ?) AND (m.valid_to IS NULL OR m.valid_to >= ?)""",
        [on, on],
    )
    pairs = """SELECT DISTINCT a.person_id AS x, b.person_id AS y FROM {t} a JOIN {t} b
        ON a.household_id = b.household_id AND a.person_id < b.person_id"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE hs_true_pairs AS {pairs.format(t='hs_truth')}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE hs_found_pairs AS {pairs.format(t='hs_found')}")
    true_pairs, found, correct = con.execute(
        """SELECT (SELECT count(*) FROM hs_true_pairs), (SELECT count(*) FROM hs_found_pairs),
                  (SELECT count(*) FROM hs_true_pairs JOIN hs_found_pairs USING (x, y))"""
    ).fetchall()[0]
    return HouseholdScores(on, int(true_pairs), int(found), int(correct))


def family(con: duckdb.DuckDBPyConnection, enterprise_id: str, on: date) -> list[dict[str, Any]]:
    """Every membership on ``on`` in the households ``enterprise_id`` belongs to that day
    (household_id, enterprise_id, agency, valid_from, valid_to, basis), for the gate,
    which keeps those of the agencies it grants."""
    tables = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
        ).fetchall()
    }
    if "household_member" not in tables:
        raise NotFound("the hub has no households yet: run `crosswalk link`")
    on_day = "(valid_from IS NULL OR valid_from <= $on) AND (valid_to IS NULL OR valid_to >= $on)"
    cursor = con.execute(
        f"""SELECT household_id, enterprise_id, agency, valid_from, valid_to, basis
        FROM household_member
        WHERE {on_day} AND household_id IN (
          SELECT household_id FROM household_member WHERE enterprise_id = $person AND {on_day})
        ORDER BY household_id, enterprise_id, agency""",
        {"on": on, "person": enterprise_id},
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def family_rows(con: duckdb.DuckDBPyConnection, enterprise_id: str) -> list[dict[str, Any]]:
    """Every membership, on any day, of the households ``enterprise_id`` ever belonged
    to, and every placement of their members (household_id, enterprise_id, agency,
    valid_from, valid_to, basis): what ``as_seen`` needs to show a reader the household
    as the placements they may see shape it."""
    if "household_member" not in {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
        ).fetchall()
    }:
        raise NotFound("the hub has no households yet: run `crosswalk link`")
    cursor = con.execute(
        """WITH theirs AS (
          SELECT DISTINCT household_id FROM household_member WHERE enterprise_id = $person),
        members AS (
          SELECT DISTINCT enterprise_id FROM household_member
          WHERE household_id IN (SELECT household_id FROM theirs))
        SELECT household_id, enterprise_id, agency, valid_from, valid_to, basis
        FROM household_member
        WHERE household_id IN (SELECT household_id FROM theirs)
           OR (basis = 'placement' AND enterprise_id IN (SELECT enterprise_id FROM members))
        ORDER BY household_id, enterprise_id, agency, valid_from NULLS FIRST""",
        {"person": enterprise_id},
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def deaths(view_events: list[dict[str, Any]]) -> date | None:
    """The day of a person's death as households take it (the earliest death record's
    start), from the person's services, or None."""
    days = [
        e["start_date"]
        for e in view_events
        if e.get("program") == DEATH and e.get("start_date") is not None
    ]
    return min(days) if days else None


def as_seen(
    rows: list[dict[str, Any]],
    shown: Callable[[dict[str, Any]], bool],
    on: date,
    unseen_deaths: dict[str, date] | None = None,
) -> list[dict[str, Any]]:
    """The memberships of ``rows`` on ``on`` for a reader who sees only the placements
    ``shown`` accepts (and every stay at home): a placement the reader may not see is
    taken as time at home, so the stays at home around it are one stay, dated as such.
    A death in ``unseen_deaths`` (person: day), which the reader may not see, never
    happened for them either: a stay that ends on that day goes on."""
    day = timedelta(days=1)
    unseen_deaths = unseen_deaths or {}
    rows = [
        r | {"valid_to": None}
        if r["valid_to"] is not None and unseen_deaths.get(r["enterprise_id"]) == r["valid_to"]
        else r
        for r in rows
    ]
    hidden: dict[str, list[tuple[date, date | None]]] = {}
    for r in rows:
        if r["basis"] == "placement" and not shown(r):
            hidden.setdefault(r["enterprise_id"], []).append((r["valid_from"], r["valid_to"]))

    def widened(person: str, end: date | None) -> date | None:
        """``end`` carried over the hidden placements that follow it, in turn."""
        moved = True
        while end is not None and moved:
            moved = False
            for p_start, p_end in hidden.get(person, []):
                if p_start == end + day:
                    end, moved = p_end, True
                    break
        return end

    stays: dict[tuple[str, str], list[tuple[date | None, date | None]]] = {}
    for r in rows:
        if r["basis"] != "placement":
            key = (r["household_id"], r["enterprise_id"])
            stretch = (r["valid_from"], widened(r["enterprise_id"], r["valid_to"]))
            if stretch not in stays.setdefault(key, []):
                stays[key].append(stretch)
    merged: dict[tuple[str, str], list[tuple[date | None, date | None]]] = {}
    for key, spans in stays.items():
        out: list[tuple[date | None, date | None]] = []
        for start, end in sorted(spans, key=lambda s: (s[0] is not None, s[0] or date.min)):
            if out and (out[-1][1] is None or (start is not None and start <= out[-1][1] + day)):
                last_start, last_end = out[-1]
                keep_end = None if last_end is None or end is None else max(last_end, end)
                out[-1] = (last_start, keep_end)
            else:
                out.append((start, end))
        merged[key] = out

    def covers(start: date | None, end: date | None) -> bool:
        return (start is None or start <= on) and (end is None or end >= on)

    def holds(span: tuple[date | None, date | None], first: date | None) -> bool:
        start, end = span
        if first is None:
            return start is None
        return (start is None or start <= first) and (end is None or first <= end)

    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        if r["basis"] == "placement":
            if shown(r) and covers(r["valid_from"], r["valid_to"]):
                seen[tuple(r.values())] = r
            continue
        for span in merged[(r["household_id"], r["enterprise_id"])]:
            if holds(span, r["valid_from"]) and covers(*span):
                dated = r | {"valid_from": span[0], "valid_to": span[1]}
                seen[tuple(dated.values())] = dated
    return list(seen.values())


def evidence(
    con: duckdb.DuckDBPyConnection, members: list[str], on: date
) -> list[tuple[str, str, str]]:
    """What groups ``members`` together, as (enterprise_id, agency, key): each agency's case
    and household ids, each family relation a record declares (the child's agency's) and
    each residential address of their records that groups persons
    (held by 2 to ``MAX_MEMBERS`` persons of the index, as a run counts them), and the
    homes of the placements they are in on ``on``. The gate keeps the evidence of the
    agencies it grants, so a reader sees two persons together only where data it may
    see put them together (``joined``)."""
    if not members:
        return []
    rows = con.execute(
        """WITH mine AS (
          SELECT i.enterprise_id, r.agency, r.case_id, r.household_id, r.address_line,
                 coalesce(r.zip, r.city) AS place
          FROM person_index i JOIN person_record r USING (record_key)
          WHERE i.enterprise_id IN (SELECT unnest($members::VARCHAR[]))),
        near AS (
          SELECT i.enterprise_id, r.agency, r.case_id, r.household_id, r.address_line,
                 coalesce(r.zip, r.city) AS place
          FROM person_record r JOIN person_index i USING (record_key)
          WHERE r.case_id IN (SELECT case_id FROM mine)
             OR r.household_id IN (SELECT household_id FROM mine)
             OR r.address_line IN (SELECT address_line FROM mine)),
        keyed AS (
          SELECT enterprise_id, agency, 'c|' || agency || '|' || case_id AS key
          FROM near WHERE case_id IS NOT NULL
          UNION ALL
          SELECT enterprise_id, agency, 'h|' || agency || '|' || household_id
          FROM near WHERE household_id IS NOT NULL
          UNION ALL
          SELECT enterprise_id, agency, 'a|' || address_line || '|' || place
          FROM near WHERE address_line IS NOT NULL AND place IS NOT NULL
            AND NOT regexp_matches(upper(address_line), $not_a_home)
          UNION ALL
          -- A family relation a record declares (a child's mother), as the run kept it.
          SELECT i.enterprise_id, k.agency, k.key
          FROM household_key k JOIN person_index i USING (record_key)
          WHERE k.basis = 'relation' AND k.key IN (
            SELECT r.key FROM household_key r JOIN person_index m USING (record_key)
            WHERE r.basis = 'relation' AND m.enterprise_id IN (SELECT unnest($members::VARCHAR[])))),
        grouping AS (
          SELECT key FROM keyed GROUP BY key
          HAVING count(DISTINCT enterprise_id) BETWEEN 2 AND $most),
        placed AS (
          SELECT DISTINCT m.enterprise_id, e.agency, 'h|' || e.agency || '|' || e.household_id AS key
          FROM household_member m JOIN person_index i USING (enterprise_id)
          JOIN service_event e USING (record_key)
          WHERE m.basis = 'placement' AND e.agency = m.agency AND e.household_id IS NOT NULL
            AND m.enterprise_id IN (SELECT unnest($members::VARCHAR[]))
            AND (m.valid_from IS NULL OR m.valid_from <= $on)
            AND (m.valid_to IS NULL OR m.valid_to >= $on))
        -- A placement's home is the household whose records carry its id, however many.
        SELECT DISTINCT enterprise_id, agency, key FROM keyed
        WHERE (key IN (SELECT key FROM grouping) OR key IN (SELECT key FROM placed))
          AND enterprise_id IN (SELECT unnest($members::VARCHAR[]))
        UNION
        SELECT * FROM placed
        ORDER BY 1, 2, 3""",
        {"members": members, "not_a_home": NOT_A_HOME, "most": MAX_MEMBERS, "on": on},
    ).fetchall()
    return [(str(p), str(a), str(k)) for p, a, k in rows]


def joined(person: str, edges: list[tuple[str, str]]) -> set[str]:
    """The persons ``person`` is grouped with through ``edges`` (enterprise_id, key),
    ``person`` included: two persons sharing a key, and so on, in turn."""
    by_key: dict[str, set[str]] = {}
    by_person: dict[str, set[str]] = {}
    for p, key in edges:
        by_key.setdefault(key, set()).add(p)
        by_person.setdefault(p, set()).add(key)
    reached = {person}
    frontier = [person]
    while frontier:
        keys = by_person.get(frontier.pop(), set())
        for key in keys:
            for other in by_key.pop(key, set()):
                if other not in reached:
                    reached.add(other)
                    frontier.append(other)
    return reached
