"""The tamper-evident audit log of every access and change.

Other parts record their events with ``AuditLog().record(SomeEvent(...))``; if the log
cannot be written, ``AuditUnavailable`` is raised and the access does not happen.
Privacy officers read it through the gate (``crosswalk.access.Gate.who_accessed``...).
"""

from crosswalk.audit.checkpoints import Checkpoint
from crosswalk.audit.events import (
    EVENT_KINDS,
    AccessDenied,
    AccountChanged,
    AgreementChanged,
    AuditEvent,
    BatchFailed,
    BatchLoaded,
    BatchStarted,
    ConsentChanged,
    DataRead,
    DataRequested,
    GrantChanged,
    LinkageFailed,
    LinkageRun,
    LinkageStarted,
    Login,
    OperatorCommand,
    RequestDecided,
    ReviewDecided,
    SignInFailed,
    TokenChanged,
    WarehouseExported,
)
from crosswalk.audit.keys import PublicKey, load_key
from crosswalk.audit.log import AuditLog, Verification, canonical

__all__ = [
    "EVENT_KINDS",
    "AccessDenied",
    "AccountChanged",
    "AgreementChanged",
    "AuditEvent",
    "AuditLog",
    "BatchFailed",
    "BatchLoaded",
    "BatchStarted",
    "Checkpoint",
    "ConsentChanged",
    "DataRead",
    "DataRequested",
    "GrantChanged",
    "LinkageFailed",
    "LinkageRun",
    "LinkageStarted",
    "Login",
    "OperatorCommand",
    "PublicKey",
    "RequestDecided",
    "ReviewDecided",
    "SignInFailed",
    "TokenChanged",
    "Verification",
    "WarehouseExported",
    "canonical",
    "load_key",
]
