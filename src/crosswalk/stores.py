"""Opening the two stores: the hub (DuckDB, agency data) and the control plane (SQLAlchemy).

Only the parts of the system that own a store's tables write to it; readers of agency data
go through the policy gate (``crosswalk.agreement``), never through a raw connection.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import sqlalchemy as sa

from crosswalk import settings


def connect_hub(
    path: str | Path | None = None, *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the hub's DuckDB file."""
    hub = settings.HUB.value(None if path is None else str(path))
    if hub != ":memory:":
        Path(hub).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(hub, read_only=read_only)
    threads = int(settings.THREADS.value())
    if threads > 0:
        con.execute(f"SET threads = {threads}")
    limit = settings.MEMORY_LIMIT.value()
    if limit:
        con.execute("SET memory_limit = ?", [limit])
    return con


def control_engine(url: str | None = None) -> sa.Engine:
    """Create the SQLAlchemy engine of the control plane (SQLite by default)."""
    return sa.create_engine(settings.CONTROL.value(url), future=True)


def apply_migrations(
    con: duckdb.DuckDBPyConnection, part: str, migrations: tuple[str, ...]
) -> None:
    """Apply a part's numbered hub migrations that have not run yet, each in a transaction.

    ``schema_migration`` records what has run, per part of the system, so each part keeps
    its own sequence of migrations.
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migration (part VARCHAR, version INTEGER, applied_at TIMESTAMP)"
    )
    done = con.execute(
        "SELECT coalesce(max(version), 0) FROM schema_migration WHERE part = ?", [part]
    ).fetchall()[0][0]
    for version, sql in enumerate(migrations, start=1):
        if version <= done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in sql.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.execute(
                "INSERT INTO schema_migration VALUES (?, ?, now()::TIMESTAMP)", [part, version]
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
