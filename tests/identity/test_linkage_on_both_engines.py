"""Linkage on both engines: the same synthetic state linked on DuckDB (the hub) and on
Spark (the warehouse, local mode) gives the same person index up to the ids' labels.

Spark local mode is slow to start and to run Splink's many small jobs, so these run
under ``-m slow`` (``make test-slow``), on a state of a few hundred records there and
a bigger one with ``CROSSWALK_TEST_LINK_PEOPLE``.
"""

from __future__ import annotations

import os
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from crosswalk.engines import export_warehouse, warehouse_tables
from crosswalk.engines.warehouse import commit_snapshot
from crosswalk.identity import link
from crosswalk.ingest import ingest_state
from crosswalk.synth import small_state

# Spark local mode runs Splink as many small jobs: minutes, not seconds, on a shared machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

PEOPLE = int(os.environ.get("CROSSWALK_TEST_LINK_PEOPLE", "150"))
ENGINES = ("duckdb", "spark")


def pairs(index: dict[str, str]) -> set[tuple[str, str]]:
    """Every pair of records one person holds."""
    groups: dict[str, list[str]] = defaultdict(list)
    for record, person in index.items():
        groups[person].append(record)
    return {(a, b) for keys in groups.values() for a in sorted(keys) for b in sorted(keys) if a < b}


def pairwise_f1(found: dict[str, str], truth: dict[str, str]) -> float:
    a, b = pairs(found), pairs(truth)
    return 1.0 if not a and not b else 2 * len(a & b) / (len(a) + len(b))


class State:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.hub = root / "hub.duckdb"
        self.warehouse = root / "warehouse"
        self.control = f"sqlite:///{root}/control.db"
        self.secrets = root / "secrets"
        truth = pq.read_table(root / "state" / "truth" / "records.parquet")
        self.truth = dict(
            zip(truth["record_key"].to_pylist(), truth["person_id"].to_pylist(), strict=True)
        )


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> State:
    """A small state ingested into a hub, and its standardised records (nothing linked)
    in a warehouse of their own."""
    root = tmp_path_factory.mktemp("both-engines")
    small_state(str(root / "state"), people=PEOPLE, seed=5)
    s = State(root)
    ingest_state(root / "state", hub=s.hub, control=s.control, secrets=s.secrets)
    exported = root / "exported"
    export_warehouse(s.hub, exported, control=s.control, secrets=s.secrets)
    held = warehouse_tables(exported)

    def records_only(staging: Path) -> dict[str, int]:
        for table in ("person_record", "service_event"):
            shutil.copytree(held[table], staging / table)
        return {"person_record": 0, "service_event": 0}

    commit_snapshot(s.warehouse, records_only)
    return s


def person_index(state: State, engine: str, request: pytest.FixtureRequest) -> dict[str, str]:
    if engine == "duckdb":
        hub = state.root / "linked.duckdb"
        if not hub.exists():
            shutil.copy(state.hub, hub)
            link(hub, control=state.control, secrets=state.secrets)
        rows = duckdb.connect(str(hub), read_only=True).execute(
            "SELECT record_key, enterprise_id FROM person_index"
        )
        return dict(rows.fetchall())
    from crosswalk.engines.spark_engine import SparkEngine
    from crosswalk.identity.on_warehouse import link_warehouse

    if "person_index" not in warehouse_tables(state.warehouse):
        spark = SparkEngine(state.warehouse, session=request.getfixturevalue("spark_session"))
        link_warehouse(spark, control=state.control, secrets=state.secrets)
    return read_index(state.warehouse)


def read_index(warehouse: Path) -> dict[str, str]:
    table = pq.read_table(warehouse_tables(warehouse)["person_index"])
    return dict(
        zip(table["record_key"].to_pylist(), table["enterprise_id"].to_pylist(), strict=True)
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_each_engine_links_the_state(state: State, engine: str, request: Any) -> None:
    index = person_index(state, engine, request)
    assert set(index) == set(state.truth)  # every record in one person, once
    assert all(p.startswith("P") and len(p) == 11 for p in index.values())
    assert pairwise_f1(index, state.truth) >= 0.97


def test_both_engines_give_the_same_person_index(state: State, request: Any) -> None:
    on_duckdb = person_index(state, "duckdb", request)
    on_spark = person_index(state, "spark", request)
    assert pairwise_f1(on_spark, on_duckdb) >= 0.999
    # Ids are allotted by the same rule: in record-key order from the same counter.
    assert sorted(set(on_spark.values())) == sorted(set(on_duckdb.values()))


def test_spark_rewrites_the_analytic_tables_for_its_index(state: State, request: Any) -> None:
    """Questions on Spark read the persons of the run on Spark, not those of an export."""
    index = person_index(state, "spark", request)
    tables = warehouse_tables(state.warehouse)
    records = pq.read_table(tables["linked_record"])
    assert (
        dict(
            zip(
                records["record_key"].to_pylist(), records["enterprise_id"].to_pylist(), strict=True
            )
        )
        == index
    )
    events = pq.read_table(tables["linked_event"])
    assert events.num_rows > 0 and set(events["enterprise_id"].to_pylist()) <= set(index.values())
