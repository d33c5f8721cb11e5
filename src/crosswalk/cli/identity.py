"""``crosswalk link``, ``person``, ``review``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosswalk import identity
from crosswalk.access import Gate
from crosswalk.cli.ingest import HubOption
from crosswalk.cli.output import Csv, Json, emit
from crosswalk.cli.principal import (
    Agency,
    Control,
    ProfileFile,
    Purpose,
    Role,
    User,
    principal_from,
)
from crosswalk.cli.progress import progress_bar


def evaluation_table(e: identity.Evaluation) -> Table:
    table = Table(
        "measure", "value", title=f"Evaluation against ground truth ({e.records:,} records)"
    )
    table.add_row("pairwise precision", f"{e.pairwise_precision:.4f}")
    table.add_row("pairwise recall", f"{e.pairwise_recall:.4f}")
    table.add_row("pairwise F1", f"{e.pairwise_f1:.4f}")
    table.add_row("B-cubed precision", f"{e.bcubed_precision:.4f}")
    table.add_row("B-cubed recall", f"{e.bcubed_recall:.4f}")
    table.add_row("B-cubed F1", f"{e.bcubed_f1:.4f}")
    if e.blocking_recall is not None:
        table.add_row("true pairs compared by blocking", f"{e.blocking_recall:.4%}")
    table.add_row(
        "true / predicted / correct pairs",
        f"{e.true_pairs:,} / {e.predicted_pairs:,} / {e.true_positive_pairs:,}",
    )
    for tag, n in e.false_negatives_by_error.items():
        table.add_row(f"missed pairs with error {tag}", f"{n:,}")
    for kind, n in e.false_positives_by_lookalike.items():
        table.add_row(f"wrongly joined people: {kind}", f"{n:,}")
    return table


def link(
    hub: HubOption = None,
    evaluate: Annotated[
        Path | None,
        typer.Option(
            help="Ground truth to score against: a synthetic state's truth folder, or a CSV or"
            " Parquet file with columns agency, source_record_id, entity_id."
        ),
    ] = None,
    charts: Annotated[
        Path | None, typer.Option(help="Folder for the model's charts (PNG and HTML).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the training samples.")] = 1,
) -> None:
    """Link every person record into enterprise persons and write the person index.

    Example: crosswalk link --hub hub.duckdb --evaluate state/truth --charts charts
    """
    console = Console()
    with progress_bar("link") as progress:
        result = identity.link(hub, seed=seed, charts=charts, progress=progress)
    summary = Table(
        "", "", title=f"Linkage run {result.run_id} (model version {result.model_version})"
    )
    summary.add_row("records", f"{result.records:,}")
    summary.add_row("candidate pairs scored", f"{result.candidate_pairs:,}")
    summary.add_row(
        "accept links at match weight ≥",
        f"{result.threshold.weight:g} (review from {result.threshold.review_floor:g})",
    )
    summary.add_row("persons (clusters)", f"{result.clusters:,}")
    summary.add_row("components split by conflict checks", f"{result.split_components:,}")
    summary.add_row("pairs for clerical review", f"{result.review_pairs:,}")
    for agency, n in result.persons_by_agency.items():
        summary.add_row(f"persons known to {agency}", f"{n:,}")
    for name, share in result.coverage.get("share", {}).items():
        summary.add_row(f"records with {name}", f"{share:.1%}")
    for message in result.messages:
        summary.add_row("note", message)
    console.print(summary)
    if evaluate is not None:
        console.print(evaluation_table(identity.evaluate(evaluate, hub)))


review_app = typer.Typer(help="Clerical review of uncertain pairs.", no_args_is_help=True)


@review_app.command("list")
def review_list(
    user: User = None,
    agency: Agency = None,
    role: Role = None,
    purpose: Purpose = None,
    profile: ProfileFile = None,
    hub: HubOption = None,
    control: Control = None,
    limit: Annotated[int, typer.Option(help="At most this many pairs.")] = 50,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """List pairs awaiting review with both records, most likely matches first.

    Example: crosswalk review list --user cdo.linkage --agency cdo --role linkage_steward --purpose linkage_review --limit 20
    """
    principal, why = principal_from(user, agency, role, purpose, profile)
    rows = [
        {
            "record_a": item["record_key_l"],
            "record_b": item["record_key_r"],
            "weight": round(item["match_weight"], 2),
            "probability": round(item["match_probability"], 4),
            "a": _summary(item["record_l"]),
            "b": _summary(item["record_r"]),
            "evidence": "; ".join(f"{k}: {v['level']}" for k, v in item["fields"].items()),
            "fields": item["fields"],
            "records": [item["record_l"], item["record_r"]],
        }
        for item in Gate(hub, control).review_list(principal, why, limit)
    ]
    emit(
        rows,
        title="pairs awaiting review",
        as_json=as_json,
        as_csv=as_csv,
        columns=("record_a", "record_b", "weight", "probability", "a", "b", "evidence"),
    )


def _summary(record: dict[str, object]) -> str:
    """A record as a reviewer reads it: name, birth date, ZIP."""
    name = " ".join(str(record[k]) for k in ("first_name", "last_name") if record.get(k))
    rest = [str(record[k]) for k in ("dob", "zip") if record.get(k)]
    return ", ".join([name, *rest]) if name else ", ".join(rest)


@review_app.command("decide")
def review_decide(
    record_a: Annotated[str, typer.Argument(help="Record key, e.g. fcs:FC00000340.")],
    record_b: Annotated[str, typer.Argument(help="The other record key.")],
    user: Annotated[str, typer.Option(help="Who decides: a steward of the hub operator.")],
    match: Annotated[bool, typer.Option("--match/--no-match", help="Same person or not.")] = ...,  # type: ignore[assignment]
    hub: HubOption = None,
    control: Control = None,
) -> None:
    """Decide a pair; the next `crosswalk link` honours it.

    Example: crosswalk review decide fcs:FC00000340 hfs:R000001875 --no-match --user cdo.linkage
    """
    Gate(hub, control).review_decide(user, record_a, record_b, "match" if match else "no-match")
    Console().print(
        f"recorded: {record_a} and {record_b} {'are' if match else 'are not'} the same person"
    )


def register(app: typer.Typer) -> None:
    app.command("link")(link)
    app.add_typer(review_app, name="review")
