"""``crosswalk synth``: generate a synthetic state."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosswalk import synth as synth_lib
from crosswalk.cli.progress import progress_bar


def synth(
    people: Annotated[int, typer.Option(help="Number of people in the state.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 7,
    out: Annotated[Path, typer.Option(help="Folder to write the state into.")] = Path(
        "synthetic-state"
    ),
) -> None:
    """Generate a synthetic state: people, 13 agencies' extracts and the ground truth.

    Example: crosswalk synth --people 100000 --seed 7 --out state
    """
    console = Console()
    with progress_bar("synthetic state") as progress:
        manifest = synth_lib.synth(people=people, seed=seed, out=out, progress=progress)
    console.print(summary(manifest))


def summary(manifest: synth_lib.Manifest) -> Table:
    table = Table(
        "agency",
        "format",
        "client records",
        "service events",
        title=(
            f"{manifest.people:,} people in {manifest.households:,} households; "
            f"{manifest.agency_records:,} agency records, {manifest.service_events:,} events"
        ),
    )
    for a in manifest.agencies:
        table.add_row(a.agency, a.format, f"{a.client_rows:,}", f"{a.event_rows:,}")
    return table


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
