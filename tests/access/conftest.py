from datetime import date

import duckdb
import pytest

from crosswalk.identity import link
from crosswalk.ingest import ingest_state
from crosswalk.synth import small_state


@pytest.fixture(scope="session")
def hub(tmp_path_factory):
    root = tmp_path_factory.mktemp("gate")
    small_state(str(root / "state"), people=3000, seed=9)
    hub = root / "hub.duckdb"
    ingest_state(root / "state", hub=hub)
    link(hub)
    return hub


@pytest.fixture(scope="session")
def sud_person(hub):
    """A person known to the substance-use agency and to at least one other agency."""
    con = duckdb.connect(str(hub), read_only=True)
    try:
        return con.execute(
            """SELECT enterprise_id FROM person_index GROUP BY 1
            HAVING bool_or(agency = 'sud') AND count(DISTINCT agency) >= 2 ORDER BY 1 LIMIT 1"""
        ).fetchall()[0][0]
    finally:
        con.close()


@pytest.fixture(autouse=True)
def _on_a_fixed_day(clock_at):
    """Consents in these tests are dated around 2025-06-01."""
    clock_at(date(2025, 6, 1))


@pytest.fixture
def control(tmp_path, monkeypatch):
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    return f"sqlite:///{tmp_path}/control.db"


def _one(hub, having: str) -> str:
    con = duckdb.connect(str(hub), read_only=True)
    try:
        return con.execute(
            f"SELECT enterprise_id FROM person_index GROUP BY 1 HAVING {having} ORDER BY 1 LIMIT 1"
        ).fetchall()[0][0]
    finally:
        con.close()


@pytest.fixture(scope="session")
def sud_only_person(hub):
    """A person known only to the substance-use agency."""
    return _one(hub, "bool_and(agency = 'sud')")


@pytest.fixture(scope="session")
def plain_person(hub):
    """A person of several agencies, none of them the substance-use agency."""
    return _one(hub, "NOT bool_or(agency = 'sud') AND count(DISTINCT agency) >= 2")
