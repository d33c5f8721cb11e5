"""Who is asking: the bearer token's account, never anything the request says.

``caller`` authenticates every request that needs it; ``needs`` narrows an operation to
accounts holding a role and a token carrying a scope. Which data the caller may see is
then the gate's decision, not this module's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crosswalk.accounts import Accounts, Caller
from crosswalk.errors import AccessDenied, Unauthenticated
from crosswalk.hub import Hub

_bearer = HTTPBearer(auto_error=False, description="An API token: cwt_<id>_<secret>.")


def hub(request: Request) -> Hub:
    return request.app.state.hub


def accounts(request: Request) -> Accounts:
    return request.app.state.accounts


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The authenticated caller; 401 for a missing, malformed, forged, expired or revoked
    token or a disabled account."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("sign in: send Authorization: Bearer <token>")
    return accounts(request).authenticate(credentials.credentials)


def needs(*roles: str, scope: str) -> Callable[..., Caller]:
    """A dependency: the caller, if their token has ``scope`` and they hold one of ``roles``."""

    def check(who: Annotated[Caller, Depends(caller)]) -> Caller:
        if scope not in who.token.scopes:
            raise AccessDenied(f"this token may not be used for this (scope {scope!r})")
        if roles and not any(who.has(r) for r in roles):
            raise AccessDenied(f"this needs the role {' or '.join(roles)}")
        return who

    return check


Authenticated = Annotated[Caller, Depends(caller)]
HubDep = Annotated[Hub, Depends(hub)]
AccountsDep = Annotated[Accounts, Depends(accounts)]
