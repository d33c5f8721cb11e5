"""``crosswalk ingest``, ``ingest-state``, ``batches``, ``quarantine``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, RenderableType
from rich.text import Text

from crosswalk import ingest as lib
from crosswalk.cli.output import Csv, Json, emit, table
from crosswalk.cli.principal import Asker, Control, reads
from crosswalk.cli.progress import progress_bar
from crosswalk.errors import QualityGateError

HubOption = Annotated[
    Path | None,
    typer.Option("--hub", help="Hub DuckDB file (default: $CROSSWALK_HUB or hub.duckdb)."),
]


def _result_table(results: list[lib.IngestResult]) -> RenderableType:
    rows = []
    for r in results:
        for f in r.files:
            note = f"already loaded in {f.already_loaded_in}" if f.already_loaded_in else ""
            if r.replaced and not note:
                note = f"replaces {r.replaced}"
            rows.append(
                (
                    r.agency,
                    r.batch_id or "-",
                    Path(f.file).name,
                    f"{f.rows_read:,}",
                    f"{f.rows_accepted:,}",
                    f"{f.rows_quarantined:,}",
                    note,
                )
            )
    columns = ("agency", "batch", "file", "read", "accepted", "quarantined", "note")
    return table(columns, rows, ids=("batch", "note"))  # batch ids whole: --replace takes them


def ingest(
    agency: Annotated[str, typer.Argument(help="Agency code, e.g. fcs.")],
    files: Annotated[
        list[str], typer.Argument(help="Extract files (or a database URL for format sql).")
    ],
    hub: HubOption = None,
    mapping: Annotated[
        str | None, typer.Option(help="Mapping YAML (default: the shipped one).")
    ] = None,
    kind: Annotated[
        list[str] | None, typer.Option(help="clients or events, once per file.")
    ] = None,
    replace: Annotated[
        str | None, typer.Option(help="Batch id this correction batch replaces.")
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Dry run: read, standardise, count flags and apply the quality gate; write nothing.",
        ),
    ] = False,
    updates: Annotated[
        bool,
        typer.Option(
            "--updates",
            help="An update batch: a client the hub already holds is a new version of its"
            " record (the earlier one is kept), not a duplicate.",
        ),
    ] = False,
) -> None:
    """Load one batch of an agency's extract files, atomically and idempotently.

    Example: crosswalk ingest fcs clients.csv events.csv --hub hub.duckdb
    Example: crosswalk ingest fcs clients.csv --check   (reports, loads nothing)
    """
    with progress_bar(f"check {agency}" if check else f"ingest {agency}") as progress:
        result = lib.ingest(
            agency,
            files,
            hub=hub,
            mapping=mapping,
            kinds=kind or None,
            replace=replace,
            progress=progress,
            check=check,
            updates=updates,
        )
    _report([result])
    if result.refusals:
        raise QualityGateError(
            "the quality gate would refuse this batch (check only: nothing was written)",
            list(result.refusals),
        )


def ingest_state(
    state: Annotated[Path, typer.Argument(help="Folder written by crosswalk synth.")],
    hub: HubOption = None,
) -> None:
    """Load all 13 agencies of a synthetic state with the shipped mappings.

    Example: crosswalk ingest-state synthetic-state --hub hub.duckdb
    """
    with progress_bar("ingest-state") as progress:
        results = lib.ingest_state(state, hub=hub, progress=progress)
    _report(results)


def _issue_table(results: list[lib.IngestResult]) -> RenderableType | None:
    rows = [
        (
            Path(f.file).name,
            i.field,
            i.rule,
            f"{i.rows:,}",
            f"{i.rows / f.rows_read:.1%}" if f.rows_read else "",
            "quarantined" if i.quarantined else "flagged",
        )
        for r in results
        for f in r.files
        for i in f.issues
    ]
    if not rows:
        return None
    return table(("file", "field", "rule", "rows", "share", "outcome"), rows)


def _report(results: list[lib.IngestResult]) -> None:
    console = Console()
    console.print(_result_table(results))
    issues = _issue_table(results)
    if issues is not None:
        console.print(issues)
    for r in results:
        for w in r.warnings:
            console.print(Text("Warning: ", style="bold yellow") + Text(str(w)), soft_wrap=True)
    if any(r.checked for r in results):
        console.print("Check only: nothing was written to the hub or the audit log.")
    elif any(r.batch_id for r in results):
        console.print(
            "Next: `crosswalk link` adds the new records to the person index and the "
            "analytic tables (until then, analytics read the hub's own tables, more slowly)."
        )


@reads(purpose="operations")
def batches(
    who: Asker,
    hub: HubOption = None,
    control: Control = None,
    issues: Annotated[
        bool, typer.Option("--issues", help="Flagged and quarantined rows per field and rule.")
    ] = False,
    batch: Annotated[str | None, typer.Option(help="Only this batch (with --issues).")] = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """List your agency's batches with lineage and row counts (read = accepted +
    quarantined), through the gate (an agency's stewards, for operations).

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/fcs-steward) crosswalk batches
    Example: crosswalk batches --issues --batch B1234abcd5678 --token-file ~/.config/crosswalk/steward.token
    """
    import pyarrow as pa

    from crosswalk.access import lineage
    from crosswalk.hub import Hub

    principal, why = who.principal, who.purpose
    columns: tuple[str, ...]
    with Hub(hub, control, shared=False) as the_hub:
        if issues:
            found = lineage.batch_issues(the_hub, principal, why, principal.agency, batch)
            columns = ("batch_id", "agency", "file", "field", "rule", "rows", "share", "outcome")
            title = "flagged and quarantined rows"
        else:
            found, _ = lineage.batches(the_hub, principal, why, principal.agency, limit=None)
            columns = (
                "batch_id",
                "agency",
                "status",
                "loaded_at",
                "loaded_by",
                "replaces",
                "files",
                "read",
                "accepted",
                "quarantined",
            )
            title = "batches"
    rows = pa.Table.from_pylist(found) if found else pa.table({c: [] for c in columns})
    emit(rows, title=title, as_json=as_json, as_csv=as_csv)


@reads(purpose="operations")
def quarantine(
    who: Asker,
    hub: HubOption = None,
    control: Control = None,
    batch: Annotated[str | None, typer.Option(help="Only this batch.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 100,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """List quarantined rows with file, row, field, value and rule (an agency's stewards).

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/fcs-steward) crosswalk quarantine --batch B1234abcd5678
    """
    from crosswalk.access import Gate  # the gate loads linkage: not for every ingest

    rows = Gate(hub, control).quarantine(who.principal, who.purpose, batch, limit)
    emit(rows, title="quarantined rows", as_json=as_json, as_csv=as_csv)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("ingest-state")(ingest_state)
    app.command("batches")(batches)
    app.command("quarantine")(quarantine)
