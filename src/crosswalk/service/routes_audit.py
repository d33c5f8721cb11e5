"""The audit log for privacy officers: search, verification, checkpoints.

A privacy officer searches the entries of their own agency's users; verification and
checkpoints cover the whole chain (counts and hashes, no person data).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from crosswalk import clock
from crosswalk.accounts import PRIVACY_OFFICER, Caller
from crosswalk.agreement import agreement_in_force
from crosswalk.service import auth, problems
from crosswalk.service.auth import HubDep, needs
from crosswalk.service.paging import Offset
from crosswalk.service.schemas import AuditEntryOut, CheckpointOut, Page, VerificationOut

router = APIRouter(prefix="/audit", tags=["audit"])
Officer = Annotated[Caller, Depends(needs(PRIVACY_OFFICER, scope="audit"))]


@router.get("/entries", response_model=Page[AuditEntryOut], responses=problems.documented(409))
def search(
    request: Request,
    who: Officer,
    hub: HubDep,
    action: Annotated[str | None, Query(max_length=64)] = None,
    user: Annotated[str | None, Query(max_length=128)] = None,
    purpose: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Annotated[str | None, Query(max_length=16)] = None,
    enterprise_id: Annotated[
        str | None, Query(max_length=32, description="Entries naming this person.")
    ] = None,
    since: Annotated[date | None, Query(description="Entries on or after this day.")] = None,
    until: Annotated[date | None, Query(description="Entries on or before this day.")] = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[AuditEntryOut]:
    """Entries oldest first, filtered by the fields given, for the privacy officers whose
    clauses cover oversight of the audit log (the hub operator's). The search is itself
    audited (``Gate.audit_search``)."""
    principal = auth.principal(
        request, who, agreement_in_force(clock.today(), hub.control), "oversight", None
    )
    found = request.app.state.gate.audit_search(
        principal,
        "oversight",
        action=action,
        user=user,
        of_purpose=purpose,
        outcome=outcome,
        enterprise_id=enterprise_id,
        since=None if since is None else since.isoformat(),
        until=None if until is None else until.isoformat(),
    )
    items = [
        AuditEntryOut(**{k: e[k] for k in AuditEntryOut.model_fields})
        for e in found[offset : offset + limit]
    ]
    return Page(items=items, offset=offset, limit=limit, total=len(found))


@router.get("/verify", response_model=VerificationOut)
def verify(who: Officer, hub: HubDep) -> VerificationOut:
    """Check every entry's hash, signature and link, and every checkpoint."""
    v = hub.audit.verify()
    return VerificationOut(
        ok=v.ok,
        entries=v.entries,
        first_bad=v.first_bad,
        problem=v.problem,
        checkpoints=v.checkpoints,
        key=v.key,
        last_checkpoint_at=v.last_checkpoint_at,
        since_checkpoint=v.since_checkpoint,
    )


@router.post("/checkpoints", response_model=CheckpointOut, status_code=201)
def checkpoint(who: Officer, hub: HubDep) -> CheckpointOut:
    """Write a signed head of the log now, to the checkpoint folder."""
    cp = hub.audit.write_checkpoint()
    return CheckpointOut(count=cp.count, head=cp.head, at=cp.at, signature=cp.signature)
