"""``crosswalk link``, ``person``, ``review``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, RenderableType
from rich.table import Table

from crosswalk import identity
from crosswalk.access import Gate
from crosswalk.cli.ingest import HubOption
from crosswalk.cli.output import Csv, Json, emit, table
from crosswalk.cli.principal import Asker, Control, SignedIn, acts, reads
from crosswalk.cli.progress import progress_bar
from crosswalk.errors import ConfigError, NotFound
from crosswalk.identity.evaluate import ERRORS_NOT_RECORDED, check_truth


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
        label = "missed pairs" if tag == ERRORS_NOT_RECORDED else f"missed pairs with error {tag}"
        table.add_row(label, f"{n:,}")
    for kind, n in e.false_positives_by_lookalike.items():
        table.add_row(f"wrongly joined people: {kind}", f"{n:,}")
    return table


@reads(purpose="linkage_review", only_with="evaluate")
def link(
    who: Asker | None,
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
    control: Control = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Retrain the model and cluster every record again (default: link only the"
            " records new or changed since the last run, with the saved model).",
        ),
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", help="With --full: commit without asking (the id changes are still shown)."
        ),
    ] = False,
) -> None:
    """Link every person record into enterprise persons and write the person index.

    The host operator's run; the evaluation reads the index and the records through the
    gate, so --evaluate signs in as a linkage steward (checked before the run starts, as
    is the truth file: every row that cannot be scored is named with its field).

    Example: crosswalk link --hub hub.duckdb --charts charts
    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/linkage-steward) crosswalk link --evaluate state/truth
    """
    console = Console()

    def confirm(changes: Any) -> bool:
        console.print(f"The full run {changes.sentence()}.", highlight=False)
        return yes or typer.confirm("Commit it?", default=False, err=True)

    if evaluate is not None:
        check_truth(evaluate)  # a truth file that cannot be scored stops before the run
    with progress_bar("link") as progress:
        result = identity.link(
            hub,
            seed=seed,
            charts=charts,
            progress=progress,
            full=full,
            confirm=confirm if full else None,
            control=control,
        )
    kind = "Incremental linkage" if result.kind == "incremental" else "Linkage"
    summary = Table(
        "", "", title=f"{kind} run {result.run_id} (model version {result.model_version})"
    )
    if result.kind == "incremental":
        summary.add_row("new and changed records linked", f"{result.records:,}")
        summary.add_row(
            "records gone (deleted by a correction batch)", f"{result.deleted_records:,}"
        )
    else:
        summary.add_row("records", f"{result.records:,}")
    for what, n in result.changes.items():
        summary.add_row(f"ids {what.replace('_', ' ')}", f"{n:,}")
    for cause, n in result.by_cause.items():
        summary.add_row(f"id changes, {cause}", f"{n:,}")
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
    if evaluate is not None and who is not None:
        console.print(
            evaluation_table(
                Gate(hub, control).evaluate_linkage(who.principal, who.purpose, evaluate)
            )
        )


review_app = typer.Typer(help="Clerical review of uncertain pairs.", no_args_is_help=True)


@review_app.command("list")
@reads(purpose="linkage_review")
def review_list(
    who: Asker,
    hub: HubOption = None,
    control: Control = None,
    limit: Annotated[int, typer.Option(help="At most this many pairs.")] = 50,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """List pairs awaiting review with both records, those that matter most first.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/linkage-steward) crosswalk review list --limit 20
    """
    rows = [
        {
            "record_a": item["record_key_l"],
            "record_b": item["record_key_r"],
            "weight": round(item["match_weight"], 2),
            "probability": round(item["match_probability"], 4),
            "a": _summary(item["record_l"]),
            "b": _summary(item["record_r"]),
            "persons today": _today(item),
            "impact": _impact(item),
            "evidence": "; ".join(f"{k}: {v['level']}" for k, v in item["fields"].items()),
            "fields": item["fields"],
            "records": [item["record_l"], item["record_r"]],
            "persons": item.get("persons"),
        }
        for item in Gate(hub, control).review_list(who.principal, who.purpose, limit)
    ]
    emit(
        rows,
        title="pairs awaiting review (crosswalk review show KEY for the evidence)",
        as_json=as_json,
        as_csv=as_csv,
        columns=(
            "record_a",
            "record_b",
            "impact",
            "weight",
            "probability",
            "a",
            "b",
            "persons today",
        ),
    )


def _impact(item: dict[str, Any]) -> str:
    """What deciding the pair would change: a merge or a split of so many records, and
    whether it touches child-welfare or Part 2 records (those come first)."""
    impact = item.get("impact") or {}
    if not impact:
        return ""
    text = f"{impact['decides']} {impact['records']}"
    return f"{text}, child welfare/Part 2" if impact.get("first") else text


def _today(item: dict[str, Any]) -> str:
    """The persons the pair's records are in today: one (a no-match splits it) or two (a
    match merges them)."""
    persons = item.get("persons") or {}
    sides = [persons.get(k) or {} for k in (item["record_key_l"], item["record_key_r"])]
    ids = [s.get("enterprise_id") or "not linked" for s in sides]
    if ids[0] == ids[1] and sides[0].get("enterprise_id"):
        return f"both in {ids[0]} ({sides[0].get('records', 0)})"
    return " + ".join(f"{i} ({s.get('records', 0)})" for i, s in zip(ids, sides, strict=True))


def _summary(record: dict[str, object]) -> str:
    """A record as a reviewer reads it: name, birth date, ZIP."""
    name = " ".join(str(record[k]) for k in ("first_name", "last_name") if record.get(k))
    rest = [str(record[k]) for k in ("dob", "zip") if record.get(k)]
    return ", ".join([name, *rest]) if name else ", ".join(rest)


@review_app.command("show")
@reads(purpose="linkage_review")
def review_show(
    who: Asker,
    record_key: Annotated[
        str, typer.Argument(help="A record key of the pair, e.g. fcs:FC00000340.")
    ],
    other: Annotated[
        str | None, typer.Argument(help="The other record key (default: every pair of the first).")
    ] = None,
    hub: HubOption = None,
    control: Control = None,
    chart: Annotated[
        Path | None,
        typer.Option(
            help="Write each pair's waterfall chart: .html or .png (numbered if several)."
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Show a pair under review: both records side by side, each comparison's level and
    partial match weight, and what a decision would merge or split.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/linkage-steward) crosswalk review show fcs:FC00000340 --chart pair.html
    """
    from crosswalk.identity.charts import pair_steps, write_waterfall
    from crosswalk.identity.review import Side, effects

    pairs = [
        p
        for p in Gate(hub, control).review_list(
            who.principal, who.purpose, REVIEW_LOOKUP, record_key
        )
        if other is None or other in (p["record_key_l"], p["record_key_r"])
    ]
    if not pairs:
        wanted = f"{record_key} and {other}" if other else record_key
        raise NotFound(
            f"no pair of {wanted} awaits review (or not one whose records you may see); "
            "`crosswalk review list` shows the queue"
        )
    shown = []
    for n, pair in enumerate(pairs, start=1):
        a, b = pair["record_l"], pair["record_r"]
        steps = pair_steps(pair["match_weight"], pair["fields"], a, b)
        sides = [
            Side(k, pair["persons"][k]["enterprise_id"], pair["persons"][k]["records"])
            for k in (pair["record_key_l"], pair["record_key_r"])
        ]
        title = f"{pair['record_key_l']} ~ {pair['record_key_r']}"
        view = {
            "record_a": pair["record_key_l"],
            "record_b": pair["record_key_r"],
            "weight": round(pair["match_weight"], 3),
            "probability": round(pair["match_probability"], 4),
            "records": [a, b],
            "comparisons": steps,
            "if_decided": effects(*sides),
            "persons": pair["persons"],
        }
        if chart is not None:
            path = chart if len(pairs) == 1 else chart.with_stem(f"{chart.stem}-{n}")
            view["chart"] = str(write_waterfall(steps, title, path))
        shown.append(view)
    if as_json:
        emit(shown, as_json=True)
        return
    console = Console()
    for view in shown:
        console.print(_pair_view(view))
        for decision, effect in view["if_decided"].items():
            console.print(f"  --{decision}: {effect}", highlight=False)
        if "chart" in view:
            console.print(f"  waterfall chart: {view['chart']}", highlight=False)


REVIEW_LOOKUP = 1_000  # pairs of one record: far more than any record has


def _pair_view(view: dict[str, Any]) -> RenderableType:
    """Both records side by side with each comparison's level and partial weight."""
    rows = [
        (s["step"], s["a"], s["b"], s["level"], f"{s['weight']:+.2f}") for s in view["comparisons"]
    ]
    title = (
        f"{view['record_a']} ~ {view['record_b']}: match weight {view['weight']:+.2f} "
        f"(probability {view['probability']:.3f})"
    )
    names = ("comparison", view["record_a"], view["record_b"], "level", "partial weight")
    return table(names, rows, title=title, ids=("partial weight",))


@review_app.command("decide")
@acts()
def review_decide(
    who: SignedIn,
    record_a: Annotated[str, typer.Argument(help="Record key, e.g. fcs:FC00000340.")],
    record_b: Annotated[str, typer.Argument(help="The other record key.")],
    match: Annotated[bool, typer.Option("--match/--no-match", help="Same person or not.")] = ...,  # type: ignore[assignment]
    note: Annotated[
        str | None, typer.Option(help="Why: kept with the decision and in its audit entry.")
    ] = None,
    hub: HubOption = None,
    control: Control = None,
) -> None:
    """Decide a pair, signed in as a steward of the hub operator; the next `crosswalk link`
    honours it.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/linkage-steward) crosswalk review decide fcs:FC00000340 hfs:R000001875 --no-match --note "different mothers on the birth records"
    """
    decision = "match" if match else "no-match"
    Gate(hub, control).review_decide(who.user, record_a, record_b, decision, note)
    Console().print(
        f"recorded: {record_a} and {record_b} {'are' if match else 'are not'} the same person"
    )


export_app = typer.Typer(help="Export the person index (audited).", no_args_is_help=True)


@export_app.command("person-index")
@reads(purpose="linkage_review")
def export_person_index(
    who: Asker,
    out: Annotated[Path, typer.Option(help="File to write: .csv or .parquet.")],
    hub: HubOption = None,
    control: Control = None,
) -> None:
    """Write the person index (agency, source_record_id, enterprise_id) through the gate.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/linkage-steward) crosswalk export person-index --out index.csv
    """
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(f"--out {out}: write .csv or .parquet")
    index = Gate(hub, control).person_index(who.principal, who.purpose)
    import pyarrow.parquet as pq

    from crosswalk import csvfile, privatefile

    # The file is its owner's only, and a link at --out is replaced, not followed.
    if out.suffix.lower() == ".csv":
        csvfile.write_table_csv(index, out)
    else:
        privatefile.write(out, lambda p: pq.write_table(index, p))
    Console().print(
        f"{index.num_rows:,} records of {len(set(index['agency'].to_pylist()))} agencies written to {out}"
    )


history_app = typer.Typer(
    help="The history of enterprise ids: merges, splits, retirements, and who was who on a date.",
    no_args_is_help=True,
)


@history_app.command("person")
@reads(purpose="linkage_review")
def history_person(
    who: Asker,
    enterprise_id: Annotated[str, typer.Argument(help="Enterprise person id, e.g. P0000000042.")],
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="Also list its records on this date."),
    ] = None,
    hub: HubOption = None,
    control: Control = None,
    as_json: Json = False,
) -> None:
    """What happened to an enterprise id (each merge, split and retirement, with its cause
    and time), the id(s) its records are in now, and its records on a date.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/linkage-steward) crosswalk history person P0000000042 --as-of 2026-01-07
    """
    on = as_of.date() if as_of else None
    found = Gate(hub, control).person_history(who.principal, who.purpose, enterprise_id, on)
    if as_json:
        emit(
            [
                {
                    "enterprise_id": found.enterprise_id,
                    "successors": found.successors,
                    "as_of": None if on is None else on.isoformat(),
                    "records": found.records,
                    "events": [
                        {k: str(v) if v is not None else None for k, v in e.items()}
                        for e in found.events
                    ],
                }
            ],
            as_json=True,
        )
        return
    console = Console()
    rows = [
        {
            "when": str(e["changed_at"])[:19],
            "what": e["kind"],
            "id": e["enterprise_id"],
            "other id": e["other_id"] or "",
            "cause": e["cause"] + (f" ({e['decided_by']})" if e["decided_by"] else ""),
            "run": e["run_id"],
        }
        for e in found.events
    ]
    emit(
        rows,
        title=f"History of {found.enterprise_id}",
        columns=("when", "what", "id", "other id", "cause", "run"),
    )
    if found.successors:
        console.print(
            f"{found.enterprise_id} is retired; its records are now in {', '.join(found.successors)}",
            highlight=False,
        )
    if on is not None:
        console.print(
            f"records of {found.enterprise_id} on {on}: {', '.join(found.records) or 'none you may see'}",
            highlight=False,
        )


@history_app.command("record")
@reads(purpose="linkage_review")
def history_record(
    who: Asker,
    record_key: Annotated[str, typer.Argument(help="Record key, e.g. fcs:FC00000340.")],
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="The id it had on this date."),
    ] = None,
    hub: HubOption = None,
    control: Control = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """Every enterprise id a record has had, and the one it had on a date.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/linkage-steward) crosswalk history record fcs:FC00000340 --as-of 2026-01-07
    """
    on = as_of.date() if as_of else None
    found = Gate(hub, control).record_history(who.principal, who.purpose, record_key, on)
    rows = [
        {
            "enterprise_id": r["enterprise_id"],
            "from": str(r["valid_from"])[:19],
            "to": "" if r["valid_to"] is None else str(r["valid_to"])[:19],
            "run": r["run_id"],
        }
        for r in found.ids
    ]
    emit(rows, title=f"Enterprise ids of {record_key}", as_json=as_json, as_csv=as_csv)
    if on is not None and not (as_json or as_csv):
        Console().print(f"on {on}: {found.id_on or 'not linked then'}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("link")(link)
    app.add_typer(history_app, name="history")
    app.add_typer(review_app, name="review")
    app.add_typer(export_app, name="export")
