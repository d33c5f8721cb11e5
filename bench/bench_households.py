"""Enterprise households: accuracy of household co-membership against the generator's truth,
and the time to build the households at a linkage run.

A synthetic state is generated, ingested and linked the real way (the linkage run builds
the households in its transaction); then, on several days, every pair of persons the
households put together is compared with the pairs of the truth
(``truth/household_members.parquet``, foster placements included): precision is the
share of pairs found that are true, recall the share of true pairs found. The build is
then timed alone on the linked hub (median of three, each in a fresh process, inside a
transaction that is rolled back). ``$BENCH_STATE`` names a state already generated
(with ``BENCH_HUB`` its linked hub) to skip the first steps.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.harness import machine, measure

SIZES = {"small": [20_000], "full": [100_000]}
DAYS = (date(2015, 6, 30), date(2020, 6, 30), date(2025, 6, 30))


def build_once(hub: str) -> float:
    import duckdb

    from crosswalk.identity import households

    con = duckdb.connect(hub)
    try:
        con.execute("BEGIN")
        start = time.perf_counter()
        households.build(con, "Lbench")
        elapsed = time.perf_counter() - start
        con.execute("ROLLBACK")
        return elapsed
    finally:
        con.close()


def accuracy(hub: str, truth: str) -> list[dict[str, object]]:
    import duckdb

    from crosswalk.identity.households import scores

    con = duckdb.connect(hub, read_only=True)
    try:
        return [scores(con, truth, day).to_dict() for day in DAYS]
    finally:
        con.close()


def prepare(people: int, folder: Path) -> tuple[str, str]:
    from crosswalk.identity import link
    from crosswalk.ingest import ingest_state
    from crosswalk.synth import synth

    if os.environ.get("BENCH_STATE") and os.environ.get("BENCH_HUB"):
        return os.environ["BENCH_HUB"], str(Path(os.environ["BENCH_STATE"]) / "truth")
    state = folder / "state"
    synth(people, 7, state)
    hub = folder / "hub.duckdb"
    ingest_state(state, hub=hub)
    link(hub)
    return str(hub), str(state / "truth")


def main(size: str = "full") -> None:
    print(machine())
    for people in SIZES[size]:
        with tempfile.TemporaryDirectory(prefix="bench-households-") as tmp:
            start = time.perf_counter()
            hub, truth = prepare(people, Path(tmp))
            print(
                f"{people:,} people: state, ingest and linkage in {time.perf_counter() - start:.0f} s"
            )
            for row in accuracy(hub, truth):
                print(
                    f"  on {row['on']}: precision {row['precision']:.4f}, recall {row['recall']:.4f}"
                    f" ({row['correct_pairs']:,} of {row['found_pairs']:,} pairs found are true;"
                    f" {row['true_pairs']:,} true pairs)"
                )
            runs = [measure(build_once, hub) for _ in range(3)]
            seconds = statistics.median(r[2] for r in runs)
            peak = max(r[1] for r in runs) / 2**20
            print(f"  households built in {seconds:.2f} s (median of 3), peak RSS {peak:.0f} MiB")
