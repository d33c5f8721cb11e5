"""Linkage: accuracy, wall time and peak memory of Crosswalk's configuration against a
plain Splink configuration on the same records, in the same run.

Both runs start from the same ingested hub (copied), each in a fresh process so peak RSS
is its own; the timed part is linkage only (train, score, cluster, write). Accuracy is
scored afterwards against the synthetic state's ground truth.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bench.harness import machine, measure

SIZES = {"small": [100_000], "full": [100_000, 1_000_000]}


def crosswalk_link(hub: str, control: str) -> int:
    from crosswalk.identity import link

    return link(hub, control=control).records


def crosswalk_score(hub: str, truth: str) -> tuple[float, float, float | None]:
    from crosswalk.identity import evaluate

    e = evaluate(truth, hub)
    return e.pairwise_f1, e.bcubed_f1, e.blocking_recall


def plain_link(hub: str, control: str) -> int:
    """Splink with exact blocking on name and DOB, Jaro-Winkler names, exact DOB and SSN;
    connected components at the default 0.5 probability; clusters kept in the hub."""
    import logging

    import duckdb
    from splink import DuckDBAPI, Linker

    from crosswalk.identity import model
    from crosswalk.identity.features import build_features

    del control  # the plain configuration writes no audit entries
    con = duckdb.connect(hub)
    records = build_features(con)
    linker = Linker(
        DuckDBAPI(con).register("link_input"), model.baseline_settings(), log_level=logging.ERROR
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


def plain_score(hub: str, truth: str) -> tuple[float, float, float | None]:
    import duckdb

    from crosswalk.identity.evaluate import scores

    con = duckdb.connect(hub)
    con.execute(
        "CREATE TEMP TABLE truth AS SELECT record_key, person_id AS person "
        f"FROM read_parquet('{truth}/records.parquet')"
    )
    _, true_pairs, pred_pairs, tp, bp, br = scores(con, "baseline_clusters", "truth")
    p, r = tp / pred_pairs, tp / true_pairs
    return 2 * p * r / (p + r), 2 * bp * br / (bp + br), None


def main(size: str = "full") -> None:
    from crosswalk.ingest import ingest_state
    from crosswalk.synth import synth

    print(f"machine: {machine()}")
    print(
        "| people | records | configuration | seconds | peak RSS | pairwise F1 | B-cubed F1 "
        "| blocking recall |"
    )
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for people in SIZES[size]:
        with tempfile.TemporaryDirectory() as tmp:
            state = Path(tmp) / "state"
            control = f"sqlite:///{tmp}/control.db"
            synth(people=people, seed=7, out=state)
            base_hub = Path(tmp) / "base.duckdb"
            ingest_state(state, hub=base_hub, control=control)
            runs = (
                ("plain Splink (baseline)", plain_link, plain_score),
                ("Crosswalk", crosswalk_link, crosswalk_score),
            )
            for name, fn, score in runs:
                hub = Path(tmp) / f"{name[:5]}.duckdb"
                shutil.copy(base_hub, hub)
                secs, rss, records = measure(fn, str(hub), control)
                f1, b3, blocking = score(str(hub), str(state / "truth"))
                blocking_text = f"{blocking:.4%}" if blocking is not None else "-"
                print(
                    f"| {people:,} | {records:,} | {name} | {secs:.1f} | {rss / 2**30:.2f} GiB "
                    f"| {f1:.4f} | {b3:.4f} | {blocking_text} |",
                    flush=True,
                )
