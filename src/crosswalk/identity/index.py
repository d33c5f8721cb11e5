"""Reading the person index: one person's records with evidence, and clerical review."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from crosswalk import stores
from crosswalk.errors import ConfigError, NotFound
from crosswalk.identity import store

if TYPE_CHECKING:
    from crosswalk.hub import Hub


@dataclass(frozen=True)
class PersonView:
    enterprise_id: str
    records: list[dict[str, Any]]
    links: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


# What a reader may be shown of a person's records and services (the gate decides which).
EVENT_ELEMENTS = ("program", "service_type", "start_date", "end_date", "amount", "county")
RECORD_ELEMENTS = (
    "source_record_id",
    "first_name",
    "middle_name",
    "last_name",
    "name_suffix",
    "dob",
    "sex",
    "ssn_last4",
    "address_line",
    "zip",
    "county",
    "phone",
)
RECORD_COLUMNS = ("record_key", "agency", *RECORD_ELEMENTS, "batch_id")
_RECORD_COLUMNS = RECORD_COLUMNS


def person_records(
    con: duckdb.DuckDBPyConnection, enterprise_id: str, links: bool = True
) -> PersonView:
    """All agency records of one enterprise person id, their service events, and (with
    ``links``) the links that joined the records. Only the gate (``crosswalk.access``)
    calls this: it decides, audits and transforms before anything reaches a reader.

    Each step is a lookup by key (the hub indexes the enterprise id and the record keys),
    with the keys as a list of bound parameters, so a person's view reads a few rows
    however large the hub is."""
    keys = [
        k
        for (k,) in con.execute(
            "SELECT record_key FROM person_index WHERE enterprise_id = ?", [enterprise_id]
        ).fetchall()
    ]
    marks = ", ".join("?" for _ in keys)
    cols = ", ".join(_RECORD_COLUMNS)
    rows = (
        con.execute(
            f"""SELECT {cols} FROM person_record WHERE record_key IN ({marks})
            ORDER BY agency, source_record_id, record_key""",
            keys,
        ).fetchall()
        if keys
        else []
    )
    if not rows:
        retired = con.execute(
            "SELECT merged_into FROM enterprise_id_retired WHERE enterprise_id = ?", [enterprise_id]
        ).fetchall()
        hint = f"; it was merged into {retired[0][0]}" if retired else ""
        raise NotFound(f"no person {enterprise_id!r} in the person index{hint}")
    records = [dict(zip(_RECORD_COLUMNS, r, strict=True)) for r in rows]
    events = con.execute(
        f"""SELECT record_key, agency, {", ".join(EVENT_ELEMENTS)} FROM service_event
        WHERE record_key IN ({marks}) ORDER BY start_date, agency, event_key""",
        keys,
    ).fetchall()
    event_rows = [
        dict(zip(("record_key", "agency", *EVENT_ELEMENTS), e, strict=True)) for e in events
    ]
    if not links:
        return PersonView(enterprise_id, records, [], event_rows)
    keys = [r["record_key"] for r in records]
    # The pairs accepted as they stand, each from the run that scored it last (a hub
    # linked before incremental runs: those of its last run).
    current = (
        "JOIN link_edge c USING (run_id, record_key_l, record_key_r)"
        if "link_edge" in _tables(con)
        else "WHERE e.run_id = (SELECT max_by(run_id, started_at) FROM link_run"
        " WHERE finished_at IS NOT NULL)"
    )
    found = con.execute(
        f"""SELECT * FROM (
            SELECT e.record_key_l, e.record_key_r, e.match_weight, e.match_probability, e.fields,
                   e.accepted FROM link_evidence e {current})
        WHERE accepted AND record_key_l IN (SELECT unnest(?)) AND record_key_r IN (SELECT unnest(?))
        ORDER BY match_weight DESC""",
        [keys, keys],
    ).fetchall()
    return PersonView(
        enterprise_id,
        records,
        [
            {
                "record_key_l": a,
                "record_key_r": b,
                "match_weight": w,
                "match_probability": p,
                "fields": json.loads(f),
            }
            for a, b, w, p, f, _ in found
        ],
        event_rows,
    )


def person_index_rows(con: duckdb.DuckDBPyConnection, agencies: Iterable[str]) -> pa.Table:
    """The person index of ``agencies``' records: agency, source record id, enterprise
    person id, link strength and run. Only the gate calls this (an audited export)."""
    return con.sql(
        """SELECT agency, source_record_id, enterprise_id, match_probability, link_run_id
        FROM person_index WHERE agency IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY agency, source_record_id""",
        params=[sorted(agencies)],
    ).to_arrow_table()


# Child welfare: a wrong merge or split there weighs most (placements, investigations).
REVIEW_FIRST = ("dcfs",)


def review_pairs(
    con: duckdb.DuckDBPyConnection,
    agencies: Iterable[str],
    limit: int = 50,
    record_key: str | None = None,
    first: Iterable[str] = REVIEW_FIRST,
) -> list[dict[str, Any]]:
    """Pairs awaiting clerical review whose two records both belong to ``agencies``,
    those that matter most first (only those of ``record_key``, if given), each with both
    records and, under ``persons``, the enterprise person each record is in today and its
    number of records among ``agencies`` (a record of another agency, such as a Part 2
    record, is never counted: the count would say it exists). Only the gate calls this
    (``crosswalk.access.Gate.review_list``), for the agencies a decision granted.

    Impact orders the queue: a pair touching a record of the ``first`` agencies (child
    welfare, Part 2 programmes) comes first, then pairs whose decision would merge or
    split the most records (the two persons' records, among ``agencies``), then the
    likeliest matches. Each pair says so under ``impact``."""
    wanted = sorted(agencies)
    if not wanted or "review_queue" not in _tables(con):
        return []
    cols = ", ".join(f"r.{c}" for c in _RECORD_COLUMNS)
    rows = con.execute(
        f"""WITH size AS (
              SELECT enterprise_id, count(*) AS n FROM person_index
              WHERE agency IN (SELECT unnest(?)) AND enterprise_id IN (
                SELECT i.enterprise_id FROM person_index i JOIN review_queue q
                  ON i.record_key IN (q.record_key_l, q.record_key_r))
              GROUP BY 1),
            pair AS (
              SELECT q.*, a.agency IN (SELECT unnest(?)) OR b.agency IN (SELECT unnest(?)) AS first_,
                     ia.enterprise_id IS NOT NULL AND ia.enterprise_id = ib.enterprise_id AS together,
                     CASE WHEN ia.enterprise_id = ib.enterprise_id THEN coalesce(sa.n, 1)
                          ELSE coalesce(sa.n, 1) + coalesce(sb.n, 1) END AS records
              FROM review_queue q
              JOIN person_record a ON a.record_key = q.record_key_l
              JOIN person_record b ON b.record_key = q.record_key_r
              LEFT JOIN person_index ia ON ia.record_key = q.record_key_l
              LEFT JOIN person_index ib ON ib.record_key = q.record_key_r
              LEFT JOIN size sa ON sa.enterprise_id = ia.enterprise_id
              LEFT JOIN size sb ON sb.enterprise_id = ib.enterprise_id
              WHERE a.agency IN (SELECT unnest(?)) AND b.agency IN (SELECT unnest(?))
                AND (CAST(? AS VARCHAR) IS NULL OR ? IN (q.record_key_l, q.record_key_r))
              ORDER BY first_ DESC, records DESC, q.match_weight DESC, q.record_key_l, q.record_key_r
              LIMIT ?)
            SELECT p.record_key_l, p.record_key_r, p.match_weight, p.match_probability,
                   p.fields, p.first_, p.together, p.records, {cols}
            FROM pair p JOIN person_record r ON r.record_key IN (p.record_key_l, p.record_key_r)
            ORDER BY p.first_ DESC, p.records DESC, p.match_weight DESC, p.record_key_l,
                     p.record_key_r, r.record_key""",
        [wanted, list(first), list(first), wanted, wanted, record_key, record_key, int(limit)],
    ).fetchall()
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for a, b, w, p, f, first_, together, n, *record in rows:
        pair = pairs.setdefault(
            (a, b),
            {
                "record_key_l": a,
                "record_key_r": b,
                "match_weight": w,
                "match_probability": p,
                "fields": json.loads(f),
                "impact": {
                    "first": bool(first_),
                    "decides": "split" if together else "merge",
                    "records": int(n),
                },
            },
        )
        r = dict(zip(_RECORD_COLUMNS, record, strict=True))
        pair["record_l" if r["record_key"] == a else "record_r"] = r
    keys = sorted({k for ab in pairs for k in ab})
    persons = {
        key: {"enterprise_id": eid, "records": n}
        for key, eid, n in con.execute(
            """SELECT i.record_key, i.enterprise_id, count(*) OVER (PARTITION BY i.enterprise_id)
            FROM person_index i
            WHERE i.agency IN (SELECT unnest(?))
              AND i.enterprise_id IN (SELECT enterprise_id FROM person_index
                                      WHERE record_key IN (SELECT unnest(?)))""",
            [wanted, keys],
        ).fetchall()
        if key in keys
    }
    for (a, b), pair in pairs.items():
        pair["persons"] = {k: persons.get(k, {"enterprise_id": None, "records": 0}) for k in (a, b)}
    return list(pairs.values())


def has_history(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the hub keeps the history of its person index (linked since it does)."""
    return "enterprise_id_event" in _tables(con)


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
    return {name for (name,) in rows.fetchall()}


REQUEST_WAIT = 10.0  # seconds a review decision waits for the hub's writer


def review_decide(
    record_key_a: str,
    record_key_b: str,
    decision: str,
    *,
    decided_by: str,
    note: str | None = None,
    agencies: Iterable[str],
    hub: str | Path | Hub | None = None,
) -> None:
    """Record a steward's decision on a pair of records of ``agencies`` (those the
    steward may review); the next linkage run honours it. A record of another agency is
    refused as if it did not exist, so that a refusal says nothing of it. Only the gate
    calls this (``crosswalk.access.Gate.review_decide``), which authorises and audits the
    decision."""
    if decision not in ("match", "no-match"):
        raise ConfigError(f"decision must be 'match' or 'no-match', not {decision!r}")
    left, right = sorted((record_key_a, record_key_b))
    if not isinstance(hub, str | Path | None):
        # A request waits a little for a running job to finish writing, then says so.
        with hub.write(wait=REQUEST_WAIT) as writer:
            _record_decision(writer, left, right, decision, decided_by, note, agencies)
        return
    con = stores.connect_hub(hub)
    try:
        _record_decision(con, left, right, decision, decided_by, note, agencies)
    finally:
        con.close()


def _record_decision(
    con: duckdb.DuckDBPyConnection,
    left: str,
    right: str,
    decision: str,
    decided_by: str,
    note: str | None,
    agencies: Iterable[str],
) -> None:
    store.migrate(con)
    known = con.execute(
        """SELECT count(*) FROM person_record
        WHERE record_key IN (?, ?) AND agency IN (SELECT unnest(?::VARCHAR[]))""",
        [left, right, sorted(agencies)],
    ).fetchall()[0][0]
    if known != 2:
        raise NotFound(f"both records must exist in the hub: {left}, {right}")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "DELETE FROM review_decision WHERE record_key_l = ? AND record_key_r = ?",
            [left, right],
        )
        con.execute(
            """INSERT INTO review_decision
                   (record_key_l, record_key_r, decision, decided_by, decided_at, note)
               VALUES (?, ?, ?, ?, now()::TIMESTAMP, ?)""",
            [left, right, decision, decided_by, note],
        )
        con.execute(
            "DELETE FROM review_queue WHERE record_key_l = ? AND record_key_r = ?", [left, right]
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
