"""One base exception for everything a user can cause or fix.

Each subclass carries an HTTP status and the fields a user needs to fix the input
(file, row, field, value, rule). Messages are plain text: the edges (CLI, API, web)
decide how to show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from crosswalk.redact import credentials


@dataclass
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None
    value: Any = None
    rule: str | None = None

    def location(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(str(self.file))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in {
                "message": self.message,
                "file": self.file,
                "row": self.row,
                "field": self.field,
                "value": None if self.value is None else str(self.value),
                "rule": self.rule,
            }.items()
            if v is not None
        }


class CrosswalkError(Exception):
    """Base of every error Crosswalk raises on purpose."""

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        # A message may name a setting that carries a password (a URL's user
        # information): it never reaches a person or a log with it.
        message = credentials(message)
        super().__init__(message)
        self.message = message
        self.problems: list[Problem] = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        lines = [self.message, *(f"  - {p}" for p in self.problems)]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The body of an RFC 9457 problem+json response."""
        body: dict[str, Any] = {
            "type": f"urn:crosswalk:error:{type(self).__name__}",
            "title": self.title,
            "status": self.status,
            "detail": self.message,
        }
        if self.problems:
            body["problems"] = [p.to_dict() for p in self.problems]
        return body


@dataclass
class _ProblemCollector:
    """Collects problems and raises them together (report all, not the first)."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, message: str, **where: Any) -> None:
        self.problems.append(Problem(message, **where))

    def raise_if_any(self, error: type[CrosswalkError], message: str) -> None:
        if self.problems:
            raise error(message, self.problems)


ProblemCollector = _ProblemCollector


class InputFileError(CrosswalkError):
    """An input file (extract, truth file) cannot be read as declared."""

    title = "Unreadable input"


class MappingError(CrosswalkError):
    """An agency mapping file is wrong or does not match its extract."""

    title = "Invalid mapping"
    status = 422


class QualityGateError(MappingError):
    """A batch failed its mapping's quality gate (too much flagged, a field empty)."""

    title = "Quality gate failed"


class AgreementError(CrosswalkError):
    """The agreement file is invalid."""

    title = "Invalid agreement"
    status = 422


class ConfigError(CrosswalkError):
    """A setting or argument is wrong."""

    title = "Invalid configuration"


class NotFound(CrosswalkError):
    """A named thing (batch, person, agency, dataset) does not exist."""

    title = "Not found"
    status = 404


class AccessDenied(CrosswalkError):
    """The policy gate denied a request; ``decision`` explains why."""

    title = "Access denied"
    status = 403

    def __init__(self, message: str, decision: Any = None) -> None:
        super().__init__(message)
        self.decision = decision

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        if self.decision is not None and hasattr(self.decision, "to_dict"):
            body["decision"] = self.decision.to_dict()
        return body


class AuditUnavailable(CrosswalkError):
    """The audit log cannot be written: data access fails closed."""

    title = "Audit log unavailable"
    status = 503


class IntegrityError(CrosswalkError):
    """A store failed a consistency check (audit chain, batch counts)."""

    title = "Integrity check failed"
    status = 409


class StoreUnavailable(CrosswalkError):
    """A store (the hub, the control plane) cannot be opened."""

    title = "Store unavailable"
    status = 503


class HubBusy(StoreUnavailable):
    """Another process holds the hub (DuckDB lets one writer or many readers open it);
    ``holder`` says which, when the operating system tells us."""

    title = "Hub busy"

    def __init__(self, message: str, holder_pid: int | None = None, holder: str | None = None):
        super().__init__(message)
        self.holder_pid = holder_pid
        self.holder = holder

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        if self.holder_pid is not None:
            body["holder_pid"] = self.holder_pid
        if self.holder is not None:
            body["holder"] = self.holder
        return body


class ReadTimedOut(StoreUnavailable):
    """A read of the hub ran past the time allowed to one read and was interrupted."""

    title = "Read timed out"


class LinkageError(CrosswalkError):
    """Linkage cannot proceed on the records the hub holds (the cause is named)."""

    title = "Linkage cannot proceed"
    status = 422


class Unauthenticated(CrosswalkError):
    """No valid credentials: a missing, malformed, forged, expired or revoked token, a
    wrong password, or a disabled account (one answer for all, so none is revealed)."""

    title = "Not signed in"
    status = 401


class RateLimited(CrosswalkError):
    """Too many failed sign-ins: refused for a while, even with the right password."""

    title = "Too many attempts"
    status = 429


class AlreadyExists(CrosswalkError):
    """A thing with that name already exists (an account, a role grant)."""

    title = "Already exists"
    status = 409


class RequestConflict(CrosswalkError):
    """A data request that cannot take this step in its state: not pending any more,
    already answered for that agency, no longer permitted by the agreement in force, or
    not an active grant."""

    title = "Request cannot take this step"
    status = 409


class PayloadTooLarge(CrosswalkError):
    """A request body over the service's size limit."""

    title = "Request too large"
    status = 413


class InvalidRequest(CrosswalkError):
    """A request to the service that does not have the form its operation takes."""

    title = "Invalid request"
    status = 422


class RouteNotFound(NotFound):
    """No operation of the service at that path."""


class MethodNotAllowed(CrosswalkError):
    title = "Method not allowed"
    status = 405


class InternalError(CrosswalkError):
    """A failure of the service itself; its details go to the operator's log only."""

    title = "Internal error"
    status = 500
