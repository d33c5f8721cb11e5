"""The control plane's schema, migrated with Alembic on SQLite and PostgreSQL.

``upgrade`` brings a control plane to the newest revision (an empty one, or one whose
tables earlier versions created by themselves); ``revision`` says where one stands and
``require_current`` refuses to work on one that is behind. On PostgreSQL,
``grant_service_role`` gives the database role the service connects as what it needs and
no more: it may add and read audit entries, never change or delete them.

The operator's command is ``crosswalk control migrate``.
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from crosswalk.errors import ConfigError, StoreUnavailable

_HERE = Path(__file__).parent


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    return config


def head() -> str:
    """The newest revision this version of Crosswalk knows."""
    found = ScriptDirectory.from_config(_config()).get_current_head()
    assert found is not None
    return found


def revision(engine: sa.Engine) -> str | None:
    """The control plane's current revision (None: never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine) -> str:
    """Apply every migration the control plane lacks, in one transaction; the new revision."""
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return head()


def require_current(engine: sa.Engine) -> None:
    """Refuse a control plane that is not at the newest revision, saying what to run."""
    try:
        current = revision(engine)
    except sa.exc.SQLAlchemyError as e:
        raise StoreUnavailable(
            f"the control plane cannot be read: {str(e).splitlines()[0]}"
        ) from None
    if current != head():
        where = "has never been migrated" if current is None else f"is at revision {current}"
        raise StoreUnavailable(
            f"the control plane {engine.url.render_as_string()} {where}; the newest is "
            f"{head()}: run crosswalk control migrate"
        )


# What the service's database role may do, table by table. The audit log is append-only
# for it: it may add entries and read them, never change or delete one.
SERVICE_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "audit_entry": ("SELECT", "INSERT"),
    "agreement_version": ("SELECT", "INSERT"),
    "consent": ("SELECT", "INSERT", "UPDATE"),
    "account": ("SELECT", "INSERT", "UPDATE"),
    "account_role": ("SELECT", "INSERT", "DELETE"),
    "api_token": ("SELECT", "INSERT", "UPDATE"),
    "sign_in_attempt": ("SELECT", "INSERT", "DELETE"),
    "disclosure_release": ("SELECT", "INSERT", "UPDATE"),
    "job": ("SELECT", "INSERT", "UPDATE"),
    # a request's status changes (pending, granted, revoked); its elements and the
    # stewards' answers are only ever added
    "data_request": ("SELECT", "INSERT", "UPDATE"),
    "data_request_element": ("SELECT", "INSERT"),
    "data_request_decision": ("SELECT", "INSERT"),
    "alembic_version": ("SELECT",),
}
# Sequences behind SERVICE_PRIVILEGES' tables whose ids the database numbers.
SERVICE_SEQUENCES = (("disclosure_release", "id"),)
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def grant_service_role(engine: sa.Engine, role: str) -> None:
    """Give the PostgreSQL role ``role`` exactly ``SERVICE_PRIVILEGES`` on the control plane.

    Everything else on these tables is revoked first, so running it again after a change
    of this list leaves the role with the new list alone.
    """
    if engine.dialect.name != "postgresql":
        raise ConfigError("database roles are a PostgreSQL matter; SQLite has none")
    if not _ROLE_NAME.fullmatch(role):
        raise ConfigError(f"a database role here is lower-case letters, digits and _, not {role!r}")
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as conn:
        for table, privileges in SERVICE_PRIVILEGES.items():
            conn.execute(sa.text(f"REVOKE ALL ON {quote(table)} FROM {quote(role)}"))
            conn.execute(
                sa.text(f"GRANT {', '.join(privileges)} ON {quote(table)} TO {quote(role)}")
            )
        for table, column in SERVICE_SEQUENCES:
            sequence = conn.execute(
                sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table, "c": column}
            ).scalar()
            if sequence:  # already a quoted, schema-qualified name
                conn.execute(
                    sa.text(f"GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {quote(role)}")
                )
