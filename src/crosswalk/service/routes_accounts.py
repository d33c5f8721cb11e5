"""Signing in, the caller's own account, accounts and tokens (administrators).

Thin shells over ``crosswalk.accounts``, which decides and audits every act. An account
of another agency is not there for an administrator: asking for it by name gets 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from crosswalk import clock
from crosswalk.accounts import ADMINISTRATOR, Account, Caller, Token, purposes_for
from crosswalk.agreement import agreement_in_force
from crosswalk.errors import NotFound
from crosswalk.service import problems
from crosswalk.service.auth import AccountsDep, Authenticated, HubDep, needs
from crosswalk.service.paging import Offset
from crosswalk.service.schemas import (
    AccountOut,
    Me,
    NewAccount,
    NewToken,
    Page,
    RoleGrant,
    SignIn,
    TokenOut,
    TokenRequest,
)

router = APIRouter()
Admin = Annotated[Caller, Depends(needs(ADMINISTRATOR, scope="admin"))]
# A page starts at most this far in: beyond it a database cannot take the number.
Limit = Annotated[int, Query(ge=1, le=500)]


def account_out(a: Account) -> AccountOut:
    return AccountOut(
        username=a.username,
        agency=a.agency,
        full_name=a.full_name,
        roles=list(a.roles),
        created_at=a.created_at,
        disabled=a.disabled,
        has_password=a.has_password,
    )


def token_out(t: Token) -> TokenOut:
    return TokenOut(
        token_id=t.token_id,
        username=t.username,
        scopes=list(t.scopes),
        label=t.label,
        created_at=t.created_at,
        expires_at=t.expires_at,
        revoked_at=t.revoked_at,
    )


def _new_token(t: Token, secret: str) -> NewToken:
    return NewToken(
        token=secret,
        token_id=t.token_id,
        username=t.username,
        scopes=list(t.scopes),
        expires_at=t.expires_at,
    )


def _visible(accounts: AccountsDep, who: Caller, username: str) -> Account:
    """The account, if the caller is it or administers it; else as if it did not exist."""
    try:
        target = accounts.get(username)
    except NotFound:
        target = None
    if target is None or (
        username != who.account.username and not who.actor.may_administer(target.agency)
    ):
        raise NotFound(f"no account {username!r}")
    return target


@router.post(
    "/auth/sign-in", response_model=NewToken, tags=["auth"], responses=problems.documented(429)
)
def sign_in(body: SignIn, request: Request, accounts: AccountsDep) -> NewToken:
    """Sign in with a password: a token for 12 hours. Failures are audited; after 5 within
    15 minutes the username is refused for the rest of the window (429)."""
    source = request.client.host if request.client else ""
    token, secret = accounts.sign_in(body.username, body.password, source)
    return _new_token(token, secret)


@router.get("/me", response_model=Me, tags=["auth"])
def me(who: Authenticated, hub: HubDep) -> Me:
    """The caller's account, the token's scopes and the purposes each role may choose."""
    agreement = agreement_in_force(clock.today(), hub.control)
    today = clock.today()
    return Me(
        username=who.account.username,
        agency=who.account.agency,
        roles=list(who.account.roles),
        scopes=list(who.token.scopes),
        purposes={
            r: sorted(purposes_for(agreement, who.account.agency, r, today))
            for r in who.account.roles
            if r != ADMINISTRATOR
        },
    )


@router.get("/accounts", response_model=Page[AccountOut], tags=["accounts"])
def list_accounts(
    who: Admin, accounts: AccountsDep, offset: Offset = 0, limit: Limit = 50
) -> Page[AccountOut]:
    """The accounts of the administrator's agency."""
    found, total = accounts.list_accounts(who.actor, None, offset, limit)
    return Page(items=[account_out(a) for a in found], offset=offset, limit=limit, total=total)


@router.post(
    "/accounts",
    response_model=AccountOut,
    status_code=status.HTTP_201_CREATED,
    tags=["accounts"],
    responses=problems.documented(409),
)
def add_account(body: NewAccount, who: Admin, accounts: AccountsDep) -> AccountOut:
    """Create an account in the administrator's agency."""
    return account_out(
        accounts.add(
            who.actor, body.username, body.agency, body.roles, body.full_name, body.password
        )
    )


@router.get("/accounts/{username}", response_model=AccountOut, tags=["accounts"])
def get_account(username: str, who: Authenticated, accounts: AccountsDep) -> AccountOut:
    """One account: the caller's own, or one the caller administers."""
    return account_out(_visible(accounts, who, username))


@router.post("/accounts/{username}/disable", response_model=AccountOut, tags=["accounts"])
def disable_account(username: str, who: Admin, accounts: AccountsDep) -> AccountOut:
    """Disable an account: its tokens stop working at once."""
    _visible(accounts, who, username)
    return account_out(accounts.set_disabled(who.actor, username, True))


@router.post("/accounts/{username}/enable", response_model=AccountOut, tags=["accounts"])
def enable_account(username: str, who: Admin, accounts: AccountsDep) -> AccountOut:
    _visible(accounts, who, username)
    return account_out(accounts.set_disabled(who.actor, username, False))


@router.post(
    "/accounts/{username}/roles",
    response_model=AccountOut,
    tags=["accounts"],
    responses=problems.documented(409),
)
def grant_role(username: str, body: RoleGrant, who: Admin, accounts: AccountsDep) -> AccountOut:
    _visible(accounts, who, username)
    return account_out(accounts.grant(who.actor, username, body.role))


@router.delete("/accounts/{username}/roles/{role}", response_model=AccountOut, tags=["accounts"])
def revoke_role(username: str, role: str, who: Admin, accounts: AccountsDep) -> AccountOut:
    _visible(accounts, who, username)
    return account_out(accounts.revoke_role(who.actor, username, role))


@router.get("/accounts/{username}/tokens", response_model=Page[TokenOut], tags=["tokens"])
def list_tokens(
    username: str,
    who: Authenticated,
    accounts: AccountsDep,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[TokenOut]:
    """An account's tokens (ids, scopes, expiry; never a secret)."""
    _visible(accounts, who, username)
    found = accounts.tokens(who.actor, username)
    page = found[offset : offset + limit]
    return Page(items=[token_out(t) for t in page], offset=offset, limit=limit, total=len(found))


@router.post(
    "/accounts/{username}/tokens",
    response_model=NewToken,
    status_code=status.HTTP_201_CREATED,
    tags=["tokens"],
)
def create_token(
    username: str, body: TokenRequest, who: Authenticated, accounts: AccountsDep
) -> NewToken:
    """Make a token for the caller's own account, no wider than the caller's token (an
    administrator makes none for another account: 403); the token is in this answer only."""
    _visible(accounts, who, username)
    token, secret = accounts.create_token(
        who.actor, username, scopes=body.scopes, days=body.days, label=body.label
    )
    return _new_token(token, secret)


@router.delete("/tokens/{token_id}", response_model=TokenOut, tags=["tokens"])
def revoke_token(token_id: str, who: Authenticated, accounts: AccountsDep) -> TokenOut:
    """Revoke a token (its owner or its account's administrator); at once."""
    return token_out(accounts.revoke_token(who.actor, token_id))
