"""The Spark engine's ingest batch: the hub's ingest tables as Parquet in the warehouse.

A batch stages a new warehouse snapshot holding the current one's tables
(``crosswalk.engines.warehouse.stage_snapshot``), appends what it loads to those tables'
folders there, and commits by the warehouse's one atomic rename; until then no read
sees any of it, and a batch that fails (or a check) removes its staging, leaving the
warehouse as it was. Each relation of the batch is a Spark temporary view of a session
of its own; a staged relation is checkpointed when made, so later steps read its rows
as they were computed, not recomputed from the extract.

The standardising SQL is the one DuckDB runs, rendered for Spark through SQLGlot: what
Spark lacks under DuckDB's names is rewritten on the syntax tree (``spark_sql``), and
the mapping's date formats are bound in Java's pattern form (``java_date_format``).
Extract files are read as on DuckDB (the same readers, row numbers and rejected rows, on
a DuckDB connection of the batch's own) and handed to Spark as Arrow.
"""

from __future__ import annotations

import re
import shutil
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from crosswalk.engines.warehouse import commit_staged, stage_snapshot
from crosswalk.errors import ConfigError

# strptime directives and their Java pattern letters (fixed width, variable width).
_DIRECTIVES = {
    "Y": ("yyyy", "y"),
    "y": ("yy", "yy"),
    "m": ("MM", "M"),
    "d": ("dd", "d"),
    "H": ("HH", "H"),
    "M": ("mm", "m"),
    "S": ("ss", "s"),
    "b": ("MMM", "MMM"),
    "B": ("MMMM", "MMMM"),
}
_NUMERIC = set("YymdHMS")


def java_date_format(fmt: str) -> str:
    """A strptime format as a Spark (Java) date pattern that parses what DuckDB parses.

    DuckDB reads ``%m`` as one or two digits; so does Java's ``M``, but only where no
    number field is next to it (``%Y%m%d`` needs fixed widths).

    Example:
        >>> java_date_format("%m/%d/%Y"), java_date_format("%Y%m%d")
        ('M/d/y', 'yyyyMMdd')
    """
    parts = re.findall(r"%(.)|([^%]+)", fmt)
    out = []
    for i, (directive, text) in enumerate(parts):
        if text:
            out.append("'" + text.replace("'", "''") + "'" if re.search("[A-Za-z]", text) else text)
            continue
        if directive not in _DIRECTIVES:
            raise ConfigError(f"the date format {fmt!r} uses %{directive}, which Spark cannot read")
        before = parts[i - 1][0] if i else ""
        after = parts[i + 1][0] if i + 1 < len(parts) else ""
        fixed, variable = _DIRECTIVES[directive]
        out.append(fixed if {before, after} & _NUMERIC else variable)
    return "".join(out)


def _rewrite(node: exp.Expression) -> exp.Expression:
    """DuckDB functions Spark has under another form."""
    name = node.name.lower() if isinstance(node, exp.Anonymous) else ""
    if name == "try_strptime" or (isinstance(node, exp.StrToTime) and node.args.get("safe")):
        args = (
            node.expressions
            if isinstance(node, exp.Anonymous)
            else [node.this, node.args["format"]]
        )
        return exp.Anonymous(this="try_to_timestamp", expressions=list(args))
    if isinstance(node, exp.JSONFormat | exp.Anonymous) and (
        isinstance(node, exp.JSONFormat) or name == "to_json"
    ):
        arg = node.this if isinstance(node, exp.JSONFormat) else node.expressions[0]
        if isinstance(arg, exp.Column) and not arg.table:
            # A whole row (the raw extract's alias) as JSON: Spark wants it as a struct.
            row = exp.Struct(expressions=[exp.Column(this=exp.Star(), table=arg.this.copy())])
            return exp.Anonymous(this="to_json", expressions=[row])
    return node


@lru_cache(maxsize=512)
def spark_sql(sql: str) -> str:
    """DuckDB SQL of an ingest step written for Spark."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb").transform(_rewrite)
        return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except (sqlglot.errors.ParseError, sqlglot.errors.UnsupportedError) as e:
        raise ConfigError(f"the ingest step cannot be written for Spark: {e}") from None


def spark_type(duckdb_type: str) -> str:
    """A hub column's DuckDB type as Spark's."""
    if duckdb_type.upper() == "JSON":
        return "STRING"
    return exp.DataType.build(duckdb_type, dialect="duckdb").sql("spark")


class SparkBatch:
    """One ingest batch in the warehouse (see the module's docstring).

    Args:
        session: a Spark session of the batch's own (its temporary views).
        warehouse: the warehouse folder.
        tables: the hub tables the batch reads and writes: name -> (column, DuckDB type).
    """

    dialect = "spark"

    def __init__(
        self, session: Any, warehouse: Path, tables: dict[str, list[tuple[str, str]]]
    ) -> None:
        self.session = session
        self.warehouse = warehouse
        self.files = duckdb.connect(":memory:")
        self._schemas = {
            t: ", ".join(f"`{c}` {spark_type(ty)}" for c, ty in cols) for t, cols in tables.items()
        }
        self._casts = {
            t: [f"CAST(`{c}` AS {spark_type(ty)}) AS `{c}`" for c, ty in cols]
            for t, cols in tables.items()
        }
        session.conf.set("spark.sql.session.timeZone", "UTC")
        session.conf.set("spark.sql.runSQLOnFiles", "false")
        # A quarantined row's raw values as JSON keep their empty fields, as DuckDB's do.
        session.conf.set("spark.sql.jsonGenerator.ignoreNullFields", "false")
        self._staging, self._base = stage_snapshot(warehouse)
        self._views: set[str] = set()
        self._done = False
        for table in tables:
            self._show(table)

    # -- the hub's tables in the staged snapshot

    def _show(self, table: str) -> None:
        folder = self._staging / table
        if any(folder.glob("*.parquet")):
            source = self.session.read.schema(self._schemas[table]).parquet(str(folder))
        else:
            source = self.session.createDataFrame([], self._schemas[table])
        source.createOrReplaceTempView(table)
        self._views.add(table)

    def _typed(self, table: str, df: Any) -> Any:
        return df.selectExpr(*self._casts[table])

    def _write(self, table: str, df: Any, mode: str = "append") -> None:
        df.write.mode(mode).parquet(str(self._staging / table))

    def _replace(self, table: str, sql: str, params: dict[str, object] | None) -> None:
        """Rewrite a hub table of the staged snapshot as the rows of a query."""
        df = self._typed(table, self._sql(sql, params)).localCheckpoint()
        folder = self._staging / table
        fresh = self._staging / f".{table}-{uuid.uuid4().hex[:8]}"
        df.write.parquet(str(fresh))
        shutil.rmtree(folder, ignore_errors=True)
        fresh.rename(folder)
        self._show(table)

    def _sql(self, sql: str, params: dict[str, object] | None = None) -> Any:
        return self.session.sql(spark_sql(sql), args=params or None)

    # -- the Batch hooks

    def adopt(self, name: str) -> None:
        table = self.files.sql(f"SELECT * FROM {name}").to_arrow_table()
        self.files.execute(f"DROP TABLE {name}")
        self.register(name, table)

    def relation(self, name: str, sql: str, params: dict[str, object] | None = None) -> None:
        self._sql(sql, params).localCheckpoint().createOrReplaceTempView(name)
        self._views.add(name)

    def register(self, name: str, table: pa.Table) -> None:
        self.session.createDataFrame(table).localCheckpoint().createOrReplaceTempView(name)
        self._views.add(name)

    def drop(self, name: str) -> None:
        self.session.catalog.dropTempView(name)
        self._views.discard(name)

    def columns(self, name: str) -> list[str]:
        return list(self.session.table(name).columns)

    def rows(self, sql: str, params: dict[str, object] | None = None) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._sql(sql, params).collect()]

    def append(self, table: str, sql: str, params: dict[str, object] | None = None) -> int:
        cols = ", ".join(self.columns(table))
        query = f"SELECT {cols} FROM ({sql}) AS _cw_new"
        df = self._typed(table, self._sql(query, params)).localCheckpoint()
        added = int(df.count())
        if added:
            self._write(table, df)
            self._show(table)
        return added

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        names = self.columns(table)
        df = self.session.createDataFrame(
            [tuple(r.get(c) for c in names) for r in rows], self._schemas[table]
        )
        self._write(table, df)
        self._show(table)

    def delete(self, table: str, where: str, params: dict[str, object] | None = None) -> None:
        self._replace(table, f"SELECT * FROM {table} WHERE NOT coalesce(({where}), FALSE)", params)

    def update(
        self,
        table: str,
        values: dict[str, str],
        where: str,
        params: dict[str, object] | None = None,
    ) -> None:
        select = ", ".join(
            f"CASE WHEN coalesce(({where}), FALSE) THEN {values[c]} ELSE {c} END AS {c}"
            if c in values
            else c
            for c in self.columns(table)
        )
        self._replace(table, f"SELECT {select} FROM {table}", params)

    def bind(self, values: dict[str, object], formats: set[str]) -> dict[str, object]:
        return {k: java_date_format(str(v)) if k in formats else v for k, v in values.items()}

    def begin(self) -> None:
        """Nothing to begin: the staged snapshot is the batch's transaction."""

    def commit(self) -> None:
        commit_staged(self.warehouse, self._staging, self._base)
        self._done = True

    def rollback(self) -> None:
        shutil.rmtree(self._staging, ignore_errors=True)
        self._done = True

    def close(self) -> None:
        """End the batch: what was not committed is removed."""
        if not self._done:
            self.rollback()
        for name in list(self._views):
            self.session.catalog.dropTempView(name)
        self._views.clear()
        self.files.close()
