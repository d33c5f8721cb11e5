"""Analytics: the program overlap matrix and a cohort outcome query, cold and warm.

The hub is built the real way (synthetic state -> ingest -> linkage), or given with
``$BENCH_HUB`` (a hub already built and linked). Each question is asked the way users ask
it, ``crosswalk.analytics.ask`` as an analyst for program evaluation: the gate decides,
opens the hub read-only, runs the question over the views of what was granted, applies
disclosure control (primary and complementary suppression with the linear-programming
check, cell-key perturbation) and writes the audit entry. Each question runs in a fresh
process: "cold" is its first ask, "warm" the median of three more (the gate opens the hub
anew for each; the operating system's file cache is warm).

Baseline, in the same processes: the bare count in plain DuckDB SQL over the same tables
(no filters, no cell keys, no protection): the pairwise self-join for overlap, and for the
cohort the first later entry into each program within five years.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bench.harness import machine, measure

if TYPE_CHECKING:
    from crosswalk.analytics import Question

SIZES = {"small": [100_000], "full": [1_000_000]}

BASELINES = {
    "overlap": """
        WITH pp AS (
            SELECT DISTINCT i.enterprise_id AS person, s.program
            FROM service_event s JOIN person_index i USING (record_key)
            WHERE s.start_date <= DATE '2020-12-31'
              AND (s.end_date IS NULL OR s.end_date >= DATE '2015-01-01'))
        SELECT a.program, b.program, count(*) FROM pp a JOIN pp b USING (person) GROUP BY 1, 2
    """,
    "cohort": """
        WITH ev AS (
            SELECT i.enterprise_id AS person, s.program, s.start_date, s.end_date
            FROM service_event s JOIN person_index i USING (record_key)),
        c AS (
            SELECT person, min(end_date) AS index_date FROM ev
            WHERE program = 'FOSTER_CARE' AND end_date BETWEEN DATE '2015-01-01' AND DATE '2018-12-31'
            GROUP BY person),
        o AS (
            SELECT c.person, ev.program, min(ev.start_date - c.index_date) AS days
            FROM c JOIN ev ON ev.person = c.person AND ev.start_date > c.index_date
            GROUP BY 1, 2)
        SELECT program, count(*) FILTER (WHERE days <= 1826), (SELECT count(*) FROM c)
        FROM o GROUP BY program
    """,
}


def question(name: str) -> Question:
    from crosswalk.analytics import CohortOutcomes, Filters, ProgramOverlap

    if name == "overlap":
        return ProgramOverlap(Filters(start=date(2015, 1, 1), end=date(2020, 12, 31)))
    return CohortOutcomes(
        Filters(end=date(2025, 12, 31)),
        program="FOSTER_CARE",
        event="exit",
        cohort_start=date(2015, 1, 1),
        cohort_end=date(2018, 12, 31),
        years=5,
    )


def timed(hub: str, name: str) -> dict[str, float]:
    """Cold, warm (median of 3) for Crosswalk's question and for the plain baseline."""
    import duckdb

    from crosswalk.agreement import Principal
    from crosswalk.analytics import ask

    out: dict[str, float] = {}
    q = question(name)
    analyst = Principal("bench", "cdo", "analyst")
    with tempfile.TemporaryDirectory() as tmp:
        control, secrets = f"sqlite:///{tmp}/control.db", Path(tmp) / "secrets"
        runs = []
        for _ in range(4):
            t = time.perf_counter()
            answer = ask(
                q, analyst, "program_evaluation", hub=hub, control=control, secrets=secrets
            )
            runs.append(time.perf_counter() - t)
    out["cold"], out["warm"] = runs[0], statistics.median(runs[1:])
    out["hidden"] = len(answer.protected.suppressed)
    out["rows"] = answer.protected.table.num_rows
    con = duckdb.connect(hub, read_only=True)
    con.execute("SET enable_progress_bar = false")
    runs = []
    for _ in range(4):
        t = time.perf_counter()
        con.sql(BASELINES[name]).fetchall()
        runs.append(time.perf_counter() - t)
    out["base_cold"], out["base_warm"] = runs[0], statistics.median(runs[1:])
    return out


def build(people: int, root: Path) -> tuple[str, int, int]:

    from crosswalk.identity import link
    from crosswalk.ingest import ingest_state
    from crosswalk.synth import synth

    synth(people=people, seed=7, out=str(root / "state"))
    hub = str(root / "hub.duckdb")
    ingest_state(root / "state", hub=hub)
    link(hub)
    return hub, *counts(hub)


def counts(hub: str) -> tuple[int, int]:
    """Service events and enterprise persons in a hub."""
    import duckdb

    con = duckdb.connect(hub, read_only=True)
    events = con.sql("SELECT count(*) FROM service_event").fetchall()[0][0]
    persons = con.sql("SELECT count(DISTINCT enterprise_id) FROM person_index").fetchall()[0][0]
    con.close()
    return events, persons


def main(size: str = "full") -> None:
    print(f"machine: {machine()}")
    print(
        "| people | events | enterprise ids | question | cold s | warm s (median of 3) "
        "| cells | hidden | baseline cold s | baseline warm s | ratio warm |"
    )
    print("| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    given = os.environ.get("BENCH_HUB")
    for people in [0] if given else SIZES[size]:
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            if given:
                hub, events, persons = given, *counts(given)
                people = persons
            else:
                hub, events, persons = build(people, Path(tmp))
            print(f"(hub ready in {time.perf_counter() - t:.0f} s)", flush=True)
            for name in ("overlap", "cohort"):
                _, rss, r = measure(timed, hub, name)
                print(
                    f"| {people:,} | {events:,} | {persons:,} | {name} | {r['cold']:.2f} "
                    f"| {r['warm']:.2f} | {r['rows']:.0f} | {r['hidden']:.0f} "
                    f"| {r['base_cold']:.2f} | {r['base_warm']:.2f} "
                    f"| {r['warm'] / r['base_warm']:.1f}x |",
                    flush=True,
                )
                print(f"  peak RSS {rss / 2**30:.2f} GiB", flush=True)
