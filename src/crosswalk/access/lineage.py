"""Ingest lineage through the gate: an agency's batches and its quarantined rows.

Quarantined rows hold the values an agency sent (names, SSNs, dates), so they are agency
data like any other: each read is decided under the agreement in force today for the
agency's whole datasets at the identified level (in the shipped agreement, clause 6.1:
an agency's stewards, for operations, their own agency only) and audited; a batch of an
agency the reader may not see is not there for them.
"""

from __future__ import annotations

from typing import Any

from crosswalk import clock
from crosswalk.agreement import Decision, Principal, Request, agreement_in_force, decide
from crosswalk.audit import AccessDenied as DeniedEvent
from crosswalk.audit import AuditEvent, DataRead
from crosswalk.errors import AccessDenied, NotFound
from crosswalk.hub import Hub


def _decision(hub: Hub, principal: Principal, purpose: str, agency: str) -> Decision:
    agreement = agreement_in_force(clock.today(), hub.control)
    elements = tuple((d.id, e) for d in agreement.datasets if d.party == agency for e in d.elements)
    return decide(agreement, Request(principal, purpose, elements, "identified"), at=clock.today())


def _record(
    hub: Hub,
    kind: type[AuditEvent],
    principal: Principal,
    purpose: str,
    objects: dict[str, Any],
    decision: Decision,
    rows: int,
    outcome: str = "ok",
) -> None:
    hub.audit.record(
        kind(
            principal.user,
            principal.agency,
            principal.role,
            purpose,
            objects,
            decision.to_dict(),
            rows,
            outcome,
        )
    )


def _allowed(
    hub: Hub, principal: Principal, purpose: str, agency: str, objects: dict[str, Any]
) -> Decision:
    decision = _decision(hub, principal, purpose, agency)
    if not decision.allowed or decision.dropped or decision.consent_required:
        _record(hub, DeniedEvent, principal, purpose, objects, decision, 0, "denied")
        raise AccessDenied(
            f"{principal.user} ({principal.role}, {principal.agency}) may not read the "
            f"ingest lineage of {agency} for {purpose}",
            decision,
        )
    return decision


def batches(
    hub: Hub, principal: Principal, purpose: str, agency: str, offset: int = 0, limit: int = 50
) -> tuple[list[dict[str, Any]], int]:
    """An agency's batches, newest first, with their row counts; and how many there are."""
    objects: dict[str, Any] = {"lineage": "batches", "agency": agency}
    decision = _allowed(hub, principal, purpose, agency, objects)
    with hub.read() as con:
        total = con.execute("SELECT count(*) FROM batch WHERE agency = ?", [agency]).fetchone()
        cursor = con.execute(
            """SELECT b.batch_id, b.agency, b.status, strftime(b.loaded_at, '%Y-%m-%dT%H:%M:%S') AS loaded_at,
                      b.loaded_by, b.replaces, count(f.file) AS files,
                      coalesce(sum(f.rows_read), 0) AS read,
                      coalesce(sum(f.rows_accepted), 0) AS accepted,
                      coalesce(sum(f.rows_quarantined), 0) AS quarantined
               FROM batch b LEFT JOIN batch_file f USING (batch_id)
               WHERE b.agency = ?
               GROUP BY ALL ORDER BY 4 DESC, 1 LIMIT ? OFFSET ?""",
            [agency, limit, offset],
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    _record(hub, DataRead, principal, purpose, objects, decision, len(rows))
    return rows, int(total[0]) if total else 0


def quarantine(
    hub: Hub, principal: Principal, purpose: str, batch_id: str, offset: int = 0, limit: int = 50
) -> tuple[list[dict[str, Any]], int]:
    """A batch's quarantined rows (file, row, field, value, rule); and how many there are.

    A batch that does not exist and one of an agency the reader may not see get the same
    answer (``NotFound``); both are audited.
    """
    with hub.read() as con:
        found = con.execute("SELECT agency FROM batch WHERE batch_id = ?", [batch_id]).fetchone()
    objects: dict[str, Any] = {"lineage": "quarantine", "batch": batch_id}
    agency = found[0] if found else None
    try:
        if agency is None:
            raise AccessDenied("no such batch")
        decision = _allowed(hub, principal, purpose, agency, {**objects, "agency": agency})
    except AccessDenied:
        if agency is None:
            _record(
                hub,
                DeniedEvent,
                principal,
                purpose,
                objects,
                Decision(False, "identified"),
                0,
                "denied",
            )
        raise NotFound(f"no batch {batch_id!r} among those you may see") from None
    with hub.read() as con:
        total = con.execute(
            "SELECT count(*) FROM quarantine WHERE batch_id = ?", [batch_id]
        ).fetchone()
        cursor = con.execute(
            """SELECT file, source_row, field, value, rule FROM quarantine WHERE batch_id = ?
               ORDER BY file, source_row, field LIMIT ? OFFSET ?""",
            [batch_id, limit, offset],
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    _record(hub, DataRead, principal, purpose, {**objects, "agency": agency}, decision, len(rows))
    return rows, int(total[0]) if total else 0
