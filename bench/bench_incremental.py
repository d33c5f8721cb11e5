"""A living index: incremental linking of weekly batches against a full re-link.

Two parts, each on a synthetic state with weekly update batches (``crosswalk synth
--weeks``), ingested and linked in full first:

- *weeks*: each of the weeks is ingested (not timed) and linked incrementally (timed, in
  a fresh process). Measured per week: the run's wall time and the records it linked, its
  pairwise F1 against the week's truth, and the F1 of a full re-link of a copy of the same
  hub (timed the same way) on the same data; the share of persons whose records did not
  change that keep their id, and every id change by kind and cause.
- *scale*: one weekly batch against a large index, linked incrementally several times,
  each run on a fresh copy of the hub as loaded (median reported), and one full re-link of
  another copy, for the ratio.

Run it un-niced: the times are the point. With ``CROSSWALK_BENCH_CACHE`` set to a folder,
the scale part keeps its state and hubs there (the linked hub, and the hub with the week
loaded) and reuses them on the next run, so that a large index is generated, ingested and
linked once; ``CROSSWALK_BENCH_NO_FULL=1`` skips its full re-link (the ratio is then to the
initial full link of the same hub, timed when the cache was made).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

# Loaded before the timed call (the child process imports this module first): the times
# are of the linkage run, not of loading Splink (which the run itself imports lazily).
import splink  # noqa: F401

import crosswalk.identity.link  # noqa: F401
from bench.harness import machine, measure

# people -> about 1.2 agency records each: 20k people ~ 24k records, 790k ~ 1M records
# (a week there brings about 10k new and changed records).
SIZES = {
    "small": {"weeks": (3_000, 3), "scale": (20_000, 2)},
    "full": {"weeks": (20_000, 10), "scale": (790_000, 3)},
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def crosswalk_link(hub: str, control: str, full: bool) -> tuple[int, str, dict[str, int], float]:
    """Link the hub; returns the records linked, the run, its id changes by cause and the
    CPU seconds of the run (all threads of the process)."""
    from crosswalk.identity.link import link

    before = _cpu()
    result = link(hub, control=control, full=full, confirm=(lambda changes: True) if full else None)
    return result.records, result.run_id, result.by_cause, _cpu() - before


def pairwise_f1(hub: str, truth: str) -> float:
    from crosswalk.access import Gate
    from crosswalk.agreement import Principal

    steward = Principal("cdo.linkage", "cdo", "linkage_steward")
    return Gate(hub).evaluate_linkage(steward, "linkage_review", truth).pairwise_f1


def _index(hub: str) -> dict[str, str]:
    import duckdb

    con = duckdb.connect(hub, read_only=True)
    try:
        return dict(con.execute("SELECT record_key, enterprise_id FROM person_index").fetchall())
    finally:
        con.close()


def _changed_keys(hub: str) -> set[str]:
    """Records of the hub whose fields differ from what the last run linked (or new)."""
    import duckdb

    from crosswalk.identity.incremental import fingerprint_sql

    con = duckdb.connect(hub, read_only=True)
    try:
        rows = con.execute(
            f"""SELECT p.record_key FROM person_record p LEFT JOIN link_feature f
            ON f.unique_id = p.record_key WHERE f.unique_id IS NULL OR f.fingerprint <> {fingerprint_sql(con)}"""
        ).fetchall()
        return {k for (k,) in rows}
    finally:
        con.close()


def _stability(before: dict[str, str], after: dict[str, str], changed: set[str]) -> tuple[int, int]:
    """(persons with no changed record, those of them whose every record kept its id)."""
    members: dict[str, list[str]] = {}
    for key, eid in before.items():
        members.setdefault(eid, []).append(key)
    steady = [keys for keys in members.values() if not any(k in changed for k in keys)]
    kept = sum(all(after.get(k) == before[k] for k in keys) for keys in steady)
    return len(steady), kept


def _setup(people: int, weeks: int, work: Path) -> tuple[Path, str, str]:
    from crosswalk.ingest import ingest_state
    from crosswalk.synth import synth

    state = work / "state"
    synth(people=people, seed=7, out=state, weeks=weeks)
    hub = str(work / "hub.duckdb")
    control = f"sqlite:///{work}/control.db"
    ingest_state(state, hub=hub, control=control)
    seconds, peak, (records, _, _, _) = measure(crosswalk_link, hub, control, True)
    print(
        f"{people:,} people, {records:,} records: initial full link {seconds:.1f} s,"
        f" peak {peak / 2**20:.0f} MiB",
        flush=True,
    )
    return state, hub, control


def run_weeks(people: int, weeks: int, work: Path) -> None:
    """Every week linked incrementally, and a full re-link of a copy on the same data."""
    from crosswalk.ingest import ingest_state

    state, hub, control = _setup(people, weeks, work)
    steady_total = kept_total = 0
    gaps = []
    for week in range(1, weeks + 1):
        folder = state / "weeks" / f"{week:02d}"
        ingest_state(folder, hub=hub, control=control)
        before, changed = _index(hub), _changed_keys(hub)
        seconds, peak, (linked, _, causes, _) = measure(crosswalk_link, hub, control, False)
        after = _index(hub)
        steady, kept = _stability(before, after, changed)
        steady_total, kept_total = steady_total + steady, kept_total + kept
        f1 = pairwise_f1(hub, str(folder / "truth"))
        copy = str(work / "full.duckdb")
        shutil.copy(hub, copy)
        full_seconds, _, _ = measure(crosswalk_link, copy, control, True)
        full_f1 = pairwise_f1(copy, str(folder / "truth"))
        Path(copy).unlink()
        gaps.append(f1 - full_f1)
        print(
            f"week {week:02d}: {linked:,} records linked incrementally against {len(before):,}"
            f" in {seconds:.2f} s (peak {peak / 2**20:.0f} MiB), full re-link {full_seconds:.1f} s"
            f" ({seconds / full_seconds:.1%}); pairwise F1 incremental {f1:.4f}, full"
            f" {full_f1:.4f} ({f1 - full_f1:+.4f}); persons unchanged {steady:,}, kept their"
            f" id {kept:,} ({kept / max(steady, 1):.4%}); id changes {causes or 'none'}",
            flush=True,
        )
    print(
        f"over {weeks} weeks: {kept_total:,} of {steady_total:,} unchanged persons kept their id"
        f" ({kept_total / max(steady_total, 1):.4%}); largest |F1 incremental - full|"
        f" {max(abs(g) for g in gaps):.4f}",
        flush=True,
    )


def _scale_hubs(people: int, work: Path) -> tuple[str, str, float]:
    """The hub of ``people`` linked in full with one week loaded (not linked), its control
    store and the seconds of that full link; from the cache when one is set and made."""
    from crosswalk.ingest import ingest_state

    cache = os.environ.get("CROSSWALK_BENCH_CACHE")
    folder = Path(cache) / f"scale-{people}" if cache else work
    loaded, made = folder / "loaded.duckdb", folder / "full_link.json"
    control = f"sqlite:///{folder}/control.db"
    if loaded.exists() and made.exists():
        seconds = json.loads(made.read_text())["seconds"]
        print(f"  reusing {loaded} (its full link took {seconds:.1f} s)", flush=True)
        return str(loaded), control, seconds
    folder.mkdir(parents=True, exist_ok=True)
    from crosswalk.synth import synth

    state = folder / "state"
    synth(people=people, seed=7, out=state, weeks=1)
    hub = str(folder / "hub.duckdb")
    ingest_state(state, hub=hub, control=control)
    seconds, peak, (records, _, _, cpu) = measure(crosswalk_link, hub, control, True)
    print(
        f"{people:,} people, {records:,} records: initial full link {seconds:.1f} s"
        f" (CPU {cpu:.1f} s), peak {peak / 2**20:.0f} MiB",
        flush=True,
    )
    ingest_state(state / "weeks" / "01", hub=hub, control=control)
    shutil.move(hub, loaded)
    made.write_text(json.dumps({"seconds": seconds, "cpu": cpu, "records": records}))
    return str(loaded), control, seconds


def run_scale(people: int, repeat: int, work: Path) -> None:
    """One week against the whole index: ``repeat`` incremental runs, each on a fresh copy
    of the hub as loaded, and a full re-link of another copy."""
    hub, control, initial = _scale_hubs(people, work)
    copy = str(work / "run.duckdb")
    times, cpus = [], []
    for _ in range(repeat):
        shutil.copy(hub, copy)
        load = _load()
        seconds, peak, (linked, _, causes, cpu) = measure(crosswalk_link, copy, control, False)
        times.append(seconds)
        cpus.append(cpu)
        print(
            f"  incremental: {linked:,} records in {seconds:.2f} s, CPU {cpu:.2f} s (peak"
            f" {peak / 2**20:.0f} MiB; load {load} before, {_load()} after); id changes"
            f" {causes or 'none'}",
            flush=True,
        )
    records = len(_index(hub))
    if os.environ.get("CROSSWALK_BENCH_NO_FULL"):
        full_seconds, what = initial, "the initial full link of the same hub"
    else:
        shutil.copy(hub, copy)
        load = _load()
        full_seconds, full_peak, (_, _, _, full_cpu) = measure(crosswalk_link, copy, control, True)
        what = (
            f"full re-link (CPU {full_cpu:.1f} s, peak {full_peak / 2**20:.0f} MiB;"
            f" load {load} before, {_load()} after)"
        )
    Path(copy).unlink(missing_ok=True)
    median = statistics.median(times)
    print(
        f"scale: {linked:,} new and changed records against {records:,}: incremental median"
        f" {median:.2f} s of {repeat} ({', '.join(f'{t:.2f}' for t in times)}), CPU median"
        f" {statistics.median(cpus):.2f} s; {what} {full_seconds:.1f} s;"
        f" ratio {median / full_seconds:.1%}",
        flush=True,
    )


def main(size: str = "full", parts: tuple[str, ...] = ("weeks", "scale")) -> None:
    print(f"machine: {machine()}")
    for part in parts:
        n, k = SIZES[size][part]
        with tempfile.TemporaryDirectory(prefix="bench-incremental-") as tmp:
            (run_weeks if part == "weeks" else run_scale)(n, k, Path(tmp))


# Child process of ``run_against``: one incremental run of the code on its path, timed.
_ONE_RUN = """
import json, sys, time
from bench.bench_incremental import crosswalk_link
start = time.perf_counter()
records, run, causes, cpu = crosswalk_link(sys.argv[1], sys.argv[2], False)
print(json.dumps({"wall": time.perf_counter() - start, "cpu": cpu, "records": records,
                  "causes": causes}))
"""


def outcome(hub: str) -> dict[str, tuple[int, int]]:
    """Per table of the hub (the last run's own row of ``link_run`` aside), its row count
    and an order-free hash of its rows, with what differs between two runs of the same
    code on the same data left out: a run's id reads as "the last run" or stays the
    earlier run's, and a time as whether it is set."""
    import duckdb

    con = duckdb.connect(hub, read_only=True)
    try:
        last = con.execute("SELECT run_id FROM link_run ORDER BY started_at DESC LIMIT 1")
        (last_run,) = last.fetchall()[0]
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
                " AND table_name <> 'link_run' ORDER BY 1"
            ).fetchall()
        ]
        out = {}
        for table in tables:
            parts = []
            for name, kind in con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?"
                " AND schema_name = 'main' ORDER BY column_index",
                [table],
            ).fetchall():
                column = '"' + name.replace('"', '""') + '"'
                if kind.startswith("TIMESTAMP"):
                    parts.append(f"{column} IS NULL")
                elif "run" in name and kind == "VARCHAR":
                    parts.append(f"CASE WHEN {column} = $last THEN 'last run' ELSE {column} END")
                else:
                    parts.append(column)
            quoted = '"' + table.replace('"', '""') + '"'
            query = (
                f"SELECT count(*), coalesce(sum(hash({', '.join(parts)})::HUGEINT), 0)"
                f" FROM {quoted}"
            )
            bound = {"last": last_run} if "$last" in query else {}
            count, digest = con.execute(query, bound).fetchall()[0]
            out[table] = (int(count), int(digest))
        return out
    finally:
        con.close()


def current_features(hub: str) -> list[str]:
    """Give a hub linked by an earlier version of the features (a cached benchmark hub)
    the feature columns added since, in its kept features (``link_feature``), built from
    its records: for a record not changed since its last run they are what that run would
    have kept; a changed record's are replaced by the incremental run. Returns the
    columns added (none for a hub linked by this version)."""
    from crosswalk import records, stores
    from crosswalk.identity import history, households, store
    from crosswalk.identity.features import build_features

    con = stores.connect_hub(hub)
    try:
        for part in (records, store, history, households):
            part.migrate(con)
        kept = {r[0] for r in con.execute("DESCRIBE link_feature").fetchall()}
        build_features(
            con,
            "bench_features",
            "(SELECT * FROM person_record WHERE record_key IN (SELECT unique_id FROM link_feature))",
        )
        types = {r[0]: r[1] for r in con.execute("DESCRIBE bench_features").fetchall()}
        added = sorted(set(types) - kept)
        for column in added:
            quoted = '"' + column.replace('"', '""') + '"'
            con.execute(f"ALTER TABLE link_feature ADD COLUMN {quoted} {types[column]}")
            con.execute(
                f"UPDATE link_feature SET {quoted} = b.{quoted} FROM bench_features b"
                " WHERE b.unique_id = link_feature.unique_id"
            )
        con.execute("CHECKPOINT")
        return added
    finally:
        con.close()


def run_against(
    baseline: str, repeat: int = 2, hub: str | None = None, candidate: str | None = None
) -> None:
    """The scale part's week linked incrementally by the code of ``baseline`` (a source
    folder holding the ``crosswalk`` package, e.g. main's ``src``) and by this tree's,
    alternating, ``repeat`` times each, every run on a fresh copy of the hub as loaded in
    a fresh process (Splink imported before the clock starts); wall and CPU seconds (all
    threads) and the load around each run; then whether both left the same hub
    (``outcome``: every table, the ids, households, review queue and history included).
    ``hub``: the loaded hub to use (its control store beside it as ``control.db``);
    default, the scale part's cached one; ``candidate``: a source folder instead of this
    tree's. It is copied first and, if linked by an
    earlier version of the features, given the columns added since
    (``current_features``)."""
    import subprocess
    import sys

    here = Path(__file__).resolve().parents[1]
    if hub is None:
        hub, _, _ = _scale_hubs(SIZES["full"]["scale"][0], Path(tempfile.mkdtemp()))
    source = Path(hub)
    control_db = source.parent / "control.db"
    ahead = Path(tempfile.mkdtemp(prefix="bench-incremental-hub-")) / "hub.duckdb"
    shutil.copy(source, ahead)
    added = current_features(str(ahead))
    if added:
        print(f"  kept features brought to the current columns: {', '.join(added)}", flush=True)
    source = ahead
    trees = {
        "baseline": Path(baseline).resolve(),
        "candidate": Path(candidate).resolve() if candidate else here / "src",
    }
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    outcomes: dict[str, dict[str, tuple[int, int]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-incremental-ab-") as tmp:
        for i in range(repeat):
            order = list(trees) if i % 2 == 0 else list(reversed(trees))
            for name in order:
                work = Path(tmp) / name
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir()
                shutil.copy(source, work / "hub.duckdb")
                shutil.copy(control_db, work / "control.db")
                checkpoints = Path(f"{control_db}.checkpoints")
                if checkpoints.exists():
                    shutil.copytree(checkpoints, work / "control.db.checkpoints")
                load = _load()
                env = dict(os.environ, PYTHONPATH=f"{trees[name]}:{here}")
                done = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        _ONE_RUN,
                        str(work / "hub.duckdb"),
                        f"sqlite:///{work}/control.db",
                    ],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                figures["load"] = f"{load} before, {_load()} after"
                results[name].append(figures)
                print(
                    f"  {name}: {figures['records']:,} records in {figures['wall']:.2f} s,"
                    f" CPU {figures['cpu']:.2f} s (load {figures['load']}); id changes"
                    f" {figures['causes']}",
                    flush=True,
                )
                outcomes.setdefault(name, outcome(str(work / "hub.duckdb")))
    for name, runs in results.items():
        walls, cpus = [r["wall"] for r in runs], [r["cpu"] for r in runs]
        print(
            f"{name}: wall median {statistics.median(walls):.2f} s"
            f" ({', '.join(f'{w:.2f}' for w in walls)}), CPU median"
            f" {statistics.median(cpus):.2f} s ({', '.join(f'{c:.2f}' for c in cpus)})",
            flush=True,
        )
    base, cand = outcomes["baseline"], outcomes["candidate"]
    differ = sorted(t for t in base.keys() | cand.keys() if base.get(t) != cand.get(t))
    print(
        f"same hub after both: {'yes' if not differ else 'no, tables differ: ' + ', '.join(differ)}"
        f" ({len(base)} tables compared)",
        flush=True,
    )
    shutil.rmtree(ahead.parent, ignore_errors=True)
