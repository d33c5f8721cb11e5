"""What can be audited: one typed event per kind, so the list is code (and documented)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar


class CanonicalJSON(str):
    """JSON text already in the audit log's canonical form (keys sorted, no spaces): an
    event's field holding one is written into the entry's body as it is, not serialised
    again (the gate's decision, the same for every request of one kind, is serialised
    once per decision rather than once per request). The body is the same text either way."""


@dataclass(frozen=True)
class AuditEvent:
    """Common fields of every audit entry."""

    action: ClassVar[str] = "event"
    # An administrative act: the log writes a signed checkpoint right after its entry, so
    # that deleting the entry afterwards is caught as a truncation.
    administrative: ClassVar[bool] = False
    user: str
    agency: str | None = None
    role: str | None = None
    purpose: str | None = None
    objects: dict[str, Any] = field(default_factory=dict)  # datasets, enterprise ids, batch ids
    # The policy decision and its reasons (as a dict, or that dict's canonical JSON).
    decision: dict[str, Any] | CanonicalJSON | None = None
    rows: int | None = None
    outcome: str = "ok"  # ok | denied | failed

    def payload(self) -> dict[str, Any]:
        """The entry's body: every field and the action. Its values are the event's own
        (not copies: the log serialises the body at once, on every read through the gate)."""
        body = {f.name: getattr(self, f.name) for f in fields(self)}
        body["action"] = self.action
        return body


@dataclass(frozen=True)
class DataRead(AuditEvent):
    """A read of agency data through the gate (allowed, transformed or denied)."""

    action: ClassVar[str] = "data.read"


@dataclass(frozen=True)
class AccessDenied(AuditEvent):
    """A request the policy engine denied."""

    action: ClassVar[str] = "data.denied"


@dataclass(frozen=True)
class BatchStarted(AuditEvent):
    """An ingest batch is about to be committed (intent: not a claim that the hub holds it)."""

    action: ClassVar[str] = "ingest.started"


@dataclass(frozen=True)
class BatchLoaded(AuditEvent):
    """An ingest batch was committed to the hub (or a correction batch replaced another)."""

    action: ClassVar[str] = "ingest.batch"


@dataclass(frozen=True)
class BatchFailed(AuditEvent):
    """An ingest batch that was started was rolled back."""

    action: ClassVar[str] = "ingest.failed"
    outcome: str = "failed"


@dataclass(frozen=True)
class LinkageStarted(AuditEvent):
    """A linkage run is about to rewrite the person index (intent)."""

    action: ClassVar[str] = "identity.link.started"


@dataclass(frozen=True)
class LinkageRun(AuditEvent):
    """A linkage run rewrote the person index (committed)."""

    action: ClassVar[str] = "identity.link"


@dataclass(frozen=True)
class LinkageFailed(AuditEvent):
    """A linkage run that was started was rolled back; the index is unchanged."""

    action: ClassVar[str] = "identity.link.failed"
    outcome: str = "failed"


@dataclass(frozen=True)
class WarehouseExported(AuditEvent):
    """The hub's analytic tables were written to a Spark warehouse snapshot, now current."""

    action: ClassVar[str] = "warehouse.export"


@dataclass(frozen=True)
class ReviewDecided(AuditEvent):
    """A steward decided a clerical-review pair."""

    action: ClassVar[str] = "identity.review"
    administrative: ClassVar[bool] = True


@dataclass(frozen=True)
class AgreementChanged(AuditEvent):
    """An agreement version was loaded."""

    action: ClassVar[str] = "agreement.version"
    administrative: ClassVar[bool] = True


@dataclass(frozen=True)
class ConsentChanged(AuditEvent):
    """A consent was recorded or revoked."""

    action: ClassVar[str] = "consent.change"
    administrative: ClassVar[bool] = True


@dataclass(frozen=True)
class Login(AuditEvent):
    """A person signed in (service and web UI)."""

    action: ClassVar[str] = "session.login"


@dataclass(frozen=True)
class SignInFailed(AuditEvent):
    """A sign-in was refused (wrong password, disabled account, too many attempts)."""

    action: ClassVar[str] = "session.failed"
    outcome: str = "denied"


@dataclass(frozen=True)
class AccountChanged(AuditEvent):
    """An account was created, disabled or enabled, given a password, or granted or
    revoked a role (``objects`` names the account and the change)."""

    action: ClassVar[str] = "account.change"
    administrative: ClassVar[bool] = True


@dataclass(frozen=True)
class TokenChanged(AuditEvent):
    """An API token was created or revoked (``objects`` names its id, never its secret)."""

    action: ClassVar[str] = "token.change"
    administrative: ClassVar[bool] = True


@dataclass(frozen=True)
class OperatorCommand(AuditEvent):
    """The host operator ran one of their own commands (a control-plane migration, the
    service's database role, the keys made ahead, the service starting or stopping);
    ``objects`` names the command. These commands read no person data."""

    action: ClassVar[str] = "operator.command"


class DataRequested(AuditEvent):
    """A data request was made (``objects``: its id, purpose, level, period, elements)."""

    action: ClassVar[str] = "request.created"


@dataclass(frozen=True)
class RequestDecided(AuditEvent):
    """A steward approved or denied a data request for their agency, with a reason."""

    action: ClassVar[str] = "request.decision"


@dataclass(frozen=True)
class GrantChanged(AuditEvent):
    """A data request became a grant (every involved agency approved) or a grant was
    revoked (``objects`` names the request, the change and why)."""

    action: ClassVar[str] = "grant.change"


EVENT_KINDS: tuple[type[AuditEvent], ...] = (
    DataRead,
    AccessDenied,
    BatchStarted,
    BatchLoaded,
    BatchFailed,
    LinkageStarted,
    LinkageRun,
    LinkageFailed,
    WarehouseExported,
    ReviewDecided,
    AgreementChanged,
    ConsentChanged,
    Login,
    SignInFailed,
    AccountChanged,
    TokenChanged,
    OperatorCommand,
    DataRequested,
    RequestDecided,
    GrantChanged,
)
