"""Data requests: make one, follow its status, answer it, revoke its grant.

Thin shells over the gate's ``request_data``, ``list_requests``, ``show_request``,
``approve_request``, ``deny_request`` and ``revoke_grant``, as the API's: who may do each
step, and its audit entry, is the gate's, decided against the agreement in force (a
steward answers only for the agencies the agreement names them steward of, whatever the
form says). The pages add only the session and its CSRF check. A request the account may
not see is not there (404), as in the API.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crosswalk import clock
from crosswalk.access import Gate
from crosswalk.access.requests import MAX_JUSTIFICATION, default_period, permits
from crosswalk.accounts import ADMINISTRATOR
from crosswalk.agreement import Agreement, Level
from crosswalk.agreement.requests import DataRequest
from crosswalk.errors import ConfigError, CrosswalkError, InvalidRequest
from crosswalk.service import auth
from crosswalk.web.pages import (
    REQUEST_ID,
    WebRoute,
    account_purposes,
    agreement_now,
    day,
    object_id,
    render,
)
from crosswalk.web.session import Session, check_csrf, current, first, parse_form

router = APIRouter(route_class=WebRoute)
SignedIn = Annotated[Session, Depends(current)]
MAX_ELEMENTS = 512
ASKING_ROLES = frozenset({"analyst", "researcher"})  # the others answer, oversee or revoke
STATES = ("pending", "granted", "not yet in force", "denied", "revoked", "expired")


async def request_form(request: Request) -> dict[str, list[str]]:
    """The request form: its fields and up to ``MAX_ELEMENTS`` data elements."""
    return await parse_form(request, MAX_ELEMENTS + 20)


Form = Annotated[dict[str, list[str]], Depends(request_form)]


def _gate(request: Request) -> Gate:
    return request.app.state.gate


def _data_account(request: Request, s: Session) -> None:
    """Data requests need a session that may be used for data (as the API's ``data``
    scope); the refusal is audited."""
    if "data" not in s.caller.token.scopes:
        raise auth.refuse(request, s.caller, "this session may not be used for data requests")


def _element(value: str) -> tuple[str, str]:
    """``dataset.element`` (a dataset id has a dot itself: ``hfs.events.program``)."""
    dataset, _, element = value.strip().rpartition(".")
    if not dataset or not element:
        raise InvalidRequest(f"{value[:80]!r} is not a data element (dataset.element)")
    return dataset, element


def requestable_purposes(s: Session, agreement: Agreement) -> list[str]:
    """The purposes some clause in force covers for a data role of the account."""
    return sorted({p for ps in account_purposes(s, agreement).values() for p in ps})


def _datasets(agreement: Agreement) -> list[dict[str, Any]]:
    """The agreement's datasets with their elements, by party, as the form lists them."""
    out = []
    for d in agreement.datasets:
        party = agreement.party(d.party)
        out.append(
            {
                "id": d.id,
                "party": party.name if party else d.party,
                "part2": d.part2,
                "elements": sorted(d.elements.items()),
            }
        )
    return out


def _may_answer(agreement: Agreement, user: str, r: DataRequest) -> list[str]:
    """The agencies of ``r`` awaiting an answer that ``user`` stewards (for showing the
    form only: the gate decides again)."""
    if r.status != "pending" or user == r.requester.user:
        return []
    return [
        a
        for a in r.waiting_for
        if (party := agreement.party(a)) is not None and user in party.stewards
    ]


def _may_revoke(agreement: Agreement, user: str, r: DataRequest, today: date) -> bool:
    if r.status != "granted" or r.ends_on < today:
        return False
    for code in (*r.agencies, agreement.operator):
        party = agreement.party(code)
        if party is None:
            continue
        if user in party.privacy_officers or (code in r.agencies and user in party.stewards):
            return True
    return False


def clauses_behind(agreement: Agreement, r: DataRequest, today: date) -> list[dict[str, str]]:
    """The clauses that permit what a request asks (each once, in the agreement's order)."""
    decision = permits(agreement, r, today)
    cited = {reason.clause for reason in decision.reasons if reason.clause}
    return [
        {"clause": rule.clause, "title": rule.title, "level": rule.level}
        for rule in agreement.rules
        if rule.clause in cited
    ]


def _form_page(
    request: Request,
    s: Session,
    agreement: Agreement,
    *,
    purpose: str,
    role: str,
    level: str,
    chosen: set[str],
    starts_on: str,
    ends_on: str,
    justification: str,
    error: CrosswalkError | None = None,
) -> HTMLResponse:
    roles = [r for r in s.caller.account.roles if r != ADMINISTRATOR]
    return render(
        request,
        "request_new.html",
        s,
        status=error.status if error else 200,
        agreement=agreement,
        purposes=requestable_purposes(s, agreement),
        by_request=set(agreement.by_request),
        roles=roles,
        levels=list(Level.__members__),
        datasets=_datasets(agreement),
        purpose=purpose,
        role=role,
        level=level,
        chosen=chosen,
        starts_on=starts_on,
        ends_on=ends_on,
        justification=justification,
        error=error,
        max_justification=MAX_JUSTIFICATION,
    )


@router.get("/ui/requests", response_class=HTMLResponse)
def list_requests(
    request: Request,
    s: SignedIn,
    state: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The requests the account may see (``Gate.list_requests``): its own, and those it
    answers or oversees; those awaiting its answer first."""
    _data_account(request, s)
    if state and state not in STATES:
        raise ConfigError(f"no state {state!r}: the states are {', '.join(STATES)}")
    agreement = agreement_now(request)
    today = clock.today()
    found = _gate(request).list_requests(s.username, state or None)
    mine = [r for r in found if r.requester.user == s.username]
    awaiting = [r for r in found if _may_answer(agreement, s.username, r)]
    others = [r for r in found if r not in mine and r not in awaiting]
    return render(
        request,
        "requests.html",
        s,
        agreement=agreement,
        mine=list(reversed(mine)),
        awaiting=awaiting,
        others=list(reversed(others)),
        today=today,
        state=state,
        states=STATES,
        may_request=bool(ASKING_ROLES & set(s.caller.account.roles))
        and bool(requestable_purposes(s, agreement)),
    )


@router.get("/ui/requests/new", response_class=HTMLResponse)
def new_request(
    request: Request,
    s: SignedIn,
    purpose: Annotated[str, Query(max_length=64)] = "",
    level: Annotated[str, Query(max_length=16)] = "aggregate",
    element: Annotated[list[str] | None, Query(max_length=MAX_ELEMENTS)] = None,
) -> Response:
    """The request form; the dashboard links here with a question's elements chosen."""
    _data_account(request, s)
    agreement = agreement_now(request)
    start, end = default_period(clock.today())
    return _form_page(
        request,
        s,
        agreement,
        purpose=purpose,
        role="",
        level=level if level in Level.__members__ else "aggregate",
        chosen={e[:160] for e in element or []},
        starts_on=str(start),
        ends_on=str(end),
        justification="",
    )


@router.post("/ui/requests", response_class=HTMLResponse)
def make_request(request: Request, s: SignedIn, form: Form) -> Response:
    """Ask (``Gate.request_data``) as the account, in the role whose clauses cover the
    purpose; a request that cannot be made comes back with every problem and the form
    as it was filled."""
    check_csrf(request, form, s.csrf)
    _data_account(request, s)
    agreement = agreement_now(request)
    purpose = first(form, "purpose")[:64]
    role = first(form, "role")[:32]
    level = first(form, "level")[:16]
    chosen = [v[:160] for v in form.get("element", [])]
    starts, ends = first(form, "starts_on")[:10], first(form, "ends_on")[:10]
    justification = first(form, "justification")[: MAX_JUSTIFICATION + 1]
    try:
        elements = [_element(v) for v in chosen]
        start = day(starts, "from") or clock.today()
        end = day(ends, "until")
        if end is None:
            raise InvalidRequest("say until when the data are needed")
        principal = auth.principal(request, s.caller, agreement, purpose, role or None)
        made = _gate(request).request_data(
            principal, purpose, elements, level, start, end, justification
        )
    except CrosswalkError as e:
        if e.status == 401:
            raise
        return _form_page(
            request,
            s,
            agreement,
            purpose=purpose,
            role=role,
            level=level,
            chosen=set(chosen),
            starts_on=starts,
            ends_on=ends,
            justification=justification,
            error=e,
        )
    return RedirectResponse(f"/ui/requests/{made.request_id}?done=made", status_code=303)


DONE = {
    "made": "Your request is made: the stewards of the agencies it names will answer it.",
    "approved": "Your approval is recorded.",
    "denied": "Your denial is recorded: the request is denied.",
    "revoked": "The grant is revoked: from the very next request it counts for nothing.",
}


@router.get("/ui/requests/{request_id}", response_class=HTMLResponse)
def show_request(
    request: Request,
    s: SignedIn,
    request_id: str,
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """One request (``Gate.show_request``): its elements, every agency's answer, the
    grant and the clauses behind it; the answer and revocation forms where they apply."""
    _data_account(request, s)
    agreement = agreement_now(request)
    today = clock.today()
    r = _gate(request).show_request(s.username, object_id(request_id, REQUEST_ID, "data request"))
    by_dataset: dict[str, list[str]] = {}
    for d, e in r.elements:
        by_dataset.setdefault(d, []).append(e)
    return render(
        request,
        "request.html",
        s,
        agreement=agreement,
        r=r,
        state=r.state(today),
        by_dataset=by_dataset,
        answers={d.agency: d for d in r.decisions},
        answer_for=_may_answer(agreement, s.username, r),
        may_revoke=_may_revoke(agreement, s.username, r, today),
        clauses=clauses_behind(agreement, r, today),
        done=DONE.get(done, ""),
        by_request=r.purpose in agreement.by_request,
    )


def _answered(request_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/ui/requests/{request_id}?done={done}", status_code=303)


@router.post("/ui/requests/{request_id}/approve")
def approve_request(request: Request, s: SignedIn, request_id: str, form: Form) -> Response:
    """Approve for the agencies the account stewards (``Gate.approve_request``)."""
    check_csrf(request, form, s.csrf)
    _data_account(request, s)
    reason = first(form, "reason").strip()[:MAX_JUSTIFICATION]
    done = _gate(request).approve_request(
        s.username, object_id(request_id, REQUEST_ID, "data request"), reason
    )
    return _answered(done.request_id, "approved")


@router.post("/ui/requests/{request_id}/deny")
def deny_request(request: Request, s: SignedIn, request_id: str, form: Form) -> Response:
    """Deny for the agencies the account stewards (``Gate.deny_request``), with a reason."""
    check_csrf(request, form, s.csrf)
    _data_account(request, s)
    reason = first(form, "reason").strip()[:MAX_JUSTIFICATION]
    done = _gate(request).deny_request(
        s.username, object_id(request_id, REQUEST_ID, "data request"), reason
    )
    return _answered(done.request_id, "denied")


@router.post("/ui/requests/{request_id}/revoke")
def revoke_grant(request: Request, s: SignedIn, request_id: str, form: Form) -> Response:
    """Revoke the grant (``Gate.revoke_grant``): a steward or privacy officer of an agency
    it names, or a privacy officer of the hub operator."""
    check_csrf(request, form, s.csrf)
    _data_account(request, s)
    reason = first(form, "reason").strip()[:MAX_JUSTIFICATION]
    done = _gate(request).revoke_grant(
        s.username, object_id(request_id, REQUEST_ID, "data request"), reason
    )
    return _answered(done.request_id, "revoked")
