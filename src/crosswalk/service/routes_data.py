"""The agreement, a person's view, the analytic questions and consents.

Every read of agency data goes through the gate (``crosswalk.access.Gate``), as the
account that the token authenticates, in a role it holds whose clauses cover the purpose
the request names; the gate decides against the agreement in force today and audits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError

from crosswalk import analytics, clock
from crosswalk.access import Gate, lineage
from crosswalk.accounts import Caller
from crosswalk.agreement import Agreement, Principal, agreement_in_force
from crosswalk.errors import ConfigError, InvalidRequest, Problem
from crosswalk.service import auth
from crosswalk.service.auth import Authenticated, HubDep, needs
from crosswalk.service.paging import Offset
from crosswalk.service.schemas import (
    AgreementOut,
    AnswerOut,
    Ask,
    AskCohort,
    AskHeavyUsers,
    AskLifetime,
    AskOverlap,
    AskPathways,
    AskTrends,
    BatchOut,
    ClauseOut,
    ConsentIn,
    ConsentOut,
    Filters,
    Page,
    PartyOut,
    PersonOut,
    QuarantinedRow,
)

router = APIRouter()
Limit = Annotated[int, Query(ge=1, le=500)]
Data = Annotated[Caller, Depends(needs(scope="data"))]


async def gate(request: Request) -> Gate:
    return request.app.state.gate


GateDep = Annotated[Gate, Depends(gate)]


def _agreement(hub: HubDep) -> Agreement:
    return agreement_in_force(clock.today(), hub.control)


@router.get("/agreement", response_model=AgreementOut, tags=["agreement"])
def get_agreement(who: Authenticated, hub: HubDep) -> AgreementOut:
    """The agreement in force today: its purposes, roles and clauses."""
    a = _agreement(hub)
    return AgreementOut(
        name=a.name,
        version=a.version,
        effective_from=a.effective_from,
        min_cell=a.min_cell,
        purposes=a.purposes,
        by_request=a.by_request,
        roles=a.roles,
        clauses=[
            ClauseOut(
                clause=r.clause,
                title=r.title,
                recipients=r.recipients,
                roles=r.roles,
                purposes=r.purposes,
                classes=list(r.classes),
                level=r.level,
                requires_consent=r.requires_consent,
                by_request=r.by_request,
            )
            for r in a.rules
        ],
    )


@router.get("/agreement/parties", response_model=Page[PartyOut], tags=["agreement"])
def get_parties(
    who: Authenticated, hub: HubDep, offset: Offset = 0, limit: Limit = 50
) -> Page[PartyOut]:
    """The parties of the agreement in force."""
    parties = _agreement(hub).parties
    items = [
        PartyOut(code=p.code, name=p.name, withdrawn_on=p.withdrawn_on)
        for p in parties[offset : offset + limit]
    ]
    return Page(items=items, offset=offset, limit=limit, total=len(parties))


def _principal(
    request: Request, who: Caller, hub: HubDep, purpose: str, role: str | None
) -> Principal:
    return auth.principal(request, who, _agreement(hub), purpose, role)


@router.get("/persons/{enterprise_id}", response_model=PersonOut, tags=["persons"])
def get_person(
    enterprise_id: str,
    request: Request,
    who: Data,
    hub: HubDep,
    gate: GateDep,
    purpose: Annotated[str, Query(max_length=64, examples=["care_coordination"])],
    role: Annotated[str | None, Query(max_length=32)] = None,
    level: Literal["identified", "pseudonymised"] = "identified",
) -> Response:
    """One person's records and services across agencies, as the agreement allows."""
    principal = _principal(request, who, hub, purpose, role)
    answer = gate.person(principal, purpose, enterprise_id, level)
    # Serialised once, here, as ``PersonOut`` (the schema of the answer): returned as a
    # model, it would be validated again and dumped again on the way out.
    return Response(
        PersonOut(
            person=answer.person,
            records=answer.records,
            events=answer.events,
            notices=answer.notices,
            clauses=sorted({r.clause for r in answer.decision.reasons if r.clause}),
        ).model_dump_json(),
        media_type="application/json",
    )


def _filters(f: Filters) -> analytics.Filters:
    try:
        return analytics.Filters(
            start=f.start,
            end=f.end,
            programs=tuple(p.upper() for p in f.programs),
            counties=tuple(f.counties),
            age_groups=tuple(f.age_groups),
            sexes=tuple(f.sexes),
        )
    except ValidationError as e:
        problems = [
            Problem(str(err["msg"]), field=".".join(["filters", *map(str, err["loc"])]))
            for err in e.errors()
        ]
        raise InvalidRequest("invalid filters", problems) from None


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars (as the disclosure statistics may hold) become Python's,
    and a decimal (a sum of days or amounts) a number, not the string JSON would make it."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, str | bytes):
        return value.item()
    return value


def _rows(table: pa.Table) -> tuple[list[str], list[dict[str, Any]]]:
    shown = [c for c in table.column_names if not c.endswith("_suppressed")]
    return shown, _plain(table.select(shown).to_pylist())


def _aggregate(
    request: Request, who: Caller, hub: HubDep, gate: Gate, body: Ask, question: analytics.Question
) -> AnswerOut:
    principal = _principal(request, who, hub, body.purpose, body.role)
    released = gate.aggregate(principal, body.purpose, question)
    columns, rows = _rows(released.table)
    return AnswerOut(
        question=question.name,
        columns=columns,
        rows=rows,
        protection=_plain(released.protected.released()),
    )


@router.post("/analytics/overlap", response_model=AnswerOut, tags=["analytics"])
def overlap(request: Request, body: AskOverlap, who: Data, hub: HubDep, gate: GateDep) -> AnswerOut:
    """People (or enterprise households) in each pair of programs (N x N), under
    disclosure control."""
    question = analytics.ProgramOverlap(_filters(body.filters), unit=body.unit)
    return _aggregate(request, who, hub, gate, body, question)


@router.post("/analytics/combinations", response_model=AnswerOut, tags=["analytics"])
def combinations(request: Request, body: Ask, who: Data, hub: HubDep, gate: GateDep) -> AnswerOut:
    """People by the exact combination of programs they used (UpSet-style)."""
    return _aggregate(
        request, who, hub, gate, body, analytics.ProgramCombinations(_filters(body.filters))
    )


@router.post("/analytics/pathways", response_model=AnswerOut, tags=["analytics"])
def pathways(
    request: Request, body: AskPathways, who: Data, hub: HubDep, gate: GateDep
) -> AnswerOut:
    """Programs entered just before and just after a program, and the days between."""
    question = analytics.Pathways(_filters(body.filters), program=body.program.upper())
    return _aggregate(request, who, hub, gate, body, question)


@router.post("/analytics/lifetime", response_model=AnswerOut, tags=["analytics"])
def lifetime(
    request: Request, body: AskLifetime, who: Data, hub: HubDep, gate: GateDep
) -> AnswerOut:
    """Programs used over a lifetime, per person or household."""
    question = analytics.LifetimeUse(_filters(body.filters), by=body.by, unit=body.unit)
    return _aggregate(request, who, hub, gate, body, question)


@router.post("/analytics/cohort", response_model=AnswerOut, tags=["analytics"])
def cohort(request: Request, body: AskCohort, who: Data, hub: HubDep, gate: GateDep) -> AnswerOut:
    """Follow a cohort into other programs: cumulative incidence by year."""
    f = _filters(body.filters)
    if f.start is not None or f.programs:
        raise ConfigError("cohort: use cohort_start and outcomes, not filters.start and programs")
    question = analytics.CohortOutcomes(
        f,
        program=body.program.upper(),
        event=body.event,
        cohort_start=body.cohort_start,
        cohort_end=body.cohort_end,
        years=body.years,
        outcomes=tuple(o.upper() for o in body.outcomes),
    )
    return _aggregate(request, who, hub, gate, body, question)


@router.post("/analytics/trends", response_model=AnswerOut, tags=["analytics"])
def trends(request: Request, body: AskTrends, who: Data, hub: HubDep, gate: GateDep) -> AnswerOut:
    """Monthly enrolment by program (and county)."""
    question = analytics.Trends(_filters(body.filters), by_county=body.by_county)
    return _aggregate(request, who, hub, gate, body, question)


@router.post("/analytics/heavy-users", response_model=AnswerOut, tags=["analytics"])
def heavy_users(
    request: Request, body: AskHeavyUsers, who: Data, hub: HubDep, gate: GateDep
) -> AnswerOut:
    """The heaviest multi-system users (row-level: only where the agreement allows)."""
    principal = _principal(request, who, hub, body.purpose, body.role)
    question = analytics.HeavyUsers(_filters(body.filters), limit=body.limit)
    table = gate.rows(principal, body.purpose, question, body.level)
    columns, rows = _rows(table)
    return AnswerOut(question=question.name, columns=columns, rows=rows)


# -- consents (42 CFR Part 2): recorded by the discloser's named stewards and officers,
# listed by the hub operator's privacy officers; the gate authorises and audits ---------


def _consent_out(c: Any) -> ConsentOut:
    return ConsentOut(**{k: getattr(c, k) for k in ConsentOut.model_fields})


@router.get("/consents", response_model=Page[ConsentOut], tags=["consents"])
def list_consents(
    request: Request,
    who: Data,
    hub: HubDep,
    gate: GateDep,
    purpose: Annotated[str, Query(max_length=64)] = "oversight",
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[ConsentOut]:
    """The consent registry (who holds a Part 2 consent is who is in treatment)."""
    principal = _principal(request, who, hub, purpose, None)
    found = sorted(gate.consent_list(principal, purpose), key=lambda c: (c.signed_on, c.consent_id))
    items = [_consent_out(c) for c in found[offset : offset + limit]]
    return Page(items=items, offset=offset, limit=limit, total=len(found))


@router.post("/consents", response_model=ConsentOut, status_code=201, tags=["consents"])
def add_consent(body: ConsentIn, who: Data, gate: GateDep) -> ConsentOut:
    """Record a written consent to a disclosure by ``discloser`` (default: the caller's
    agency), as the caller's account."""
    return _consent_out(
        gate.consent_add(
            who.account.username,
            body.enterprise_id,
            body.discloser or who.account.agency,
            body.recipient,
            body.purpose,
            body.information,
            body.signed_on,
            body.expires_on,
        )
    )


@router.post("/consents/{consent_id}/revoke", status_code=204, tags=["consents"])
def revoke_consent(consent_id: str, who: Data, gate: GateDep) -> None:
    """Revoke a consent from today (the discloser's named stewards and officers)."""
    gate.consent_revoke(who.account.username, consent_id)


# -- ingest lineage: an agency's batches and quarantine, through the gate ---------------


@router.get("/batches", response_model=Page[BatchOut], tags=["ingest"])
def list_batches(
    request: Request,
    who: Data,
    hub: HubDep,
    purpose: Annotated[str, Query(max_length=64, examples=["operations"])] = "operations",
    role: Annotated[str | None, Query(max_length=32)] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[BatchOut]:
    """The caller's agency's batches with lineage and row counts (read = accepted +
    quarantined)."""
    principal = _principal(request, who, hub, purpose, role)
    rows, total = lineage.batches(hub, principal, purpose, principal.agency, offset, limit)
    return Page(items=[BatchOut(**r) for r in rows], offset=offset, limit=limit, total=total)


@router.get("/batches/{batch_id}/quarantine", response_model=Page[QuarantinedRow], tags=["ingest"])
def list_quarantine(
    batch_id: str,
    request: Request,
    who: Data,
    hub: HubDep,
    gate: GateDep,
    purpose: Annotated[str, Query(max_length=64)] = "operations",
    role: Annotated[str | None, Query(max_length=32)] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[QuarantinedRow]:
    """A batch's quarantined rows, each with file, row, field, value and rule (only of
    agencies whose quarantine the caller may read: another agency's batch has none)."""
    principal = _principal(request, who, hub, purpose, role)
    rows = gate.quarantine(principal, purpose, batch_id, limit=offset + limit).to_pylist()
    page = [QuarantinedRow(**{k: r[k] for k in QuarantinedRow.model_fields}) for r in rows]
    return Page(items=page[offset:], offset=offset, limit=limit, total=len(page))


@router.get("/review", response_model=Page[dict[str, Any]], tags=["review"])
def review_queue(
    request: Request,
    who: Data,
    hub: HubDep,
    gate: GateDep,
    purpose: Annotated[str, Query(max_length=64)] = "linkage_review",
    role: Annotated[str | None, Query(max_length=32)] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[dict[str, Any]]:
    """Pairs awaiting clerical review with both records, those that matter most first (the
    hub operator's linkage stewards)."""
    principal = _principal(request, who, hub, purpose, role)
    pairs = gate.review_list(principal, purpose, limit=offset + limit)
    return Page(
        items=[_plain(p) for p in pairs[offset:]], offset=offset, limit=limit, total=len(pairs)
    )
