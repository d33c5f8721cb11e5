"""The control plane as earlier versions created it: agreement versions, consents and the
signed audit log. Tables already there are adopted as they are.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _missing(name: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    if _missing("agreement_version"):
        op.create_table(
            "agreement_version",
            sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("effective_from", sa.Date, nullable=False),
            sa.Column("source", sa.String(512), nullable=False),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("loaded_at", sa.String(32), nullable=False),
        )
    if _missing("consent"):
        op.create_table(
            "consent",
            sa.Column("consent_id", sa.String(32), primary_key=True),
            sa.Column("enterprise_id", sa.String(32), nullable=False, index=True),
            sa.Column("discloser", sa.String(32), nullable=False),
            sa.Column("recipient", sa.String(32), nullable=False),
            sa.Column("purpose", sa.String(64), nullable=False),
            sa.Column("information", sa.String(256), nullable=False),
            sa.Column("signed_on", sa.Date, nullable=False),
            sa.Column("expires_on", sa.Date, nullable=False),
            sa.Column("revoked_on", sa.Date),
        )
    if _missing("audit_entry"):
        op.create_table(
            "audit_entry",
            sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("at", sa.String(32), nullable=False),
            sa.Column("action", sa.String(64), nullable=False),
            sa.Column("user", sa.String(128), nullable=False),
            sa.Column("agency", sa.String(32)),
            sa.Column("purpose", sa.String(64)),
            sa.Column("outcome", sa.String(16), nullable=False),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("prev_hash", sa.String(64), nullable=False),
            sa.Column("hash", sa.String(64), nullable=False),
            sa.Column("signature", sa.String(128), nullable=False),
        )


def downgrade() -> None:
    raise NotImplementedError("the audit log is evidence: the control plane is never downgraded")
