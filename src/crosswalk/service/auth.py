"""Who is asking: the bearer token's account, never anything the request says.

``caller`` authenticates every request that needs it; ``needs`` narrows an operation to
accounts holding a role and a token carrying a scope; ``principal`` is the caller in a
role for a purpose. Every refusal these decide is audited (``data.denied``, through
``refuse``) before the 403 is returned. Which data the caller may see is then the gate's
decision, not this module's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from crosswalk.accounts import Accounts, Caller
from crosswalk.agreement import Agreement, Principal
from crosswalk.errors import AccessDenied, Unauthenticated
from crosswalk.hub import Hub

_bearer = HTTPBearer(auto_error=False, description="An API token: cwt_<id>_<secret>.")


# The dependencies that only look something up are ``async``: FastAPI runs a plain
# function in its thread pool, one hop per dependency of every request.
async def hub(request: Request) -> Hub:
    return request.app.state.hub


def accounts(request: Request) -> Accounts:
    return request.app.state.accounts


async def _accounts(request: Request) -> Accounts:
    return accounts(request)


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The authenticated caller; 401 for a missing, malformed, forged, expired or revoked
    token or a disabled account."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("sign in: send Authorization: Bearer <token>")
    source = request.client.host if request.client else ""
    return accounts(request).authenticate(credentials.credentials, source)


def refuse(request: Request, who: Caller, message: str, purpose: str | None = None) -> AccessDenied:
    """Audit a refusal decided here, before the gate (``Accounts.refused``: a
    ``data.denied`` entry with the authenticated account, the purpose asked and the
    operation); the error to raise."""
    return accounts(request).refused(
        who,
        message,
        purpose if purpose is not None else request.query_params.get("purpose"),
        f"{request.method} {request.url.path}",
    )


def needs(*roles: str, scope: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency: the caller, if their token has ``scope`` and they hold one of ``roles``."""

    async def check(request: Request, who: Annotated[Caller, Depends(caller)]) -> Caller:
        # A refusal writes its audit entry (a commit) in the thread pool, not the loop.
        if scope not in who.token.scopes:
            why = f"this token may not be used for this (scope {scope!r})"
            raise await run_in_threadpool(refuse, request, who, why)
        if roles and not any(who.has(r) for r in roles):
            why = f"this needs the role {' or '.join(roles)}"
            raise await run_in_threadpool(refuse, request, who, why)
        return who

    return check


def principal(
    request: Request, who: Caller, agreement: Agreement, purpose: str, role: str | None
) -> Principal:
    """The caller as the principal of a read for ``purpose`` (``Caller.principal``); its
    refusal (no such role held, no clause for the purpose, no data scope) is audited."""
    try:
        return who.principal(agreement, purpose, role)
    except AccessDenied as e:
        raise refuse(request, who, str(e), purpose) from None


Authenticated = Annotated[Caller, Depends(caller)]
HubDep = Annotated[Hub, Depends(hub)]
AccountsDep = Annotated[Accounts, Depends(_accounts)]
