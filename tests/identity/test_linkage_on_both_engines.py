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
from datetime import date
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


def households(members: list[dict[str, Any]], index: dict[str, str]) -> set[frozenset[Any]]:
    """Each household as the set of its memberships, a person named by its records (so
    households compare up to the labels of both persons and households)."""
    records: dict[str, list[str]] = defaultdict(list)
    for record, person in index.items():
        records[person].append(record)
    by_household: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
    for m in members:
        person = tuple(sorted(records[m["enterprise_id"]]))
        by_household[m["household_id"]].add(
            (person, m["agency"], m["valid_from"], m["valid_to"], m["basis"])
        )
    return {frozenset(rows) for rows in by_household.values()}


def hub_households(state: State) -> list[dict[str, Any]]:
    con = duckdb.connect(str(state.root / "linked.duckdb"), read_only=True)
    try:
        cursor = con.execute("SELECT * FROM household_member")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def test_both_engines_give_the_same_households(state: State, request: Any) -> None:
    """Households on Spark: built with the person index of the run, by the hub's steps,
    into the same snapshot; the same memberships as on the hub, up to labels."""
    on_duckdb = person_index(state, "duckdb", request)
    on_spark = person_index(state, "spark", request)
    tables = warehouse_tables(state.warehouse)
    members = pq.read_table(tables["household_member"]).to_pylist()
    assert {m["enterprise_id"] for m in members} == set(on_spark.values())
    found = households(members, on_spark)
    assert found == households(hub_households(state), on_duckdb)
    assert any(len({r[0] for r in h}) > 1 for h in found)  # some family of several
    # The analytic table is the memberships', for the run's persons.
    linked = pq.read_table(tables["linked_household"]).to_pylist()
    assert {(r["household_id"], r["enterprise_id"]) for r in linked} == {
        (m["household_id"], m["enterprise_id"]) for m in members
    }


def test_a_household_question_is_released_the_same_on_both_engines(
    state: State, request: Any
) -> None:
    from crosswalk.access import Gate
    from crosswalk.agreement import Principal
    from crosswalk.analytics import Filters, LifetimeUse, ProgramOverlap
    from crosswalk.engines.spark_engine import SparkEngine
    from crosswalk.hub import DuckDBEngine, Hub

    person_index(state, "duckdb", request)
    person_index(state, "spark", request)
    analyst = Principal("ada", "hfs", "analyst")
    filters = Filters(start=date(2010, 1, 1), end=date(2024, 12, 31))
    questions = (
        LifetimeUse(filters, by="county", unit="household"),
        ProgramOverlap(filters, unit="household"),
    )
    released = {}
    for name in ENGINES:
        engine = (
            DuckDBEngine(state.root / "linked.duckdb")
            if name == "duckdb"
            else SparkEngine(state.warehouse, session=request.getfixturevalue("spark_session"))
        )
        with Hub(engine, f"sqlite:///{state.root}/{name}-read.db", state.secrets) as hub:
            released[name] = [
                Gate(hub).aggregate(analyst, "program_evaluation", q).table.to_pylist()
                for q in questions
            ]
    assert released["spark"] == released["duckdb"]
    assert all(
        any(v not in (None, 0) for row in t for v in row.values()) for t in released["duckdb"]
    )


def test_households_on_spark_keep_the_ids_of_the_snapshot_before(
    state: State, request: Any
) -> None:
    """A warehouse exported from a linked hub holds the hub's households: built again on
    Spark for the same persons, every household keeps its id and none is retired."""
    from crosswalk.engines.spark_sql import SparkSql
    from crosswalk.identity import on_warehouse

    person_index(state, "duckdb", request)
    exported = state.root / "exported-linked"
    export_warehouse(
        state.root / "linked.duckdb", exported, control=state.control, secrets=state.secrets
    )
    sql = SparkSql(request.getfixturevalue("spark_session"))
    try:
        on_warehouse.inputs(sql, warehouse_tables(exported))
        sql.execute("CREATE OR REPLACE TEMP VIEW person_index_out AS SELECT * FROM person_index")
        counts = on_warehouse.households(sql, "L-again")
        rows = sql.table("hh_member_out").toArrow().to_pylist()
        events = sql.execute(
            "SELECT event, count(*) FROM household_id_event_out WHERE link_run_id = 'L-again'"
            " GROUP BY event"
        ).fetchall()
    finally:
        sql.close()
    columns = ("household_id", "enterprise_id", "agency", "valid_from", "valid_to", "basis")

    def memberships(members: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted((tuple(m[c] for c in columns) for m in members), key=repr)

    assert memberships(rows) == memberships(hub_households(state))
    assert events == []  # no id created, none retired
    assert counts["household_member"] == len(rows)
