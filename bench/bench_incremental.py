"""A living index: incremental linking of weekly batches against a full re-link.

A synthetic state with weekly update batches (``crosswalk synth --weeks``) is ingested
and linked in full; then each week is ingested (not timed) and linked incrementally
(timed, in a fresh process). Measured per week: the incremental run's wall time and the
records it linked, its pairwise F1 against the week's truth, the share of persons whose
records did not change that keep their id, and every id change by cause. On the first
and the last week a full re-link of a copy of the same hub (timed the same way) gives the
ratio of the times and the F1 to compare with.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

# Loaded before the timed call (the child process imports this module first): the times
# are of the linkage run, not of loading Splink.
import crosswalk.identity.link  # noqa: F401
from bench.harness import machine, measure

# people -> about 1.27 agency records each: 80k people ~ 100k records, 790k ~ 1M
# (SIZES["full"] could take (790_000, 3); not built on the shared 2-core machine yet).
SIZES = {"small": [(20_000, 3)], "full": [(80_000, 10)]}
FULL_EVERY = {1}  # weeks whose full re-link is measured (and the last)


def crosswalk_link(hub: str, control: str, full: bool) -> tuple[int, str, dict[str, int]]:
    from crosswalk.identity.link import link

    result = link(hub, control=control, full=full, confirm=(lambda changes: True) if full else None)
    return result.records, result.run_id, result.changes


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


def _causes(hub: str, run_id: str) -> dict[str, int]:
    import duckdb

    from crosswalk.identity.history import changes_by_cause

    con = duckdb.connect(hub, read_only=True)
    try:
        return changes_by_cause(con, [run_id])
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


def run(people: int, weeks: int, work: Path) -> None:
    from crosswalk.ingest import ingest_state
    from crosswalk.synth import synth

    state = work / "state"
    synth(people=people, seed=7, out=state, weeks=weeks)
    hub = str(work / "hub.duckdb")
    control = f"sqlite:///{work}/control.db"
    ingest_state(state, hub=hub, control=control)
    seconds, peak, (records, _, _) = measure(crosswalk_link, hub, control, True)
    print(
        f"{people:,} people, {records:,} records: initial full link {seconds:.1f} s,"
        f" peak {peak / 2**20:.0f} MiB",
        flush=True,
    )
    steady_total = kept_total = 0
    for week in range(1, weeks + 1):
        folder = state / "weeks" / f"{week:02d}"
        ingest_state(folder, hub=hub, control=control)
        before, changed = _index(hub), _changed_keys(hub)
        seconds, peak, (linked, run_id, changes) = measure(crosswalk_link, hub, control, False)
        after = _index(hub)
        steady, kept = _stability(before, after, changed)
        steady_total, kept_total = steady_total + steady, kept_total + kept
        f1 = pairwise_f1(hub, str(folder / "truth"))
        line = (
            f"week {week:02d}: {linked:,} records linked incrementally against {len(before):,}"
            f" in {seconds:.2f} s (peak {peak / 2**20:.0f} MiB); pairwise F1 {f1:.4f};"
            f" persons unchanged {steady:,}, kept their id {kept / max(steady, 1):.4%};"
            f" id changes {_causes(hub, run_id) or 'none'}"
        )
        if week in FULL_EVERY or week == weeks:
            copy = str(work / "full.duckdb")
            shutil.copy(hub, copy)
            full_seconds, _, _ = measure(crosswalk_link, copy, control, True)
            full_f1 = pairwise_f1(copy, str(folder / "truth"))
            line += (
                f"; full re-link {full_seconds:.1f} s (incremental {seconds / full_seconds:.1%}"
                f" of it), F1 {full_f1:.4f} (incremental - full {f1 - full_f1:+.4f})"
            )
            Path(copy).unlink()
        print(line, flush=True)
        del changes
    print(
        f"over {weeks} weeks: {kept_total:,} of {steady_total:,} unchanged persons kept their id"
        f" ({kept_total / max(steady_total, 1):.4%})",
        flush=True,
    )


def main(size: str = "full") -> None:
    print(f"machine: {machine()}")
    for people, weeks in SIZES[size]:
        with tempfile.TemporaryDirectory(prefix="bench-incremental-") as tmp:
            run(people, weeks, Path(tmp))
