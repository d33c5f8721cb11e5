"""Rendering pages: the templates, the navigation each account sees, errors as pages.

Every page is a Jinja2 template (autoescaped) rendered from what a library function
returned. ``WebRoute`` turns Crosswalk's errors into an error page with the same message
the API would give (a refusal says why, never more than the gate does), and a missing or
ended session into a trip to the sign-in page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from crosswalk import __version__, clock
from crosswalk.accounts import ADMINISTRATOR, PRIVACY_OFFICER, STEWARD, purposes_for
from crosswalk.agreement import Agreement, agreement_in_force
from crosswalk.errors import CrosswalkError, InvalidRequest, NotFound
from crosswalk.web.session import Session, SignInNeeded

HERE = Path(__file__).parent
templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.globals["version"] = __version__

ANY_LEVEL = frozenset({"aggregate", "pseudonymised", "identified"})
PERSON_LEVELS = frozenset({"pseudonymised", "identified"})
PERSON_PURPOSES = frozenset({"care_coordination", "eligibility_verification", "research"})
# The UI's pages, the purposes that open each and the levels a clause must grant for
# them: a page shows in the navigation of an account one of whose roles some clause in
# force covers for one of those purposes at one of those levels.
PAGES: tuple[tuple[str, str, frozenset[str], frozenset[str]], ...] = (
    ("Dashboard", "/ui/dashboard", frozenset({"program_evaluation", "research"}), ANY_LEVEL),
    ("Person", "/ui/person", PERSON_PURPOSES, PERSON_LEVELS),
    ("Linkage", "/ui/linkage", frozenset({"linkage_review"}), ANY_LEVEL),
    ("Batches", "/ui/batches", frozenset({"operations"}), ANY_LEVEL),
    ("Audit", "/ui/audit", frozenset({"oversight"}), ANY_LEVEL),
)

# Who uses the data requests page: those who ask, and those who answer or revoke.
REQUEST_ROLES = frozenset({"analyst", "researcher", STEWARD, PRIVACY_OFFICER})


# The forms of the ids a page's address carries: anything else is no object of ours.
REQUEST_ID = re.compile(r"R[0-9a-f]{11}")
JOB_ID = re.compile(r"J[0-9a-f]{12}")
BATCH_ID = re.compile(r"B[0-9a-f]{12}")


def object_id(value: str, form: re.Pattern[str], what: str) -> str:
    """``value`` if it has the form of ``what``'s ids; otherwise the answer for a missing
    one, without repeating the text (a link's words are not shown on a Crosswalk page)."""
    if not form.fullmatch(value):
        raise NotFound(f"no such {what}")
    return value


def day(value: str, name: str) -> date | None:
    """A date field of a form: empty is none (a browser sends an empty date field as
    ``name=``), anything else must be a day (YYYY-MM-DD)."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidRequest(f"{name}: not a date (YYYY-MM-DD)") from None


def agreement_now(request: Request) -> Agreement:
    return agreement_in_force(clock.today(), request.app.state.hub.control)


def account_purposes(session: Session, agreement: Agreement) -> dict[str, list[str]]:
    """For each data role of the account, the purposes a clause in force covers."""
    account = session.caller.account
    today = clock.today()
    return {
        r: sorted(purposes_for(agreement, account.agency, r, today))
        for r in account.roles
        if r != ADMINISTRATOR
    }


def levels_for(session: Session, agreement: Agreement, purpose: str) -> set[str]:
    """The levels some clause in force grants a data role of the account for ``purpose``."""
    account = session.caller.account
    today = clock.today()
    return {
        r.level
        for r in agreement.rules
        if purpose in r.purposes
        and any(role in r.roles for role in account.roles if role != ADMINISTRATOR)
        and ("*" in r.recipients or account.agency in r.recipients)
        and not (r.effective_from and r.effective_from > today)
        and not (r.effective_to and r.effective_to < today)
    }


def usable_purposes(
    session: Session,
    agreement: Agreement,
    wanted: frozenset[str],
    levels: frozenset[str] = ANY_LEVEL,
) -> list[str]:
    """The purposes among ``wanted`` that some role of the account may use at one of
    ``levels``, in order."""
    if "data" not in session.caller.token.scopes:
        return []
    held = {p for ps in account_purposes(session, agreement).values() for p in ps}
    return sorted(p for p in held & wanted if levels_for(session, agreement, p) & levels)


def navigation(session: Session, agreement: Agreement) -> list[tuple[str, str]]:
    shown = [("Home", "/ui/"), ("Agreement", "/ui/agreement")]
    for title, href, purposes, levels in PAGES:
        if not usable_purposes(session, agreement, purposes, levels):
            continue
        if title == "Audit" and (
            not session.caller.has(PRIVACY_OFFICER) or "audit" not in session.caller.token.scopes
        ):
            continue
        shown.append((title, href))
    if "data" in session.caller.token.scopes and REQUEST_ROLES & set(session.caller.account.roles):
        shown.append(("Requests", "/ui/requests"))
    return shown


def render(
    request: Request,
    template: str,
    session: Session | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page (or, for an htmx request, the fragment the template names ``fragment``)."""
    page = templates.get_template(template)
    values: dict[str, Any] = {
        "request": request,
        "session": session,
        "nav": [],
        "here": request.url.path,
        **context,
    }
    if session is not None:
        values["nav"] = navigation(session, context.get("agreement") or agreement_now(request))
    fragment = request.headers.get("hx-request") == "true" and "fragment" in page.blocks
    if fragment:
        ctx = page.new_context(values)
        html = "".join(page.blocks["fragment"](ctx))
    else:
        html = page.render(values)
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, error: CrosswalkError) -> Response:
    if isinstance(error, SignInNeeded) or error.status == 401:
        target = "/ui/sign-in"
        if request.headers.get("hx-request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    try:
        from crosswalk.web.session import current

        session: Session | None = current(request)
    except CrosswalkError:
        session = None
    return render(
        request,
        "error.html",
        session,
        status=error.status,
        error=error,
    )


class WebRoute(APIRoute):
    """A route of the UI: Crosswalk's errors become pages, not problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handle(request)
            except CrosswalkError as e:
                return error_page(request, e)
            except RequestValidationError as e:
                problems = "; ".join(
                    f"{'.'.join(str(x) for x in err.get('loc', ())[1:])}: {err.get('msg')}"
                    for err in e.errors()
                )
                return error_page(request, InvalidRequest(f"the form is not valid: {problems}"))

        return page
