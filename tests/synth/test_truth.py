import polars as pl
import pytest
from python_calamine import CalamineWorkbook

from crosswalk.synth import EXTRACTS


def read_extract(folder, agency, kind):
    e = EXTRACTS[agency]
    path = folder / "agencies" / agency / e.file(kind)
    if e.format == "parquet":
        return pl.read_parquet(path)
    if e.format == "xlsx":
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        return pl.DataFrame(rows[1:], schema=[str(c) for c in rows[0]], orient="row")
    text = path.read_bytes().decode(e.encoding)
    return pl.read_csv(text.encode(), separator=e.delimiter, infer_schema=False)


def test_every_file_readable_in_its_declared_format(state):
    folder, manifest = state
    for files in manifest.agencies:
        e = EXTRACTS[files.agency]
        clients = read_extract(folder, files.agency, "clients")
        events = read_extract(folder, files.agency, "events")
        assert list(clients.columns) == list(dict.fromkeys(e.client_columns.values()))
        assert len(clients) == files.client_rows > 0
        assert len(events) == files.event_rows


def test_latin1_extract_is_written_in_latin1(tmp_path):
    from crosswalk.synth.sink import write

    frame = pl.DataFrame({"FULL_NAME": ["JOSÉ M NÚÑEZ"]})
    write(EXTRACTS["dcfs"], frame, tmp_path / "clients.csv")
    raw = (tmp_path / "clients.csv").read_bytes()
    assert "JOSÉ M NÚÑEZ".encode("latin-1") in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_bom_extract_starts_with_bom(state):
    folder, _ = state
    assert (folder / "agencies" / "mh" / "clients.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_ground_truth_covers_every_record(state):
    folder, manifest = state
    truth = pl.read_parquet(folder / "truth" / "records.parquet")
    assert len(truth) == manifest.agency_records
    for files in manifest.agencies:
        ids = set(
            read_extract(folder, files.agency, "clients")[
                EXTRACTS[files.agency].client_columns["client_id"]
            ]
        )
        assert ids == set(truth.filter(pl.col("agency") == files.agency)["source_record_id"])


def test_events_reference_existing_clients(state):
    folder, manifest = state
    for files in manifest.agencies:
        e = EXTRACTS[files.agency]
        clients = set(read_extract(folder, files.agency, "clients")[e.client_columns["client_id"]])
        events = read_extract(folder, files.agency, "events")
        assert set(events[e.event_columns["client_id"]]) <= clients


def test_no_service_after_death(state):
    folder, _ = state
    people = pl.read_parquet(folder / "truth" / "people.parquet")
    events = pl.read_parquet(folder / "truth" / "events.parquet").join(people, on="person_id")
    late = events.filter(
        pl.col("death_date").is_not_null()
        & (pl.col("program") != "DEATH_RECORD")
        & (
            (pl.col("start_date") > pl.col("death_date"))
            | (pl.col("end_date") > pl.col("death_date"))
        )
    )
    assert late.is_empty()


def test_true_ssns_follow_ssa_rules(state):
    folder, _ = state
    ssn = pl.read_parquet(folder / "truth" / "people.parquet")["ssn"].drop_nulls()
    area = ssn.str.slice(0, 3).cast(pl.Int32)
    assert ((area > 0) & (area != 666) & (area < 900)).all()
    assert (ssn.str.slice(3, 2) != "00").all()
    assert (ssn.str.slice(5, 4) != "0000").all()
    assert ssn.is_unique().all()


def test_lookalikes_of_every_kind_are_present(state):
    folder, _ = state
    kinds = set(pl.read_parquet(folder / "truth" / "lookalikes.parquet")["kind"])
    assert {"twins", "junior_senior", "similar_siblings", "common_name_same_dob"} <= kinds


def test_overlaps_look_real(state):
    folder, _ = state
    events = pl.read_parquet(folder / "truth" / "events.parquet")
    on = {
        p: set(events.filter(pl.col("program") == p)["person_id"])
        for p in ("MEDICAID", "SNAP", "FOSTER_CARE", "AGING_IN_HOME")
    }
    assert len(on["SNAP"] & on["MEDICAID"]) / len(on["SNAP"]) > 0.6
    assert on["FOSTER_CARE"] <= on["MEDICAID"]
    people = pl.read_parquet(folder / "truth" / "people.parquet").filter(
        pl.col("person_id").is_in(list(on["AGING_IN_HOME"]))
    )
    assert (people["dob"].dt.year() <= 1965).all()


def test_true_overlap_counts_people_once(state):
    from crosswalk.synth import true_overlap

    folder, _manifest = state
    overlap = true_overlap(folder)
    people_in_some_agency = pl.read_parquet(folder / "truth" / "records.parquet")[
        "person_id"
    ].n_unique()
    assert sum(overlap.people_by_agency_count.values()) == people_in_some_agency
    assert overlap.top_pairs[0][:2] == ("fcs", "hfs")
