from datetime import date

import duckdb
import pytest

from crosswalk.identity import link
from crosswalk.ingest import ingest_state
from crosswalk.synth import small_state


@pytest.fixture(scope="session")
def linked_hub(tmp_path_factory):
    """A small linked hub (a synthetic state of 1,500 people), built once."""
    root = tmp_path_factory.mktemp("service-hub")
    small_state(str(root / "state"), people=1500, seed=11)
    hub = root / "hub.duckdb"
    ingest_state(root / "state", hub=hub, control=f"sqlite:///{root}/build-control.db")
    link(hub, control=f"sqlite:///{root}/build-control.db")
    return hub


def person_of(hub, having: str) -> str:
    con = duckdb.connect(str(hub), read_only=True)
    try:
        return con.execute(
            f"SELECT enterprise_id FROM person_index GROUP BY 1 HAVING {having} ORDER BY 1 LIMIT 1"
        ).fetchall()[0][0]
    finally:
        con.close()


@pytest.fixture(scope="session")
def sud_person(linked_hub):
    """A person known to the substance-use agency and to the child-welfare agency."""
    return person_of(linked_hub, "bool_or(agency = 'sud') AND bool_or(agency = 'fcs')")


@pytest.fixture
def on_day(clock_at):
    return clock_at(date(2025, 6, 1))
