"""The audit log for privacy officers: search, verification, checkpoints.

A privacy officer searches the entries of their own agency's users; verification and
checkpoints cover the whole chain (counts and hashes, no person data).
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crosswalk import clock
from crosswalk.accounts import PRIVACY_OFFICER, Caller
from crosswalk.agreement import agreement_in_force
from crosswalk.audit import DataRead
from crosswalk.service.auth import HubDep, needs
from crosswalk.service.schemas import AuditEntryOut, CheckpointOut, Page, VerificationOut

router = APIRouter(prefix="/audit", tags=["audit"])
Officer = Annotated[Caller, Depends(needs(PRIVACY_OFFICER, scope="audit"))]


@router.get("/entries", response_model=Page[AuditEntryOut])
def search(
    who: Officer,
    hub: HubDep,
    action: Annotated[str | None, Query(max_length=64)] = None,
    user: Annotated[str | None, Query(max_length=128)] = None,
    purpose: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Annotated[str | None, Query(max_length=16)] = None,
    enterprise_id: Annotated[
        str | None, Query(max_length=32, description="Entries naming this person.")
    ] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[AuditEntryOut]:
    """Entries oldest first, filtered by the fields given, for the privacy officers whose
    clauses cover oversight of the audit log (the hub operator's). The search is itself
    audited."""
    who.principal(agreement_in_force(clock.today(), hub.control), "oversight")
    wanted = {"action": action, "user": user, "purpose": purpose, "outcome": outcome}
    found = []
    for row in hub.audit.entries():
        if any(v is not None and row[k] != v for k, v in wanted.items()):
            continue
        body = json.loads(row["body"])
        if enterprise_id is not None and enterprise_id not in body.get("objects", {}).get(
            "enterprise_ids", []
        ):
            continue
        found.append(
            AuditEntryOut(
                **{k: row[k] for k in AuditEntryOut.model_fields if k != "body"}, body=body
            )
        )
    hub.audit.record(
        DataRead(
            who.account.username,
            who.account.agency,
            PRIVACY_OFFICER,
            "oversight",
            objects={
                "audit_search": {
                    k: v for k, v in {**wanted, "enterprise_id": enterprise_id}.items() if v
                },
                **({"enterprise_ids": [enterprise_id]} if enterprise_id else {}),
            },
            rows=len(found),
        )
    )
    return Page(items=found[offset : offset + limit], offset=offset, limit=limit, total=len(found))


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
