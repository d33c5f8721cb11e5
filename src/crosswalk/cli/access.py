"""``crosswalk person``, ``agreement``, ``consent``, ``audit``: reads through the gate,
and the agreement's and audit log's own commands. Every data read names its principal
and purpose explicitly: there is no anonymous or implicit superuser read."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosswalk import agreement as agreement_lib
from crosswalk import audit as audit_lib
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
from crosswalk.errors import ConfigError, IntegrityError


def person(
    enterprise_id: Annotated[str, typer.Argument(help="Enterprise person id, e.g. P0000000042.")],
    user: User = None,
    agency: Agency = None,
    role: Role = None,
    purpose: Purpose = None,
    profile: ProfileFile = None,
    level: Annotated[str, typer.Option(help="identified or pseudonymised.")] = "identified",
    hub: HubOption = None,
    control: Control = None,
) -> None:
    """Show one person's records and services across agencies, as the agreement allows.

    Example: crosswalk person P0000000042 --user ana --agency fcs --role caseworker --purpose care_coordination
    """
    principal, why = principal_from(user, agency, role, purpose, profile)
    answer = Gate(hub, control).person(principal, why, enterprise_id, level)
    console = Console()
    console.print(_rows(f"Person {answer.person} ({level})", answer.records, answer.record_columns))
    console.print(_rows("Services", answer.events, answer.event_columns))
    for n in answer.notices:
        console.print(f"[bold]{n}[/]")
    console.print(
        "Clauses: " + ", ".join(sorted({r.clause for r in answer.decision.reasons if r.clause}))
    )


def _rows(title: str, rows: list[dict[str, object]], columns: list[str]) -> Table:
    """A table whose every value sits under its own header, in the order given."""
    table = Table(*columns, title=title)
    for r in rows:
        table.add_row(*("" if r.get(c) is None else str(r[c]) for c in columns))
    return table


agreement_app = typer.Typer(help="The data-sharing agreement.", no_args_is_help=True)


@agreement_app.command("check")
def agreement_check(file: Annotated[Path, typer.Argument(help="Agreement YAML.")]) -> None:
    """Validate an agreement file; every error names its line and key.

    Example: crosswalk agreement check emou.yaml
    """
    a = agreement_lib.check_agreement(file)
    Console().print(
        f"{file}: valid agreement version {a.version}, {len(a.parties)} parties, {len(a.datasets)} datasets, {len(a.rules)} clauses"
    )


@agreement_app.command("load")
def agreement_load(
    file: Annotated[Path, typer.Argument(help="Agreement YAML with a higher version.")],
    user: Annotated[str, typer.Option(help="Who loads it: a steward of the hub operator.")],
    control: Control = None,
) -> None:
    """Store an agreement version (an amendment) in the control plane; it applies from its effective date.

    Example: crosswalk agreement load emou-v2.yaml --user cdo.steward
    """
    a = Gate(control=control).agreement_load(user, file)
    Console().print(f"agreement version {a.version} stored; in force from {a.effective_from}")


@agreement_app.command("withdraw")
def agreement_withdraw(
    party: Annotated[str, typer.Argument(help="The party that withdraws, e.g. doc.")],
    on: Annotated[str, typer.Option(help="From this day (YYYY-MM-DD), today or later.")],
    user: Annotated[str, typer.Option(help="A steward of that party or of the hub operator.")],
    control: Control = None,
) -> None:
    """Record a party's withdrawal: a new agreement version that excludes its data from that day.

    Example: crosswalk agreement withdraw doc --on 2026-07-01 --user doc.steward
    """
    a = Gate(control=control).agreement_withdraw(user, party, _day(on))
    Console().print(f"agreement version {a.version} stored: {party} withdraws on {on}")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise ConfigError(f"dates are YYYY-MM-DD: {e}") from None


@agreement_app.command("show")
def agreement_show(
    file: Annotated[
        Path | None, typer.Argument(help="Agreement YAML (default: the shipped one).")
    ] = None,
) -> None:
    """List the agreement's clauses.

    Example: crosswalk agreement show
    """
    a = agreement_lib.load_agreement(file)
    table = Table(
        "clause",
        "title",
        "recipients",
        "roles",
        "purposes",
        "classes",
        "level",
        title=f"{a.name}, version {a.version}, in force from {a.effective_from}",
    )
    for r in a.rules:
        table.add_row(
            r.clause,
            r.title,
            ", ".join(r.recipients),
            ", ".join(r.roles),
            ", ".join(r.purposes),
            ", ".join(r.classes),
            r.level + (" (consent)" if r.requires_consent else ""),
        )
    Console().print(table)


consent_app = typer.Typer(help="The consent registry (42 CFR Part 2).", no_args_is_help=True)


@consent_app.command("add")
def consent_add(
    enterprise_id: Annotated[str, typer.Argument()],
    discloser: Annotated[str, typer.Option()],
    recipient: Annotated[str, typer.Option()],
    purpose: Annotated[str, typer.Option()],
    information: Annotated[str, typer.Option()],
    signed: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    expires: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    user: Annotated[
        str, typer.Option(help="Who records it: a steward or privacy officer of the discloser.")
    ],
    hub: HubOption = None,
    control: Control = None,
) -> None:
    """Record a written consent.

    Example: crosswalk consent add P0000000042 --discloser sud --recipient fcs --purpose care_coordination --information "treatment records" --signed 2025-01-02 --expires 2026-01-02 --user sud.steward
    """
    c = Gate(hub, control).consent_add(
        user, enterprise_id, discloser, recipient, purpose, information, _day(signed), _day(expires)
    )
    Console().print(f"consent {c.consent_id} recorded")


@consent_app.command("revoke")
def consent_revoke(
    consent_id: Annotated[str, typer.Argument()],
    user: Annotated[
        str, typer.Option(help="A steward or privacy officer of the disclosing party.")
    ],
    control: Control = None,
) -> None:
    """Revoke a consent from today.

    Example: crosswalk consent revoke 1a2b3c4d5e6f --user sud.steward
    """
    Gate(control=control).consent_revoke(user, consent_id)
    Console().print(f"consent {consent_id} revoked")


@consent_app.command("list")
def consent_list(
    user: User = None,
    agency: Agency = None,
    role: Role = None,
    purpose: Purpose = None,
    profile: ProfileFile = None,
    control: Control = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """List consents (a privacy officer of the hub operator, for oversight).

    Example: crosswalk consent list --user cdo.privacy --agency cdo --role privacy_officer --purpose oversight
    """
    principal, why = principal_from(user, agency, role, purpose, profile)
    rows = [
        {
            "id": c.consent_id,
            "person": c.enterprise_id,
            "discloser": c.discloser,
            "recipient": c.recipient,
            "purpose": c.purpose,
            "signed": c.signed_on,
            "expires": c.expires_on,
            "revoked": c.revoked_on,
        }
        for c in Gate(control=control).consent_list(principal, why)
    ]
    emit(rows, title="consents", as_json=as_json, as_csv=as_csv)


audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


Checkpoints = Annotated[
    Path | None,
    typer.Option(
        help="The folder of the log's checkpoints (default $CROSSWALK_AUDIT_CHECKPOINTS)."
    ),
]


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[
        Path | None, typer.Option(help="One more checkpoint file to compare with.")
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(help="The published public key (default: the key in $CROSSWALK_SECRETS)."),
    ] = None,
    checkpoints: Checkpoints = None,
    control: Control = None,
) -> None:
    """Check every entry's hash, signature and link, and compare the log with every checkpoint.

    Example: crosswalk audit verify --public-key audit-key.pem
    """
    cp = audit_lib.Checkpoint.read(checkpoint) if checkpoint is not None else None
    key = None
    if public_key is not None:
        key = audit_lib.PublicKey.from_pem(public_key.read_bytes(), str(public_key))
    result = audit_lib.AuditLog(control, checkpoints=checkpoints).verify(cp, key)
    if not result.ok:
        where = f" at entry {result.first_bad}" if result.first_bad else ""
        raise IntegrityError(f"audit log verification failed{where}: {result.problem}")
    Console().print(
        f"audit log intact: {result.entries} entries signed by key {result.key}, "
        f"consistent with {result.checkpoints} checkpoints; {result.tail_summary()}"
    )


@audit_app.command("checkpoint")
def audit_checkpoint(
    out: Annotated[
        Path | None, typer.Option(help="Also write the signed head to this file.")
    ] = None,
    checkpoints: Checkpoints = None,
    control: Control = None,
) -> None:
    """Write a signed head (count, hash, time) now; the log also writes them by itself.

    Example: crosswalk audit checkpoint --out head.json
    """
    log = audit_lib.AuditLog(control, checkpoints=checkpoints)
    cp = log.write_checkpoint()
    if out is not None:
        out.write_text(json.dumps(cp.to_dict(), indent=2) + "\n")
    Console().print(
        f"checkpoint of {cp.count} entries written to {log.checkpoint_folder}"
        + (f" and {out}" if out else "")
    )


@audit_app.command("public-key")
def audit_public_key(
    out: Annotated[Path | None, typer.Option(help="Write the PEM to this file.")] = None,
    control: Control = None,
) -> None:
    """The public key that verifies the log (PEM), to publish for outside auditors.

    Example: crosswalk audit public-key --out audit-key.pem
    """
    key = audit_lib.AuditLog(control).public_key()
    if out is None:
        typer.echo(key.pem().decode(), nl=False)
    else:
        out.write_bytes(key.pem())
        Console().print(f"public key {key.fingerprint} written to {out}")


@audit_app.command("who-accessed")
def audit_who(
    enterprise_id: Annotated[str, typer.Argument()],
    user: User = None,
    agency: Agency = None,
    role: Role = None,
    purpose: Purpose = None,
    profile: ProfileFile = None,
    control: Control = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """Every read of one person's data (a privacy officer, for oversight).

    Example: crosswalk audit who-accessed P0000000042 --user cdo.privacy --agency cdo --role privacy_officer --purpose oversight
    """
    principal, why = principal_from(user, agency, role, purpose, profile)
    columns = ("seq", "at", "user", "agency", "role", "purpose", "outcome", "rows")
    rows = [
        {k: r[k] for k in columns}
        for r in Gate(control=control).who_accessed(principal, why, enterprise_id)
    ]
    emit(rows, title=f"reads of {enterprise_id}", as_json=as_json, as_csv=as_csv)


@audit_app.command("purposes")
def audit_purposes(
    user: User = None,
    agency: Agency = None,
    role: Role = None,
    purpose: Purpose = None,
    profile: ProfileFile = None,
    control: Control = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """Data reads per purpose (a privacy officer, for oversight).

    Example: crosswalk audit purposes --profile privacy.yaml
    """
    principal, why = principal_from(user, agency, role, purpose, profile)
    counts = Gate(control=control).audit_purposes(principal, why)
    rows = [{"purpose": k, "reads": v} for k, v in counts.items()]
    emit(rows, title="reads per purpose", as_json=as_json, as_csv=as_csv)


@audit_app.command("denials")
def audit_denials(
    user: User = None,
    agency: Agency = None,
    role: Role = None,
    purpose: Purpose = None,
    profile: ProfileFile = None,
    control: Control = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """Denials per day (a privacy officer, for oversight).

    Example: crosswalk audit denials --profile privacy.yaml
    """
    principal, why = principal_from(user, agency, role, purpose, profile)
    counts = Gate(control=control).audit_denials(principal, why)
    rows = [{"day": k, "denials": v} for k, v in counts.items()]
    emit(rows, title="denials per day", as_json=as_json, as_csv=as_csv)


def register(app: typer.Typer) -> None:
    app.command("person")(person)
    app.add_typer(agreement_app, name="agreement")
    app.add_typer(consent_app, name="consent")
    app.add_typer(audit_app, name="audit")
