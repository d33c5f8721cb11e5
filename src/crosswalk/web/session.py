"""Who is looking: a signed-in account's session, and the proof that a form is ours.

A session is a sign-in token of ``crosswalk.accounts`` (``Accounts.sign_in``: the
password checked, failures rate-limited and audited, 12 hours) kept in a cookie the page's
scripts cannot read (HttpOnly), sent only over HTTPS (Secure) and only with requests from
the UI's own pages (SameSite=Strict). Each request authenticates it afresh, so a disabled
account, an expired session or a revoked token stops working at once; signing out
revokes the token.

Every form carries a CSRF token: for a session, an HMAC of the session's own secret (a
page of another site can neither read it nor compute it); for the sign-in form, a random
value that must match a cookie of the same (double submit). A request whose ``Origin``
is another site's is refused before either is looked at.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from fastapi import Request, Response

from crosswalk.accounts import Accounts, Caller
from crosswalk.errors import AccessDenied, InvalidRequest, Unauthenticated

# ``__Host-``: a browser keeps such a cookie only if this very host set it, Secure, for
# the path / and no domain. A page of a sibling host (another application under the same
# parent domain) can set a plain cookie for the parent domain, which the browser then
# sends here too: with plain names, it could plant its own session (its account's) or
# its own sign-in form token (login CSRF) in a visitor's browser.
COOKIE = "__Host-crosswalk_session"
SIGN_IN_COOKIE = "__Host-crosswalk_sign_in"
PATH = "/"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 200


class SignInNeeded(Unauthenticated):
    """No session, or one that is no longer valid: the page sends the browser to sign in."""


@dataclass(frozen=True)
class Session:
    """A signed-in visitor: the account and token behind the cookie, and its CSRF token."""

    caller: Caller
    token: str

    @property
    def csrf(self) -> str:
        return csrf_for(self.token)

    @property
    def typed(self) -> str:
        return typed_proof(self.token)

    @property
    def username(self) -> str:
        return self.caller.account.username


def csrf_for(secret: str) -> str:
    """The CSRF token of a session: an HMAC of its secret, never the secret itself."""
    return hmac.new(secret.encode(), b"crosswalk web form", hashlib.sha256).hexdigest()


TYPED_FIELD = "typed"


def typed_proof(secret: str) -> str:
    """The proof, carried by a search form of the UI (a hidden field), that its free
    text was typed on one of this session's own pages: an HMAC of the session's secret,
    which a link from elsewhere cannot carry."""
    return hmac.new(secret.encode(), b"crosswalk typed search", hashlib.sha256).hexdigest()


def check_typed(request: Request, session: Session, fields: dict[str, str], what: str) -> None:
    """Refuse free text in ``fields`` that the request does not prove was typed on this
    session's page: a link cannot put its own words in a page's boxes (the refusal names
    the boxes, never their text)."""
    if not any(v.strip() for v in fields.values()):
        return
    sent = request.query_params.get(TYPED_FIELD, "")
    if not hmac.compare_digest(sent.encode(), session.typed.encode()):
        raise InvalidRequest(
            f"{what} is taken only as typed in this page's boxes, not from a link: type it there"
        )


def notice_mac(session: Session, text: str) -> str:
    """A notice's proof that this session's own request made it (an HMAC of the
    session's secret): a page shows a notice from its address only with it, so a link
    from elsewhere cannot put words of its own on a Crosswalk page."""
    message = b"crosswalk notice|" + text.encode()
    return hmac.new(session.token.encode(), message, hashlib.sha256).hexdigest()


def checked_notice(session: Session, text: str, mac: str) -> str:
    """``text`` if ``mac`` is this session's proof of it, else nothing."""
    if not text or not hmac.compare_digest(mac.encode(), notice_mac(session, text).encode()):
        return ""
    return text


def current(request: Request) -> Session:
    """The request's session; ``SignInNeeded`` without a valid one."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInNeeded("sign in to continue")
    accounts: Accounts = request.app.state.accounts
    try:
        caller = accounts.authenticate(token)
    except Unauthenticated:
        raise SignInNeeded("your session has ended: sign in again") from None
    return Session(caller, token)


def set_session(response: Response, token: str, expires_at: str) -> None:
    """Keep a sign-in token in the session cookie until the token expires."""
    left = datetime.fromisoformat(expires_at) - datetime.now(UTC)
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(int(left.total_seconds()), 0),
        path=PATH,
        secure=True,
        httponly=True,
        samesite="strict",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PATH, secure=True, httponly=True, samesite="strict")


def new_sign_in_token() -> str:
    """A fresh double-submit token for the sign-in form (``keep_sign_in_token``)."""
    return secrets.token_urlsafe(32)


def keep_sign_in_token(response: Response, value: str) -> None:
    """Set the sign-in form's token as its cookie: the form must send the same back."""
    response.set_cookie(
        SIGN_IN_COOKIE,
        value,
        max_age=3600,
        path=PATH,
        secure=True,
        httponly=True,
        samesite="strict",
    )


def check_origin(request: Request) -> None:
    """Refuse a state-changing request sent from another site's page (its ``Origin``, or
    the browser's own ``Sec-Fetch-Site``, says so)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise AccessDenied("this form was sent from another site's page: refused")
    origin = request.headers.get("origin")
    if origin is None:  # not sent by this browser: the CSRF token still decides
        return
    host = request.headers.get("host", "")
    if origin == "null" or urlsplit(origin).netloc != host:
        raise AccessDenied("this form was sent from another site's page: refused")


def check_csrf(request: Request, form: dict[str, list[str]], expected: str) -> None:
    """Refuse a form without the expected CSRF token (a field, or htmx's header)."""
    check_origin(request)
    sent = request.headers.get(CSRF_HEADER) or first(form, CSRF_FIELD)
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise AccessDenied("this form has expired or was not sent from Crosswalk: reload the page")


async def read_form(request: Request) -> dict[str, list[str]]:
    """A URL-encoded form body (what every form of the UI sends), each field's values."""
    return await parse_form(request, MAX_FIELDS)


async def parse_form(request: Request, max_fields: int) -> dict[str, list[str]]:
    """A URL-encoded form body of at most ``max_fields`` fields."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != FORM_TYPE:
        raise InvalidRequest(f"a form is sent as {FORM_TYPE}")
    body = await request.body()
    try:
        text = body.decode("utf-8")
        return parse_qs(text, keep_blank_values=True, max_num_fields=max_fields)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest(
            f"the form could not be read (UTF-8, at most {max_fields} fields)"
        ) from None


def first(form: dict[str, list[str]], name: str, default: str = "") -> str:
    values = form.get(name)
    return values[0] if values else default
