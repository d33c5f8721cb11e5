"""The DuckDB engine's hooks (the engine itself, ``DuckDBEngine``, is in ``crosswalk.hub``):
a read's temporary views and session variables, and an ingest batch's temporary tables
and transaction on a DuckDB connection."""

from __future__ import annotations

from typing import Any

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


class DuckDBBatch:
    """An ingest batch on a DuckDB connection of the hub (one transaction).

    Its relations are temporary tables of the connection. ``files`` is the connection
    extract files are read on: the hub's own, or one of its own where the hub's
    connection reaches no file (the service's), whose tables are handed over as Arrow.
    """

    dialect = "duckdb"

    def __init__(
        self, con: duckdb.DuckDBPyConnection, files: duckdb.DuckDBPyConnection | None = None
    ) -> None:
        self.con = con
        self.files = con if files is None else files

    def adopt(self, name: str) -> None:
        if self.files is self.con:
            return
        table = self.files.sql(f"SELECT * FROM {name}").to_arrow_table()
        self.files.execute(f"DROP TABLE {name}")
        self.register(name, table)

    def relation(self, name: str, sql: str, params: dict[str, object] | None = None) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", params or None)

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register("_cw_arrow_in", table)
        try:
            self.relation(name, "SELECT * FROM _cw_arrow_in")
        finally:
            self.con.unregister("_cw_arrow_in")

    def drop(self, name: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")

    def columns(self, name: str) -> list[str]:
        rows = self.con.execute("SELECT name FROM pragma_table_info(?)", [name]).fetchall()
        return [str(r[0]) for r in rows]

    def rows(self, sql: str, params: dict[str, object] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or None).fetchall()

    def append(self, table: str, sql: str, params: dict[str, object] | None = None) -> int:
        cols = ", ".join(self.columns(table))
        added = self.con.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM ({sql}) AS _cw_new", params or None
        ).fetchall()
        return int(added[0][0])

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        names = list(rows[0])
        marks = ", ".join("?" for _ in names)
        self.con.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",
            [[r[n] for n in names] for r in rows],
        )

    def delete(self, table: str, where: str, params: dict[str, object] | None = None) -> None:
        self.con.execute(f"DELETE FROM {table} WHERE {where}", params or None)

    def update(
        self,
        table: str,
        values: dict[str, str],
        where: str,
        params: dict[str, object] | None = None,
    ) -> None:
        assignments = ", ".join(f"{c} = {v}" for c, v in values.items())
        self.con.execute(f"UPDATE {table} SET {assignments} WHERE {where}", params or None)

    def bind(self, values: dict[str, object], formats: set[str]) -> dict[str, object]:
        return values  # DuckDB's strptime formats are the mapping's own

    def begin(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        self.con.execute("COMMIT")

    def rollback(self) -> None:
        self.con.execute("ROLLBACK")
