"""The hub object: one per process, one read connection shared by cursors, and a gate over
it that decides every request against the agreement in force and today's date."""

import threading
from datetime import date

import pytest

from crosswalk.access import Gate
from crosswalk.agreement import Principal
from crosswalk.hub import Hub

CASEWORKER = Principal("ana", "fcs", "caseworker")


@pytest.fixture
def hub(linked_hub, tmp_path):
    with Hub(linked_hub, f"sqlite:///{tmp_path}/control.db", tmp_path / "secrets") as h:
        yield h


def test_one_gate_over_one_hub_reads_from_many_threads(hub, sud_person, on_day):
    gate = Gate(hub)
    expected = gate.person(CASEWORKER, "care_coordination", sud_person).records
    results, errors = [], []

    def read():
        try:
            results.append(gate.person(CASEWORKER, "care_coordination", sud_person).records)
        except Exception as e:  # collected, asserted below
            errors.append(e)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == [expected] * 8
    assert hub.audit.verify().entries == 9


def test_a_long_lived_gate_reads_today_afresh(hub, sud_person, clock_at):
    clock_at(date(2025, 6, 1))
    hub.consents.add(
        sud_person,
        "sud",
        "fcs",
        "care_coordination",
        "treatment",
        date(2025, 1, 1),
        date(2026, 1, 1),
    )
    gate = Gate(hub)
    seen = gate.person(CASEWORKER, "care_coordination", sud_person)
    assert "sud" in {r["agency"] for r in seen.records}
    clock_at(date(2026, 2, 1))  # the consent has expired since the gate was made
    later = gate.person(CASEWORKER, "care_coordination", sud_person)
    assert "sud" not in {r["agency"] for r in later.records}


@pytest.mark.parametrize(
    "statement",
    [
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "CREATE TABLE stolen AS SELECT 1",
        "ATTACH ':memory:' AS elsewhere",
    ],
)
def test_the_hubs_read_connection_cannot_write_or_reach_outside(hub, statement):
    with hub.read() as con, pytest.raises(Exception):  # noqa: B017 (DuckDB's own errors)
        con.execute(statement)


def test_a_hub_lets_go_of_the_file_when_closed(linked_hub, tmp_path):
    import duckdb

    h = Hub(linked_hub, f"sqlite:///{tmp_path}/c.db", tmp_path / "s")
    with h.read() as con:
        assert con.execute("SELECT count(*) FROM person_index").fetchone()[0] > 0
    h.close()
    duckdb.connect(str(linked_hub)).close()  # a writer may open it again


def test_two_hubs_of_one_file_in_one_process_both_read_locked(linked_hub, tmp_path):
    """DuckDB shares one database per file within a process: a second hub of the same
    file (a page's gate beside the service's) reads too, and its configuration is locked."""
    first = Hub(linked_hub, f"sqlite:///{tmp_path}/a.db", tmp_path / "s")
    second = Hub(linked_hub, f"sqlite:///{tmp_path}/b.db", tmp_path / "s")
    try:
        for h in (first, second):
            with h.read() as con:
                assert con.execute("SELECT count(*) FROM person_index").fetchone()[0] > 0
                with pytest.raises(Exception):  # noqa: B017 (DuckDB's own errors)
                    con.execute("SET enable_external_access = true")
    finally:
        first.close()
        second.close()
