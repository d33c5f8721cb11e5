"""Accounts, roles and API tokens in the control plane, and signing in.

Every administrative act names its actor and is decided and audited here, in the library,
whichever edge calls it (the CLI, the service): an administrator manages the accounts of
their own agency; the host operator (the person at the server's shell, who has the
control plane's files anyway) may manage any, and is recorded as ``operator:<login>``.
A refused act is audited as well as a done one.
"""

from __future__ import annotations

import getpass
import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from crosswalk import clock, migrations
from crosswalk.accounts import credentials
from crosswalk.accounts.tables import account, account_role, api_token, sign_in_attempt
from crosswalk.agreement import Agreement, Principal, agreement_in_force
from crosswalk.audit import AccessDenied as DataDenied
from crosswalk.audit import AccountChanged, AuditLog, Login, SignInFailed, TokenChanged
from crosswalk.errors import (
    AccessDenied,
    AlreadyExists,
    ConfigError,
    NotFound,
    RateLimited,
    Unauthenticated,
)

ADMINISTRATOR = "administrator"
PRIVACY_OFFICER = "privacy_officer"
STEWARD = "steward"
# What a token may be used for; the account's roles still decide each request.
SCOPES = ("data", "audit", "admin")
MAX_FAILURES = 5  # failed sign-ins of one username ...
FAILURE_WINDOW = timedelta(minutes=15)  # ... within this long lock it for the rest of it
MAX_SOURCE_FAILURES = 20  # failed sign-ins from one address, whatever the usernames, ...
# ... within FAILURE_WINDOW refuse that address (password spraying across many accounts)
SIGN_IN_HOURS = 12  # a token from a password sign-in lasts this long
MAX_TOKEN_DAYS = 365
USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")
NOT_SIGNED_IN = "the token or the username and password are not valid"


def now() -> datetime:
    return datetime.now(UTC)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Account:
    username: str
    agency: str
    full_name: str
    roles: tuple[str, ...]
    created_at: str
    disabled: bool = False
    has_password: bool = False


@dataclass(frozen=True)
class Token:
    """An API token as stored: never its secret."""

    token_id: str
    username: str
    scopes: tuple[str, ...]
    label: str
    created_at: str
    expires_at: str
    revoked_at: str | None = None

    def active(self, at: datetime) -> bool:
        return self.revoked_at is None and _iso(at) < self.expires_at


@dataclass(frozen=True)
class Actor:
    """Who performs an act: a signed-in account, or the host operator."""

    user: str
    agency: str | None
    roles: frozenset[str]
    scopes: frozenset[str] = frozenset(SCOPES)
    operator: bool = False
    token_id: str | None = None  # the token it authenticated with, if any
    token_expires: str | None = None  # and when that token expires

    @classmethod
    def host_operator(cls) -> Actor:
        return cls(f"operator:{getpass.getuser()}", None, frozenset(), operator=True)

    @property
    def role(self) -> str:
        return "operator" if self.operator else ",".join(sorted(self.roles))

    def may_administer(self, agency: str) -> bool:
        return self.operator or (
            ADMINISTRATOR in self.roles and self.agency == agency and "admin" in self.scopes
        )


@dataclass(frozen=True)
class Caller:
    """An authenticated request's account and the token it came with."""

    account: Account
    token: Token

    @property
    def actor(self) -> Actor:
        return Actor(
            self.account.username,
            self.account.agency,
            frozenset(self.account.roles),
            frozenset(self.token.scopes),
            token_id=self.token.token_id,
            token_expires=self.token.expires_at,
        )

    def has(self, role: str) -> bool:
        return role in self.account.roles

    def principal(self, agreement: Agreement, purpose: str, role: str | None = None) -> Principal:
        """The principal of a request for ``purpose``: the account itself, in a role it
        holds whose clauses cover the purpose (``role``, if the request names one).

        A purpose that no clause covers for any role of the account is refused here.
        """
        if "data" not in self.token.scopes:
            raise AccessDenied("this token may not be used to read data (scope 'data')")
        held = [r for r in self.account.roles if r != ADMINISTRATOR]
        if role is not None and role not in held:
            raise AccessDenied(f"{self.account.username} does not hold the role {role!r}")
        candidates = [role] if role is not None else held
        today = clock.today()
        for r in candidates:
            if purpose in purposes_for(agreement, self.account.agency, r, today):
                return Principal(self.account.username, self.account.agency, r)
        raise AccessDenied(
            f"no clause of the agreement lets {self.account.username} "
            f"({', '.join(candidates) or 'no data role'}, {self.account.agency}) "
            f"use data for {purpose!r}"
        )


def purposes_for(agreement: Agreement, agency: str, role: str, today: object) -> set[str]:
    """The purposes some clause in force covers for a role of an agency."""
    out: set[str] = set()
    for rule in agreement.rules:
        if (rule.effective_from and rule.effective_from > today) or (  # type: ignore[operator]
            rule.effective_to and rule.effective_to < today  # type: ignore[operator]
        ):
            continue
        if role in rule.roles and ("*" in rule.recipients or agency in rule.recipients):
            out.update(rule.purposes)
    return out


class Accounts:
    """The accounts of one control plane (migrated to the newest revision)."""

    def __init__(self, engine: sa.Engine, audit: AuditLog) -> None:
        migrations.require_current(engine)
        self.engine = engine
        self.audit = audit
        self._sources = SourceLimiter(MAX_SOURCE_FAILURES, FAILURE_WINDOW)

    # -- reading -----------------------------------------------------------------------

    def get(self, username: str) -> Account:
        with self.engine.connect() as conn:
            found = self._account(conn, username)
        if found is None:
            raise NotFound(f"no account {username!r}")
        return found

    @staticmethod
    def _account(conn: sa.Connection, username: str) -> Account | None:
        row = conn.execute(sa.select(account).where(account.c.username == username)).first()
        if row is None:
            return None
        roles = conn.execute(
            sa.select(account_role.c.role)
            .where(account_role.c.username == username)
            .order_by(account_role.c.role)
        ).scalars()
        return Account(
            row.username,
            row.agency,
            row.full_name,
            tuple(roles),
            row.created_at,
            row.disabled_at is not None,
            row.password_hash is not None,
        )

    def list_accounts(
        self, actor: Actor, agency: str | None = None, offset: int = 0, limit: int = 100
    ) -> tuple[list[Account], int]:
        """Accounts the actor administers (an administrator: their agency's), and how many."""
        if not actor.operator:
            if not actor.may_administer(actor.agency or ""):
                raise AccessDenied(f"{actor.user} does not administer accounts")
            if agency is not None and agency != actor.agency:
                raise AccessDenied(f"{actor.user} administers the accounts of {actor.agency} only")
            agency = actor.agency
        where = [] if agency is None else [account.c.agency == agency]
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(account).where(*where))
            names = conn.execute(
                sa.select(account.c.username)
                .where(*where)
                .order_by(account.c.username)
                .offset(offset)
                .limit(limit)
            ).scalars()
            count, usernames = total.scalar_one(), list(names)
        return [self.get(u) for u in usernames], count

    def tokens(self, actor: Actor, username: str) -> list[Token]:
        """An account's tokens (its owner or its administrator)."""
        target = self.get(username)
        if actor.user != username and not actor.may_administer(target.agency):
            raise AccessDenied(f"{actor.user} may not see the tokens of {username}")
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(api_token)
                .where(api_token.c.username == username)
                .order_by(api_token.c.created_at, api_token.c.token_id)
            ).all()
        return [_token(r) for r in rows]

    # -- administrative acts -----------------------------------------------------------

    def _authorise(self, actor: Actor, agency: str, change: Mapping[str, object]) -> None:
        if not actor.may_administer(agency):
            self._audit_account(actor, agency, change, "denied")
            raise AccessDenied(f"{actor.user} may not administer the accounts of {agency}")

    def _audit_account(
        self, actor: Actor, agency: str, change: Mapping[str, object], outcome: str = "ok"
    ) -> None:
        self.audit.record(
            AccountChanged(
                actor.user,
                actor.agency,
                actor.role,
                objects={**change, "account_agency": agency},
                outcome=outcome,
            )
        )

    def add(
        self,
        actor: Actor,
        username: str,
        agency: str,
        roles: list[str],
        full_name: str = "",
        password: str | None = None,
    ) -> Account:
        """Create an account in ``agency`` with ``roles`` (each a role of the agreement,
        or administrator) and, optionally, a password."""
        agreement = agreement_in_force(clock.today(), self.engine)
        change: dict[str, object] = {"account": username, "change": "created", "roles": roles}
        self._authorise(actor, agency, change)
        problems = []
        if not USERNAME.fullmatch(username):
            problems.append(
                "a username is 2 to 64 characters: lower-case letters, digits, '.', '_' or "
                f"'-', starting with a letter (not {username!r})"
            )
        if agreement.party(agency) is None:
            problems.append(f"{agency!r} is not a party of the agreement in force")
        # The agreement names stewards and privacy officers by username: such a name is
        # only for an account of the party that names it.
        named = [
            p.code
            for p in agreement.parties
            if username in p.stewards or username in getattr(p, "privacy_officers", [])
        ]
        if named and agency not in named:
            problems.append(
                f"the agreement names {username} for {', '.join(named)}: the account must "
                "belong to that agency"
            )
        problems += [p for r in roles if (p := _role_problem(agreement, r))]
        if problems:
            raise ConfigError("; ".join(problems))
        if password is not None:
            _check_password(password)
        at = _iso(now())
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    account.insert().values(
                        username=username,
                        agency=agency,
                        full_name=full_name[:128],
                        password_hash=None
                        if password is None
                        else credentials.hash_password(password),
                        created_at=at,
                        created_by=actor.user,
                    )
                )
                for r in dict.fromkeys(roles):
                    conn.execute(
                        account_role.insert().values(
                            username=username, role=r, granted_by=actor.user, granted_at=at
                        )
                    )
        except sa.exc.IntegrityError:
            raise AlreadyExists(f"an account {username!r} already exists") from None
        self._audit_account(actor, agency, change)
        return self.get(username)

    def grant(self, actor: Actor, username: str, role: str) -> Account:
        """Grant a role (an administrator of the account's agency, never to themself)."""
        target = self.get(username)
        change = {"account": username, "change": "role granted", "role": role}
        self._authorise(actor, target.agency, change)
        if not actor.operator and actor.user == username:
            self._audit_account(actor, target.agency, change, "denied")
            raise AccessDenied(f"{actor.user} may not grant a role to themself")
        agreement = agreement_in_force(clock.today(), self.engine)
        if problem := _role_problem(agreement, role):
            raise ConfigError(problem)
        if role in target.roles:
            raise AlreadyExists(f"{username} already holds the role {role}")
        with self.engine.begin() as conn:
            conn.execute(
                account_role.insert().values(
                    username=username, role=role, granted_by=actor.user, granted_at=_iso(now())
                )
            )
        self._audit_account(actor, target.agency, change)
        return self.get(username)

    def revoke_role(self, actor: Actor, username: str, role: str) -> Account:
        target = self.get(username)
        change = {"account": username, "change": "role revoked", "role": role}
        self._authorise(actor, target.agency, change)
        if role not in target.roles:
            raise NotFound(f"{username} does not hold the role {role}")
        with self.engine.begin() as conn:
            conn.execute(
                account_role.delete().where(
                    account_role.c.username == username, account_role.c.role == role
                )
            )
        self._audit_account(actor, target.agency, change)
        return self.get(username)

    def set_disabled(self, actor: Actor, username: str, disabled: bool = True) -> Account:
        """Disable an account (its tokens stop working at once) or enable it again."""
        target = self.get(username)
        change = {"account": username, "change": "disabled" if disabled else "enabled"}
        self._authorise(actor, target.agency, change)
        with self.engine.begin() as conn:
            conn.execute(
                account.update()
                .where(account.c.username == username)
                .values(disabled_at=_iso(now()) if disabled else None)
            )
        self._audit_account(actor, target.agency, change)
        return self.get(username)

    def set_password(self, actor: Actor, username: str, password: str) -> None:
        """Set a password (the account itself, or its administrator)."""
        target = self.get(username)
        change = {"account": username, "change": "password set"}
        if actor.user != username:
            self._authorise(actor, target.agency, change)
        _check_password(password)
        with self.engine.begin() as conn:
            conn.execute(
                account.update()
                .where(account.c.username == username)
                .values(password_hash=credentials.hash_password(password))
            )
        self._audit_account(actor, target.agency, change)

    # -- tokens ------------------------------------------------------------------------

    def create_token(
        self,
        actor: Actor,
        username: str,
        *,
        scopes: list[str] | None = None,
        days: int = 30,
        label: str = "",
    ) -> tuple[Token, str]:
        """Make a token for an account: by the account itself, for a token no wider than
        the one it uses, or by the host operator. An administrator makes no token for
        another account (a token for someone else would act as them). Returns the token
        and its secret, which is shown this once and never stored."""
        target = self.get(username)
        wanted = default_scopes(target.roles) if scopes is None else list(dict.fromkeys(scopes))
        objects: dict[str, object] = {"account": username, "change": "created", "scopes": wanted}
        if not actor.operator and actor.user != username:
            self._audit_token(actor, objects, "denied")
            raise AccessDenied(
                f"{actor.user} may not make tokens for {username}: a token is made by its "
                "own account or by the host operator"
            )
        problems = [
            f"unknown scope {s!r}; scopes are {', '.join(SCOPES)}"
            for s in wanted
            if s not in SCOPES
        ]
        if not actor.operator and not set(wanted) <= actor.scopes:
            problems.append("a token cannot carry scopes its maker's token lacks")
        if not 1 <= days <= MAX_TOKEN_DAYS:
            problems.append(f"a token lasts 1 to {MAX_TOKEN_DAYS} days, not {days}")
        if not wanted:
            problems.append("a token needs at least one scope")
        if target.disabled:
            problems.append(f"the account {username} is disabled")
        if problems:
            raise ConfigError("; ".join(problems))
        return self._issue(actor, username, wanted, timedelta(days=days), label, objects)

    def _issue(
        self,
        actor: Actor,
        username: str,
        scopes: list[str],
        lifetime: timedelta,
        label: str,
        objects: Mapping[str, object],
    ) -> tuple[Token, str]:
        token_id, secret, digest = credentials.new_token()
        made = now()
        expires = _iso(made + lifetime)
        if not actor.operator and actor.token_expires is not None:
            # A token outlives neither the token it was made with nor, through
            # ``made_with``, its revocation: a stolen session makes nothing that lasts.
            expires = min(expires, actor.token_expires)
        token = Token(token_id, username, tuple(scopes), label[:128], _iso(made), expires)
        with self.engine.begin() as conn:
            conn.execute(
                api_token.insert().values(
                    token_id=token_id,
                    username=username,
                    secret_sha256=digest,
                    scopes=" ".join(token.scopes),
                    label=token.label,
                    created_at=token.created_at,
                    created_by=actor.user,
                    expires_at=token.expires_at,
                    made_with=None if actor.operator else actor.token_id,
                )
            )
        self._audit_token(actor, {**objects, "token": token_id, "expires_at": token.expires_at})
        return token, secret

    def revoke_token(self, actor: Actor, token_id: str) -> Token:
        """Revoke a token (its owner or its account's administrator) and every token made
        with it, and made with those, in turn; at once."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(api_token).where(api_token.c.token_id == token_id)).first()
        if row is None:
            raise NotFound(f"no token {token_id!r}")
        target = self.get(row.username)
        objects = {"account": row.username, "change": "revoked", "token": token_id}
        if actor.user != row.username and not actor.may_administer(target.agency):
            self._audit_token(actor, objects, "denied")
            raise NotFound(f"no token {token_id!r}")  # another agency's token is not there
        at = _iso(now())
        made: list[str] = []
        with self.engine.begin() as conn:
            wave = [token_id]
            while wave:
                conn.execute(
                    api_token.update()
                    .where(api_token.c.token_id.in_(wave), api_token.c.revoked_at.is_(None))
                    .values(revoked_at=at)
                )
                wave = list(
                    conn.execute(
                        sa.select(api_token.c.token_id).where(
                            api_token.c.made_with.in_(wave), api_token.c.revoked_at.is_(None)
                        )
                    ).scalars()
                )
                made += wave
        self._audit_token(actor, {**objects, "made_with_it": made} if made else objects)
        with self.engine.connect() as conn:
            return _token(
                conn.execute(sa.select(api_token).where(api_token.c.token_id == token_id)).one()
            )

    def _audit_token(
        self, actor: Actor, objects: Mapping[str, object], outcome: str = "ok"
    ) -> None:
        self.audit.record(
            TokenChanged(
                actor.user, actor.agency, actor.role, objects=dict(objects), outcome=outcome
            )
        )

    # -- signing in --------------------------------------------------------------------

    def authenticate(self, token: str, source: str = "") -> Caller:
        """The caller a token stands for; ``Unauthenticated`` for a malformed, forged,
        expired or revoked token or a disabled account (one answer for every case, and
        each refusal audited as ``session.failed`` with why: the answer says nothing, the
        log says it all). ``source`` says where the token came from (an address, the CLI)."""
        parsed = credentials.parse_token(token)
        if parsed is None:
            raise self._not_signed_in(None, None, "malformed token", source)
        token_id, digest = parsed
        with self.engine.connect() as conn:
            rows = conn.execute(_TOKEN_AND_ACCOUNT, {"token_id": token_id}).all()
        row = rows[0] if rows else None
        who = None if row is None or row.agency is None else _account_of(rows)
        if row is None:
            raise self._not_signed_in(None, token_id, "unknown token", source)
        if not credentials.same_digest(row.secret_sha256, digest):
            raise self._not_signed_in(row.username, token_id, "wrong secret", source)
        found = _token(row)
        if found.revoked_at is not None:
            raise self._not_signed_in(row.username, token_id, "revoked token", source)
        if not found.active(now()):
            raise self._not_signed_in(row.username, token_id, "expired token", source)
        if who is None:
            raise NotFound(f"no account {found.username!r}")
        if who.disabled:
            raise self._not_signed_in(row.username, token_id, "disabled account", source)
        return Caller(who, found)

    def _not_signed_in(
        self, username: str | None, token_id: str | None, why: str, source: str
    ) -> Unauthenticated:
        objects: dict[str, object] = {"why": why, "source": source[:64]}
        if token_id is not None:
            objects["token"] = token_id  # the id only: never the secret
        self.audit.record(SignInFailed(username or "(unknown)", objects=objects))
        return Unauthenticated(NOT_SIGNED_IN)

    def principal(
        self, caller: Caller, purpose: str, role: str | None = None, operation: str = ""
    ) -> Principal:
        """The caller as the principal of a read for ``purpose`` (``Caller.principal``,
        against the agreement in force today); a refusal (a role not held, no clause for
        the purpose, no data scope) is audited before it is raised."""
        agreement = agreement_in_force(clock.today(), self.engine)
        try:
            return caller.principal(agreement, purpose, role)
        except AccessDenied as e:
            raise self.refused(caller, str(e), purpose, operation) from None

    def refused(
        self, caller: Caller, message: str, purpose: str | None, operation: str
    ) -> AccessDenied:
        """Audit a refusal decided before the gate (``data.denied`` with the authenticated
        account, the purpose asked and the operation); the error to raise."""
        self.audit.record(
            DataDenied(
                caller.account.username,
                caller.account.agency,
                None,
                purpose,
                {"operation": operation},
                {"decision": "deny", "reasons": [message]},
                0,
                "denied",
            )
        )
        return AccessDenied(message)

    def sign_in(self, username: str, password: str, source: str = "") -> tuple[Token, str]:
        """Check a password and make a sign-in token (12 hours, the account's scopes).

        After ``MAX_FAILURES`` failures within ``FAILURE_WINDOW`` the username is refused
        until the window has passed, even with the right password; after
        ``MAX_SOURCE_FAILURES`` failures from one source (the client's address), whatever
        usernames it tried, so is that source (kept in this process: the service's one
        ``Accounts``). Each attempt is counted before its password is checked, so attempts
        made at once cannot all pass the count. Every refusal and every sign-in is
        audited.
        """
        name = username[:64]
        at = now()
        objects = {"account": name, "source": source[:64]}
        if source and self._sources.blocked(source, at):
            self.audit.record(
                SignInFailed(name, objects={**objects, "why": "too many attempts from this source"})
            )
            raise RateLimited(
                "too many failed sign-ins from this address: try again in "
                f"{int(FAILURE_WINDOW.total_seconds() // 60)} minutes"
            )
        attempt = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(
                sign_in_attempt.insert().values(attempt_id=attempt, username=name, at=_iso(at))
            )
        since = _iso(at - FAILURE_WINDOW)
        with self.engine.connect() as conn:
            # This attempt counts too: with N already made, it is attempt N + 1.
            attempts = conn.execute(
                sa.select(sa.func.count())
                .select_from(sign_in_attempt)
                .where(sign_in_attempt.c.username == name, sign_in_attempt.c.at > since)
            ).scalar_one()
            row = conn.execute(
                sa.select(account.c.password_hash, account.c.disabled_at, account.c.agency).where(
                    account.c.username == name
                )
            ).first()
        if attempts > MAX_FAILURES:
            self.audit.record(SignInFailed(name, objects={**objects, "why": "too many attempts"}))
            raise RateLimited(
                f"too many failed sign-ins for {name!r}: try again in "
                f"{int(FAILURE_WINDOW.total_seconds() // 60)} minutes"
            )
        matches = credentials.password_matches(None if row is None else row.password_hash, password)
        if not matches or row is None or row.disabled_at is not None:
            if source:
                self._sources.failed(source, at)
            why = "disabled" if matches and row is not None else "wrong username or password"
            self.audit.record(SignInFailed(name, objects={**objects, "why": why}))
            raise Unauthenticated(NOT_SIGNED_IN)
        with self.engine.begin() as conn:
            conn.execute(sign_in_attempt.delete().where(sign_in_attempt.c.username == name))
        who = self.get(name)
        self.audit.record(Login(name, who.agency, ",".join(who.roles), objects=objects))
        actor = Actor(name, who.agency, frozenset(who.roles))
        scopes = default_scopes(who.roles)
        change = {"account": name, "change": "created", "scopes": scopes}
        return self._issue(actor, name, scopes, timedelta(hours=SIGN_IN_HOURS), "sign-in", change)


class SourceLimiter:
    """Failed sign-ins per source in a sliding window, in memory (one process's view)."""

    def __init__(self, limit: int, window: timedelta, sources: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.sources = sources  # at most this many sources remembered (oldest forgotten)
        self._failures: dict[str, list[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, source: str, at: datetime) -> list[datetime]:
        kept = [t for t in self._failures.get(source, []) if t > at - self.window]
        if kept:
            self._failures[source] = kept
        else:
            self._failures.pop(source, None)
        return kept

    def blocked(self, source: str, at: datetime) -> bool:
        with self._lock:
            return len(self._recent(source, at)) >= self.limit

    def failed(self, source: str, at: datetime) -> None:
        with self._lock:
            if source not in self._failures and len(self._failures) >= self.sources:
                self._failures.pop(next(iter(self._failures)))
            self._failures.setdefault(source, []).append(at)


def default_scopes(roles: tuple[str, ...] | list[str]) -> list[str]:
    """The scopes an account's roles can use: data for a data role, audit for a privacy
    officer, admin for an administrator."""
    out = []
    if any(r != ADMINISTRATOR for r in roles):
        out.append("data")
    if PRIVACY_OFFICER in roles:
        out.append("audit")
    if ADMINISTRATOR in roles:
        out.append("admin")
    return out


def _role_problem(agreement: Agreement, role: str) -> str | None:
    if role == ADMINISTRATOR or role in agreement.roles:
        return None
    return f"unknown role {role!r}; roles are {', '.join([*agreement.roles, ADMINISTRATOR])}"


def _check_password(password: str) -> None:
    if len(password) < credentials.MIN_PASSWORD:
        raise ConfigError(f"a password has at least {credentials.MIN_PASSWORD} characters")


# A token, its account and the account's roles, in one query (one row per role): read
# afresh for every request, so a revocation or a disabled account counts from the next.
_TOKEN_AND_ACCOUNT = (
    sa.select(
        *api_token.c,
        account.c.agency,
        account.c.full_name,
        account.c.created_at.label("account_created_at"),
        account.c.disabled_at,
        (account.c.password_hash.is_not(None)).label("has_password"),
        account_role.c.role,
    )
    .select_from(
        api_token.outerjoin(account, account.c.username == api_token.c.username).outerjoin(
            account_role, account_role.c.username == api_token.c.username
        )
    )
    .where(api_token.c.token_id == sa.bindparam("token_id"))
    .order_by(account_role.c.role)
)


def _account_of(rows: Sequence[Any]) -> Account:
    """The account of ``_TOKEN_AND_ACCOUNT``'s rows, with its roles."""
    row = rows[0]
    return Account(
        row.username,
        row.agency,
        row.full_name,
        tuple(r.role for r in rows if r.role is not None),
        row.account_created_at,
        row.disabled_at is not None,
        bool(row.has_password),
    )


def _token(row: sa.Row) -> Token:
    return Token(
        row.token_id,
        row.username,
        tuple(row.scopes.split()),
        row.label,
        row.created_at,
        row.expires_at,
        row.revoked_at,
    )
