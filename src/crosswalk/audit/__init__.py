"""The tamper-evident audit log of every access and change.

Other parts record their events with ``AuditLog().record(SomeEvent(...))``; if the log
cannot be written, ``AuditUnavailable`` is raised and the access does not happen.
"""

from crosswalk.audit.events import (
    EVENT_KINDS,
    AccessDenied,
    AgreementChanged,
    AuditEvent,
    BatchLoaded,
    ConsentChanged,
    DataRead,
    LinkageRun,
    Login,
    ReviewDecided,
)
from crosswalk.audit.log import AuditLog, Checkpoint, Verification, load_key
from crosswalk.audit.queries import denials, purposes, who_accessed

__all__ = [
    "EVENT_KINDS",
    "AccessDenied",
    "AgreementChanged",
    "AuditEvent",
    "AuditLog",
    "BatchLoaded",
    "Checkpoint",
    "ConsentChanged",
    "DataRead",
    "LinkageRun",
    "Login",
    "ReviewDecided",
    "Verification",
    "denials",
    "load_key",
    "purposes",
    "who_accessed",
]
