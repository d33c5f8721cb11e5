"""The whole pipeline on DuckDB and on Spark local mode, in the same run: a synthetic
state ingested (``ingest_state``), linked (``link`` on the hub, ``link_warehouse`` on the
warehouse) and the overlap question answered through the gate, on each engine in a
fresh process, DuckDB first.

Reported per engine: wall and CPU seconds (the Python process's and, on Spark, the
JVM's), the peak resident memory of the process tree (Python and, on Spark, its JVM),
and per stage of ours (ingest, features and the blocking plan, training, scoring,
clustering, writing, overlap) the wall and CPU seconds; on Spark also Spark's own stage
metrics for it, read from the application's event log (``spark.eventLog.enabled``):
jobs, Spark stages, tasks, the tasks' run and CPU time, shuffle bytes and the bytes
results brought back to the driver. The share of the JVM's CPU spent in tasks is what a
cluster spreads over executors; the rest (planning, scheduling, the driver's own work)
and the Python process's CPU stay on the driver.

The results must agree between engines: the same rows read, accepted and quarantined,
the same person index up to the ids' labels (pairwise F1 between the two indexes) and
the same released overlap table; the benchmark prints a difference and
``tests/test_bench_spark.py`` checks it at a reduced size.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from bench.harness import machine, measure

SIZES = {"tiny": [300], "small": [20_000], "full": [100_000, 1_000_000]}
MASTER = os.environ.get("BENCH_SPARK_MASTER", "local[2]")
# Our stages, by the first word of linkage's progress reports.
LINK_STAGES = {
    "features": "features + blocking plan",
    "training": "training",
    "scoring": "scoring",
    "clustering": "clustering",
    "writing": "writing",
}


def _ticks() -> int:
    return int(os.sysconf("SC_CLK_TCK"))


def _java() -> int | None:
    """The pid of this process's Java child (the Spark driver), if any."""
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
            return int(proc.name)
    return None


def _cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of a process, from /proc."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _ticks()


def _hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Clock:
    """Wall and CPU seconds per stage of ours; on Spark, marks each stage's jobs with a
    local property (``crosswalk.stage``) the event log keeps."""

    def __init__(self, context: Any = None) -> None:
        self.context = context
        self.jvm = _java() if context is not None else None
        self.stages: dict[str, dict[str, float]] = {}
        self._now: str | None = None
        self._at = (0.0, 0.0, 0.0)

    def _read(self) -> tuple[float, float, float]:
        return time.perf_counter(), _self_cpu(), _cpu(self.jvm)

    def enter(self, stage: str) -> None:
        if stage == self._now:
            return
        self.stop()
        self._now, self._at = stage, self._read()
        if self.context is not None:
            self.context.setLocalProperty("crosswalk.stage", stage)

    def stop(self) -> None:
        if self._now is None:
            return
        now = self._read()
        row = self.stages.setdefault(self._now, {"wall": 0.0, "python": 0.0, "jvm": 0.0})
        row["wall"] += now[0] - self._at[0]
        row["python"] += now[1] - self._at[1]
        row["jvm"] += now[2] - self._at[2]
        print(
            f"  {'Spark' if self.context is not None else 'DuckDB'} {self._now}: "
            f"{now[0] - self._at[0]:.1f} s",
            flush=True,
        )
        self._now = None

    def progress(self) -> Callable[[str, float], None]:
        def report(what: str, share: float) -> None:
            first = what.split()[0].rstrip(":")
            if first in LINK_STAGES:
                self.enter(LINK_STAGES[first])

        return report


OVERLAP_FILTERS = {"start": date(2015, 1, 1), "end": date(2020, 12, 31)}


def _overlap(hub: Any) -> list[dict[str, Any]]:
    from crosswalk.access import Gate
    from crosswalk.agreement import Principal
    from crosswalk.analytics import Filters, ProgramOverlap

    answer = Gate(hub).aggregate(
        Principal("bench", "cdo", "analyst"),
        "program_evaluation",
        ProgramOverlap(Filters(**OVERLAP_FILTERS)),
    )
    return sorted(answer.table.to_pylist(), key=lambda r: json.dumps(r, default=str))


def _counts(results: list) -> tuple[int, int, int]:
    return (
        sum(r.rows_read for r in results),
        sum(r.rows_accepted for r in results),
        sum(r.rows_quarantined for r in results),
    )


def on_duckdb(state: str, root: str, secrets: str) -> dict[str, Any]:
    from crosswalk.hub import DuckDBEngine, Hub
    from crosswalk.identity import link
    from crosswalk.ingest import ingest_state

    hub, control = f"{root}/hub.duckdb", f"sqlite:///{root}/control.db"
    clock = Clock()
    started = time.perf_counter()
    clock.enter("ingest")
    counts = _counts(ingest_state(state, hub=hub, control=control, secrets=secrets))
    clock.enter("features + blocking plan")
    linked = link(hub, control=control, secrets=secrets, progress=clock.progress())
    clock.enter("overlap")
    with Hub(DuckDBEngine(hub), control, secrets) as opened:
        overlap = _overlap(opened)
    clock.stop()
    return {
        "wall": time.perf_counter() - started,
        "cpu": _self_cpu(),
        "counts": counts,
        "records": linked.records,
        "pairs": linked.candidate_pairs,
        "persons": linked.clusters,
        "stages": clock.stages,
        "overlap": overlap,
        "rss": _hwm(os.getpid()),
    }


def on_spark(state: str, root: str, secrets: str, master: str) -> dict[str, Any]:
    from crosswalk.engines import SparkEngine
    from crosswalk.hub import Hub
    from crosswalk.identity.on_warehouse import link_warehouse
    from crosswalk.ingest import ingest_state

    events = Path(root) / "events"
    events.mkdir()
    warehouse, control = f"{root}/warehouse", f"sqlite:///{root}/control.db"
    # The engine's own session, with its defaults for the master, and an event log.
    engine = SparkEngine(
        warehouse,
        master=master,
        config={
            "spark.eventLog.enabled": "true",
            "spark.eventLog.dir": str(events),
            "spark.eventLog.compress": "false",
            "spark.eventLog.rolling.enabled": "false",
        },
    )
    started = time.perf_counter()
    session = engine.session()
    startup = time.perf_counter() - started
    session.sparkContext.setLogLevel("ERROR")
    clock = Clock(session.sparkContext)
    clock.enter("ingest")
    counts = _counts(ingest_state(state, hub=engine, control=control, secrets=secrets))
    clock.enter("features + blocking plan")
    linked = link_warehouse(engine, control=control, secrets=secrets, progress=clock.progress())
    clock.enter("overlap")
    with Hub(engine, control, secrets) as opened:
        overlap = _overlap(opened)
    clock.stop()
    wall, cpu, jvm_cpu = time.perf_counter() - started, _self_cpu(), _cpu(clock.jvm)
    jvm_rss = _hwm(clock.jvm) if clock.jvm else 0
    config = dict(session.sparkContext.getConf().getAll())
    engine.close()
    return {
        "wall": wall,
        "startup": startup,
        "cpu": cpu,
        "jvm_cpu": jvm_cpu,
        "counts": counts,
        "records": linked.records,
        "pairs": linked.candidate_pairs,
        "persons": linked.clusters,
        "stages": clock.stages,
        "overlap": overlap,
        "rss": _hwm(os.getpid()),
        "jvm_rss": jvm_rss,
        "spark": spark_stages(events),
        "config": {k: v for k, v in config.items() if k.startswith("spark.sql.") or "memory" in k},
    }


def spark_stages(events: Path) -> dict[str, dict[str, float]]:
    """Spark's stage metrics from the event log, summed per stage of ours."""
    label_of: dict[int, str] = {}
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for line in _event_lines(events):
        event = json.loads(line)
        kind = event.get("Event")
        if kind == "SparkListenerJobStart":
            stage = (event.get("Properties") or {}).get("crosswalk.stage", "other")
            out[stage]["jobs"] += 1
            for sid in event.get("Stage IDs", []):
                label_of[sid] = stage
        elif kind == "SparkListenerStageCompleted":
            info = event["Stage Info"]
            row = out[label_of.get(info["Stage ID"], "other")]
            row["stages"] += 1
            tasks = info.get("Number of Tasks", 0)
            row["tasks"] += tasks
            row["max_tasks"] = max(row["max_tasks"], tasks)
            row["single_task_stages"] += tasks == 1
            if "Submission Time" in info and "Completion Time" in info:
                row["stage_wall"] += (info["Completion Time"] - info["Submission Time"]) / 1e3
            for acc in info.get("Accumulables", []):
                name, value = acc.get("Name", ""), acc.get("Value")
                if not isinstance(value, int | float | str) or not name:
                    continue
                try:
                    number = float(value)
                except ValueError:
                    continue
                key = METRICS.get(name)
                if key:
                    row[key] += number * (1e-9 if key == "task_cpu" else 1.0)
    for row in out.values():
        row["task_run"] /= 1e3
        row["gc"] /= 1e3
    return {k: dict(v) for k, v in out.items()}


def _event_lines(events: Path) -> Iterator[str]:
    """The lines of every event log under ``events`` (plain, or zstd-compressed by the
    zstd command)."""
    for log in sorted(events.rglob("*")):
        if not log.is_file() or log.name.startswith((".", "appstatus")):
            continue
        if log.suffix == ".zstd":
            text = subprocess.run(
                ["zstd", "-dc", str(log)], check=True, capture_output=True, text=True
            ).stdout
            yield from text.splitlines()
        else:
            with log.open() as f:
                yield from f


METRICS = {
    "internal.metrics.executorRunTime": "task_run",  # ms
    "internal.metrics.executorCpuTime": "task_cpu",  # ns
    "internal.metrics.jvmGCTime": "gc",  # ms
    "internal.metrics.shuffle.write.bytesWritten": "shuffle_write",
    "internal.metrics.resultSize": "result_bytes",
    "internal.metrics.input.bytesRead": "input_bytes",
}


def pairwise_f1(a: str, b: str) -> float:
    """Pairwise F1 between two person indexes, each a Parquet file of record_key and
    enterprise_id."""
    import duckdb

    con = duckdb.connect()
    pairs = """SELECT x.record_key AS l, y.record_key AS r FROM read_parquet('{f}') x
               JOIN read_parquet('{f}') y
               ON x.enterprise_id = y.enterprise_id AND x.record_key < y.record_key"""

    def count(sql: str) -> int:
        return int(con.sql(f"SELECT count(*) FROM ({sql})").fetchall()[0][0])

    na, nb = count(pairs.format(f=a)), count(pairs.format(f=b))
    both = count(f"({pairs.format(f=a)}) INTERSECT ({pairs.format(f=b)})")
    return 1.0 if na + nb == 0 else 2 * both / (na + nb)


def indexes(root: Path) -> tuple[str, str]:
    """The person index of each engine's run (Spark's, DuckDB's) as a Parquet file."""
    import duckdb

    from crosswalk.engines import warehouse_tables

    folder = warehouse_tables(root / "spark" / "warehouse")["person_index"]
    out = {}
    for name, source, hub in (
        ("spark", f"read_parquet('{folder}/*.parquet')", ":memory:"),
        ("duckdb", "person_index", str(root / "duckdb" / "hub.duckdb")),
    ):
        con = duckdb.connect(hub, read_only=hub != ":memory:")
        out[name] = str(root / f"{name}.index.parquet")
        con.execute(f"COPY (SELECT record_key, enterprise_id FROM {source}) TO '{out[name]}'")
        con.close()
    return out["spark"], out["duckdb"]


def run(people: int, tmp: Path, master: str = MASTER) -> dict[str, Any]:
    """Both engines over one state of ``people``; what each reported, and whether they
    agree."""
    from crosswalk.synth import synth

    state = str(tmp / "state")
    synth(people=people, seed=7, out=state)
    secrets = str(tmp / "secrets")
    (tmp / "duckdb").mkdir()
    (tmp / "spark").mkdir()
    _, _, duck = measure(on_duckdb, state, str(tmp / "duckdb"), secrets)
    _, _, spark = measure(on_spark, state, str(tmp / "spark"), secrets, master)
    spark_index, duck_index = indexes(tmp)
    return {
        "people": people,
        "duckdb": duck,
        "spark": spark,
        "f1": pairwise_f1(spark_index, duck_index),
    }


def overlap_difference(d: dict[str, Any], s: dict[str, Any]) -> str:
    """How far two engines' released overlap tables are apart, cell by cell."""
    cells = {(c["program_a"], c["program_b"]): c for c in d["overlap"]}
    other = {(c["program_a"], c["program_b"]): c for c in s["overlap"]}
    apart = [k for k in cells.keys() | other.keys() if cells.get(k) != other.get(k)]
    gaps = [
        abs((cells[k]["people"] or 0) - (other[k]["people"] or 0))
        for k in apart
        if k in cells and k in other
    ]
    return (
        f"{len(apart)} of {len(cells)} cells, released counts apart by at most "
        f"{max(gaps, default=0)} (median {sorted(gaps)[len(gaps) // 2] if gaps else 0})"
    )


def report(r: dict[str, Any]) -> None:
    d, s = r["duckdb"], r["spark"]
    agree = []
    if d["counts"] != s["counts"]:
        agree.append(f"counts differ: {d['counts']} vs {s['counts']}")
    if d["overlap"] != s["overlap"]:
        agree.append("the released overlap tables differ: " + overlap_difference(d, s))
    print(
        f"\n### {r['people']:,} people: {d['counts'][0]:,} rows read, {d['counts'][1]:,} "
        f"accepted, {d['counts'][2]:,} quarantined; {d['records']:,} records, persons "
        f"DuckDB {d['persons']:,} / Spark {s['persons']:,}; pairwise F1 between the "
        f"indexes {r['f1']:.4f}; overlap cells {len(d['overlap'])}"
        + ("; " + "; ".join(agree) if agree else "; counts and overlap identical")
    )
    print(f"Spark session start {s['startup']:.1f} s (in Spark's total); master {MASTER}")
    print(
        "\n| engine | wall s | CPU s (Python + JVM) | peak RSS (Python + JVM) |\n"
        "| --- | ---: | ---: | ---: |"
    )
    print(f"| DuckDB | {d['wall']:.1f} | {d['cpu']:.1f} | {d['rss'] / 2**30:.2f} GiB |")
    print(
        f"| Spark | {s['wall']:.1f} | {s['cpu']:.1f} + {s['jvm_cpu']:.1f} "
        f"| {s['rss'] / 2**30:.2f} + {s['jvm_rss'] / 2**30:.2f} GiB |"
    )
    print(
        f"| Spark / DuckDB | {s['wall'] / d['wall']:.1f}x "
        f"| {(s['cpu'] + s['jvm_cpu']) / d['cpu']:.1f}x | "
        f"{(s['rss'] + s['jvm_rss']) / d['rss']:.1f}x |"
    )
    print(
        "\n| stage | DuckDB wall s | Spark wall s | ratio | Spark Python CPU s | JVM CPU s "
        "| jobs | Spark stages (1-task) | tasks | task run s | task CPU s | shuffle MiB "
        "| to driver MiB |\n| --- " + "| ---: " * 12 + "|"
    )
    for stage in ["ingest", *LINK_STAGES.values(), "overlap", "other"]:
        ds = d["stages"].get(stage, {})
        ss = s["stages"].get(stage, {})
        m = s["spark"].get(stage, {})
        if not ds and not ss and not m:
            continue
        dw, sw = ds.get("wall", 0.0), ss.get("wall", 0.0)
        print(
            f"| {stage} | {dw:.1f} | {sw:.1f} | {sw / dw if dw else 0:.1f}x "
            f"| {ss.get('python', 0):.1f} | {ss.get('jvm', 0):.1f} | {m.get('jobs', 0):.0f} "
            f"| {m.get('stages', 0):.0f} ({m.get('single_task_stages', 0):.0f}) "
            f"| {m.get('tasks', 0):.0f} | {m.get('task_run', 0):.1f} | {m.get('task_cpu', 0):.1f} "
            f"| {m.get('shuffle_write', 0) / 2**20:.1f} | {m.get('result_bytes', 0) / 2**20:.1f} |"
        )
    print(f"\nSpark settings: {json.dumps(s['config'], sort_keys=True)}", flush=True)


def main(size: str = "full") -> None:
    print(f"machine: {machine()}; load average {os.getloadavg()}", flush=True)
    given = os.environ.get("BENCH_PEOPLE", "")
    people = [int(p) for p in given.split(",") if p.strip()] or SIZES[size]
    for n in people:
        tmp = Path(tempfile.mkdtemp(prefix="bench-spark-", dir=os.environ.get("BENCH_TMP")))
        try:
            result = run(n, tmp)
            report(result)
            print(f"load average after {os.getloadavg()}", flush=True)
            out = os.environ.get("BENCH_JSON")
            if out:
                Path(out).with_suffix(f".{n}.json").write_text(json.dumps(result, default=str))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
