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
from crosswalk.identity import household_steps as steps
from crosswalk.identity.cluster import enterprise_id_sql, person_number_sql
from crosswalk.identity.household_steps import DEATH, MAX_MEMBERS, NOT_A_HOME
from crosswalk.model import HOUSEHOLD_MEMBER, LINKED_HOUSEHOLD, ddl
from crosswalk.stores import apply_migrations

PART = "households"

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
    """What ``build_only`` does, and the households and members it leaves counted."""
    derived = build_only(con, run_id, touched)
    households, members = con.execute(
        "SELECT count(DISTINCT household_id), count(DISTINCT enterprise_id) FROM household_member"
    ).fetchall()[0]
    return HouseholdCounts(
        int(households), int(members), derived.kept, derived.new, derived.retired
    )


def build_only(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    touched: str | None = None,
    records: str = "person_record",
) -> steps.Derived:
    """Build the households from the person index (inside the caller's transaction).

    The households are derived by the engine-neutral steps
    (``crosswalk.identity.household_steps``) and written here to the hub's tables.
    With ``touched`` (a relation of ``record_key``: the records an incremental run linked
    again or deleted, those of batches loaded since the last run, and those whose service
    events changed), only the households those records can reach are built again: those
    of the persons holding them, of every person sharing a key with those persons, and,
    closed over, every member of those households and of the homes they are placed in.
    Every other household is left as it is, which is what a full build would give it:
    nothing it is built from has changed. A hub whose kept keys predate this (no
    ``household_key_state``) is built in full. ``records``: a relation holding the rows
    of ``person_record`` of at least the ``touched`` records."""
    scoped = touched is not None and _keys_kept(con)
    if scoped:
        _update_keys(con, str(touched), records)
        _region(con, str(touched))
    else:
        steps.new_keys(con)
        con.execute("DELETE FROM household_key")
        con.execute("INSERT INTO household_key SELECT * FROM hh_new_key")
    derived = steps.derive(con, run_id, scoped=scoped)
    _write(con, derived, scoped)
    con.execute("DELETE FROM household_key_state")
    con.execute("INSERT INTO household_key_state VALUES (?)", [run_id])
    return derived


def _keys_kept(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM household_key_state").fetchall()[0][0])


def _update_keys(
    con: duckdb.DuckDBPyConnection, touched: str, records: str = "person_record"
) -> None:
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
    # Read once: the keys' three parts and the relations read them again.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hh_touched_record AS SELECT * FROM {records}
        WHERE record_key IN (SELECT record_key FROM hh_touched)"""
    )
    records = "hh_touched_record"
    others = (
        "(SELECT * FROM person_record WHERE record_key NOT IN (SELECT record_key FROM hh_touched))"
    )
    con.execute(f"INSERT INTO household_key {steps.keys_sql(records)}", [NOT_A_HOME])
    # Relations: touched children and their mothers among all records; touched records
    # that are the mother of a child no run touched.
    con.execute(f"INSERT INTO household_key {steps.relation_sql(records, 'person_record')}")
    con.execute(
        f"INSERT INTO household_key {steps.relation_sql(others, records, with_children=False)}"
    )


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
    # Persons of the households who are no longer in the index (merged away or deleted):
    # their households are built again, and nothing joins through them.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_gone AS SELECT DISTINCT enterprise_id FROM household_member
        WHERE enterprise_id NOT IN (SELECT enterprise_id FROM person_index)"""
    )
    # The households the touched records were at home in, and those of the persons gone.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hh_region AS
        SELECT household_id FROM household_index WHERE member_key IN (SELECT record_key FROM hh_touched)
        UNION SELECT household_id FROM household_member
        WHERE enterprise_id IN (SELECT enterprise_id FROM hh_gone)"""
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
    _close_region(con)


def _close_region(con: duckdb.DuckDBPyConnection) -> None:
    """Add to ``hh_scope`` and ``hh_region`` everything joined to them, in turn, by a
    membership (a person to each household they are in, a household to each of its
    members) or a placement's tie (``hh_tied``), never through a person gone from the
    index (``hh_gone``): the connected components of that graph holding a person of
    ``hh_scope`` or a household of ``hh_region``. Ids are handled as their numbers
    (``P`` or ``H`` and ten digits), one read of the memberships for the whole closure."""
    person, household = person_number_sql("enterprise_id"), person_number_sql("household_id")
    member = con.execute(
        f"""SELECT {person} AS p, {household} AS h FROM household_member
        WHERE enterprise_id NOT IN (SELECT enterprise_id FROM hh_gone)"""
    ).fetchnumpy()
    tied = con.execute(
        f"SELECT {person_number_sql('a')} AS a, {person_number_sql('b')} AS b FROM hh_tied"
    ).fetchnumpy()
    scope = con.execute(f"SELECT {person} AS p FROM hh_scope").fetchnumpy()["p"]
    region = con.execute(f"SELECT {household} AS h FROM hh_region").fetchnumpy()["h"]
    persons = np.concatenate([member["p"], tied["a"], tied["b"], scope]).astype(np.int64)
    households = np.concatenate([member["h"], region]).astype(np.int64)
    offset = int(persons.max(initial=-1)) + 1  # household h is node offset + h
    n = offset + int(households.max(initial=-1)) + 1
    rows = np.concatenate([member["p"], tied["a"]]).astype(np.int64)
    cols = np.concatenate([member["h"] + offset, tied["b"]]).astype(np.int64)
    from scipy.sparse import coo_matrix  # loads only for a link run
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    labels = connected_components(graph, directed=False)[1] if n else np.zeros(0, np.int32)
    seeds = np.concatenate(
        [labels[scope.astype(np.int64)], labels[region.astype(np.int64) + offset]]
    )
    reached = np.isin(labels, np.unique(seeds))
    reached_persons = np.flatnonzero(reached[:offset])
    reached_households = np.flatnonzero(reached[offset:])
    con.register(
        "_hh_reached",
        pa.table({"p": pa.array(reached_persons, pa.int64())}),
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE hh_scope AS SELECT {enterprise_id_sql('p')} AS enterprise_id"
        " FROM _hh_reached"
    )
    con.unregister("_hh_reached")
    con.register(
        "_hh_reached",
        pa.table({"h": pa.array(reached_households, pa.int64())}),
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE hh_region AS SELECT {steps.household_id_sql('h')} AS household_id"
        " FROM _hh_reached"
    )
    con.unregister("_hh_reached")


def _write(con: duckdb.DuckDBPyConnection, derived: steps.Derived, scoped: bool) -> None:
    """Write what the steps derived to ``household_member``, ``household_index``,
    ``household_id_event``, ``household_id_counter`` and ``linked_household``."""
    con.execute("DELETE FROM household_id_counter")
    con.execute("INSERT INTO household_id_counter VALUES (?)", [derived.next_value])
    con.execute(
        "INSERT INTO household_id_event SELECT * FROM hh_event_out"
        " ORDER BY event = 'created', household_id"
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
    con.execute("INSERT INTO household_member SELECT * FROM hh_member_out")
    con.execute("INSERT INTO household_index SELECT * FROM hh_index_out")
    if scoped:
        con.execute(
            f"INSERT INTO linked_household {select_sql()}"
            " WHERE enterprise_id IN (SELECT enterprise_id FROM hh_scope)"
        )
    else:
        refresh(con)


def select_sql() -> str:
    """The rows of ``linked_household``, computed from ``household_member``."""
    return steps.select_sql("household_member")


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
