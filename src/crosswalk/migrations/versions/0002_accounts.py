"""Accounts, their roles, API tokens and sign-in attempts.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("full_name", sa.String(128), nullable=False),
        sa.Column("password_hash", sa.String(256)),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("disabled_at", sa.String(32)),
    )
    op.create_table(
        "account_role",
        sa.Column("username", sa.String(64), sa.ForeignKey("account.username"), primary_key=True),
        sa.Column("role", sa.String(32), primary_key=True),
        sa.Column("granted_by", sa.String(128), nullable=False),
        sa.Column("granted_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "api_token",
        sa.Column("token_id", sa.String(16), primary_key=True),
        sa.Column("username", sa.String(64), sa.ForeignKey("account.username"), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(128), nullable=False),
        sa.Column("label", sa.String(128), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32)),
    )
    op.create_index("ix_api_token_username", "api_token", ["username"])
    op.create_table(
        "sign_in_attempt",
        sa.Column("attempt_id", sa.String(32), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
    )
    op.create_index("ix_sign_in_attempt_username", "sign_in_attempt", ["username", "at"])


def downgrade() -> None:
    raise NotImplementedError("the control plane is never downgraded")
