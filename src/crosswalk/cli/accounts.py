"""``crosswalk account``, ``token`` and ``control``: accounts, API tokens and the control
plane's schema.

Each command is a shell over ``crosswalk.accounts`` or ``crosswalk.migrations``, which
decide and audit the act. The actor is the account of ``$CROSSWALK_TOKEN`` when it is
set, else the host operator (recorded as ``operator:<login>``).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from crosswalk import migrations, settings, stores
from crosswalk.accounts import ADMINISTRATOR, Accounts, Actor
from crosswalk.audit import AuditLog
from crosswalk.cli.access import Control
from crosswalk.cli.output import Csv, Json, emit


def _accounts(control: str | None) -> Accounts:
    engine = stores.control_engine(control)
    return Accounts(engine, AuditLog(engine))


def _actor(accounts: Accounts) -> Actor:
    token = settings.TOKEN.value()
    return accounts.authenticate(token).actor if token else Actor.host_operator()


account_app = typer.Typer(
    help="Accounts: who may sign in, their agency and roles.", no_args_is_help=True
)


@account_app.command("add")
def account_add(
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
    accounts = _accounts(control)
    secret = (
        typer.prompt("Password", hide_input=True, confirmation_prompt=True) if password else None
    )
    a = accounts.add(_actor(accounts), username, agency, role, name, secret)
    Console().print(f"account {a.username} ({a.agency}: {', '.join(a.roles)}) created")


@account_app.command("disable")
def account_disable(username: Annotated[str, typer.Argument()], control: Control = None) -> None:
    """Disable an account: its tokens stop working at once.

    Example: crosswalk account disable ana
    """
    accounts = _accounts(control)
    accounts.set_disabled(_actor(accounts), username, True)
    Console().print(f"account {username} disabled")


@account_app.command("enable")
def account_enable(username: Annotated[str, typer.Argument()], control: Control = None) -> None:
    """Enable a disabled account again.

    Example: crosswalk account enable ana
    """
    accounts = _accounts(control)
    accounts.set_disabled(_actor(accounts), username, False)
    Console().print(f"account {username} enabled")


@account_app.command("grant")
def account_grant(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help="The role to grant.")],
    control: Control = None,
) -> None:
    """Grant an account a role.

    Example: crosswalk account grant ana steward
    """
    accounts = _accounts(control)
    a = accounts.grant(_actor(accounts), username, role)
    Console().print(f"{a.username} now holds {', '.join(a.roles)}")


@account_app.command("revoke")
def account_revoke(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help="The role to take away.")],
    control: Control = None,
) -> None:
    """Take a role away from an account.

    Example: crosswalk account revoke ana steward
    """
    accounts = _accounts(control)
    a = accounts.revoke_role(_actor(accounts), username, role)
    Console().print(f"{a.username} now holds {', '.join(a.roles) or 'no role'}")


@account_app.command("list")
def account_list(
    agency: Annotated[str | None, typer.Option(help="Only this agency's accounts.")] = None,
    control: Control = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """List accounts (an administrator: those of their agency).

    Example: crosswalk account list --agency fcs
    """
    accounts = _accounts(control)
    found, _ = accounts.list_accounts(_actor(accounts), agency, 0, 10_000)
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
def token_create(
    username: Annotated[str, typer.Argument(help="The account the token signs in as.")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="data, audit or admin (repeat; default: what the roles use)."),
    ] = None,
    days: Annotated[int, typer.Option(help="Days until it expires (1 to 365).")] = 30,
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
    control: Control = None,
) -> None:
    """Make an API token and print it once (it is not kept, only its hash).

    Example: crosswalk token create ana --scope data --days 7 --label "laptop"
    """
    accounts = _accounts(control)
    token, secret = accounts.create_token(
        _actor(accounts), username, scopes=scope, days=days, label=label
    )
    Console(stderr=True).print(
        f"token {token.token_id} for {username} ({' '.join(token.scopes)}), expires "
        f"{token.expires_at}; it is shown only now:"
    )
    typer.echo(secret)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (not its secret).")],
    control: Control = None,
) -> None:
    """Revoke a token; it stops working at once.

    Example: crosswalk token revoke 1a2b3c4d5e6f
    """
    accounts = _accounts(control)
    accounts.revoke_token(_actor(accounts), token_id)
    Console().print(f"token {token_id} revoked")


@token_app.command("list")
def token_list(
    username: Annotated[str, typer.Argument()],
    control: Control = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """List an account's tokens (ids, scopes, expiry; never a secret).

    Example: crosswalk token list ana
    """
    accounts = _accounts(control)
    rows = [
        {
            "id": t.token_id,
            "scopes": " ".join(t.scopes),
            "label": t.label,
            "created": t.created_at,
            "expires": t.expires_at,
            "revoked": t.revoked_at,
        }
        for t in accounts.tokens(_actor(accounts), username)
    ]
    emit(rows, title=f"tokens of {username}", as_json=as_json, as_csv=as_csv)


control_app = typer.Typer(
    help="The control plane's schema (the host operator).", no_args_is_help=True
)


@control_app.command("migrate")
def control_migrate(control: Control = None) -> None:
    """Bring the control plane's schema to the newest revision (SQLite or PostgreSQL).

    Example: crosswalk control migrate
    """
    engine = stores.control_engine(control)
    before = migrations.revision(engine)
    after = migrations.upgrade(engine)
    Console().print(f"control plane at revision {after} (was {before or 'empty'})")


@control_app.command("grant-service-role")
def control_grant_service_role(
    role: Annotated[str, typer.Argument(help="The PostgreSQL role the service connects as.")],
    control: Control = None,
) -> None:
    """Give the service's PostgreSQL role what it needs: it may add and read audit entries,
    never change or delete them.

    Example: crosswalk control grant-service-role crosswalk_service --control postgresql+psycopg://owner@db/crosswalk
    """
    migrations.grant_service_role(stores.control_engine(control), role)
    Console().print(f"role {role} may now use the control plane (audit log: insert and read only)")


def register(app: typer.Typer) -> None:
    app.add_typer(account_app, name="account")
    app.add_typer(token_app, name="token")
    app.add_typer(control_app, name="control")
