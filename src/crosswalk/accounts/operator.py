"""The host operator's own acts: they read no person data, and each is audited as
``operator:<login>`` (``OperatorCommand``), by the library, whichever edge calls it.

The host operator is the person at the server's shell, who holds the control plane and
the hub anyway: these acts need no account, and no account can do them through the
service.
"""

from __future__ import annotations

import sqlalchemy as sa

from crosswalk import migrations
from crosswalk.accounts.store import Actor
from crosswalk.audit import AuditLog, OperatorCommand


def record(audit: AuditLog, command: str, **objects: object) -> None:
    """Audit one of the host operator's commands (fail closed, as every entry)."""
    operator = Actor.host_operator()
    audit.record(
        OperatorCommand(operator.user, None, "operator", objects={"command": command, **objects})
    )


def migrate(engine: sa.Engine, audit: AuditLog | None = None) -> tuple[str | None, str]:
    """Bring the control plane to the newest revision; audited with the revisions before
    and after. Returns them."""
    before = migrations.revision(engine)
    after = migrations.upgrade(engine)
    record(audit or AuditLog(engine), "control migrate", before=before, after=after)
    return before, after


def grant_service_role(engine: sa.Engine, role: str, audit: AuditLog | None = None) -> None:
    """``migrations.grant_service_role``, audited."""
    migrations.grant_service_role(engine, role)
    record(audit or AuditLog(engine), "control grant-service-role", role=role)
