"""The Spark engine's store: the hub's analytic tables as Parquet in a warehouse folder.

Layout (a folder on a local or shared file system)::

    <warehouse>/CURRENT                        the snapshot readers use (its name)
    <warehouse>/snapshots/<name>/<table>/*.parquet

Parquet rather than Delta or Iceberg: every engine reads it without a catalog or a
package beside Spark, and the hub already rewrites its analytic tables whole on each
linkage run, so the table formats' row-level updates would buy nothing. What they would
buy, an atomic commit, comes from the snapshot layout: an export writes a new snapshot
beside the one in use (staged under a name readers never look at), then commits by
replacing ``CURRENT`` in one atomic rename. A reader sees the old snapshot or the new
one, never part of either; a failed export leaves the old one in force.

Writers (an export, a linkage run, an ingest batch on Spark) take turns (``writer_lock``).
A batch adds to tables rather than replacing them: it stages a snapshot holding every
table of the current one (``stage_snapshot``: hard links), appends there, and commits by
the same rename (``commit_staged``), refusing if another writer committed meanwhile.
"""

from __future__ import annotations

import fcntl
import getpass
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from crosswalk import settings, stores
from crosswalk.audit import AuditLog, WarehouseExported
from crosswalk.errors import HubBusy, NotFound
from crosswalk.identity import linked

CURRENT = "CURRENT"
SNAPSHOTS = "snapshots"
# The tables an export writes: the analytic tables every question reads ...
EXPORTED = tuple(linked.TABLES)
# ... and what linkage on Spark reads (the standardised records and events, the
# stewards' decisions) and writes (the person index and the counter of enterprise ids,
# the enterprise households and what keeps their ids stable). Reads for questions never
# see these: a read's session holds the analytic tables only.
LINKAGE_INPUT = ("person_record", "service_event", "review_decision")
LINKAGE_OUTPUT = (
    "person_index",
    "enterprise_id_counter",
    "enterprise_id_retired",
    "household_member",
    "household_index",
    "household_id_event",
    "household_id_counter",
    "household_key",
)


def warehouse_tables(warehouse: str | Path) -> dict[str, Path]:
    """The tables of the warehouse's current snapshot: name -> folder of Parquet files."""
    root = Path(warehouse)
    pointer = root / CURRENT
    if not pointer.is_file():
        raise NotFound(
            f"no warehouse at {root}: export the hub first "
            "(crosswalk.engines.export_warehouse, after `crosswalk link`)"
        )
    snapshot = root / SNAPSHOTS / pointer.read_text().strip()
    return {p.name: p for p in sorted(snapshot.iterdir()) if p.is_dir()}


def _snapshot_name() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def _link_or_copy(source: Path, target: Path) -> None:
    """Parquet files are never changed once written: a hard link shares them."""
    target.mkdir(parents=True)
    for part in source.iterdir():
        try:
            os.link(part, target / part.name)
        except OSError:
            shutil.copy2(part, target / part.name)


def commit_snapshot(warehouse: str | Path, write: Callable[[Path], dict[str, int]]) -> str:
    """Make a new snapshot current: the current snapshot's tables, with those that
    ``write(staging)`` writes (one folder per table) in their place.

    ``write`` writes into a staging folder readers never look at; the snapshot is
    committed by renaming it into place and then replacing ``CURRENT`` in one atomic
    rename, so a reader sees the snapshot before or the new one, never part of either,
    and a ``write`` that fails leaves the snapshot before in force. Returns the new
    snapshot's name; ``write``'s counts are its to report.
    """
    root = Path(warehouse)
    with writer_lock(root):
        return _commit_written(root, write)


def _commit_written(root: Path, write: Callable[[Path], dict[str, int]]) -> str:
    name = _snapshot_name()
    snapshots = root / SNAPSHOTS
    staging = snapshots / f".staging-{name}"
    staging.mkdir(parents=True)
    previous = (root / CURRENT).read_text().strip() if (root / CURRENT).is_file() else None
    try:
        written = write(staging)
        if previous is not None:
            for table in sorted((snapshots / previous).iterdir()):
                if table.is_dir() and table.name not in written:
                    _link_or_copy(table, staging / table.name)
        staging.rename(snapshots / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pointer = root / f".{CURRENT}-{name}"
    pointer.write_text(name + "\n")
    pointer.replace(root / CURRENT)  # the commit: one atomic rename
    # The snapshot before is kept for reads that began on it; older ones go.
    for old in snapshots.iterdir():
        if old.name not in (name, previous) and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return name


@contextmanager
def writer_lock(warehouse: str | Path) -> Iterator[None]:
    """The warehouse's one writer at a time (an export, a linkage run, an ingest batch):
    an exclusive lock on ``<warehouse>/.writer.lock``, held for the block."""
    root = Path(warehouse)
    # A snapshot holds identified records (what linkage on Spark reads): like the hub's,
    # its files are the owner's only, whatever umask the process started with.
    stores.private_files()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (root / ".writer.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def stage_snapshot(warehouse: str | Path) -> tuple[Path, str | None]:
    """A new snapshot staged beside the current one, holding all its tables (their files
    hard-linked), and the name of the snapshot it was staged from (None: none yet), for a
    writer that adds to tables in place (an ingest batch on Spark).

    Call under ``writer_lock``; commit with ``commit_staged``, or remove the staging.
    """
    root = Path(warehouse)
    snapshots = root / SNAPSHOTS
    snapshots.mkdir(parents=True, exist_ok=True)
    staging = snapshots / f".staging-{_snapshot_name()}"
    pointer = root / CURRENT
    base = pointer.read_text().strip() if pointer.is_file() else None
    staging.mkdir()
    if base is not None:
        for table in sorted((snapshots / base).iterdir()):
            if table.is_dir():
                _link_or_copy(table, staging / table.name)
    return staging, base


def commit_staged(warehouse: str | Path, staging: Path, base: str | None) -> str:
    """Make a staged snapshot current by one atomic rename of the pointer; returns its
    name. Refuses (``HubBusy``) if the current snapshot is no longer the one it was
    staged from. The snapshot before is kept for reads that began on it; older ones go."""
    root = Path(warehouse)
    pointer = root / CURRENT
    now = pointer.read_text().strip() if pointer.is_file() else None
    if now != base:
        shutil.rmtree(staging, ignore_errors=True)
        raise HubBusy(f"the warehouse {root} changed while this batch was written: run it again")
    name = _snapshot_name()
    snapshots = root / SNAPSHOTS
    staging.rename(snapshots / name)
    new_pointer = root / f".{CURRENT}-{name}"
    new_pointer.write_text(name + "\n")
    new_pointer.replace(pointer)  # the commit: one atomic rename
    for old in snapshots.iterdir():
        if old.name not in (name, base) and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return name


def export_warehouse(
    hub: str | Path | None = None,
    warehouse: str | Path | None = None,
    *,
    run_by: str | None = None,
    control: str | None = None,
    secrets: str | Path | None = None,
) -> dict[str, int]:
    """Write the hub's analytic tables to a new warehouse snapshot and make it current.

    The tables are those the questions read (``linked_event``, ``linked_record``), as
    they stand: their live equivalent while a batch is newer than the last linkage run;
    and those linkage on Spark reads and writes (the standardised records, the stewards'
    decisions, the person index and its counter), so the warehouse can be linked on
    Spark with the hub's ids kept. A hub not linked yet gives its records alone.
    The export is audited (``warehouse.export``) once committed. Returns rows per table.

    Example:
        >>> export_warehouse("hub.duckdb", "warehouse")  # doctest: +SKIP
        {'linked_event': 41210, 'linked_record': 30577}
    """
    root = Path(settings.WAREHOUSE.value(None if warehouse is None else str(warehouse)))
    rows: dict[str, int] = {}

    def write(staging: Path) -> dict[str, int]:
        con = stores.connect_hub(hub, read_only=True)
        try:
            try:
                sources = linked.sources(con)
            except NotFound:  # not linked yet: the records alone, to link on Spark
                sources = {}
            held = {
                str(t).lower()
                for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
            }
            for table in EXPORTED + LINKAGE_INPUT + LINKAGE_OUTPUT:
                if table not in sources and table not in held:
                    continue
                relation = sources.get(table, table)
                folder = staging / table
                folder.mkdir()
                target = str(folder / "part-0.parquet")
                order = "person" if table in EXPORTED else "1"
                con.execute(
                    f"COPY (SELECT * FROM {relation} ORDER BY {order}) TO "
                    f"'{target.replace(chr(39), chr(39) * 2)}' (FORMAT parquet)"
                )
                count = con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
                rows[table] = int(count)
        finally:
            con.close()
        return dict(rows)

    name = commit_snapshot(root, write)
    audit = AuditLog(control, secrets=secrets)
    audit.record(
        WarehouseExported(
            run_by or getpass.getuser(),
            objects={"warehouse": str(root), "snapshot": name, "tables": rows},
            rows=sum(rows.values()),
        )
    )
    return rows
