"""A hand-built hub of six people whose answers are worked out by hand in the tests.

E1  F 1990-05-01  MEDICAID 2015-01-01..2016-12-31 (two Medicaid records), SNAP 2015-03-01..2015-12-31
E2  M 2001-02-01  MEDICAID 2005-01-01..2016-06-30, FOSTER_CARE 2005-01-01..2016-06-30,
                  JUVENILE_DETENTION 2017-03-01..2017-06-01, INCARCERATION 2020-01-01..2021-01-01 (LAKE)
E3  F 1980-01-01  UI_CLAIM 2015-02-01..2015-05-01, SNAP 2015-06-01..(open), TANF 2015-09-01..2016-03-01
E4  M 1950-07-01  MEDICAID 2014-01-01..(open), AGING_IN_HOME 2015-05-01..2019-01-01 (KANE)
E5  F 2000-03-01  FOSTER_CARE 2010-01-01..2017-12-31, SNAP 2018-02-01..2018-12-31,
                  MEDICAID 2019-01-01..2019-06-30
E6  (sex and birth date unknown)  SNAP 2019-01-01..2019-12-31
Counties are COOK unless said otherwise. E3's SNAP case is E1's: one enterprise household
of two; everyone else is a household of one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from crosswalk.engines import export_warehouse
from crosswalk.hub import DuckDBEngine, Hub, ReadEngine
from crosswalk.identity import households, link, linked, store
from crosswalk.ingest import hub as hub_schema
from crosswalk.ingest import ingest_state
from crosswalk.model import PROGRAMS
from crosswalk.synth import small_state

PEOPLE = {
    "E1": ("F", date(1990, 5, 1), "COOK"),
    "E2": ("M", date(2001, 2, 1), "LAKE"),
    "E3": ("F", date(1980, 1, 1), "COOK"),
    "E4": ("M", date(1950, 7, 1), "KANE"),
    "E5": ("F", date(2000, 3, 1), "COOK"),
    "E6": ("U", None, "COOK"),
}
EVENTS = [
    ("E1", "MEDICAID", date(2015, 1, 1), date(2016, 12, 31), 2),
    ("E1", "SNAP", date(2015, 3, 1), date(2015, 12, 31), 1),
    ("E2", "MEDICAID", date(2005, 1, 1), date(2016, 6, 30), 1),
    ("E2", "FOSTER_CARE", date(2005, 1, 1), date(2016, 6, 30), 1),
    ("E2", "JUVENILE_DETENTION", date(2017, 3, 1), date(2017, 6, 1), 1),
    ("E2", "INCARCERATION", date(2020, 1, 1), date(2021, 1, 1), 1),
    ("E3", "UI_CLAIM", date(2015, 2, 1), date(2015, 5, 1), 1),
    ("E3", "SNAP", date(2015, 6, 1), None, 1),
    ("E3", "TANF", date(2015, 9, 1), date(2016, 3, 1), 1),
    ("E4", "MEDICAID", date(2014, 1, 1), None, 1),
    ("E4", "AGING_IN_HOME", date(2015, 5, 1), date(2019, 1, 1), 1),
    ("E5", "FOSTER_CARE", date(2010, 1, 1), date(2017, 12, 31), 1),
    ("E5", "SNAP", date(2018, 2, 1), date(2018, 12, 31), 1),
    ("E5", "MEDICAID", date(2019, 1, 1), date(2019, 6, 30), 1),
    ("E6", "SNAP", date(2019, 1, 1), date(2019, 12, 31), 1),
]


def _case(person: str, agency: str) -> str:
    """Each person's own case, but E3 is on E1's SNAP case (one household of two)."""
    return "CASE-E1" if (person, agency) == ("E3", "fcs") else f"CASE-{person}"


def build_hub(con: duckdb.DuckDBPyConnection) -> None:
    hub_schema.migrate(con)
    store.migrate(con)
    con.execute(
        "INSERT INTO batch VALUES ('B1', 'all', 'hand', 1, '-', now()::TIMESTAMP, 'test', 'loaded', NULL, NULL)"
    )
    records: set[tuple[str, str, str]] = set()
    for n, (person, program, start, end, copies) in enumerate(EVENTS):
        agency = PROGRAMS[program]
        sex, dob, county = PEOPLE[person]
        for copy in range(copies):
            source_id = f"{person}-{copy}"
            key = f"{agency}:{source_id}"
            if (person, agency, source_id) not in records:
                records.add((person, agency, source_id))
                con.execute(
                    """INSERT INTO person_record (record_key, agency, source_record_id, batch_id,
                    source_row, dob, sex, county, case_id) VALUES (?, ?, ?, 'B1', 1, ?, ?, ?, ?)""",
                    [key, agency, source_id, dob, sex, county, _case(person, agency)],
                )
                con.execute(
                    "INSERT INTO person_index VALUES (?, ?, ?, ?, 'L1', 1.0)",
                    [key, agency, source_id, person],
                )
        # Events sit on the last record of a person in an agency (a duplicate record).
        key = f"{agency}:{person}-{copies - 1}"
        con.execute(
            """INSERT INTO service_event (event_key, agency, source_event_id, record_key,
            batch_id, source_row, program, start_date, end_date, amount, county)
            VALUES (?, ?, ?, ?, 'B1', 1, ?, ?, ?, 100, ?)""",
            [f"{agency}:V{n}", agency, f"V{n}", key, program, start, end, county],
        )
    linked.refresh(con)
    households.migrate(con)
    households.build(con, "L1")


@pytest.fixture(scope="session")
def hub() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    build_hub(con)
    return con


@pytest.fixture(scope="session")
def state_hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,000-person synthetic state, ingested and linked: the hub as built for real."""
    root = tmp_path_factory.mktemp("analytics")
    small_state(str(root / "state"), people=2000, seed=9)
    hub = root / "hub.duckdb"
    ingest_state(root / "state", hub=hub)
    link(hub)
    return hub


@pytest.fixture
def control(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    return f"sqlite:///{tmp_path}/control.db"


# Both engines over the synthetic state: its hub (``state_hub``) for DuckDB, and its
# analytic tables exported to a Parquet warehouse that Spark reads in local mode. The
# Spark cases are skipped, saying why, only where no Java runtime can be found; one
# Spark session serves the whole run.

ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class State:
    """The hub built for real, its warehouse, and the keys both engines use."""

    hub: Path
    warehouse: Path
    secrets: Path


@pytest.fixture(scope="session")
def state(state_hub: Path, tmp_path_factory: pytest.TempPathFactory) -> State:
    """The synthetic state's hub, and its analytic tables exported to a warehouse."""
    root = tmp_path_factory.mktemp("warehouse")
    secrets = root / "secrets"
    export_warehouse(
        state_hub, root / "warehouse", control=f"sqlite:///{root}/c.db", secrets=secrets
    )
    return State(state_hub, root / "warehouse", secrets)


def read_engine(name: str, state: State, request: pytest.FixtureRequest) -> ReadEngine:
    if name == "duckdb":
        return DuckDBEngine(state.hub)
    from crosswalk.engines import SparkEngine

    return SparkEngine(state.warehouse, session=request.getfixturevalue("spark_session"))


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, state: State, tmp_path: Path) -> Iterator[Hub]:
    """A hub on each engine, with a control plane of its own (and the state's keys)."""
    hub = Hub(
        read_engine(request.param, state, request),
        f"sqlite:///{tmp_path}/control.db",
        state.secrets,
    )
    yield hub
    hub.close()
