"""The analytic tables: written by each linkage run, never read stale.

After a batch is loaded or replaced, answers come from the hub's own tables until the
next linkage run writes the analytic tables again."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from crosswalk.agreement import Principal
from crosswalk.analytics import Filters, ProgramOverlap, ask
from crosswalk.errors import NotFound
from crosswalk.identity import link, linked
from crosswalk.ingest import hub as hub_schema
from crosswalk.ingest import ingest

JOINED = {
    "linked_event": "service_event s JOIN person_index i USING (record_key)",
    "linked_record": "person_record s JOIN person_index i USING (record_key)",
}


def snap_people(hub: Path, tmp_path: Path, monkeypatch) -> list[int]:
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    answer = ask(
        ProgramOverlap(Filters(programs=("MEDICAID", "SNAP"))),
        Principal("ada", "hfs", "analyst"),
        "program_evaluation",
        hub=hub,
        control=f"sqlite:///{tmp_path}/control.db",
    )
    return [
        r["people"] for r in answer.table.to_pylist() if "SNAP" in (r["program_a"], r["program_b"])
    ]


def test_a_linkage_run_writes_every_linked_record_and_event(linked_copy) -> None:
    _, hub = linked_copy
    con = duckdb.connect(str(hub), read_only=True)
    assert linked.is_current(con)
    for table, joined in JOINED.items():
        expected = con.sql(f"SELECT count(*), count(DISTINCT i.enterprise_id) FROM {joined}")
        got = con.sql(f"SELECT count(*), count(DISTINCT enterprise_id) FROM {table}")
        assert got.fetchall() == expected.fetchall()
    mismatched = con.sql(
        """SELECT count(*) FROM linked_event e JOIN person_index i USING (record_key)
        WHERE e.enterprise_id <> i.enterprise_id OR e.person <> CAST(substr(i.enterprise_id, 2) AS BIGINT)"""
    )
    assert mismatched.fetchall() == [(0,)]
    con.close()


def test_answers_follow_a_replaced_batch_before_the_next_linkage_run(
    linked_copy, tmp_path: Path, monkeypatch
) -> None:
    root, hub = linked_copy
    assert any(n > 0 for n in snap_people(hub, tmp_path, monkeypatch))
    # The agency corrects its extract: the new batch has no SNAP (code FS) benefits.
    with (root / "state/agencies/fcs/events.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    events = tmp_path / "events.csv"
    with events.open("w", newline="") as f:
        csv.writer(f).writerows([rows[0], *(r for r in rows[1:] if r[2] != "FS")])
    con = duckdb.connect(str(hub))
    [(old,)] = con.sql(
        "SELECT batch_id FROM batch WHERE agency = 'fcs' AND status = 'loaded'"
    ).fetchall()
    con.close()
    ingest(
        "fcs",
        [root / "state/agencies/fcs/clients.csv", events],
        hub=hub,
        kinds=["clients", "events"],
        replace=old,
    )
    con = duckdb.connect(str(hub), read_only=True)
    assert not linked.is_current(con)
    con.close()
    assert set(snap_people(hub, tmp_path, monkeypatch)) == {0}

    link(hub)
    con = duckdb.connect(str(hub), read_only=True)
    assert linked.is_current(con)
    assert con.sql("SELECT count(*) FROM linked_event WHERE program = 'SNAP'").fetchall() == [(0,)]
    con.close()
    assert set(snap_people(hub, tmp_path, monkeypatch)) == {0}


def test_a_hub_never_linked_says_to_run_link() -> None:
    con = duckdb.connect()
    hub_schema.migrate(con)
    with pytest.raises(NotFound, match="crosswalk link"):
        linked.sources(con)
