"""Synthetic-state generation: time and peak memory, against a plain DuckDB write baseline.

Baseline: DuckDB writing the same number of rows (agency records plus events) of a
trivial three-column table to CSV, in the same run, so the ratio survives a noisy machine.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.harness import machine, median_runs

SIZES = {"small": [100_000], "full": [100_000, 1_000_000]}


def generate(people: int, out: str) -> tuple[int, int]:
    from crosswalk.synth import synth

    m = synth(people=people, seed=7, out=out)
    return m.agency_records, m.service_events


def baseline(rows: int, out: str) -> int:
    import duckdb

    duckdb.sql(
        f"COPY (SELECT range AS id, 'NAME' || (range % 1000) AS name, DATE '2000-01-01' + "
        f"CAST(range % 9000 AS INTEGER) AS d FROM range({rows})) TO '{out}/base.csv'"
    )
    return rows


def main(size: str = "full") -> None:
    print(f"machine: {machine()}")
    print(
        "| people | agency records | events | seconds (median of 3) | peak RSS | baseline s | ratio |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for people in SIZES[size]:
        with tempfile.TemporaryDirectory() as tmp:
            secs, rss, (records, events) = median_runs(generate, people, str(Path(tmp) / "s"))
            base, _, _ = median_runs(baseline, records + events, tmp)
        print(
            f"| {people:,} | {records:,} | {events:,} | {secs:.1f} | {rss / 2**30:.2f} GiB "
            f"| {base:.1f} | {secs / base:.1f}x |",
            flush=True,
        )
