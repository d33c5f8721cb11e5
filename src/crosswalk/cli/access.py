"""``crosswalk person``, ``agreement``, ``consent``, ``audit``: reads through the gate,
and the agreement's and audit log's own commands. Every data read and every
administrative act is the signed-in account's (``crosswalk.cli.principal``): there is no
anonymous, self-named or implicit superuser read."""

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
from crosswalk import clock
from crosswalk.access import Gate
from crosswalk.cli import output
from crosswalk.cli.ingest import HubOption
from crosswalk.cli.output import Csv, Json, emit
from crosswalk.cli.principal import Asker, Control, SignedIn, acts, reads
from crosswalk.errors import ConfigError, IntegrityError


@reads()
def person(
    who: Asker,
    enterprise_id: Annotated[
        str,
        typer.Argument(
            help="Enterprise person id, e.g. P0000000042 (pseudonymised: the pseudonym an"
            " answer gave, e.g. X3f9c0d1e2a4b5c6d)."
        ),
    ],
    level: Annotated[str, typer.Option(help="identified or pseudonymised.")] = "identified",
    hub: HubOption = None,
    control: Control = None,
) -> None:
    """Show one person's records and services across agencies, as the agreement allows.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/caseworker) crosswalk person P0000000042 --purpose care_coordination
    """
    answer = Gate(hub, control).person(who.principal, who.purpose, enterprise_id, level)
    console = Console()
    console.print(_rows(f"Person {answer.person} ({level})", answer.records, answer.record_columns))
    console.print(_rows("Services", answer.events, answer.event_columns))
    for n in answer.notices:
        console.print(f"[bold]{n}[/]")
    console.print(
        "Clauses: " + ", ".join(sorted({r.clause for r in answer.decision.reasons if r.clause}))
    )


@reads()
def family(
    who: Asker,
    enterprise_id: Annotated[str, typer.Argument(help="Enterprise person id, e.g. P0000000042.")],
    on: Annotated[
        str | None,
        typer.Option(help="The day (YYYY-MM-DD) whose household to show; default today."),
    ] = None,
    hub: HubOption = None,
    control: Control = None,
) -> None:
    """Show a person's household on a day and each member's services across agencies.

    As the agreement allows: memberships come only from agencies you may see.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/caseworker) crosswalk family P0000000042 --on 2020-06-30 --purpose care_coordination
    """
    day = _day(on) if on else None
    answer = Gate(hub, control).family(who.principal, who.purpose, enterprise_id, day)
    console = Console()
    console.print(f"Household {answer.household} on {answer.on}: {len(answer.members)} members")
    for m in answer.members:
        since = f"since {m.valid_from}" if m.valid_from else "since before any record"
        until = f"until {m.valid_to}" if m.valid_to else "still a member"
        console.print(
            _rows(f"Member {m.person} ({since}, {until})", m.records, _columns(m.records))
        )
        console.print(_rows("Services", m.events, _columns(m.events)))
    for n in answer.notices:
        console.print(f"[bold]{n}[/]")
    console.print(
        "Clauses: " + ", ".join(sorted({r.clause for r in answer.decision.reasons if r.clause}))
    )


def _columns(rows: list[dict[str, object]]) -> list[str]:
    """Columns in the order the rows give them (agency first)."""
    return list(dict.fromkeys(k for r in rows for k in r))


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
@acts()
def agreement_load(
    who: SignedIn,
    file: Annotated[Path, typer.Argument(help="Agreement YAML with a higher version.")],
    control: Control = None,
) -> None:
    """Store an agreement version (an amendment) in the control plane; it applies from its
    effective date. Signed in as a steward of the hub operator.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/operator-steward) crosswalk agreement load emou-v2.yaml
    """
    a = Gate(control=control).agreement_load(who.user, file)
    Console().print(f"agreement version {a.version} stored; in force from {a.effective_from}")


@agreement_app.command("withdraw")
@acts()
def agreement_withdraw(
    who: SignedIn,
    party: Annotated[str, typer.Argument(help="The party that withdraws, e.g. doc.")],
    on: Annotated[str, typer.Option(help="From this day (YYYY-MM-DD), today or later.")],
    control: Control = None,
) -> None:
    """Record a party's withdrawal: a new agreement version that excludes its data from
    that day. Signed in as a steward of that party or of the hub operator.

    Example: crosswalk agreement withdraw doc --on 2027-07-01 --token-file ~/doc-steward.token
    """
    a = Gate(control=control).agreement_withdraw(who.user, party, _day(on))
    Console().print(f"agreement version {a.version} stored: {party} withdraws on {on}")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise ConfigError(f"dates are YYYY-MM-DD: {e}") from None


@agreement_app.command("show")
def agreement_show(
    file: Annotated[
        Path | None,
        typer.Argument(help="An agreement YAML to list (default: the version in force)."),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option(help="The day (YYYY-MM-DD) whose version in force to list; default today."),
    ] = None,
    control: Control = None,
) -> None:
    """List the clauses of the agreement in force (stored in the control plane; the
    shipped or configured one while none is stored), or of an agreement file.

    Example: crosswalk agreement show --on 2027-01-01
    """
    if file is not None and on is not None:
        raise ConfigError("give an agreement file or --on, not both")
    a = (
        agreement_lib.load_agreement(file)
        if file is not None
        else agreement_lib.agreement_in_force(_day(on) if on else clock.today(), control)
    )
    rows = [
        (
            r.clause,
            r.title,
            ", ".join(r.recipients),
            ", ".join(r.roles),
            ", ".join(r.purposes),
            ", ".join(r.classes),
            r.level + (" (consent)" if r.requires_consent else ""),
        )
        for r in a.rules
    ]
    Console().print(
        output.table(
            ("clause", "title", "recipients", "roles", "purposes", "classes", "level"),
            rows,
            title=f"{a.name}, version {a.version}, in force from {a.effective_from}",
            ids=("clause",),
        )
    )


consent_app = typer.Typer(help="The consent registry (42 CFR Part 2).", no_args_is_help=True)


@consent_app.command("add")
@acts()
def consent_add(
    who: SignedIn,
    enterprise_id: Annotated[str, typer.Argument()],
    discloser: Annotated[str, typer.Option()],
    recipient: Annotated[str, typer.Option()],
    purpose: Annotated[str, typer.Option()],
    information: Annotated[str, typer.Option()],
    signed: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    expires: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    hub: HubOption = None,
    control: Control = None,
) -> None:
    """Record a written consent, signed in as a steward or privacy officer of the discloser.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/sud-steward) crosswalk consent add P0000000042 --discloser sud --recipient fcs --purpose care_coordination --information "treatment records" --signed 2025-01-02 --expires 2026-01-02
    """
    c = Gate(hub, control).consent_add(
        who.user,
        enterprise_id,
        discloser,
        recipient,
        purpose,
        information,
        _day(signed),
        _day(expires),
    )
    Console().print(f"consent {c.consent_id} recorded")


@consent_app.command("revoke")
@acts()
def consent_revoke(
    who: SignedIn,
    consent_id: Annotated[str, typer.Argument()],
    control: Control = None,
) -> None:
    """Revoke a consent from today, signed in as a steward or privacy officer of the
    disclosing party.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/sud-steward) crosswalk consent revoke 1a2b3c4d5e6f
    """
    Gate(control=control).consent_revoke(who.user, consent_id)
    Console().print(f"consent {consent_id} revoked")


@consent_app.command("list")
@reads(purpose="oversight")
def consent_list(
    who: Asker,
    control: Control = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """List consents (a privacy officer of the hub operator, for oversight).

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/privacy-officer) crosswalk consent list
    """
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
        for c in Gate(control=control).consent_list(who.principal, who.purpose)
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
@reads(purpose="oversight")
def audit_who(
    who: Asker,
    enterprise_id: Annotated[str, typer.Argument()],
    control: Control = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """Every read of one person's data (a privacy officer, for oversight).

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/privacy-officer) crosswalk audit who-accessed P0000000042
    """
    columns = ("seq", "at", "user", "agency", "role", "purpose", "outcome", "rows")
    rows = [
        {k: r[k] for k in columns}
        for r in Gate(control=control).who_accessed(who.principal, who.purpose, enterprise_id)
    ]
    emit(rows, title=f"reads of {enterprise_id}", as_json=as_json, as_csv=as_csv)


@audit_app.command("purposes")
@reads(purpose="oversight")
def audit_purposes(
    who: Asker,
    control: Control = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """Data reads per purpose (a privacy officer, for oversight).

    Example: crosswalk audit purposes --token-file ~/.config/crosswalk/privacy.token
    """
    counts = Gate(control=control).audit_purposes(who.principal, who.purpose)
    rows = [{"purpose": k, "reads": v} for k, v in counts.items()]
    emit(rows, title="reads per purpose", as_json=as_json, as_csv=as_csv)


@audit_app.command("search")
@reads(purpose="oversight")
def audit_search(
    who: Asker,
    action: Annotated[str | None, typer.Option(help="An action, e.g. data.read.")] = None,
    actor: Annotated[
        str | None,
        typer.Option(help="The account whose entries to find (who read or acted)."),
    ] = None,
    for_purpose: Annotated[
        str | None, typer.Option(help="The purpose the entries name, e.g. research.")
    ] = None,
    outcome: Annotated[str | None, typer.Option(help="ok, denied or failed.")] = None,
    enterprise_id: Annotated[
        str | None, typer.Option("--person", help="Entries naming this person.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="On or after this day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="On or before this day (YYYY-MM-DD).")] = None,
    control: Control = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """Search the audit log's entries, oldest first (a privacy officer of the hub operator,
    for oversight; the search is itself audited). --json carries each entry's body.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/privacy-officer) crosswalk audit search --actor ana --since 2026-01-01
    """
    found = Gate(control=control).audit_search(
        who.principal,
        who.purpose,
        action=action,
        user=actor,
        of_purpose=for_purpose,
        outcome=outcome,
        enterprise_id=enterprise_id,
        since=None if since is None else _day(since).isoformat(),
        until=None if until is None else _day(until).isoformat(),
    )
    columns = ("seq", "at", "action", "user", "agency", "purpose", "outcome")
    rows = [{**{k: e[k] for k in columns}, "body": e["body"]} for e in found]
    emit(rows, title="audit entries", as_json=as_json, as_csv=as_csv, columns=columns)


@audit_app.command("denials")
@reads(purpose="oversight")
def audit_denials(
    who: Asker,
    control: Control = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """Denials per day (a privacy officer, for oversight).

    Example: crosswalk audit denials --token-file ~/.config/crosswalk/privacy.token
    """
    counts = Gate(control=control).audit_denials(who.principal, who.purpose)
    rows = [{"day": k, "denials": v} for k, v in counts.items()]
    emit(rows, title="denials per day", as_json=as_json, as_csv=as_csv)


def register(app: typer.Typer) -> None:
    app.command("person")(person)
    app.command("family")(family)
    app.add_typer(agreement_app, name="agreement")
    app.add_typer(consent_app, name="consent")
    app.add_typer(audit_app, name="audit")
