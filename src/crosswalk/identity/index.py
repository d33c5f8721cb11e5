"""Reading the person index: one person's records with evidence, and clerical review."""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from crosswalk import stores
from crosswalk.errors import ConfigError, NotFound
from crosswalk.identity import store


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
_RECORD_COLUMNS = ("record_key", "agency", *RECORD_ELEMENTS, "batch_id")


def person_records(con: duckdb.DuckDBPyConnection, enterprise_id: str) -> PersonView:
    """All agency records of one enterprise person id, their service events, and the links
    that joined the records. Only the gate (``crosswalk.access``) calls this: it decides,
    audits and transforms before anything reaches a reader."""
    cols = ", ".join(f"r.{c}" for c in _RECORD_COLUMNS)
    rows = con.execute(
        f"""SELECT {cols} FROM person_index i JOIN person_record r USING (record_key)
        WHERE i.enterprise_id = ? ORDER BY r.agency, r.source_record_id""",
        [enterprise_id],
    ).fetchall()
    if not rows:
        retired = con.execute(
            "SELECT merged_into FROM enterprise_id_retired WHERE enterprise_id = ?", [enterprise_id]
        ).fetchall()
        hint = f"; it was merged into {retired[0][0]}" if retired else ""
        raise NotFound(f"no person {enterprise_id!r} in the person index{hint}")
    records = [dict(zip(_RECORD_COLUMNS, r, strict=True)) for r in rows]
    keys = [r["record_key"] for r in records]
    events = con.execute(
        f"""SELECT record_key, agency, {", ".join(EVENT_ELEMENTS)} FROM service_event
        WHERE record_key IN (SELECT unnest(?)) ORDER BY start_date, agency""",
        [keys],
    ).fetchall()
    links = con.execute(
        """SELECT record_key_l, record_key_r, match_weight, match_probability, fields FROM link_evidence
        WHERE accepted AND run_id = (SELECT max_by(run_id, started_at) FROM link_run WHERE finished_at IS NOT NULL)
          AND record_key_l IN (SELECT unnest(?)) AND record_key_r IN (SELECT unnest(?))
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
            for a, b, w, p, f in links
        ],
        [dict(zip(("record_key", "agency", *EVENT_ELEMENTS), e, strict=True)) for e in events],
    )


def review_list(hub: str | Path | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Pairs awaiting clerical review, most likely matches first."""
    con = stores.connect_hub(hub)
    try:
        store.migrate(con)
        rows = con.execute(
            f"""SELECT record_key_l, record_key_r, match_weight, match_probability, fields FROM review_queue
            ORDER BY match_weight DESC LIMIT {int(limit)}"""
        ).fetchall()
        return [
            {
                "record_key_l": a,
                "record_key_r": b,
                "match_weight": w,
                "match_probability": p,
                "fields": json.loads(f),
            }
            for a, b, w, p, f in rows
        ]
    finally:
        con.close()


def review_decide(
    record_key_a: str,
    record_key_b: str,
    decision: str,
    *,
    hub: str | Path | None = None,
    decided_by: str | None = None,
    control: str | None = None,
) -> None:
    """Record a steward's decision on a pair; the next linkage run honours it."""
    if decision not in ("match", "no-match"):
        raise ConfigError(f"decision must be 'match' or 'no-match', not {decision!r}")
    left, right = sorted((record_key_a, record_key_b))
    who = decided_by or getpass.getuser()
    con = stores.connect_hub(hub)
    try:
        store.migrate(con)
        known = con.execute(
            "SELECT count(*) FROM person_record WHERE record_key IN (?, ?)", [left, right]
        ).fetchall()[0][0]
        if known != 2:
            raise NotFound(f"both records must exist in the hub: {left}, {right}")
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "DELETE FROM review_decision WHERE record_key_l = ? AND record_key_r = ?", [left, right]
        )
        con.execute(
            "INSERT INTO review_decision VALUES (?, ?, ?, ?, now()::TIMESTAMP)",
            [left, right, decision, who],
        )
        con.execute(
            "DELETE FROM review_queue WHERE record_key_l = ? AND record_key_r = ?", [left, right]
        )
        con.execute("COMMIT")
    finally:
        con.close()
