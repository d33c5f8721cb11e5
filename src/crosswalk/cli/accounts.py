"""``crosswalk account``, ``token`` and ``control``: accounts, API tokens and the control
plane's schema.

Each command is a shell over ``crosswalk.accounts`` or ``crosswalk.migrations``, which
decide and audit the act. The actor is the account of the CLI's token (``--token-file``,
``$CROSSWALK_TOKEN`` or the token file) when there is one, else the host operator
(recorded as ``operator:<login>``), who bootstraps the first administrator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from crosswalk import stores
from crosswalk.accounts import ADMINISTRATOR, operator
from crosswalk.accounts.credentials import save_token
from crosswalk.cli.output import Csv, Json, emit
from crosswalk.cli.principal import Administrator, Control, administers
from crosswalk.errors import ConfigError

account_app = typer.Typer(
    help="Accounts: who may sign in, their agency and roles.", no_args_is_help=True
)


@account_app.command("add")
@administers
def account_add(
    who: Administrator,
    username: Annotated[str, typer.Argument(help="Lower-case letters, digits, . _ -")],
    agency: Annotated[str, typer.Option(help="The account's agency (party code).")],
    role: Annotated[
        list[str],
        typer.Option("--role", help=f"A role of the agreement or {ADMINISTRATOR} (repeat)."),
    ],
    name: Annotated[str, typer.Option(help="The person's full name.")] = "",
    password: Annotated[
        bool, typer.Option("--password", help="Ask for a password (else tokens only).")
    ] = False,
    control: Control = None,
) -> None:
    """Create an account in an agency with roles.

    Example: crosswalk account add ana --agency fcs --role caseworker --name "Ana Diaz" --password
    """
    secret = (
        typer.prompt("Password", hide_input=True, confirmation_prompt=True) if password else None
    )
    a = who.accounts.add(who.actor, username, agency, role, name, secret)
    Console().print(f"account {a.username} ({a.agency}: {', '.join(a.roles)}) created")


@account_app.command("disable")
@administers
def account_disable(
    who: Administrator, username: Annotated[str, typer.Argument()], control: Control = None
) -> None:
    """Disable an account: its tokens stop working at once.

    Example: crosswalk account disable ana
    """
    who.accounts.set_disabled(who.actor, username, True)
    Console().print(f"account {username} disabled")


@account_app.command("enable")
@administers
def account_enable(
    who: Administrator, username: Annotated[str, typer.Argument()], control: Control = None
) -> None:
    """Enable a disabled account again.

    Example: crosswalk account enable ana
    """
    who.accounts.set_disabled(who.actor, username, False)
    Console().print(f"account {username} enabled")


@account_app.command("grant")
@administers
def account_grant(
    who: Administrator,
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help="The role to grant.")],
    control: Control = None,
) -> None:
    """Grant an account a role.

    Example: crosswalk account grant ana steward
    """
    a = who.accounts.grant(who.actor, username, role)
    Console().print(f"{a.username} now holds {', '.join(a.roles)}")


@account_app.command("revoke")
@administers
def account_revoke(
    who: Administrator,
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help="The role to take away.")],
    control: Control = None,
) -> None:
    """Take a role away from an account.

    Example: crosswalk account revoke ana steward
    """
    a = who.accounts.revoke_role(who.actor, username, role)
    Console().print(f"{a.username} now holds {', '.join(a.roles) or 'no role'}")


@account_app.command("list")
@administers
def account_list(
    who: Administrator,
    agency: Annotated[str | None, typer.Option(help="Only this agency's accounts.")] = None,
    control: Control = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """List accounts (an administrator: those of their agency).

    Example: crosswalk account list --agency fcs
    """
    found, _ = who.accounts.list_accounts(who.actor, agency, 0, 10_000)
    rows = [
        {
            "username": a.username,
            "agency": a.agency,
            "name": a.full_name,
            "roles": " ".join(a.roles),
            "disabled": a.disabled,
            "password": a.has_password,
        }
        for a in found
    ]
    emit(rows, title="accounts", as_json=as_json, as_csv=as_csv)


token_app = typer.Typer(
    help="API tokens: shown once, kept as hashes, scoped, expiring.", no_args_is_help=True
)


@token_app.command("create")
@administers
def token_create(
    who: Administrator,
    username: Annotated[str, typer.Argument(help="The account the token signs in as.")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="data, audit or admin (repeat; default: what the roles use)."),
    ] = None,
    days: Annotated[int, typer.Option(help="Days until it expires (1 to 365).")] = 30,
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
    out: Annotated[
        Path | None,
        typer.Option(help="Write the token to this new file (mode 600) instead of printing it."),
    ] = None,
    control: Control = None,
) -> None:
    """Make an API token and print it once (it is not kept, only its hash), or write it
    to an owner-only file the CLI signs in with.

    Example: crosswalk token create ana --scope data --days 7 --label "laptop"
    Example: crosswalk token create ana --out ~/.config/crosswalk/token   (as ana's own login)
    """
    if out is not None and out.expanduser().exists():
        raise ConfigError(f"{out} exists: the token would not be written there")
    token, secret = who.accounts.create_token(
        who.actor, username, scopes=scope, days=days, label=label
    )
    Console(stderr=True).print(
        f"token {token.token_id} for {username} ({' '.join(token.scopes)}), expires "
        f"{token.expires_at}"
        + (f"; written to {out}" if out is not None else "; it is shown only now:")
    )
    if out is None:
        typer.echo(secret)
        return
    save_token(out.expanduser(), secret)


@token_app.command("revoke")
@administers
def token_revoke(
    who: Administrator,
    token_id: Annotated[str, typer.Argument(help="The token's id (not its secret).")],
    control: Control = None,
) -> None:
    """Revoke a token; it stops working at once.

    Example: crosswalk token revoke 1a2b3c4d5e6f
    """
    who.accounts.revoke_token(who.actor, token_id)
    Console().print(f"token {token_id} revoked")


@token_app.command("list")
@administers
def token_list(
    who: Administrator,
    username: Annotated[str, typer.Argument()],
    control: Control = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """List an account's tokens (ids, scopes, expiry; never a secret).

    Example: crosswalk token list ana
    """
    rows = [
        {
            "id": t.token_id,
            "scopes": " ".join(t.scopes),
            "label": t.label,
            "created": t.created_at,
            "expires": t.expires_at,
            "revoked": t.revoked_at,
        }
        for t in who.accounts.tokens(who.actor, username)
    ]
    emit(rows, title=f"tokens of {username}", as_json=as_json, as_csv=as_csv)


control_app = typer.Typer(
    help="The control plane's schema and keys (the host operator).", no_args_is_help=True
)


@control_app.command("migrate")
def control_migrate(control: Control = None) -> None:
    """Bring the control plane's schema to the newest revision (SQLite or PostgreSQL);
    the host operator's, audited as them.

    Example: crosswalk control migrate
    """
    before, after = operator.migrate(stores.control_engine(control))
    Console().print(f"control plane at revision {after} (was {before or 'empty'})")


@control_app.command("keys")
def control_keys(control: Control = None) -> None:
    """Create the keys kept outside the hub in $CROSSWALK_SECRETS, those missing (audit
    signing, pseudonyms, cell keys), owner-only; the host operator's, audited as them.

    Example: crosswalk control keys
    """
    from crosswalk.audit import AuditLog

    made, kept, fingerprint = operator.create_keys(AuditLog(stores.control_engine(control)))
    console = Console()
    for p in made:
        console.print(f"created {p} (mode 600)", highlight=False)
    for p in kept:
        console.print(f"kept {p}", highlight=False)
    console.print(f"audit key {fingerprint}: publish it with `crosswalk audit public-key`")


@control_app.command("grant-service-role")
def control_grant_service_role(
    role: Annotated[str, typer.Argument(help="The PostgreSQL role the service connects as.")],
    control: Control = None,
) -> None:
    """Give the service's PostgreSQL role what it needs: it may add and read audit entries,
    never change or delete them.

    Example: crosswalk control grant-service-role crosswalk_service --control postgresql+psycopg://owner@db/crosswalk
    """
    operator.grant_service_role(stores.control_engine(control), role)
    Console().print(f"role {role} may now use the control plane (audit log: insert and read only)")


def register(app: typer.Typer) -> None:
    app.add_typer(account_app, name="account")
    app.add_typer(token_app, name="token")
    app.add_typer(control_app, name="control")
