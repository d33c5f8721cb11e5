"""Who asks and why: the CLI signs in with an API token, as the service does.

The token comes from ``--token-file``, else ``$CROSSWALK_TOKEN``, else the token file
(``$CROSSWALK_TOKEN_FILE``, default ``~/.config/crosswalk/token``); a token file that its
group or others can read, or that another user owns, is refused. The token is checked by
``Accounts.authenticate``, the function the service calls for a bearer token (a failure is
audited there), and the principal of a read is that account in a role it holds
(``--role``) for a purpose one of its clauses covers (``--purpose``): ``Accounts.principal``,
the rules of the API. Nothing on the command line names a user or an agency; a profile
file holds defaults for the role and the purpose only.

``reads`` and ``acts`` add these options to a command and resolve them, once for every
command: a command never sees a token, only who signed in.
"""

from __future__ import annotations

import getpass
import inspect
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import BaseModel, ConfigDict

from crosswalk import settings, stores, yamlfile
from crosswalk.errors import ConfigError, Unauthenticated

if TYPE_CHECKING:  # accounts load the agreement, the audit log and Alembic: only on use
    from crosswalk.accounts import Accounts, Actor, Caller
    from crosswalk.agreement import Principal

Role = Annotated[
    str | None,
    typer.Option(
        help="The role to ask in, one your account holds (default: the profile's, else "
        "the first whose clauses cover the purpose)."
    ),
]
Purpose = Annotated[str | None, typer.Option(help="The purpose, e.g. care_coordination.")]
ProfileFile = Annotated[
    Path | None,
    typer.Option(
        "--profile",
        help="YAML file with defaults for role and purpose (default: $CROSSWALK_PROFILE, "
        "if it exists).",
    ),
]
TokenFile = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        help="File holding your API token, owner-only (default: $CROSSWALK_TOKEN, else "
        "$CROSSWALK_TOKEN_FILE).",
    ),
]
Control = Annotated[str | None, typer.Option("--control", help="Control-plane SQLAlchemy URL.")]


class Profile(BaseModel):
    """A profile file: a role and a purpose, and nothing else (who you are is the token's)."""

    model_config = ConfigDict(extra="forbid")

    role: str | None = None
    purpose: str | None = None


@dataclass(frozen=True)
class SignedIn:
    """The account a token authenticated, and the control plane it was checked against."""

    accounts: Accounts
    caller: Caller

    @property
    def user(self) -> str:
        return self.caller.account.username

    def needs_scope(self, scope: str, operation: str) -> None:
        """Refuse (audited) unless the token carries ``scope``, as the service does."""
        if scope not in self.caller.token.scopes:
            raise self.accounts.refused(
                self.caller,
                f"this token may not be used for this (scope {scope!r})",
                None,
                operation,
            )


@dataclass(frozen=True)
class Asker:
    """A read's principal (the signed-in account in one of its roles) and purpose."""

    signed_in: SignedIn
    principal: Principal
    purpose: str


def _not_signed_in() -> Unauthenticated:
    return Unauthenticated(
        "not signed in: set CROSSWALK_TOKEN, keep your token in "
        f"{settings.TOKEN_FILE.value()} (chmod 600) or give --token-file; the host "
        "operator makes one with `crosswalk token create USERNAME`"
    )


def read_token_file(path: Path) -> str:
    """The token kept in ``path``, refused unless the file is its owner's alone."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"no token file {path}") from None
    except OSError as e:
        raise ConfigError(f"cannot read the token file {path}: {e.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"the token file {path} is not a file")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"the token file {path} can be read by others (mode {mode:o}): make it "
            "owner-only (chmod 600)"
        )
    if info.st_uid != os.getuid():
        raise ConfigError(f"the token file {path} belongs to another user")
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read the token file {path}: {e}") from None
    if not text:
        raise ConfigError(f"the token file {path} is empty")
    return text


def find_token(token_file: Path | None) -> str:
    """The token: ``token_file``, else ``$CROSSWALK_TOKEN``, else the default token file."""
    if token_file is not None:
        return read_token_file(token_file)
    if text := settings.TOKEN.value().strip():
        return text
    default = Path(settings.TOKEN_FILE.value()).expanduser()
    if default.exists():
        return read_token_file(default)
    raise _not_signed_in()


def sign_in(token_file: Path | None, control: str | None) -> SignedIn:
    """Authenticate the CLI's token against the control plane (``Accounts.authenticate``)."""
    from crosswalk.accounts import Accounts
    from crosswalk.audit import AuditLog

    token = find_token(token_file)
    engine = stores.control_engine(control)
    accounts = Accounts(engine, AuditLog(engine))
    return SignedIn(accounts, accounts.authenticate(token, f"cli:{getpass.getuser()}"))


def profile_defaults(profile: Path | None) -> dict[str, str]:
    """Role and purpose from ``profile``, else from ``$CROSSWALK_PROFILE`` if it exists.

    A profile with any other key (``user``, ``agency``, a misspelt ``purpose``) is
    refused, naming the key and its line: who asks is the token's, and a typo must not
    leave a read to an unintended default."""
    if profile is None:
        default = Path(settings.PROFILE.value()).expanduser()
        if not default.exists():
            return {}
        profile = default
    try:
        text = profile.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read profile {profile}: {e.strerror}") from None
    parsed = yamlfile.parse(text, str(profile), Profile, ConfigError)
    return {k: v for k, v in parsed.model_dump().items() if v is not None}


def ask_as(
    signed_in: SignedIn,
    role: str | None,
    purpose: str | None,
    profile: Path | None,
    default_purpose: str | None = None,
    operation: str = "",
) -> Asker:
    """The principal and purpose of a read: flags win over the profile, the profile over
    the command's default purpose; the role and purpose are then checked as the API
    checks them (``Accounts.principal``: refused and audited unless the account holds the
    role and a clause covers the purpose)."""
    values = profile_defaults(profile)
    chosen_role = role or values.get("role")
    why = purpose or values.get("purpose") or default_purpose
    if not why:
        raise ConfigError("every read names its purpose: give --purpose (or a profile)")
    who = signed_in.accounts.principal(signed_in.caller, why, chosen_role, operation)
    return Asker(signed_in, who, why)


READ_OPTIONS: dict[str, tuple[Any, Any]] = {
    "role": (Role, None),
    "purpose": (Purpose, None),
    "profile": (ProfileFile, None),
    "token_file": (TokenFile, None),
    "control": (Control, None),
}
ACT_OPTIONS: dict[str, tuple[Any, Any]] = {
    "token_file": (TokenFile, None),
    "control": (Control, None),
}


def asker_from(
    options: dict[str, Any], default_purpose: str | None = None, operation: str = "crosswalk"
) -> Asker:
    """Sign in and resolve a read's principal from ``READ_OPTIONS`` values (popped from
    ``options``, except ``control``, which the command also uses); ``operation`` names
    the command in the audit entry of a refusal."""
    signed_in = sign_in(options.pop("token_file"), options.get("control"))
    return ask_as(
        signed_in,
        options.pop("role"),
        options.pop("purpose"),
        options.pop("profile"),
        default_purpose,
        operation,
    )


def _command(
    fn: Callable[..., Any],
    added: Mapping[str, tuple[Any, Any]],
    resolve: Callable[[dict[str, Any], str], Any],
) -> Callable[..., Any]:
    """``fn`` with ``added`` options in its signature (those it lacks), called with
    ``who=resolve(options, command path)`` before its body runs."""
    own = [p for p in inspect.signature(fn, eval_str=True).parameters.values() if p.name != "who"]
    names = {p.name for p in own}
    extra = [
        inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=a, default=d)
        for n, (a, d) in added.items()
        if n not in names
    ]
    context = inspect.Parameter(
        "command_context", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context
    )

    def command(**options: Any) -> Any:
        ctx: typer.Context = options.pop("command_context")
        who = resolve(options, ctx.command_path)
        for n in added:
            if n not in names:
                options.pop(n, None)
        return fn(who=who, **options)

    params = [*own, *extra, context]
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = fn.__doc__
    command.__name__ = fn.__name__
    return command


def reads(
    purpose: str | None = None, only_with: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A command that reads as the signed-in account: adds ``--role``, ``--purpose``,
    ``--profile``, ``--token-file`` (and ``--control`` where missing) and passes
    ``who`` (an ``Asker``). ``purpose`` is the command's default purpose, if it has one.
    ``only_with`` names an option without which the command reads nothing for anyone
    (the host operator's ``link`` without ``--evaluate``): then ``who`` is None and no
    sign-in is asked for."""

    def resolve(options: dict[str, Any], operation: str) -> Asker | None:
        if only_with is not None and options.get(only_with) is None:
            for n in READ_OPTIONS:
                if n != "control":
                    options.pop(n)
            return None
        return asker_from(options, purpose, operation)

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        return _command(fn, READ_OPTIONS, resolve)

    return wrap


def acts(scope: str = "data") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An administrative act by the signed-in account: adds ``--token-file`` (and
    ``--control`` where missing) and passes ``who`` (a ``SignedIn``) whose token carries
    ``scope`` (the service's rule for the same act). Whether the account may do the act
    is the library's decision."""

    def resolve(options: dict[str, Any], operation: str) -> SignedIn:
        who = sign_in(options.pop("token_file"), options.get("control"))
        who.needs_scope(scope, operation)
        return who

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        return _command(fn, ACT_OPTIONS, resolve)

    return wrap


def actor_of(accounts: Accounts, token_file: Path | None) -> Actor:
    """Who performs an account or token command: the account of the CLI's token when one
    is given or found, else the host operator (recorded as ``operator:<login>``), who
    bootstraps the first administrator and reads no person data."""
    from crosswalk.accounts import Actor

    try:
        token = find_token(token_file)
    except Unauthenticated:
        return Actor.host_operator()
    return accounts.authenticate(token, f"cli:{getpass.getuser()}").actor


@dataclass(frozen=True)
class Administrator:
    """The accounts of the control plane and who acts on them."""

    accounts: Accounts
    actor: Actor


def administers(fn: Callable[..., Any]) -> Callable[..., Any]:
    """An account or token command: adds ``--token-file`` (and ``--control`` where
    missing) and passes ``who`` (an ``Administrator``: the token's account, else the host
    operator). What the actor may do is the library's decision."""

    def resolve(options: dict[str, Any], operation: str) -> Administrator:
        from crosswalk.accounts import Accounts
        from crosswalk.audit import AuditLog

        engine = stores.control_engine(options.get("control"))
        accounts = Accounts(engine, AuditLog(engine))
        return Administrator(accounts, actor_of(accounts, options.pop("token_file")))

    return _command(fn, ACT_OPTIONS, resolve)
