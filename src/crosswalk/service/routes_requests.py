"""Data requests, the stewards' approvals and the grants they make.

Thin shells over the gate's ``request_data``, ``approve_request``, ``deny_request``,
``revoke_grant``, ``list_requests`` and ``show_request``, which authorise and audit every
step. The requester is the account the token authenticates (in a role whose clauses
cover the purpose); the steward or officer who answers is the account, as the agreement
names it. A request the caller may not see is not there: its id gets 404, as a missing one.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, Field

from crosswalk import clock
from crosswalk.access import Gate
from crosswalk.accounts import Caller
from crosswalk.agreement import agreement_in_force
from crosswalk.agreement.requests import DataRequest
from crosswalk.service import auth
from crosswalk.service.auth import HubDep, needs
from crosswalk.service.paging import Offset
from crosswalk.service.schemas import Body, Page

router = APIRouter(tags=["requests"])
Data = Annotated[Caller, Depends(needs(scope="data"))]
Limit = Annotated[int, Query(ge=1, le=500)]
State = Literal["pending", "denied", "granted", "revoked", "expired", "not yet in force"]


def gate(request: Request) -> Gate:
    return request.app.state.gate


GateDep = Annotated[Gate, Depends(gate)]


class ElementRef(BaseModel):
    """A data element as the agreement names it: its dataset and the element."""

    dataset: str = Field(max_length=64, examples=["hfs.events"])
    element: str = Field(max_length=64, examples=["program"])


class RequestIn(Body):
    """What a requester asks for; who asks is the token's account."""

    purpose: str = Field(max_length=64, examples=["research"])
    role: str | None = Field(None, max_length=32, description="Default: the role that covers it.")
    elements: list[ElementRef] = Field(min_length=1, max_length=512)
    level: Literal["identified", "pseudonymised", "aggregate"] = Field(examples=["pseudonymised"])
    starts_on: date | None = Field(None, description="Default: today.")
    ends_on: date = Field(examples=["2026-05-31"])
    justification: str = Field(min_length=1, max_length=4000)


class AnswerIn(Body):
    reason: str = Field("", max_length=4000, examples=["within the project's aims"])


class ReasonIn(Body):
    reason: str = Field(min_length=1, max_length=4000, examples=["the project has closed"])


class Requester(BaseModel):
    user: str
    agency: str
    role: str


class StewardAnswer(BaseModel):
    agency: str
    steward: str
    decision: Literal["approved", "denied"]
    reason: str
    decided_at: str


class RequestOut(BaseModel):
    request_id: str
    requester: Requester
    purpose: str
    level: str
    starts_on: date
    ends_on: date
    justification: str
    state: State = Field(description="Today: pending, denied, granted, revoked, expired ...")
    agencies: list[str] = Field(description="The agencies whose data it names.")
    waiting_for: list[str] = Field(description="Involved agencies that have not answered.")
    elements: list[ElementRef]
    answers: list[StewardAnswer]
    created_at: str
    granted_at: str | None
    revoked_at: str | None
    revoked_by: str | None
    revoke_reason: str | None


def request_out(r: DataRequest) -> RequestOut:
    return RequestOut(
        request_id=r.request_id,
        requester=Requester(
            user=r.requester.user, agency=r.requester.agency, role=r.requester.role
        ),
        purpose=r.purpose,
        level=r.level,
        starts_on=r.starts_on,
        ends_on=r.ends_on,
        justification=r.justification,
        state=r.state(clock.today()),
        agencies=list(r.agencies),
        waiting_for=list(r.waiting_for) if r.status == "pending" else [],
        elements=[ElementRef(dataset=d, element=e) for d, e in r.elements],
        answers=[
            StewardAnswer(
                agency=d.agency,
                steward=d.steward,
                decision=d.decision,
                reason=d.reason,
                decided_at=d.decided_at,
            )
            for d in r.decisions
        ],
        created_at=r.created_at,
        granted_at=r.granted_at,
        revoked_at=r.revoked_at,
        revoked_by=r.revoked_by,
        revoke_reason=r.revoke_reason,
    )


@router.post("/requests", response_model=RequestOut, status_code=status.HTTP_201_CREATED)
def request_data(
    body: RequestIn, request: Request, who: Data, hub: HubDep, gate: GateDep
) -> RequestOut:
    """Ask for data elements at a level, for a purpose and a period, with a justification;
    the steward of every agency whose data it names then approves or denies it."""
    agreement = agreement_in_force(clock.today(), hub.control)
    principal = auth.principal(request, who, agreement, body.purpose, body.role)
    made = gate.request_data(
        principal,
        body.purpose,
        [(e.dataset, e.element) for e in body.elements],
        body.level,
        body.starts_on or clock.today(),
        body.ends_on,
        body.justification,
    )
    return request_out(made)


@router.get("/requests", response_model=Page[RequestOut])
def list_requests(
    who: Data,
    gate: GateDep,
    state: State | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[RequestOut]:
    """The requests the caller may see: their own, those naming an agency they steward or
    oversee, every one for the hub operator's privacy officers; oldest first."""
    found = gate.list_requests(who.account.username, state)
    page = [request_out(r) for r in found[offset : offset + limit]]
    return Page(items=page, offset=offset, limit=limit, total=len(found))


@router.get("/requests/{request_id}", response_model=RequestOut)
def show_request(request_id: str, who: Data, gate: GateDep) -> RequestOut:
    """One request with every agency's answer and any revocation."""
    return request_out(gate.show_request(who.account.username, request_id))


@router.post("/requests/{request_id}/approve", response_model=RequestOut)
def approve_request(request_id: str, body: AnswerIn, who: Data, gate: GateDep) -> RequestOut:
    """Approve for the agency the caller stewards; the last approval makes the grant."""
    return request_out(gate.approve_request(who.account.username, request_id, body.reason))


@router.post("/requests/{request_id}/deny", response_model=RequestOut)
def deny_request(request_id: str, body: ReasonIn, who: Data, gate: GateDep) -> RequestOut:
    """Deny for the agency the caller stewards: the request is denied whole."""
    return request_out(gate.deny_request(who.account.username, request_id, body.reason))


@router.post("/requests/{request_id}/revoke", response_model=RequestOut)
def revoke_grant(request_id: str, body: ReasonIn, who: Data, gate: GateDep) -> RequestOut:
    """Revoke a grant (a steward or privacy officer of an agency it names, or of the hub
    operator): it counts for nothing from the very next request."""
    return request_out(gate.revoke_grant(who.account.username, request_id, body.reason))
