"""What linkage asks of its engine: the few calls of a DuckDB connection it makes.

A DuckDB connection answers them itself; on Spark, ``crosswalk.engines.spark_sql.SparkSql``
answers the same calls (statements written in DuckDB SQL, rendered for Spark), so the
features, coverage, plan, threshold and clustering are one code path on both engines.
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlglot
from sqlglot import exp

from crosswalk.errors import ConfigError


class Sql(Protocol):
    """A connection linkage runs its statements on (DuckDB SQL)."""

    def execute(self, query: str, parameters: Any = None, /) -> Any: ...

    def register(self, name: str, table: Any, /) -> Any: ...

    def unregister(self, name: str, /) -> Any: ...


def columns(con: Sql, relation: str) -> set[str]:
    """The column names of ``relation`` (lower case)."""
    return {str(d[0]).lower() for d in con.execute(f"SELECT * FROM {relation} LIMIT 0").description}


# DuckDB function -> the Spark function of the same result: Splink's similarity
# functions (a jar shipped with it), which a Spark session registers under these names.
SPARK_FUNCTIONS = {
    "jaro_winkler_similarity": "jaro_winkler",
    "damerau_levenshtein": "damerau_levenshtein",
}


def _null_safe(name: str, args: list[exp.Expr]) -> exp.Expr:
    """``name(args)``, NULL when an argument is NULL, as DuckDB's functions are (the
    jar's return 0 for a NULL)."""
    call = exp.Anonymous(this=name, expressions=args)
    missing = exp.or_(*(exp.Is(this=a.copy(), expression=exp.Null()) for a in args))
    return exp.If(this=missing, true=exp.Null(), false=call)


def _for_spark(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.ArrayOverlaps):  # SQLGlot writes ``&&``, Spark's logical AND
        return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
    if isinstance(node, exp.JarowinklerSimilarity):
        return _null_safe(SPARK_FUNCTIONS["jaro_winkler_similarity"], [node.this, node.expression])
    if isinstance(node, exp.Anonymous) and str(node.this).lower() in SPARK_FUNCTIONS:
        return _null_safe(SPARK_FUNCTIONS[str(node.this).lower()], list(node.expressions))
    return node


def render(sql: str | exp.Expr, dialect: str) -> str:
    """Linkage's DuckDB SQL (a statement or a condition) written for ``dialect``: as it
    is for DuckDB; for Spark through SQLGlot, with the functions SQLGlot does not map
    written as their Spark equivalents (raises ``ConfigError`` if it cannot be)."""
    if dialect == "duckdb":
        return sql if isinstance(sql, str) else sql.sql(dialect="duckdb")
    if dialect != "spark":
        raise ConfigError(f"linkage runs on duckdb or spark, not {dialect}")
    try:
        tree = sqlglot.parse_one(sql, read="duckdb") if isinstance(sql, str) else sql
        return tree.transform(_for_spark).sql(
            dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE
        )
    except (sqlglot.errors.ParseError, sqlglot.errors.UnsupportedError) as e:
        raise ConfigError(f"the linkage SQL cannot be written for {dialect}: {e}") from None
