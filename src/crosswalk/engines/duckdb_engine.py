"""The DuckDB engine's reader hooks (the engine itself, ``DuckDBEngine``, is in
``crosswalk.hub``): temporary views and session variables of a DuckDB connection."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from crosswalk.engines.base import CELL_KEY_SECRET
from crosswalk.identity import linked


class DuckDBRead:
    """A read on one DuckDB connection (a cursor of the hub's read-only connection)."""

    dialect = "duckdb"
    secret = f"getvariable('{CELL_KEY_SECRET}')"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def relations(self) -> set[str]:
        rows = self.con.execute(
            "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()"
        ).fetchall()
        return {str(name).lower() for (name,) in rows}

    def sources(self) -> dict[str, str]:
        return linked.sources(self.con)

    def temp_view(self, name: str, select: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {select}")

    def arrow(self, sql: str, secret: bytes | None = None) -> pa.Table:
        if secret is not None:
            self.con.execute(f"SET VARIABLE {CELL_KEY_SECRET} = ?", [secret.hex()])
        relation = self.con.sql(sql)
        assert relation is not None
        return relation.to_arrow_table()
