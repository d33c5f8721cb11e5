"""Data requests, the elements each names and the stewards' answers (a request every
involved agency approved is a grant). Tables already there are adopted as they are.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _missing(name: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    if _missing("data_request"):
        op.create_table(
            "data_request",
            sa.Column("request_id", sa.String(16), primary_key=True),
            sa.Column("user", sa.String(128), nullable=False, index=True),
            sa.Column("agency", sa.String(32), nullable=False),
            sa.Column("role", sa.String(32), nullable=False),
            sa.Column("purpose", sa.String(64), nullable=False),
            sa.Column("level", sa.String(16), nullable=False),
            sa.Column("starts_on", sa.Date, nullable=False),
            sa.Column("ends_on", sa.Date, nullable=False),
            sa.Column("justification", sa.Text, nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("created_at", sa.String(32), nullable=False),
            sa.Column("granted_at", sa.String(32)),
            sa.Column("revoked_at", sa.String(32)),
            sa.Column("revoked_by", sa.String(128)),
            sa.Column("revoke_reason", sa.Text),
        )
    if _missing("data_request_element"):
        op.create_table(
            "data_request_element",
            sa.Column(
                "request_id",
                sa.String(16),
                sa.ForeignKey("data_request.request_id"),
                primary_key=True,
            ),
            sa.Column("dataset", sa.String(64), primary_key=True),
            sa.Column("element", sa.String(64), primary_key=True),
        )
    if _missing("data_request_decision"):
        op.create_table(
            "data_request_decision",
            sa.Column(
                "request_id",
                sa.String(16),
                sa.ForeignKey("data_request.request_id"),
                primary_key=True,
            ),
            sa.Column("agency", sa.String(32), primary_key=True),
            sa.Column("steward", sa.String(128), nullable=False),
            sa.Column("decision", sa.String(16), nullable=False),
            sa.Column("reason", sa.Text, nullable=False),
            sa.Column("decided_at", sa.String(32), nullable=False),
        )


def downgrade() -> None:
    raise NotImplementedError("the control plane is never downgraded")
