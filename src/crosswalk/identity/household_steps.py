"""The steps of a household build, as relations any linkage engine computes.

A household build (``crosswalk.identity.households`` has the rules) is a sequence of
relations, each a query over the ones before, with two steps taken in Python over
columns fetched from the engine: the connected components of persons and keys, and each
person's stretches at home and in placements. Every step runs on the few calls of a
DuckDB connection linkage makes (``crosswalk.identity.sql.Sql``: ``execute`` with
positional parameters, ``fetchall``, ``fetchnumpy``, ``register`` of an Arrow table),
which ``crosswalk.engines.spark_sql.SparkSql`` answers on a Spark session, so the hub and
the Spark warehouse build households by one code path. Nothing here writes a stored
table: the results are temporary relations, and each store writes them its own way (the
hub in its transaction, the warehouse in its new snapshot).

What a build reads, by name: ``person_record``, ``service_event``, a person index (given),
the keys of the records (given: ``hh_new_key`` from ``new_keys``, or the hub's kept
``household_key``), and the earlier households for stable ids: ``household_index`` and
``household_id_counter``. What it leaves: ``hh_member_out`` (the rows of
``household_member``), ``hh_index_out`` (``household_index``), ``hh_event_out``
(``household_id_event`` rows of the run: retired ids, then created ones) and the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from crosswalk.identity.cluster import person_number_sql

# An address or an id shared by more persons than this groups nobody.
MAX_MEMBERS = 12
# The program of a death record: a death ends every membership of the person.
DEATH = "DEATH_RECORD"
# Street lines that are not a home (matched on the standardised, upper-case line).
NOT_A_HOME = r"(^|\b)(PO BOX|P O BOX|POB|BOX \d|GENERAL DELIVERY|HOMELESS|SHELTER|UNKNOWN|NONE)\b"


def household_id_sql(number: str) -> str:
    """SQL for the household id of a household number: ``H`` and ten digits."""
    return f"'H' || lpad(CAST({number} AS VARCHAR), 10, '0')"


@dataclass(frozen=True)
class Derived:
    """What the steps found: households that kept an earlier id, got a new one, ids
    retired, and the next value of the counter of household ids."""

    kept: int
    new: int
    retired: int
    next_value: int


def keys_sql(records: str) -> str:
    """The household keys (record_key, agency, basis, key) of the records ``records``: its
    case and household ids (``<agency>:<id>``) and its residential address. One positional
    parameter: ``NOT_A_HOME``."""
    return f"""SELECT record_key, agency, 'case' AS basis, 'c|' || agency || '|' || case_id AS key
        FROM {records} WHERE case_id IS NOT NULL
        UNION ALL
        SELECT record_key, agency, 'case', 'h|' || agency || '|' || household_id
        FROM {records} WHERE household_id IS NOT NULL
        UNION ALL
        SELECT record_key, agency, 'address', 'a|' || address_line || '|' || coalesce(zip, city)
        FROM {records}
        WHERE address_line IS NOT NULL AND coalesce(zip, city) IS NOT NULL
          AND NOT regexp_matches(upper(address_line), ?)"""


def relation_sql(children: str, mothers: str, with_children: bool = True) -> str:
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


def new_keys(con: Any, records: str = "person_record") -> None:
    """``hh_new_key`` (record_key, agency, basis, key): every key the records give."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE hh_new_key AS {keys_sql(records)}"
        f" UNION ALL {relation_sql(records, records)}",
        [NOT_A_HOME],
    )


def derive(
    con: Any,
    run_id: str,
    *,
    index: str = "person_index",
    keys: str = "household_key",
    scoped: bool = False,
) -> Derived:
    """Build the households of the persons of ``index`` (record_key, enterprise_id) from
    the keys ``keys``, with ids stable against ``household_index``. Scoped (the hub's
    incremental run): of the persons of ``hh_scope`` only, with retired ids among those
    of ``hh_region``."""
    _evidence(con, index, keys, scoped)
    _components(con, index, scoped)
    _stretches(con)
    derived = _allot(con, run_id, scoped)
    _members(con, run_id)
    return derived


def _evidence(con: Any, index: str, keys: str, scoped: bool) -> None:
    """``hh_key``: (enterprise_id, agency, basis, key, record_key) for every id and
    residential address of a person's records; ``hh_edge``: the keys that group (2 to
    MAX_MEMBERS persons, counted over the whole index). Scoped: of ``hh_scope`` only."""
    where = "WHERE i.enterprise_id IN (SELECT enterprise_id FROM hh_scope)" if scoped else ""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hh_record AS
        SELECT r.record_key, r.agency, i.enterprise_id, r.case_id, r.household_id,
               r.address_line, coalesce(r.zip, r.city) AS place
        FROM person_record r JOIN {index} i ON i.record_key = r.record_key {where}"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hh_key AS
        SELECT i.enterprise_id, k.agency, k.basis, k.key, k.record_key
        FROM {keys} k JOIN {index} i ON i.record_key = k.record_key {where}"""
    )
    among = (
        f"(SELECT k.key, i.enterprise_id FROM {keys} k JOIN {index} i"
        " ON i.record_key = k.record_key WHERE k.key IN (SELECT key FROM hh_key))"
        if scoped
        else "hh_key"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hh_edge AS
        SELECT k.* FROM hh_key k JOIN (
          SELECT key FROM {among} a GROUP BY key
          HAVING count(DISTINCT enterprise_id) BETWEEN 2 AND {MAX_MEMBERS}) g ON g.key = k.key"""
    )


def _components(con: Any, index: str, scoped: bool) -> None:
    """``hh_component``: (enterprise_id, component) of every person of the index (scoped:
    of ``hh_scope``). The graph of persons and keys is labelled on the driver (SciPy):
    its nodes are one per person and key, a small fraction of the records."""
    where = "WHERE enterprise_id IN (SELECT enterprise_id FROM hh_scope)" if scoped else ""
    persons = np.asarray(
        con.execute(f"SELECT DISTINCT enterprise_id FROM {index} {where} ORDER BY 1").fetchnumpy()[
            "enterprise_id"
        ],
        dtype=object,
    )
    keys = np.asarray(
        con.execute("SELECT DISTINCT key FROM hh_edge ORDER BY 1").fetchnumpy()["key"],
        dtype=object,
    )
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
    left = np.asarray(edges["l"], dtype=np.int64)
    right = np.asarray(edges["r"], dtype=np.int64)
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
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


def _stretches(con: Any) -> None:
    """``hh_stretch``: (enterprise_id, component, valid_from, valid_to, agency) — each
    person's time at home (agency NULL) and in each placement (its agency)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_death AS
        SELECT r.enterprise_id, min(e.start_date) AS died
        FROM service_event e JOIN hh_record r ON r.record_key = e.record_key
        WHERE e.program = ? GROUP BY r.enterprise_id""",
        [DEATH],
    )
    # A placement's home: the household holding most persons whose records carry its id.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_home AS
        WITH votes AS (
          SELECT k.key, c.component, count(DISTINCT k.enterprise_id) AS n
          FROM hh_key k JOIN hh_component c ON c.enterprise_id = k.enterprise_id
          WHERE k.basis = 'case' GROUP BY k.key, c.component),
        ranked AS (
          SELECT key, component,
                 row_number() OVER (PARTITION BY key ORDER BY n DESC, component) AS standing
          FROM votes)
        SELECT key, component FROM ranked WHERE standing = 1"""
    )
    placed = con.execute(
        """SELECT r.enterprise_id, coalesce(h.component, 'p|h|' || e.agency || '|' || e.household_id) AS home,
                  e.agency, e.start_date, e.end_date
        FROM service_event e JOIN hh_record r ON r.record_key = e.record_key
        LEFT JOIN hh_home h ON h.key = 'h|' || e.agency || '|' || e.household_id
        JOIN hh_component c ON c.enterprise_id = r.enterprise_id
        WHERE e.household_id IS NOT NULL AND e.start_date IS NOT NULL
          AND coalesce(h.component, '') <> c.component
        ORDER BY r.enterprise_id, e.start_date, e.end_date NULLS LAST, home, e.agency"""
    ).fetchall()
    own = dict(
        con.execute(
            """SELECT c.enterprise_id, c.component FROM hh_component c
            WHERE c.enterprise_id IN (SELECT r.enterprise_id FROM hh_record r
              JOIN service_event e ON e.record_key = r.record_key WHERE e.household_id IS NOT NULL)"""
        ).fetchall()
    )
    death = dict(con.execute("SELECT enterprise_id, died FROM hh_death").fetchall())
    by_person: dict[str, list[tuple[str, str, date, date | None]]] = {}
    for person, home, agency, start, end in placed:
        by_person.setdefault(person, []).append((home, agency, start, end))
    placed_rows = [
        (person, *stretch)
        for person, stays in by_person.items()
        for stretch in person_stretches(own[person], stays, death.get(person))
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
        SELECT c.enterprise_id, c.component, CAST(NULL AS DATE), d.died, CAST(NULL AS VARCHAR)
        FROM hh_component c LEFT JOIN hh_death d ON d.enterprise_id = c.enterprise_id
        WHERE c.enterprise_id NOT IN (SELECT enterprise_id FROM _hh_stretch)"""
    )
    con.unregister("_hh_stretch")


def person_stretches(
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


def _allot(con: Any, run_id: str, scoped: bool) -> Derived:
    """``hh_assigned`` (component, household_id) by the rule of stable ids, and
    ``hh_event_out``: the ids retired (with the household holding most of their records as
    successor) and created (scoped: retired among the ids of ``hh_region``, which the
    persons of ``hh_scope`` held)."""
    # What a household holds: its members' records (those at home there) and, for a home
    # no record carries, the placement's own key.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_holds AS
        SELECT DISTINCT s.component, r.record_key AS member_key
        FROM hh_stretch s JOIN hh_record r ON r.enterprise_id = s.enterprise_id
        WHERE s.agency IS NULL
        UNION
        SELECT DISTINCT component, component FROM hh_stretch WHERE component LIKE 'p|%'"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_kept AS
        WITH votes AS (
          SELECT h.component, p.household_id, count(*) AS n
          FROM hh_holds h JOIN household_index p ON p.member_key = h.member_key
          GROUP BY h.component, p.household_id),
        won AS (
          SELECT component, household_id,
                 row_number() OVER (PARTITION BY household_id ORDER BY n DESC, component) AS standing
          FROM votes)
        SELECT component, min(household_id) AS household_id FROM won WHERE standing = 1
        GROUP BY component"""
    )
    start = int(
        con.execute("SELECT coalesce(max(next_value), 1) FROM household_id_counter").fetchall()[0][
            0
        ]
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hh_assigned AS
        WITH fresh AS (
          SELECT component, {start} - 1 + row_number() OVER (ORDER BY min(member_key)) AS seq
          FROM hh_holds WHERE component NOT IN (SELECT component FROM hh_kept) GROUP BY component)
        SELECT component, household_id FROM hh_kept
        UNION ALL SELECT component, {household_id_sql("seq")} FROM fresh"""
    )
    kept, new = con.execute(
        """SELECT coalesce(sum(CASE WHEN k.component IS NULL THEN 0 ELSE 1 END), 0),
                  coalesce(sum(CASE WHEN k.component IS NULL THEN 1 ELSE 0 END), 0)
        FROM (SELECT DISTINCT component FROM hh_holds) h
        LEFT JOIN hh_kept k ON k.component = h.component"""
    ).fetchall()[0]
    # Retired: earlier ids no household keeps; the successor holds most of their records.
    within = "AND household_id IN (SELECT household_id FROM hh_region)" if scoped else ""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hh_retired AS
        WITH gone AS (
          SELECT DISTINCT household_id FROM household_index
          WHERE household_id NOT IN (SELECT household_id FROM hh_assigned) {within}),
        heir AS (
          SELECT p.household_id, a.household_id AS successor, count(*) AS n
          FROM household_index p JOIN hh_holds h ON h.member_key = p.member_key
          JOIN hh_assigned a ON a.component = h.component
          WHERE p.household_id IN (SELECT household_id FROM gone)
          GROUP BY p.household_id, a.household_id),
        ranked AS (
          SELECT g.household_id, h.successor,
                 row_number() OVER (PARTITION BY g.household_id ORDER BY h.n DESC, h.successor)
                   AS standing
          FROM gone g LEFT JOIN heir h ON h.household_id = g.household_id)
        SELECT household_id, successor FROM ranked WHERE standing = 1"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_event_out AS
        SELECT household_id, 'retired' AS event, successor, ? AS link_run_id,
               CAST(now() AS TIMESTAMP) AS happened_at
        FROM hh_retired
        UNION ALL
        SELECT household_id, 'created', CAST(NULL AS VARCHAR), ?, CAST(now() AS TIMESTAMP)
        FROM hh_assigned WHERE component NOT IN (SELECT component FROM hh_kept)""",
        [run_id, run_id],
    )
    retired = int(con.execute("SELECT count(*) FROM hh_retired").fetchall()[0][0])
    return Derived(int(kept), int(new), retired, start + int(new))


def _members(con: Any, run_id: str) -> None:
    """``hh_member_out`` and ``hh_index_out``: the rows of ``household_member`` and of
    ``household_index`` the steps give."""
    # Which agencies' data placed a person at home: those whose ids or address of the
    # person group them with someone; a person grouped with nobody is at home alone in
    # every agency that knows them.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_basis AS
        WITH grouped AS (
          SELECT enterprise_id, agency,
                 CASE WHEN bool_or(basis = 'case') THEN 'case'
                      WHEN bool_or(basis = 'relation') THEN 'relation' ELSE 'address' END AS basis
          FROM hh_edge GROUP BY enterprise_id, agency)
        SELECT * FROM grouped
        UNION ALL
        SELECT DISTINCT enterprise_id, agency, 'alone' FROM hh_record
        WHERE enterprise_id NOT IN (SELECT enterprise_id FROM grouped)"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_member_out AS
        SELECT a.household_id, s.enterprise_id, b.agency, s.valid_from, s.valid_to, b.basis,
               ? AS link_run_id
        FROM hh_stretch s JOIN hh_assigned a ON a.component = s.component
        JOIN hh_basis b ON b.enterprise_id = s.enterprise_id
        WHERE s.agency IS NULL
        UNION ALL
        SELECT a.household_id, s.enterprise_id, s.agency, s.valid_from, s.valid_to, 'placement', ?
        FROM hh_stretch s JOIN hh_assigned a ON a.component = s.component
        WHERE s.agency IS NOT NULL""",
        [run_id, run_id],
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_index_out AS
        SELECT h.member_key, a.household_id, ? AS link_run_id
        FROM hh_holds h JOIN hh_assigned a ON a.component = h.component""",
        [run_id],
    )


def select_sql(members: str = "household_member") -> str:
    """The rows of ``linked_household``, computed from the memberships ``members``."""
    return f"""SELECT DISTINCT {person_number_sql("household_id")} AS household, household_id,
               {person_number_sql("enterprise_id")} AS person, enterprise_id, agency,
               valid_from, valid_to
        FROM {members}"""
