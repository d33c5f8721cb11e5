"""The host operator's own acts: they read no person data, and each is audited as
``operator:<login>`` (``OperatorCommand``), by the library, whichever edge calls it.

The host operator is the person at the server's shell, who holds the control plane and
the hub anyway: these acts need no account, and no account can do them through the
service.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from crosswalk import migrations
from crosswalk.accounts.store import Actor
from crosswalk.audit import AuditLog, OperatorCommand, load_key
from crosswalk.audit.keys import (
    CELL_KEY_FILE,
    PSEUDONYM_KEY_FILE,
    load_signing_key,
    signing_key_path,
)


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


def create_keys(audit: AuditLog) -> tuple[list[Path], list[Path], str]:
    """Create the keys kept outside the hub in the audit log's secrets folder, those
    missing (the audit signing key, the pseudonym key, the cell key), owner-only; audited
    with the files made and the audit key's fingerprint, never a key. Returns the files
    made, the files that were there, and that fingerprint.

    Each is also made on its first use; making them ahead lets the operator back them up
    and publish the audit key before the first entry."""
    folder = audit.secrets
    paths = [signing_key_path(folder), folder / PSEUDONYM_KEY_FILE, folder / CELL_KEY_FILE]
    missing = [p for p in paths if not p.exists()]
    fingerprint = load_signing_key(folder).public.fingerprint
    for p in paths[1:]:
        load_key(p)
    record(audit, "control keys", created=[p.name for p in missing], audit_key=fingerprint)
    return missing, [p for p in paths if p not in missing], fingerprint
