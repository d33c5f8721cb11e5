"""Ingest throughput: a whole synthetic state through ``ingest_state`` vs plain DuckDB reads.

Baseline, in the same run: DuckDB reading the same files into tables with no mapping,
validation or standardisation (read_csv / read_parquet; Excel via python-calamine), so
the ratio shows what mapping, validation, standardisation and lineage cost on top of parsing.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from bench.harness import machine, median_runs

SIZES = {"small": [100_000], "full": [300_000, 3_000_000]}


def load(state: str, hub: str) -> int:
    from crosswalk.ingest import ingest_state

    Path(hub).unlink(missing_ok=True)
    return sum(r.rows_read for r in ingest_state(state, hub=hub))


def plain_read(state: str) -> int:
    import duckdb
    from python_calamine import CalamineWorkbook

    from crosswalk.synth import EXTRACTS

    con = duckdb.connect()
    manifest = json.loads((Path(state) / "manifest.json").read_text())
    rows = 0
    for a in manifest["agencies"]:
        e = EXTRACTS[a["agency"]]
        for f in (a["clients"], a["events"]):
            path = str(Path(state) / f)
            if e.format == "csv":
                enc = "latin-1" if e.encoding == "latin-1" else "utf-8"
                con.execute(
                    f"CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('{path}', delim='{e.delimiter}', all_varchar=true, encoding='{enc}')"
                )
            elif e.format == "parquet":
                con.execute(f"CREATE OR REPLACE TABLE t AS SELECT * FROM read_parquet('{path}')")
            else:
                rows += len(CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()) - 1
                continue
            rows += con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    return rows


def main(size: str = "full") -> None:
    from crosswalk.synth import synth

    print(f"machine: {machine()}")
    print(
        "| people | rows (clients + events) | ingest s (median of 3) | rows/s | peak RSS | plain read s | ratio |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for people in SIZES[size]:
        with tempfile.TemporaryDirectory() as tmp:
            state = str(Path(tmp) / "state")
            synth(people=people, seed=7, out=state)
            repeat = 3 if people <= 1_000_000 else 1
            secs, rss, rows = median_runs(load, state, str(Path(tmp) / "hub.duckdb"), repeat=repeat)
            base, _, _ = median_runs(plain_read, state, repeat=repeat)
        print(
            f"| {people:,} | {rows:,} | {secs:.1f} | {rows / secs:,.0f} | {rss / 2**30:.2f} GiB "
            f"| {base:.1f} | {secs / base:.1f}x |",
            flush=True,
        )
