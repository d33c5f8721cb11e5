"""Weekly update batches: a case closed is a new version of its event, and a batch
loaded twice (exported again, so its bytes differ) is refused with nothing changed."""

import json
import shutil

import duckdb
import pyarrow.parquet as pq
import pytest

from crosswalk.errors import InputFileError
from crosswalk.ingest import ingest, ingest_state
from crosswalk.synth import synth


def _hfs(folder):
    entry = next(a for a in json.loads((folder / "manifest.json").read_text())["agencies"]
                 if a["agency"] == "hfs")  # fmt: skip
    return [str(folder / entry[k]) for k in ("clients", "events")]


@pytest.fixture(scope="module")
def weeks(tmp_path_factory):
    """A small state and its two weeks; a hub with one agency's extract and week 1."""
    root = tmp_path_factory.mktemp("updates")
    synth(people=1500, seed=3, out=root / "state", weeks=2)
    hub = root / "hub.duckdb"
    ingest("hfs", _hfs(root / "state"), hub=hub, kinds=["clients", "events"])
    week = root / "state" / "weeks" / "01"
    ingest("hfs", _hfs(week), hub=hub, kinds=["clients", "events"], updates=True)
    return root, hub


def _counts(hub):
    con = duckdb.connect(str(hub), read_only=True)
    try:
        tables = ("batch", "person_record", "person_record_version", "service_event")
        tables += ("service_event_version", "quarantine")
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}
    finally:
        con.close()


def test_a_batch_loaded_twice_is_refused_and_changes_nothing(weeks, tmp_path):
    root, loaded = weeks
    hub = tmp_path / "hub.duckdb"
    shutil.copy(loaded, hub)
    # The same rows exported again: other bytes, so the files' digests do not recognise them.
    again = []
    for kind, path in zip(
        ("clients", "events"), _hfs(root / "state" / "weeks" / "01"), strict=True
    ):
        target = tmp_path / f"again-{kind}.parquet"
        pq.write_table(pq.read_table(path), target, compression="gzip")
        again.append(str(target))
    before = _counts(hub)
    with pytest.raises(InputFileError, match="this batch was loaded before") as refused:
        ingest("hfs", again, hub=hub, kinds=["clients", "events"], updates=True)
    problems = refused.value.problems
    assert [p.file for p in problems] == again
    assert all(p.rule == "already_loaded" and "held unchanged" in p.message for p in problems)
    assert _counts(hub) == before


def test_a_row_sent_again_unchanged_is_no_new_version(weeks, tmp_path):
    root, loaded = weeks
    hub = tmp_path / "hub.duckdb"
    shutil.copy(loaded, hub)
    table = pq.read_table(_hfs(root / "state" / "weeks" / "01")[0])
    # One row changed (a new phone number), the others as held.
    phone = next(c for c in table.column_names if "phone" in c.lower())
    values = table.column(phone).to_pylist()
    values[0] = "(217) 555-0199"
    changed = table.set_column(table.column_names.index(phone), phone, [values])
    target = tmp_path / "clients.parquet"
    pq.write_table(changed, target)
    before = _counts(hub)
    result = ingest("hfs", [str(target)], hub=hub, kinds=["clients"], updates=True)
    file = result.files[0]
    assert (file.rows_accepted, file.rows_unchanged) == (table.num_rows, table.num_rows - 1)
    after = _counts(hub)
    assert after["person_record_version"] == before["person_record_version"] + 1
    assert after["person_record"] == before["person_record"]


@pytest.mark.slow
def test_a_closed_case_is_a_new_version_of_its_event(weeks, tmp_path):
    root, _ = weeks
    hub = tmp_path / "hub.duckdb"
    ingest_state(root / "state", hub=hub)
    ingest_state(root / "state" / "weeks" / "01", hub=hub)
    week = root / "state" / "weeks" / "02"
    manifest = json.loads((week / "manifest.json").read_text())
    assert manifest["changes"].get("closed", 0) >= 1
    before = _counts(hub)
    results = ingest_state(week, hub=hub)
    assert sum(r.rows_quarantined for r in results) == 0
    con = duckdb.connect(str(hub), read_only=True)
    try:
        rows = con.execute(
            """SELECT v.end_date, e.end_date FROM service_event_version v
            JOIN service_event e USING (event_key)"""
        ).fetchall()
    finally:
        con.close()
    # Each closed episode was open, and now ends on the week's date; nothing else changed.
    assert len(rows) == _counts(hub)["service_event_version"] - before["service_event_version"]
    assert rows and all(old is None and str(new) == manifest["date"] for old, new in rows)
