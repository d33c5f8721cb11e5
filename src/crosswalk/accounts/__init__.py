"""Accounts and authentication in the control plane.

Users belong to an agency and hold roles (the agreement's roles, such as analyst,
caseworker, steward and privacy officer, and ``administrator``) granted by an
administrator of their agency. Passwords are kept only as argon2id hashes; API tokens are
shown once, kept as hashes, scoped, expiring and revocable. Failed sign-ins are
rate-limited and audited; an account can be disabled. A request's principal is the
authenticated account (``Caller.principal``), in a role whose clauses cover its purpose.
"""

from crosswalk.accounts.store import (
    ADMINISTRATOR,
    MAX_FAILURES,
    PRIVACY_OFFICER,
    SCOPES,
    STEWARD,
    Account,
    Accounts,
    Actor,
    Caller,
    Token,
    default_scopes,
    purposes_for,
)

__all__ = [
    "ADMINISTRATOR",
    "MAX_FAILURES",
    "PRIVACY_OFFICER",
    "SCOPES",
    "STEWARD",
    "Account",
    "Accounts",
    "Actor",
    "Caller",
    "Token",
    "default_scopes",
    "purposes_for",
]
