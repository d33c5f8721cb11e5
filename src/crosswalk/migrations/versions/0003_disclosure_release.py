"""The disclosure release history (``crosswalk.disclosure.history``), as that part
created it by itself: adopted where it is already there.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SIGNATURE_WORDS = 8  # crosswalk.disclosure.perturb.SIGNATURE_WORDS when this was written


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("disclosure_release"):
        return
    op.create_table(
        "disclosure_release",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("count", sa.BigInteger, nullable=False, index=True),
        *(sa.Column(f"w{i}", sa.BigInteger, nullable=False) for i in range(SIGNATURE_WORDS)),
        sa.Column("value", sa.BigInteger),
        sa.Column("statistics", sa.Text, nullable=False),
        sa.Column("released_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("the control plane is never downgraded")
