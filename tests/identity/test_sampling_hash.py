"""Splink's training samples are drawn by one hash on every engine
(``crosswalk.engines.splink_api``): the value the hub computes is the value Spark
computes, and the value Python's SHA-256 gives, so both engines train on the same
records."""

from __future__ import annotations

import hashlib

import duckdb
import pytest

from crosswalk.engines.splink_api import duckdb_api, duckdb_hash_sql, spark_hash_sql

IDS = ["medicaid-__-M0001", "snap-__-S77", "", "ä-__-ünïcode", "x" * 500, "12345"]


def expected(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)


def test_the_hub_hashes_as_sha256_does() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE ids (id VARCHAR)")
    con.executemany("INSERT INTO ids VALUES (?)", [[i] for i in IDS])
    got = dict(con.execute(f"SELECT id, {duckdb_hash_sql('id')} FROM ids").fetchall())
    assert got == {i: expected(i) for i in IDS}
    assert all(0 <= v < 2**60 for v in got.values())


def test_splink_on_the_hub_samples_by_that_hash() -> None:
    api = duckdb_api(duckdb.connect())
    sample = api.sql_dialect.hash_bucket_expression("l.unique_id", 1000)
    assert "sha256" in sample
    # Splink's own dialect for other hubs is left as it was.
    from splink import DuckDBAPI

    assert "sha256" not in DuckDBAPI(duckdb.connect()).sql_dialect.hash_bucket_expression(
        "l.unique_id", 1000
    )


@pytest.mark.slow
def test_spark_hashes_as_the_hub_does(spark_session) -> None:
    frame = spark_session.createDataFrame([(i,) for i in IDS], "id STRING")
    got = {r[0]: r[1] for r in frame.selectExpr("id", spark_hash_sql("id")).collect()}
    assert got == {i: expected(i) for i in IDS}
