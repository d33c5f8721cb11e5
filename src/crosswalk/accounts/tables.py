"""The accounts' tables in the control plane (created by ``crosswalk.migrations``).

Times are ISO 8601 UTC text of one fixed form, as in the audit log, so they compare as
text on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

account = sa.Table(
    "account",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("agency", sa.String(32), nullable=False),
    sa.Column("full_name", sa.String(128), nullable=False),
    sa.Column("password_hash", sa.String(256)),  # argon2id, never the password
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("disabled_at", sa.String(32)),
)

account_role = sa.Table(
    "account_role",
    metadata,
    sa.Column("username", sa.String(64), sa.ForeignKey("account.username"), primary_key=True),
    sa.Column("role", sa.String(32), primary_key=True),
    sa.Column("granted_by", sa.String(128), nullable=False),
    sa.Column("granted_at", sa.String(32), nullable=False),
)

api_token = sa.Table(
    "api_token",
    metadata,
    sa.Column("token_id", sa.String(16), primary_key=True),
    sa.Column("username", sa.String(64), sa.ForeignKey("account.username"), nullable=False),
    sa.Column("secret_sha256", sa.String(64), nullable=False),  # never the secret itself
    sa.Column("scopes", sa.String(128), nullable=False),  # space-separated
    sa.Column("label", sa.String(128), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("expires_at", sa.String(32), nullable=False),
    sa.Column("revoked_at", sa.String(32)),
    # The token its maker authenticated with (None: made by the host operator or a
    # sign-in): revoking that token revokes this one too.
    sa.Column("made_with", sa.String(16), index=True),
)

sign_in_attempt = sa.Table(
    "sign_in_attempt",
    metadata,
    sa.Column("attempt_id", sa.String(32), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
)
