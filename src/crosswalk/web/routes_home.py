"""Signing in and out, the home page ("who can see what, explained") and the agreement.

Signing in is ``Accounts.sign_in``, as for the API: the same argon2id check, the same
rate limit (5 failures in 15 minutes lock the username for the rest of the window) and
the same audit entries for every success and failure.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crosswalk import clock
from crosswalk.accounts import ADMINISTRATOR, Accounts
from crosswalk.agreement import Agreement
from crosswalk.agreement.model import Rule
from crosswalk.errors import CrosswalkError, RateLimited, Unauthenticated
from crosswalk.web import session as sessions
from crosswalk.web.pages import WebRoute, account_purposes, agreement_now, render
from crosswalk.web.routes_requests import clauses_behind
from crosswalk.web.session import Session, current, read_form

router = APIRouter(route_class=WebRoute)
Form = Annotated[dict[str, list[str]], Depends(read_form)]
SignedIn = Annotated[Session, Depends(current)]

SHOWN_STATES = ("granted", "not yet in force", "pending")
LEVELS = {
    "identified": "identified: names and identifiers, as the clause allows",
    "pseudonymised": "pseudonymised: person-level rows under a pseudonym for this purpose, "
    "no direct identifiers, birth dates as their year",
    "aggregate": "aggregate: counts and rates only, under disclosure control",
}


def _sign_in_page(
    request: Request, problem: str | None = None, status: int = 200, username: str = ""
) -> HTMLResponse:
    token = sessions.new_sign_in_token()
    response = render(
        request, "sign_in.html", None, status, problem=problem, username=username, csrf=token
    )
    sessions.keep_sign_in_token(response, token)
    return response


@router.get("/ui/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request) -> Response:
    return _sign_in_page(request)


@router.post("/ui/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, form: Form) -> Response:
    """Check the password (``Accounts.sign_in``) and start a session."""
    expected = request.cookies.get(sessions.SIGN_IN_COOKIE, "")
    if not expected:
        return _sign_in_page(request, "your sign-in form had expired: try again", 400)
    sessions.check_csrf(request, form, expected)
    username = sessions.first(form, "username").strip()[:64]
    password = sessions.first(form, "password")[:1024]
    accounts: Accounts = request.app.state.accounts
    source = request.client.host if request.client else ""
    try:
        token, secret = accounts.sign_in(username, password, source)
    except RateLimited as e:
        return _sign_in_page(request, e.message, 429, username)
    except Unauthenticated:
        return _sign_in_page(request, "the username or password is not right", 401, username)
    response = RedirectResponse("/ui/", status_code=303)
    sessions.set_session(response, secret, token.expires_at)
    response.delete_cookie(
        sessions.SIGN_IN_COOKIE, path=sessions.PATH, secure=True, httponly=True, samesite="strict"
    )
    return response


@router.post("/ui/sign-out")
def sign_out(request: Request, form: Form) -> Response:
    """End the session: its token is revoked, so the cookie is worthless even if kept."""
    response = RedirectResponse("/ui/sign-in", status_code=303)
    try:
        s = current(request)
    except CrosswalkError:
        sessions.end_session(response)
        return response
    sessions.check_csrf(request, form, s.csrf)
    request.app.state.accounts.revoke_token(s.caller.actor, s.caller.token.token_id)
    sessions.end_session(response)
    return response


def clauses_for(agreement: Agreement, agency: str, role: str) -> list[Rule]:
    """The clauses in force today that cover ``role`` of ``agency``."""
    today = clock.today()
    return [
        r
        for r in agreement.rules
        if role in r.roles
        and ("*" in r.recipients or agency in r.recipients)
        and not (r.effective_from and r.effective_from > today)
        and not (r.effective_to and r.effective_to < today)
    ]


@router.get("/ui/", response_class=HTMLResponse)
def home(request: Request, s: SignedIn) -> Response:
    """What this account may do and why: its agency, roles, and the clauses behind them."""
    agreement = agreement_now(request)
    account = s.caller.account
    party = agreement.party(account.agency)
    roles: list[dict[str, Any]] = []
    for role in account.roles:
        if role == ADMINISTRATOR:
            roles.append(
                {
                    "role": role,
                    "about": "Manages the accounts of your agency (no data access by itself).",
                    "clauses": [],
                    "purposes": [],
                }
            )
            continue
        roles.append(
            {
                "role": role,
                "about": agreement.roles.get(role, ""),
                "clauses": clauses_for(agreement, account.agency, role),
                "purposes": account_purposes(s, agreement).get(role, []),
            }
        )
    return render(
        request,
        "home.html",
        s,
        agreement=agreement,
        party=party,
        roles=roles,
        levels=LEVELS,
        token=s.caller.token,
        grants=_grants(request, s, agreement),
        asks=bool({"analyst", "researcher"} & set(account.roles)),
    )


def _grants(request: Request, s: Session, agreement: Agreement) -> list[dict[str, Any]]:
    """The account's own grants in force or to come, and its requests still waiting,
    each with the clauses that permit it (``Gate.list_requests``)."""
    if "data" not in s.caller.token.scopes:
        return []
    today = clock.today()
    out = []
    for r in request.app.state.gate.list_requests(s.username):
        state = r.state(today)
        if r.requester.user != s.username or state not in SHOWN_STATES:
            continue
        out.append(
            {
                "r": r,
                "state": state,
                "days_left": (r.ends_on - today).days + 1,
                "clauses": clauses_behind(agreement, r, today),
            }
        )
    return out


@router.get("/ui/agreement", response_class=HTMLResponse)
def agreement_page(request: Request, s: SignedIn) -> Response:
    """The agreement in force, readable: parties, data elements by sensitivity, purposes,
    and who may see what at which level."""
    agreement = agreement_now(request)
    datasets = []
    for d in agreement.datasets:
        by_class: dict[str, list[str]] = defaultdict(list)
        for element, cls in d.elements.items():
            by_class[cls].append(element)
        datasets.append({"dataset": d, "by_class": dict(sorted(by_class.items()))})
    return render(
        request,
        "agreement.html",
        s,
        agreement=agreement,
        datasets=datasets,
        levels=LEVELS,
    )
