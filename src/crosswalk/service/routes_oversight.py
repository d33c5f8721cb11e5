"""What the CLI's oversight commands ask, for the accounts the agreement lets ask it:
the audit questions of privacy officers (``crosswalk audit who-accessed``, ``purposes``,
``denials``) and one record's pairs under review (``crosswalk review show``), each a thin
shell over the gate's method of the same name, which decides and audits the read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from crosswalk import clock
from crosswalk.access import Gate
from crosswalk.accounts import PRIVACY_OFFICER, Caller
from crosswalk.agreement import agreement_in_force
from crosswalk.errors import NotFound
from crosswalk.identity.review import Side, effects
from crosswalk.service import auth
from crosswalk.service.auth import HubDep, needs
from crosswalk.service.paging import Offset
from crosswalk.service.routes_data import _plain
from crosswalk.service.schemas import Page

router = APIRouter()
Officer = Annotated[Caller, Depends(needs(PRIVACY_OFFICER, scope="audit"))]
Data = Annotated[Caller, Depends(needs(scope="data"))]
Limit = Annotated[int, Query(ge=1, le=500)]
Purpose = Annotated[str, Query(max_length=64, examples=["oversight"])]
REVIEW_LOOKUP = 1_000  # pairs of one record: far more than any record has


class AccessOut(BaseModel):
    """One audited request that named the person."""

    seq: int
    at: str
    user: str | None
    agency: str | None
    role: str | None
    purpose: str | None
    action: str | None
    outcome: str | None
    rows: int | None


class PurposeReads(BaseModel):
    purpose: str
    reads: int


class DayDenials(BaseModel):
    day: str
    denials: int


def _gate(request: Request) -> Gate:
    return request.app.state.gate


GateDep = Annotated[Gate, Depends(_gate)]


def _page(items: list[Any], offset: int, limit: int) -> Page[Any]:
    return Page(items=items[offset : offset + limit], offset=offset, limit=limit, total=len(items))


def _principal(request: Request, who: Caller, hub: HubDep, purpose: str, role: str | None) -> Any:
    return auth.principal(
        request, who, agreement_in_force(clock.today(), hub.control), purpose, role
    )


@router.get("/audit/who-accessed/{enterprise_id}", response_model=Page[AccessOut], tags=["audit"])
def who_accessed(
    enterprise_id: str,
    request: Request,
    who: Officer,
    hub: HubDep,
    gate: GateDep,
    purpose: Purpose = "oversight",
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[AccessOut]:
    """Every audited request for one person's data, oldest first (privacy officers whose
    clauses cover oversight of the audit log)."""
    principal = _principal(request, who, hub, purpose, PRIVACY_OFFICER)
    rows = gate.who_accessed(principal, purpose, enterprise_id)
    return _page([AccessOut(**r) for r in rows], offset, limit)


@router.get("/audit/purposes", response_model=Page[PurposeReads], tags=["audit"])
def audit_purposes(
    request: Request,
    who: Officer,
    hub: HubDep,
    gate: GateDep,
    purpose: Purpose = "oversight",
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[PurposeReads]:
    """How many data reads were made for each purpose, most first."""
    principal = _principal(request, who, hub, purpose, PRIVACY_OFFICER)
    counts = gate.audit_purposes(principal, purpose)
    items = [
        PurposeReads(purpose=k, reads=v) for k, v in sorted(counts.items(), key=lambda kv: -kv[1])
    ]
    return _page(items, offset, limit)


@router.get("/audit/denials", response_model=Page[DayDenials], tags=["audit"])
def audit_denials(
    request: Request,
    who: Officer,
    hub: HubDep,
    gate: GateDep,
    purpose: Purpose = "oversight",
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[DayDenials]:
    """Denials per day, oldest first."""
    principal = _principal(request, who, hub, purpose, PRIVACY_OFFICER)
    counts = gate.audit_denials(principal, purpose)
    items = [DayDenials(day=str(k), denials=v) for k, v in sorted(counts.items())]
    return _page(items, offset, limit)


@router.get("/review/{record_key}", response_model=Page[dict[str, Any]], tags=["review"])
def review_show(
    record_key: str,
    request: Request,
    who: Data,
    hub: HubDep,
    gate: GateDep,
    purpose: Annotated[str, Query(max_length=64)] = "linkage_review",
    role: Annotated[str | None, Query(max_length=32)] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[dict[str, Any]]:
    """One record's pairs under review, with both records, each comparison's level and
    weight, and what each decision would do (``if_decided``); the hub operator's linkage
    stewards. A record they may not see has no pairs (404, as one with none)."""
    principal = _principal(request, who, hub, purpose, role)
    pairs = gate.review_list(principal, purpose, REVIEW_LOOKUP, record_key)
    if not pairs:
        raise NotFound(f"no pair of {record_key} awaits review (or not one you may see)")
    shown = []
    for pair in pairs:
        sides = [
            Side(k, pair["persons"][k]["enterprise_id"], pair["persons"][k]["records"])
            for k in (pair["record_key_l"], pair["record_key_r"])
        ]
        shown.append({**_plain(pair), "if_decided": effects(*sides)})
    return _page(shown, offset, limit)
