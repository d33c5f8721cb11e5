"""Ingest lineage through the gate: an agency's batches with their row counts, and its
flagged and quarantined rows per field and rule (the quarantined rows themselves are
``Gate.quarantine``). The only readers of the batch tables: ``crosswalk batches`` and
``GET /batches`` call these.

Each read is decided under the agreement in force today for the agency's datasets at the
identified level (in the shipped agreement, clause 6.1: an agency's stewards, for
operations, their own agency only) and audited.
"""

from __future__ import annotations

from typing import Any

from crosswalk import clock
from crosswalk.access.core import decide_request, record
from crosswalk.agreement import Decision, Principal, Request, agreement_in_force
from crosswalk.audit import AccessDenied as DeniedEvent
from crosswalk.audit import DataRead
from crosswalk.errors import AccessDenied
from crosswalk.hub import Hub


def _decision(hub: Hub, principal: Principal, purpose: str, agency: str) -> Decision:
    today = clock.today()
    agreement = agreement_in_force(today, hub.control)
    elements = tuple((d.id, e) for d in agreement.datasets if d.party == agency for e in d.elements)
    return decide_request(
        hub, agreement, Request(principal, purpose, elements, "identified"), today
    )


def _allowed(
    hub: Hub, principal: Principal, purpose: str, agency: str, objects: dict[str, Any]
) -> Decision:
    decision = _decision(hub, principal, purpose, agency)
    if not decision.allowed or decision.dropped or decision.consent_required:
        record(hub, DeniedEvent, principal, purpose, objects, decision, 0, "denied")
        raise AccessDenied(
            f"{principal.user} ({principal.role}, {principal.agency}) may not read the "
            f"ingest lineage of {agency} for {purpose}",
            decision,
        )
    return decision


def _tables(con: Any) -> set[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
    return {name for (name,) in rows.fetchall()}


def batches(
    hub: Hub,
    principal: Principal,
    purpose: str,
    agency: str,
    offset: int = 0,
    limit: int | None = 50,
    batch_id: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """An agency's batches, newest first, with their row counts; and how many there are
    (``limit`` None: every one; with ``batch_id``, that one batch if it is the agency's:
    none otherwise)."""
    objects: dict[str, Any] = {"lineage": "batches", "agency": agency}
    if batch_id is not None:
        objects["batch_ids"] = [batch_id]
    decision = _allowed(hub, principal, purpose, agency, objects)
    only = "" if batch_id is None else " AND b.batch_id = ?"
    binds = [agency] if batch_id is None else [agency, batch_id]
    with hub.read() as con:
        if not {"batch", "batch_file"} <= _tables(con):
            rows, total = [], 0
        else:
            counted = con.execute(f"SELECT count(*) FROM batch b WHERE b.agency = ?{only}", binds)
            total = int(counted.fetchone()[0])
            cursor = con.execute(
                """SELECT b.batch_id, b.agency, b.status,
                          strftime(b.loaded_at, '%Y-%m-%dT%H:%M:%S') AS loaded_at,
                          b.loaded_by, b.replaces, count(f.file) AS files,
                          coalesce(sum(f.rows_read), 0) AS read,
                          coalesce(sum(f.rows_accepted), 0) AS accepted,
                          coalesce(sum(f.rows_quarantined), 0) AS quarantined
                   FROM batch b LEFT JOIN batch_file f USING (batch_id)
                   WHERE b.agency = ?"""
                + only
                + """
                   GROUP BY ALL ORDER BY 4 DESC, 1 LIMIT ? OFFSET ?""",
                [*binds, total if limit is None else limit, offset],
            )
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    record(hub, DataRead, principal, purpose, objects, decision, len(rows))
    return rows, total


def batch_issues(
    hub: Hub, principal: Principal, purpose: str, agency: str, batch_id: str | None = None
) -> list[dict[str, Any]]:
    """An agency's flagged and quarantined rows per batch, file, field and rule, with the
    share of the file's rows (counts only: no values from the rows), newest batch first;
    only ``batch_id``'s if given (another agency's batch has none)."""
    objects: dict[str, Any] = {"lineage": "issues", "agency": agency, "batch": batch_id or "all"}
    decision = _allowed(hub, principal, purpose, agency, objects)
    with hub.read() as con:
        if not {"batch", "batch_file", "batch_issue"} <= _tables(con):
            rows: list[dict[str, Any]] = []
        else:
            cursor = con.execute(
                """SELECT i.batch_id, b.agency, i.file, i.field, i.rule, i.rows,
                          round(i.rows / f.rows_read, 4) AS share,
                          CASE WHEN i.quarantined THEN 'quarantined' ELSE 'flagged' END AS outcome
                   FROM batch_issue i JOIN batch b USING (batch_id)
                   JOIN batch_file f ON f.batch_id = i.batch_id AND f.file = i.file
                   WHERE b.agency = ? AND (CAST(? AS VARCHAR) IS NULL OR i.batch_id = ?)
                   ORDER BY b.loaded_at DESC, i.batch_id, i.file, i.field, i.rule""",
                [agency, batch_id, batch_id],
            )
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    record(hub, DataRead, principal, purpose, objects, decision, len(rows))
    return rows
