"""Linkage's SQL on Spark: rendered through SQLGlot and run for real, with the same
results as on DuckDB (``crosswalk.identity.sql.render``, ``SparkSql``)."""

from __future__ import annotations

import duckdb
import pytest

from crosswalk.errors import ConfigError
from crosswalk.identity.cluster import cannot_link_sql
from crosswalk.identity.sql import render

PAIRS = [
    ("MARTHA", "MARHTA"),
    ("DWAYNE", "DUANE"),
    ("AB", "ABC"),
    ("JONATHAN", "JOHNATHAN"),
    ("A", "A"),
    ("MARIA JOSE", "MARIA"),
    ("", "X"),
    (None, "X"),
    ("X", None),
]

EXPRESSIONS = [
    "jaro_winkler_similarity(a, b)",
    "damerau_levenshtein(a, b)",
    "levenshtein(a, b)",
    "list_has_any(string_split(a, ' '), string_split(b, ' '))",
    "split_part(coalesce(a, '') || ':' || coalesce(b, ''), ':', 2)",
    "strpos(a, 'A')",
    "left(a, 1)",
    "length(a) // 2",
    "list_sort(list_filter(string_split(concat_ws(' ', a, b), ' '), lambda x: length(x) > 1))[1]",
    "array_length(nullif(list_filter(string_split(a, ' '), lambda x: length(x) > 9), []))",
]


def test_duckdb_sql_is_kept_as_written() -> None:
    assert render("jaro_winkler_similarity(a, b) >= 0.8", "duckdb") == (
        "jaro_winkler_similarity(a, b) >= 0.8"
    )


def test_spark_gets_its_own_functions() -> None:
    sql = render("SELECT list_has_any(x, y), jaro_winkler_similarity(a, b) FROM t", "spark")
    assert "ARRAYS_OVERLAP(X, Y)" in sql.upper() and "&&" not in sql  # && is Spark's AND
    assert "JARO_WINKLER(A, B)" in sql.upper()
    assert "IS NULL" in sql  # NULL in, NULL out, as on DuckDB
    with pytest.raises(ConfigError, match="duckdb or spark"):
        render("SELECT 1", "sqlite")


def test_the_household_rules_render_for_spark() -> None:
    sql = render(f"SELECT {cannot_link_sql()} FROM t a, t b", "spark")
    assert "&&" not in sql and "ARRAYS_OVERLAP" in sql.upper()


def _values(run, expression: str) -> list[object]:  # type: ignore[no-untyped-def]
    rows = ", ".join(
        "(" + ", ".join("NULL" if v is None else f"'{v}'" for v in pair) + f", {i})"
        for i, pair in enumerate(PAIRS)
    )
    return run(f"SELECT {expression} AS v FROM (VALUES {rows}) t(a, b, i) ORDER BY i")


def test_every_function_gives_what_duckdb_gives(spark_session: object) -> None:
    from crosswalk.engines.spark_sql import SparkSql

    sql = SparkSql(spark_session)
    try:
        for expression in EXPRESSIONS:
            on_duckdb = _values(lambda q: [r[0] for r in duckdb.sql(q).fetchall()], expression)
            on_spark = _values(lambda q: [r[0] for r in sql.execute(q).fetchall()], expression)
            assert on_spark == pytest.approx(on_duckdb), expression
    finally:
        sql.close()


def test_linkage_on_spark_writes_no_table_in_place(spark_session: object) -> None:
    from crosswalk.engines.spark_sql import SparkSql

    sql = SparkSql(spark_session)
    try:
        sql.execute("CREATE OR REPLACE TEMP TABLE t AS SELECT 1 AS x")
        assert sql.execute("SELECT x FROM t").fetchall() == [(1,)]
        for statement in ("DELETE FROM t", "INSERT INTO t VALUES (2)", "DROP TABLE t"):
            with pytest.raises(ConfigError, match="in place"):
                sql.execute(statement)
    finally:
        sql.close()
