"""Ingest on Spark local mode vs DuckDB, in the same run: a whole synthetic state through
``ingest_state`` into a DuckDB hub, then into a Spark warehouse (``local[2]``).

Each engine runs in a fresh process; peak RSS is the Python process's (on Spark the JVM's
is reported beside it, read from /proc). Spark's time includes starting the JVM.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.harness import machine, measure

SIZES = {"tiny": [2_000], "small": [20_000], "full": [100_000]}


def on_duckdb(state: str, hub: str) -> tuple[int, int, int]:
    from crosswalk.ingest import ingest_state

    results = ingest_state(state, hub=hub, control=f"sqlite:///{hub}.control.db")
    return _counts(results)


def on_spark(state: str, warehouse: str) -> tuple[int, int, int, float, int]:
    from pyspark.sql import SparkSession

    from crosswalk.engines import SparkEngine
    from crosswalk.ingest import ingest_state

    started = time.perf_counter()
    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    startup = time.perf_counter() - started
    results = ingest_state(
        state,
        hub=SparkEngine(warehouse, session=session),
        control=f"sqlite:///{warehouse}.control.db",
    )
    jvm = _jvm_rss()
    session.stop()
    return (*_counts(results), startup, jvm)


def _counts(results: list) -> tuple[int, int, int]:
    return (
        sum(r.rows_read for r in results),
        sum(r.rows_accepted for r in results),
        sum(r.rows_quarantined for r in results),
    )


def _jvm_rss() -> int:
    """Peak resident memory of this process's Java children (the Spark driver), in bytes."""
    import os

    peak = 0
    me = str(os.getpid())
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == me and "java" in fields.get("Name", ""):
            peak = max(peak, int(fields.get("VmHWM", "0 kB").split()[0]) * 1024)
    return peak


def main(size: str = "full") -> None:
    from crosswalk.synth import synth

    print(f"machine: {machine()}")
    print(
        "| people | rows read | accepted | quarantined | DuckDB s | Spark s (JVM start) "
        "| Spark / DuckDB | peak RSS DuckDB | peak RSS Spark (Python + JVM) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for people in SIZES[size]:
        with tempfile.TemporaryDirectory() as tmp:
            state = str(Path(tmp) / "state")
            synth(people=people, seed=7, out=state)
            d_secs, d_rss, d_counts = measure(on_duckdb, state, str(Path(tmp) / "hub.duckdb"))
            s_secs, s_rss, s_out = measure(on_spark, state, str(Path(tmp) / "warehouse"))
        read, accepted, quarantined, startup, jvm = s_out
        same = "" if (read, accepted, quarantined) == d_counts else " (counts differ!)"
        print(
            f"| {people:,} | {read:,} | {accepted:,} | {quarantined:,}{same} | {d_secs:.1f} "
            f"| {s_secs:.1f} ({startup:.1f}) | {s_secs / d_secs:.1f}x | {d_rss / 2**30:.2f} GiB "
            f"| {s_rss / 2**30:.2f} + {jvm / 2**30:.2f} GiB |",
            flush=True,
        )
