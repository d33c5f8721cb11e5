"""Weekly update batches: new records, new versions of held records, the truth of each week."""

import duckdb
import polars as pl
import pytest

from crosswalk.ingest import ingest_state
from crosswalk.synth import synth


@pytest.fixture(scope="module")
def moving(tmp_path_factory):
    out = tmp_path_factory.mktemp("moving") / "state"
    return synth(people=1500, seed=3, out=out, weeks=2), out


def test_each_week_has_new_and_changed_records_and_its_truth(moving):
    manifest, out = moving
    assert [w["week"] for w in manifest.weeks] == [1, 2]
    before = pl.read_parquet(out / "truth" / "records.parquet")
    week1 = pl.read_parquet(out / "weeks" / "01" / "truth" / "records.parquet")
    week2 = pl.read_parquet(out / "weeks" / "02" / "truth" / "records.parquet")
    assert len(before) < len(week1) < len(week2)
    assert set(before["record_key"]) <= set(week1["record_key"])
    changes = pl.read_parquet(out / "weeks" / "01" / "truth" / "changes.parquet")
    kinds = set(changes["change"])
    assert {"new_person", "new_record", "correction"} <= kinds
    # Every new record of week 1 is in its truth, with the person it belongs to.
    new = changes.filter(pl.col("change").is_in(["new_person", "birth", "new_record", "death"]))
    assert set(new["record_key"]) <= set(week1["record_key"]) - set(before["record_key"])
    # A corrected record keeps its key and its person.
    fixed = changes.filter(pl.col("change") == "correction")["record_key"].to_list()
    assert set(fixed) <= set(before["record_key"])
    joined = before.join(week1, on="record_key").filter(pl.col("record_key").is_in(fixed))
    assert (joined["person_id"] == joined["person_id_right"]).all()


def test_a_later_week_closes_open_cases_of_held_records(moving):
    manifest, out = moving
    # Week 1 opens cases (new records' episodes); week 2 closes some of them.
    assert "closed" not in manifest.weeks[0]["changes"]
    assert manifest.weeks[1]["changes"].get("closed", 0) >= 1
    changes = pl.read_parquet(out / "weeks" / "02" / "truth" / "changes.parquet")
    closed = changes.filter(pl.col("change") == "closed")
    week1 = pl.read_parquet(out / "weeks" / "01" / "truth" / "records.parquet")
    # A closed record is one the agencies held already, of the same person.
    held = closed.join(week1, on="record_key")
    assert len(held) == len(closed) and (held["person_id"] == held["person_id_right"]).all()


def test_each_week_says_who_lives_with_whom_births_included(moving):
    _, out = moving
    before = pl.read_parquet(out / "truth" / "household_members.parquet")
    week1 = pl.read_parquet(out / "weeks" / "01" / "truth" / "household_members.parquet")
    changes = pl.read_parquet(out / "weeks" / "01" / "truth" / "changes.parquet")
    # Everyone of the state before the week lives where they did (a null start: since
    # before the window), and every person new this week has a household.
    key = ["person_id", "household_id", "start_date"]
    assert before.join(week1, on=key, how="anti", nulls_equal=True).is_empty()
    new = changes.filter(pl.col("change").is_in(["new_person", "birth"]))["person_id"]
    assert set(new) <= set(week1["person_id"]) - set(before["person_id"])
    # A baby lives in the household its records belong to, with its mother.
    births = changes.filter(pl.col("change") == "birth")["person_id"].unique()
    assert len(births)
    records = pl.read_parquet(out / "weeks" / "01" / "truth" / "records.parquet")
    homes = week1.filter(pl.col("person_id").is_in(births.implode())).join(
        records.select("person_id", pl.col("household_id").alias("of_records")).unique(),
        on="person_id",
    )
    assert len(homes) and (homes["household_id"] == homes["of_records"]).all()
    sizes = week1.group_by("household_id").agg(pl.col("person_id").n_unique().alias("n"))
    assert (
        sizes.filter(pl.col("household_id").is_in(homes["household_id"].implode()))["n"].min() >= 2
    )


def test_the_same_seed_gives_the_same_weeks(moving, tmp_path):
    manifest, out = moving
    again = synth(people=1500, seed=3, out=tmp_path / "again", weeks=2)
    assert again.weeks == manifest.weeks
    a = pl.read_parquet(out / "weeks" / "02" / "truth" / "records.parquet")
    b = pl.read_parquet(tmp_path / "again" / "weeks" / "02" / "truth" / "records.parquet")
    assert a.equals(b)


@pytest.mark.slow
def test_a_week_loads_as_updates_keeping_the_earlier_versions(moving, tmp_path):
    manifest, out = moving
    hub = tmp_path / "hub.duckdb"
    ingest_state(out, hub=hub)
    results = ingest_state(out / "weeks" / "01", hub=hub)
    assert sum(r.rows_quarantined for r in results) == 0
    con = duckdb.connect(str(hub), read_only=True)
    truth = pl.read_parquet(out / "weeks" / "01" / "truth" / "records.parquet")
    assert con.execute("SELECT count(*) FROM person_record").fetchall()[0][0] == len(truth)
    updated = manifest.weeks[0]["updated_records"]
    assert con.execute("SELECT count(*) FROM person_record_version").fetchall()[0][0] == updated
    con.close()
    # Loading the same week again changes nothing: every file is recognised.
    again = ingest_state(out / "weeks" / "01", hub=hub)
    assert all(r.batch_id is None for r in again)
    con = duckdb.connect(str(hub), read_only=True)
    assert con.execute("SELECT count(*) FROM person_record").fetchall()[0][0] == len(truth)
