"""The quarantine reader for the gate, and loading a whole synthetic state.

Batches and their issues are read through the gate (``crosswalk.access.lineage``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa

from crosswalk.engines.base import BatchEngine
from crosswalk.errors import InputFileError, Problem
from crosswalk.ingest.batch import IngestResult, Progress, ingest


def quarantined(
    con: duckdb.DuckDBPyConnection,
    agencies: Iterable[str],
    batch_id: str | None = None,
    limit: int = 100,
) -> pa.Table:
    """Quarantined rows of ``agencies``' batches with the reason each was refused.

    Raw rows hold names and SSNs as the agency sent them: only the gate calls this
    (``crosswalk.access.Gate.quarantine``), for the agencies a decision granted."""
    wanted = sorted(agencies)
    if not wanted or not {"quarantine", "batch"} <= _tables(con):
        columns = ("batch_id", "agency", "file", "source_row", "field", "value", "rule")
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    where = "b.agency IN (SELECT unnest(?))" + (" AND q.batch_id = ?" if batch_id else "")
    params: list[object] = [wanted, *([batch_id] if batch_id else [])]
    return con.sql(
        f"""SELECT q.batch_id, b.agency, q.file, q.source_row, q.field, q.value, q.rule
            FROM quarantine q JOIN batch b USING (batch_id) WHERE {where}
            ORDER BY q.batch_id, q.file, q.source_row LIMIT ?""",
        params=[*params, int(limit)],
    ).to_arrow_table()


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
    return {name for (name,) in rows.fetchall()}


def ingest_state(
    state_dir: str | Path,
    *,
    hub: str | Path | BatchEngine | None = None,
    control: str | None = None,
    secrets: str | Path | None = None,
    progress: Progress | None = None,
) -> list[IngestResult]:
    """Load every agency of a synthetic state with the shipped mappings; or a weekly
    update batch the generator wrote (``crosswalk synth --weeks``, folder ``weeks/NN``),
    whose clients files also send new versions of records the hub holds."""
    state = Path(state_dir)
    manifest_path = state / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as e:
        raise InputFileError(
            f"{state} is not a synthetic state", [Problem(str(e), file=str(manifest_path))]
        ) from None
    results = []
    agencies = manifest["agencies"]
    updates = bool(manifest.get("updates", False))
    for i, a in enumerate(agencies):
        if progress:
            progress(f"{a['agency']} (agency {i + 1} of {len(agencies)})", i / len(agencies))
        jobs = [(a[k], k) for k in ("clients", "events") if a.get(k)]
        results.append(
            ingest(
                a["agency"],
                [str(state / f) for f, _ in jobs],
                hub=hub,
                kinds=[k for _, k in jobs],
                loaded_by="synthetic-state",
                control=control,
                secrets=secrets,
                updates=updates,
            )
        )
    if progress:
        progress(f"{len(agencies)} agencies loaded", 1.0)
    return results
