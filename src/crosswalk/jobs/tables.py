"""The jobs table in the control plane (created by ``crosswalk.migrations``)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

job = sa.Table(
    "job",
    metadata,
    sa.Column("job_id", sa.String(16), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # ingest | link
    sa.Column("owner", sa.String(64), nullable=False, index=True),
    sa.Column("agency", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # queued | running | done | failed
    sa.Column("step", sa.String(256), nullable=False),
    sa.Column("progress", sa.Float, nullable=False),
    sa.Column("params", sa.Text, nullable=False),  # JSON: what was asked
    sa.Column("result", sa.Text),  # JSON: what it did (done)
    sa.Column("problem", sa.Text),  # JSON: the problem+json body of its error (failed)
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("started_at", sa.String(32)),
    sa.Column("finished_at", sa.String(32)),
)
