"""The Spark benchmark at a reduced size: the whole pipeline (ingest, linkage, the overlap
question) on DuckDB and on Spark local mode gives the same answers, and Spark's own
stage metrics are read for each stage of ours. Times are reported by ``make bench
BENCH=spark``, never checked here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.spark import java_missing

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

PEOPLE = int(os.environ.get("CROSSWALK_TEST_BENCH_SPARK_PEOPLE", "300"))


@pytest.mark.skipif(java_missing() is not None, reason=str(java_missing()))
def test_both_engines_agree_through_the_whole_pipeline(tmp_path: Path) -> None:
    from bench.bench_spark import LINK_STAGES, run

    result = run(PEOPLE, tmp_path, master="local[1]")
    duck, spark = result["duckdb"], result["spark"]
    read, accepted, quarantined = duck["counts"]
    assert read == accepted + quarantined > 0
    assert spark["counts"] == duck["counts"]
    assert spark["records"] == duck["records"] > 0
    assert result["f1"] >= 0.999
    assert spark["persons"] == duck["persons"]
    assert duck["overlap"] and spark["overlap"] == duck["overlap"]
    # Spark's stage metrics, per stage of ours: every stage launched jobs that ran tasks.
    for stage in ["ingest", *LINK_STAGES.values(), "overlap"]:
        metrics = spark["spark"][stage]
        assert metrics["jobs"] >= 1 and metrics["tasks"] >= metrics["stages"] >= 1, stage
        assert metrics["task_run"] > 0, stage
    assert spark["jvm_rss"] > 0 and spark["jvm_cpu"] > 0
