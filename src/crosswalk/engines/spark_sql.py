"""Linkage's SQL on Spark: the statements identity writes in DuckDB SQL, run in a Spark
session.

Linkage talks to its engine through a handful of calls of a DuckDB connection
(``execute(sql, params)`` then ``fetchall()`` or ``fetchnumpy()``, ``register`` and
``unregister`` of an Arrow table) and a Splink database API. ``SparkSql`` answers the
same calls on a Spark session, so the features, the coverage, the model's plan, the
threshold and the clustering run one code path on both engines:

- a query is rendered for Spark through SQLGlot (``crosswalk.identity.sql.render``);
  Jaro-Winkler similarity and Damerau-Levenshtein distance are the similarity
  functions shipped with Splink (a jar registered in the session, no download);
- ``CREATE [OR REPLACE] TEMP TABLE t AS q`` is ``q`` checkpointed (computed once, its
  lineage cut) as the temporary view ``t``;
- anything else that writes (INSERT, DELETE, UPDATE) is refused: linkage on Spark
  writes the warehouse by a snapshot, never a table in place.

The session is one of its own (``newSession``): ANSI mode off (an index past the end of
a list is NULL, as in DuckDB), ``size(NULL)`` NULL.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import sqlglot
from sqlglot import exp

from crosswalk.engines import splink_api
from crosswalk.errors import ConfigError
from crosswalk.identity.sql import render

# Settings of a linkage session, so DuckDB SQL means the same on Spark.
LINKAGE_CONFIG = {
    "spark.sql.ansi.enabled": "false",
    "spark.sql.legacy.sizeOfNull": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.caseSensitive": "false",
}


def similarity_jar() -> str:
    """The path of the similarity functions' jar shipped with Splink (for ``spark.jars``)."""
    from splink.backends.spark import similarity_jar_location

    return str(similarity_jar_location())


class SparkResult:
    """The rows of one query, fetched as a DuckDB result is."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame

    @property
    def description(self) -> list[tuple[str, ...]]:
        return [(name,) for name in self.frame.columns]

    def arrow(self) -> pa.Table:
        table = self.frame.toArrow()
        assert isinstance(table, pa.Table)
        return table

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.frame.collect()]

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        table = self.arrow()
        return {
            name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names
        }


class SparkSql:
    """A Spark session answering the calls linkage makes of a DuckDB connection.

    Args:
        session: the Spark session to run in; a session of its own is made from it
            (``newSession``), with ``LINKAGE_CONFIG`` and the similarity functions.
    """

    dialect = "spark"

    def __init__(self, session: Any) -> None:
        self.session = session.newSession()
        for key, value in LINKAGE_CONFIG.items():
            self.session.conf.set(key, value)
        from splink.internals.spark.jar_location import get_scala_udfs

        try:
            for name, java_class, returns in get_scala_udfs():
                self.session.udf.registerJavaFunction(name, java_class, returns)
        except Exception as e:  # the session was started without the jar
            raise ConfigError(
                "the Spark session lacks the similarity functions linkage needs: start it "
                f"with spark.jars={similarity_jar()} ({str(e).splitlines()[0]})"
            ) from None

    def execute(self, sql: str, params: list[Any] | None = None) -> SparkResult:
        tree = sqlglot.parse_one(sql, read="duckdb")
        if isinstance(tree, exp.Create) and tree.expression is not None:
            if str(tree.args.get("kind", "")).upper() not in ("TABLE", "VIEW"):
                raise ConfigError(f"linkage on Spark makes tables and views only: {sql[:60]}")
            name = tree.this.find(exp.Table)
            assert name is not None
            frame = self._frame(tree.expression, params)
            if str(tree.args["kind"]).upper() == "TABLE":
                frame = frame.localCheckpoint(eager=True)
            frame.createOrReplaceTempView(name.name)
            return SparkResult(frame.limit(0))
        if not isinstance(tree, exp.Query):
            raise ConfigError(f"linkage on Spark does not write tables in place: {sql[:60]}")
        return SparkResult(self._frame(tree, params))

    def _frame(self, tree: exp.Expr, params: list[Any] | None) -> Any:
        args = [p.tolist() if isinstance(p, np.ndarray) else p for p in params or []]
        return self.session.sql(render(tree, "spark"), args=args or None)

    def sql(self, sql: str) -> SparkResult:
        return self.execute(sql)

    def register(self, name: str, table: pa.Table) -> None:
        self.session.createDataFrame(table).createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        self.session.catalog.dropTempView(name)

    def table(self, name: str) -> Any:
        """The Spark DataFrame of a temporary view (to write it out)."""
        return self.session.table(name)

    def splink_api(self) -> Any:
        """Splink's database API over this session (its work tables persisted, not
        written as files: a cluster spills them to its executors' disks)."""
        partitions = int(self.session.conf.get("spark.sql.shuffle.partitions"))
        return splink_api.spark_api(
            self.session,
            break_lineage_method="persist",
            num_partitions_on_repartition=partitions,
            register_udfs_automatically=False,
        )

    def close(self) -> None:
        for table in self.session.catalog.listTables():
            if table.isTemporary:
                self.session.catalog.dropTempView(table.name)
