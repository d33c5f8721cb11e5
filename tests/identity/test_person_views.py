"""The row store of person views: what the hub's tables give, after every kind of run,
and never read once a batch has made it stale (the next read sees the batch)."""

import shutil

import duckdb
import pytest

from crosswalk.access import Gate
from crosswalk.agreement import Principal
from crosswalk.hub import Hub
from crosswalk.identity import link, views
from crosswalk.identity.index import person_records
from crosswalk.ingest import ingest, ingest_state
from crosswalk.synth import synth

CASEWORKER = Principal("ana", "fcs", "caseworker")


@pytest.fixture(scope="module")
def weekly(tmp_path_factory):
    """A state linked by a full run, with a week of updates not loaded yet."""
    root = tmp_path_factory.mktemp("views")
    synth(people=1000, seed=13, out=root / "state", weeks=1)
    hub = root / "hub.duckdb"
    ingest_state(root / "state", hub=hub)
    link(hub)
    return root, hub


def _differences(con):
    """Persons whose stored view is not what the hub's tables give, and whether the store
    holds exactly the persons that have records."""
    persons = [
        p
        for (p,) in con.execute(
            """SELECT DISTINCT i.enterprise_id FROM person_index i
            JOIN person_record r ON r.record_key = i.record_key ORDER BY 1"""
        ).fetchall()
    ]
    stored = {p for (p,) in con.execute("SELECT enterprise_id FROM person_view").fetchall()}
    wrong = []
    for p in persons:
        found = views.read(con, p)
        live = person_records(con, p, links=False)
        if found is None or found[:2] != (live.records, live.events) or found[2] is not True:
            wrong.append(p)
    return wrong, stored == set(persons), len(persons)


def test_after_a_full_run_the_store_holds_every_persons_view(weekly):
    _, hub = weekly
    con = duckdb.connect(str(hub), read_only=True)
    try:
        wrong, same_persons, n = _differences(con)
        dated = con.execute(
            "SELECT count(*) FROM service_event WHERE amount IS NOT NULL"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert n > 500 and dated > 0
    assert wrong == [] and same_persons


def test_a_batch_counts_from_the_next_read_and_a_run_brings_the_store_up_to_date(
    weekly, tmp_path, monkeypatch
):
    root, source = weekly
    path = tmp_path / "hub.duckdb"
    shutil.copy(source, path)
    week = root / "state" / "weeks" / "01"
    control = f"sqlite:///{tmp_path}/control.db"
    with Hub(path, control, tmp_path / "secrets", writable=True) as hub:
        gate = Gate(hub)
        with hub.read() as con:
            first = con.execute(
                "SELECT min(enterprise_id) FROM person_index WHERE agency = 'fcs'"
            ).fetchone()[0]
        # Read twice from the store at this version of the hub (the second trusts it).
        assert gate.person(CASEWORKER, "care_coordination", first).records
        assert gate.person(CASEWORKER, "care_coordination", first).records
        files = [week / "agencies" / "fcs" / n for n in ("clients.csv", "events.csv")]
        loaded = ingest("fcs", files, hub=hub, kinds=["clients", "events"], updates=True)
        with hub.read() as con:
            # A person linked before whose records or services the batch changes.
            person, new = con.execute(
                """SELECT i.enterprise_id, count(*) FROM (
                  SELECT record_key FROM service_event WHERE batch_id = $b
                  UNION ALL SELECT record_key FROM person_record WHERE batch_id = $b) c
                JOIN person_index i ON i.record_key = c.record_key
                GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1""",
                {"b": loaded.batch_id},
            ).fetchone()
            live = person_records(con, person, links=False)
            stored = views.read(con, person)
        # Stale: the batch came after the store was written.
        assert new > 0 and stored[2] is False and stored[:2] != (live.records, live.events)
        after = gate.person(CASEWORKER, "care_coordination", person)
        # What the same read gives from the hub's tables alone.
        monkeypatch.setattr(views, "exists", lambda con: False)
        expected = Gate(hub).person(CASEWORKER, "care_coordination", person)
        monkeypatch.undo()
        assert (after.records, after.events) == (expected.records, expected.events)
        # The rest of the week, then an incremental run: the store is current again.
        ingest_state(week, hub=hub, control=control)
        assert link(hub, control=control).kind == "incremental"
        with hub.read() as con:
            wrong, same_persons, _ = _differences(con)
        assert wrong == [] and same_persons


def test_a_rewrite_in_slices_of_persons_is_the_rewrite_in_one(weekly, tmp_path, monkeypatch):
    """A whole rewrite gathers a slice of persons per statement (memory bounded by the
    slice, not the hub); slices of 7 persons, with one left over, give the same rows in
    the same order as one statement of all of them."""
    _, source = weekly
    path = tmp_path / "hub.duckdb"
    shutil.copy(source, path)
    con = duckdb.connect(str(path))
    try:
        persons = con.execute("SELECT count(DISTINCT enterprise_id) FROM person_index").fetchone()
        assert persons[0] % 7 != 0
        whole = con.execute("SELECT * FROM person_view").fetchall()
        monkeypatch.setattr(views, "PERSONS_PER_STATEMENT", 7)
        assert len(views._slices(con)) == persons[0] // 7 + 1
        views.refresh(con)
        sliced = con.execute("SELECT * FROM person_view").fetchall()
    finally:
        con.close()
    assert sliced == whole and len(whole) > 500
