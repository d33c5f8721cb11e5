import hashlib

import polars as pl

from crosswalk.synth import EXTRACTS, synth


def _digest(folder):
    h = hashlib.sha256()
    for agency, e in EXTRACTS.items():
        for kind in ("clients", "events"):
            path = folder / "agencies" / agency / e.file(kind)
            if e.format == "xlsx":
                continue  # compared decoded below
            h.update(path.read_bytes())
    truth = pl.read_parquet(folder / "truth" / "records.parquet")
    h.update(truth.with_columns(pl.col("errors").list.join("+")).write_csv().encode())
    return h.hexdigest()


def test_same_seed_same_files(tmp_path):
    a = synth(people=1500, seed=3, out=tmp_path / "a")
    b = synth(people=1500, seed=3, out=tmp_path / "b")
    assert a.agency_records == b.agency_records
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_other_seed_other_files(tmp_path):
    synth(people=1500, seed=3, out=tmp_path / "a")
    synth(people=1500, seed=4, out=tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "b")


def test_chunked_generation_covers_everyone(tmp_path):
    from crosswalk.synth import SynthConfig

    m = synth(people=2500, seed=5, out=tmp_path, config=SynthConfig(chunk_people=1000))
    people = pl.read_parquet(tmp_path / "truth" / "people.parquet")
    assert m.people == 2500 == people["person_id"].n_unique()
    records = pl.read_parquet(tmp_path / "truth" / "records.parquet")
    assert records["record_key"].is_unique().all()


def test_chunked_extracts_are_whole_files(tmp_path):
    from tests.synth.test_truth import read_extract

    from crosswalk.synth import SynthConfig

    m = synth(people=2500, seed=5, out=tmp_path, config=SynthConfig(chunk_people=1000))
    for files in m.agencies:
        clients = read_extract(tmp_path, files.agency, "clients")
        assert len(clients) == files.client_rows
        ids = clients[EXTRACTS[files.agency].client_columns["client_id"]]
        assert ids.is_unique().all()
    raw = (tmp_path / "agencies" / "mh" / "clients.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    assert raw.count(b"consumer_id") == 1
