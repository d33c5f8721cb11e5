"""Alembic's environment for the control plane: migrations run on the connection that
``crosswalk.migrations.upgrade`` passes in (no alembic.ini, no URL of its own)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
