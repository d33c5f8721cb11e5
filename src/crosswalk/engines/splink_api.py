"""Splink's database API for each engine, with one sampling hash on all of them.

Splink draws its training samples (the records whose pairs estimate u, the records of
an EM block's sample) and its chunks by a hash of each record's id: ``hash()`` on
both DuckDB and Spark, which are different functions (64-bit on DuckDB, 32-bit
Murmur3 on Spark). The same records would then train different models on the two
engines, link a few pairs differently and release other noise on the cells those
pairs touch. Here both engines hash with the first 15 hexadecimal digits of SHA-256 of
the id as text (a non-negative 60-bit integer): the same samples, so the same model.

Splink is imported only when an API is made (linkage loads it only to train or score).
"""

from __future__ import annotations

from functools import cache
from typing import Any

# Hexadecimal digits of the SHA-256 taken: 60 bits, positive in a signed 64-bit integer.
HASH_HEX_DIGITS = 15


def duckdb_hash_sql(expression: str) -> str:
    """The sampling hash of a SQL expression, in DuckDB's SQL."""
    digest = f"sha256(CAST(({expression}) AS VARCHAR))"
    return f"CAST('0x' || substr({digest}, 1, {HASH_HEX_DIGITS}) AS BIGINT)"


def spark_hash_sql(expression: str) -> str:
    """The sampling hash of a SQL expression, in Spark's SQL (the same value)."""
    digest = f"sha2(CAST(({expression}) AS STRING), 256)"
    return f"CAST(conv(substr({digest}, 1, {HASH_HEX_DIGITS}), 16, 10) AS BIGINT)"


@cache
def _duckdb_class() -> type:
    from splink import DuckDBAPI
    from splink.internals.dialects import DuckDBDialect

    class SameHashDuckDB(DuckDBDialect):
        def hash_function_expression(self, col_expression: str) -> str:
            return duckdb_hash_sql(col_expression)

    class SameHashDuckDBAPI(DuckDBAPI):
        sql_dialect = SameHashDuckDB()

    return SameHashDuckDBAPI


@cache
def _spark_class() -> type:
    from splink.backends.spark import SparkAPI
    from splink.internals.dialects import SparkDialect

    class SameHashSpark(SparkDialect):
        def hash_function_expression(self, col_expression: str) -> str:
            return spark_hash_sql(col_expression)

    class SameHashSparkAPI(SparkAPI):
        sql_dialect = SameHashSpark()

    return SameHashSparkAPI


def duckdb_api(con: Any) -> Any:
    """Splink's DuckDB API over a connection, sampling by the shared hash."""
    return _duckdb_class()(con)


def spark_api(session: Any, **options: Any) -> Any:
    """Splink's Spark API over a session (``options`` as ``SparkAPI`` takes them),
    sampling by the shared hash."""
    return _spark_class()(spark_session=session, **options)
