"""The engine layer: choosing an engine, the warehouse's atomic snapshots, and PySpark
as an optional extra."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from tests.analytics.conftest import State
from typer.testing import CliRunner

from crosswalk.audit import AuditLog
from crosswalk.cli import full_app
from crosswalk.engines import export_warehouse, warehouse_tables
from crosswalk.engines.spark_engine import SparkEngine
from crosswalk.errors import ConfigError, NotFound, ReadTimedOut
from crosswalk.hub import DuckDBEngine, Hub, engine_for


def test_the_engine_setting_chooses_the_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert isinstance(engine_for(tmp_path / "hub.duckdb"), DuckDBEngine)
    monkeypatch.setenv("CROSSWALK_ENGINE", "spark")
    monkeypatch.setenv("CROSSWALK_SPARK_MASTER", "spark://cluster:7077")
    engine = engine_for(tmp_path / "warehouse")
    assert isinstance(engine, SparkEngine)
    assert engine.warehouse == tmp_path / "warehouse"
    assert engine.master == "spark://cluster:7077"
    with Hub(tmp_path / "warehouse", f"sqlite:///{tmp_path}/c.db", tmp_path / "keys") as hub:
        assert hub.dialect == "spark"  # a hub opened by name follows the setting
    monkeypatch.setenv("CROSSWALK_ENGINE", "sqlite")
    with pytest.raises(ConfigError, match="CROSSWALK_ENGINE is duckdb or spark"):
        engine_for()


def test_without_pyspark_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    engine = SparkEngine(tmp_path, master="local[1]")
    with pytest.raises(ConfigError, match=r"pip install 'crosswalk\[spark\]'"):
        engine.session()


def test_a_warehouse_is_needed_before_spark_reads(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="export the hub first"):
        warehouse_tables(tmp_path / "nowhere")


def test_an_export_commits_a_whole_snapshot_or_nothing(
    state_hub: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    control = f"sqlite:///{tmp_path}/control.db"
    warehouse = tmp_path / "warehouse"
    rows = export_warehouse(state_hub, warehouse, control=control, secrets=tmp_path / "keys")
    first = warehouse_tables(warehouse)
    # The analytic tables, and what linkage on Spark reads and writes.
    assert sorted(first) == [
        "enterprise_id_counter",
        "enterprise_id_retired",
        "household_id_counter",
        "household_id_event",
        "household_index",
        "household_key",
        "household_member",
        "linked_event",
        "linked_household",
        "linked_record",
        "person_index",
        "person_record",
        "review_decision",
        "service_event",
    ]
    assert min(rows[t] for t in ("linked_event", "linked_record", "person_record")) > 0
    [entry] = AuditLog(control, secrets=tmp_path / "keys").entries()
    assert entry["action"] == "warehouse.export"
    assert json.loads(entry["body"])["objects"]["tables"] == rows

    # An export failing part-way (the second table) leaves the snapshot in force whole.
    from crosswalk.identity import linked

    real = linked.sources

    def second_fails(con):  # type: ignore[no-untyped-def]
        return {**real(con), "linked_record": "(SELECT no_such_column FROM linked_record)"}

    monkeypatch.setattr(linked, "sources", second_fails)
    with pytest.raises(Exception, match="no_such_column"):
        export_warehouse(state_hub, warehouse, control=control, secrets=tmp_path / "keys")
    assert warehouse_tables(warehouse) == first
    assert [p.name for p in (warehouse / "snapshots").iterdir()] == [
        first["linked_event"].parent.name
    ]
    assert len(AuditLog(control, secrets=tmp_path / "keys").entries()) == 1


def test_an_export_keeps_the_tables_it_does_not_write(state_hub: Path, tmp_path: Path) -> None:
    """A table of the warehouse an export does not write (the quarantine of a batch
    loaded on Spark) stays through it, hard-linked into the new snapshot, not copied."""
    control, keys = f"sqlite:///{tmp_path}/control.db", tmp_path / "keys"
    warehouse = tmp_path / "warehouse"
    export_warehouse(state_hub, warehouse, control=control, secrets=keys)
    records = warehouse_tables(warehouse)["linked_event"].parent / "quarantine"
    records.mkdir()
    part = records / "part-0.parquet"
    duckdb.sql(f"COPY (SELECT 'B1' AS batch_id) TO '{part}' (FORMAT parquet)")
    export_warehouse(state_hub, warehouse, control=control, secrets=keys)
    kept = warehouse_tables(warehouse)
    assert "quarantine" in kept and kept["quarantine"] != records
    assert (kept["quarantine"] / "part-0.parquet").stat().st_ino == part.stat().st_ino


def test_the_cli_exports_the_warehouse(
    state_hub: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSWALK_CONTROL", f"sqlite:///{tmp_path}/control.db")
    result = CliRunner().invoke(
        full_app(),
        ["export-warehouse", "--hub", str(state_hub), "--warehouse", str(tmp_path / "w")],
    )
    assert result.exit_code == 0, result.output
    assert "linked_event" in result.output
    assert {"linked_event", "linked_record", "person_record"} <= set(
        warehouse_tables(tmp_path / "w")
    )


@pytest.mark.slow
def test_a_spark_read_past_its_time_is_cancelled(state: State, spark_session: object) -> None:
    engine = SparkEngine(state.warehouse, session=spark_session, timeout=1)
    endless = "SELECT count(*) AS n FROM range(1000000000) a CROSS JOIN range(1000000000) b"
    with pytest.raises(ReadTimedOut, match="longer than the 1 s"), engine.read() as read:
        read.arrow(endless)
    # The session's next read runs as usual.
    with SparkEngine(state.warehouse, session=spark_session).read() as read:
        assert read.arrow("SELECT 1 AS n").to_pylist() == [{"n": 1}]


def test_local_mode_gets_settings_for_one_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CROSSWALK_SPARK_CONF", raising=False)
    local = SparkEngine("w", master="local[3]").config
    # Spark's 200 shuffle partitions would be 200 tasks per shuffle on three threads.
    assert local["spark.sql.shuffle.partitions"] == local["spark.default.parallelism"] == "3"
    assert local["spark.ui.enabled"] == "false"
    assert local["spark.sql.adaptive.enabled"] == "true"
    assert SparkEngine("w", master="local").config["spark.sql.shuffle.partitions"] == "1"
    # A cluster keeps Spark's own (or its administrator's) for everything but the basics.
    cluster = SparkEngine("w", master="spark://head:7077").config
    assert "spark.sql.shuffle.partitions" not in cluster
    assert "spark.ui.enabled" not in cluster and "spark.driver.memory" not in cluster
    assert cluster["spark.sql.session.timeZone"] == "UTC"


def test_spark_settings_come_from_the_environment_then_the_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "CROSSWALK_SPARK_CONF", "spark.driver.memory=8g  spark.sql.shuffle.partitions=16"
    )
    engine = SparkEngine("w", master="local[2]", config={"spark.sql.shuffle.partitions": "4"})
    assert engine.config["spark.driver.memory"] == "8g"
    assert engine.config["spark.sql.shuffle.partitions"] == "4"
    for bad in ("spark.driver.memory", "driver.memory=8g", "spark.driver.memory="):
        monkeypatch.setenv("CROSSWALK_SPARK_CONF", bad)
        with pytest.raises(ConfigError, match=r"CROSSWALK_SPARK_CONF: .* is not a Spark setting"):
            SparkEngine("w", master="local[2]")


def test_a_warehouse_without_households_answers_all_but_household_questions(
    state: State, spark_session: object, tmp_path: Path
) -> None:
    """A snapshot without enterprise households (written before they were built on
    Spark): a question that reads them is refused by name, not answered as if there were
    none."""
    import shutil

    from crosswalk.access import Gate
    from crosswalk.agreement import Principal
    from crosswalk.analytics import Filters, LifetimeUse, ProgramOverlap
    from crosswalk.engines.warehouse import commit_snapshot

    held = warehouse_tables(state.warehouse)
    warehouse = tmp_path / "warehouse"

    def without_households(staging: Path) -> dict[str, int]:
        for table, folder in held.items():
            if table != "linked_household":
                shutil.copytree(folder, staging / table)
        return {}

    commit_snapshot(warehouse, without_households)
    analyst, purpose = Principal("ada", "hfs", "analyst"), "program_evaluation"
    filters = Filters(start=date(2015, 1, 1), end=date(2020, 12, 31))
    answers = []
    for folder in (state.warehouse, warehouse):
        engine = SparkEngine(folder, session=spark_session)
        with Hub(engine, f"sqlite:///{tmp_path}/{folder.name}.db", state.secrets) as hub:
            answers.append(Gate(hub).aggregate(analyst, purpose, ProgramOverlap(filters)).table)
    assert answers[0].num_rows > 0 and answers[1] == answers[0]
    engine = SparkEngine(warehouse, session=spark_session)
    with (
        Hub(engine, f"sqlite:///{tmp_path}/h.db", state.secrets) as hub,
        pytest.raises(NotFound, match="holds no linked_household"),
    ):
        Gate(hub).aggregate(analyst, purpose, LifetimeUse(filters, unit="household"))
