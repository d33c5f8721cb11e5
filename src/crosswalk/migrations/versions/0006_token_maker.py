"""The token each API token was made with, so that revoking a token (signing out of a
session) revokes the tokens made with it too.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("api_token")}
    if "made_with" not in columns:
        op.add_column("api_token", sa.Column("made_with", sa.String(16)))
        op.create_index("ix_api_token_made_with", "api_token", ["made_with"])


def downgrade() -> None:
    raise NotImplementedError("the control plane is never downgraded")
