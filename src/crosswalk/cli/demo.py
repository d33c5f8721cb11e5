"""``crosswalk demo``: the main job on the embedded default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from crosswalk import demo as demo_lib
from crosswalk.cli.analyze import answer_table, protection_note
from crosswalk.cli.identity import evaluation_table
from crosswalk.cli.output import table
from crosswalk.cli.synth import summary
from crosswalk.synth import true_overlap


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the state and the hub (replaced).")] = Path(
        "demo-out"
    ),
    people: Annotated[int, typer.Option(help="People in the synthetic state.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """Generate a synthetic state, ingest it, link it, ask the gate and analytic
    questions under the agreement, and report each step.

    Example: crosswalk demo --out demo-out --people 20000
    """
    console = Console()
    with console.status("working") as status:
        result = demo_lib.demo(out, people, seed, step=lambda m: status.update(m))
    console.print(summary(result.manifest))
    table = Table(
        "agency", "rows read", "accepted", "quarantined", title=f"Ingested into {result.hub}"
    )
    for r in result.ingested:
        table.add_row(
            r.agency, f"{r.rows_read:,}", f"{r.rows_accepted:,}", f"{r.rows_quarantined:,}"
        )
    total_read = sum(r.rows_read for r in result.ingested)
    total_acc = sum(r.rows_accepted for r in result.ingested)
    total_q = sum(r.rows_quarantined for r in result.ingested)
    table.add_row("all", f"{total_read:,}", f"{total_acc:,}", f"{total_q:,}", style="bold")
    console.print(table)
    overlap = true_overlap(result.out / "state")
    known = Table("known to N agencies", "people", title="True cross-agency overlap (ground truth)")
    for n, people_count in overlap.people_by_agency_count.items():
        known.add_row(str(n), f"{people_count:,}")
    pairs = Table("agency", "agency", "people in both", title="Largest true agency pairs")
    for a, b, n in overlap.top_pairs:
        pairs.add_row(a, b, f"{n:,}")
    console.print(known, pairs)
    linked = result.linked
    console.print(
        f"Linked {linked.records:,} records into {linked.clusters:,} persons "
        f"(links accepted at match weight ≥ {linked.threshold.weight:g}; "
        f"{linked.review_pairs:,} pairs for clerical review; charts in {result.out / 'charts'})."
    )
    console.print(evaluation_table(result.evaluation))
    for w in result.weeks:
        console.print(week_table(w))
    console.print(Text("Requests through the gate", style="bold"))
    for g in result.gate_examples:
        colour = {"allowed": "green", "transformed": "yellow", "denied": "red"}[g.outcome]
        line = Text(f"  {g.who}, {g.purpose}, {g.level}: ")
        line.append(g.outcome.upper(), style=f"bold {colour}")
        console.print(line)
        console.print(Text(f"      {g.detail}"))
        if g.clauses:
            console.print(Text(f"      clauses: {', '.join(g.clauses)}"))
    request = result.grant_example
    console.print(Text(f"A data request for {request.purpose} ({request.level})", style="bold"))
    console.print(Text(f"  before: {request.before}"))
    console.print(
        Text(
            f"  request {request.request_id} for the data of {', '.join(request.agencies)}: approved by "
            f"{', '.join(request.approved_by)}; granted"
        )
    )
    console.print(
        Text(
            f"  under the grant: {request.rows} rows ({', '.join(request.columns)}), no enterprise ids"
        )
    )
    console.print(Text(f"  revoked by {request.revoked_by}; the next request: {request.after}"))
    for q in result.analytics_examples:
        console.print(answer_table(q.answer.question.name, q.answer.table, q.title))
        console.print(Text(f"  {protection_note(q.answer.protected)}", style="dim"))
        console.print(Text(f"  charts: {', '.join(str(p) for p in q.charts)}", style="dim"))
    if result.family is not None:
        console.print(family_lines(result.family))
    check = result.audit
    state = "intact" if check.ok else f"BROKEN at entry {check.first_bad}"
    console.print(f"Audit log: {check.entries} entries, chain {state}.")
    console.print(accounts_table(result.accounts))
    tokens = result.out / "tokens"
    console.print(
        "Use the demo's stores, and sign the CLI in as one of these accounts:\n"
        f"  export CROSSWALK_HUB={result.hub} CROSSWALK_CONTROL=sqlite:///"
        f"{result.out / 'control.db'} CROSSWALK_SECRETS={result.out / 'secrets'}\n"
        f"  CROSSWALK_TOKEN=$(cat {tokens / 'analyst'}) crosswalk analyze overlap "
        "--purpose program_evaluation\n"
        f"  crosswalk audit purposes --token-file {tokens / 'privacy-officer'}\n"
        f"The tokens expire in {demo_lib.TOKEN_DAYS} days.",
        highlight=False,
        soft_wrap=True,
    )
    if result.password_file is not None:
        console.print(
            "The web UI: serve the demo's stores (with the exports above)\n"
            f"  crosswalk serve --hub {result.hub}\n"
            "and open http://localhost:8000/ as any account above, with the password in "
            f"{result.password_file}.",
            highlight=False,
            soft_wrap=True,
        )


def week_table(w: demo_lib.WeekExample) -> RenderableType:
    """A weekly batch: what it brought, what the incremental run did to ids, its accuracy
    and the review backlog, those that matter most first."""
    run = w.linked
    out = Table(
        "",
        "",
        title=f"Week {w.week} ({w.date}): linked incrementally",
    )
    out.add_row("linkage run", run.run_id)
    out.add_row("model version (not retrained)", str(run.model_version))
    brought = ", ".join(f"{kind.replace('_', ' ')} {n:,}" for kind, n in w.changes.items())
    out.add_row("the week's changes (truth)", brought)
    out.add_row("rows loaded", f"{w.records_accepted:,}")
    out.add_row("new and changed records linked", f"{run.records:,}")
    out.add_row(
        "persons keeping their id",
        f"{w.persons_keeping_id:,} of {w.persons_before:,}"
        f" ({w.persons_keeping_id / max(w.persons_before, 1):.2%})",
    )
    for cause, n in run.by_cause.items():
        out.add_row(f"id changes, {cause}", f"{n:,}")
    out.add_row("records that changed id", f"{run.changes.get('moved_records', 0):,}")
    out.add_row("persons now", f"{run.clusters:,}")
    out.add_row("pairwise F1 against the week's truth", f"{w.pairwise_f1:.4f}")
    out.add_row("review backlog (pairs)", f"{run.review_pairs:,}")
    for pair in w.review:
        out.add_row("  first to review", pair)
    return out


def family_lines(family: demo_lib.FamilyExample) -> Text:
    """One family's services across agencies, a line per member."""
    text = Text(
        f"One family's services across agencies (household {family.household} on {family.on}, "
        "as the SNAP caseworker may see them)\n",
        style="bold",
    )
    for person, agencies, programs in family.members:
        text.append(
            f"  {person}: known to {', '.join(agencies)}; services {', '.join(programs) or 'none'}\n",
            style="",
        )
    return text


def accounts_table(accounts: list[demo_lib.DemoAccount]) -> RenderableType:
    """The demo's accounts, each with its token (synthetic data: shown, and kept in
    owner-only files beside the hub); tokens and paths are never cut."""
    rows = [
        (a.username, a.agency, ", ".join(a.roles), str(a.token_file), a.token) for a in accounts
    ]
    return table(
        ("account", "agency", "roles", "token file", "token"),
        rows,
        title="Demo accounts, one per role",
        ids=("token file", "token"),
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
