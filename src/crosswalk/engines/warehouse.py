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
"""

from __future__ import annotations

import getpass
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

from crosswalk import settings, stores
from crosswalk.audit import AuditLog, WarehouseExported
from crosswalk.errors import NotFound
from crosswalk.identity import linked

CURRENT = "CURRENT"
SNAPSHOTS = "snapshots"
# The tables an export writes: the analytic tables every question reads.
EXPORTED = tuple(linked.TABLES)


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
    they stand: their live equivalent while a batch is newer than the last linkage run.
    The export is audited (``warehouse.export``) once committed. Returns rows per table.

    Example:
        >>> export_warehouse("hub.duckdb", "warehouse")  # doctest: +SKIP
        {'linked_event': 41210, 'linked_record': 30577}
    """
    root = Path(settings.WAREHOUSE.value(None if warehouse is None else str(warehouse)))
    name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    snapshots = root / SNAPSHOTS
    staging = snapshots / f".staging-{name}"
    staging.mkdir(parents=True)
    rows: dict[str, int] = {}
    try:
        con = stores.connect_hub(hub, read_only=True)
        try:
            sources = linked.sources(con)
            for table in EXPORTED:
                folder = staging / table
                folder.mkdir()
                target = str(folder / "part-0.parquet")
                con.execute(
                    f"COPY (SELECT * FROM {sources[table]} ORDER BY person) TO "
                    f"'{target.replace(chr(39), chr(39) * 2)}' (FORMAT parquet)"
                )
                rows[table] = int(
                    con.execute(f"SELECT count(*) FROM {sources[table]}").fetchall()[0][0]
                )
        finally:
            con.close()
        staging.rename(snapshots / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    previous = (root / CURRENT).read_text().strip() if (root / CURRENT).is_file() else None
    pointer = root / f".{CURRENT}-{name}"
    pointer.write_text(name + "\n")
    pointer.replace(root / CURRENT)  # the commit: one atomic rename
    # The snapshot before is kept for reads that began on it; older ones go.
    for old in snapshots.iterdir():
        if old.name not in (name, previous) and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    audit = AuditLog(control, secrets=secrets)
    audit.record(
        WarehouseExported(
            run_by or getpass.getuser(),
            objects={"warehouse": str(root), "snapshot": name, "tables": rows},
            rows=sum(rows.values()),
        )
    )
    return rows
