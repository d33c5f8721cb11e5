"""``crosswalk synth``: generate a synthetic state."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosswalk import synth as synth_lib
from crosswalk.cli.progress import progress_bar
from crosswalk.errors import ConfigError


def synth(
    people: Annotated[int, typer.Option(help="Number of people in the state.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 7,
    out: Annotated[Path, typer.Option(help="Folder to write the state into.")] = Path(
        "synthetic-state"
    ),
    profile: Annotated[
        str,
        typer.Option(
            help="Error profile: standard, or hard (fewer SSNs, more DOB errors, no county,"
            " twins with different names and no SSN, juniors without suffixes, middle names"
            " used as first, compound given names)."
        ),
    ] = "standard",
    weeks: Annotated[
        int,
        typer.Option(
            min=0,
            max=520,
            help="Also write this many weekly update batches (new people and records,"
            " corrected names and dates, moves, marriages, deaths) in OUT/weeks/NN, each"
            " with the truth after it; load one with `crosswalk ingest-state OUT/weeks/01`.",
        ),
    ] = 0,
) -> None:
    """Generate a synthetic state: people, 13 agencies' extracts and the ground truth.

    Example: crosswalk synth --people 100000 --seed 7 --out state --profile hard --weeks 10
    """
    if profile not in synth_lib.PROFILES:
        raise ConfigError(
            f"unknown profile {profile!r}; known: {', '.join(sorted(synth_lib.PROFILES))}"
        )
    console = Console()
    with progress_bar("synthetic state") as progress:
        manifest = synth_lib.synth(
            people=people,
            seed=seed,
            out=out,
            config=synth_lib.PROFILES[profile](),
            progress=progress,
            weeks=weeks,
        )
    console.print(summary(manifest))
    for week in manifest.weeks:
        changes = ", ".join(
            f"{n:,} {kind.replace('_', ' ')}" for kind, n in week["changes"].items()
        )
        console.print(
            f"week {week['week']:02d} ({week['date']}): {week['new_records']:,} new records,"
            f" {week['updated_records']:,} new versions of held records ({changes})",
            highlight=False,
        )


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
