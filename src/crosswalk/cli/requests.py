"""``crosswalk request``: data requests, the stewards' approvals and the grants they make.

Each command is the signed-in account's (the CLI's token, as for every read and act):
the requester asks in a role whose clauses cover the purpose; the steward or privacy
officer who answers is the account, as the agreement names it. Thin shells over the gate's ``request_data``, ``approve_request``, ``deny_request``,
``revoke_grant``, ``list_requests`` and ``show_request``, which authorise and audit
every step.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console

from crosswalk import clock
from crosswalk.access import Gate
from crosswalk.agreement.requests import DataRequest
from crosswalk.cli.output import Csv, Json, emit
from crosswalk.cli.principal import Asker, Control, SignedIn, acts, reads
from crosswalk.errors import ConfigError

request_app = typer.Typer(
    help="Data requests: ask for data, the stewards approve, a time-limited grant.",
    no_args_is_help=True,
)

Reason = Annotated[str, typer.Option(help="Why: kept with the answer and in the audit log.")]


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} is a date as YYYY-MM-DD, not {text!r}") from None


def _element(text: str) -> tuple[str, str]:
    """``hfs.events.program`` -> (``hfs.events``, ``program``)."""
    dataset, _, element = text.rpartition(".")
    if not dataset or not element:
        raise ConfigError(
            f"--element is <dataset>.<element> as the agreement names them "
            f"(e.g. hfs.events.program), not {text!r}"
        )
    return dataset, element


def _summary(r: DataRequest, today: date) -> dict[str, Any]:
    return {
        "id": r.request_id,
        "requester": r.requester.user,
        "agency": r.requester.agency,
        "role": r.requester.role,
        "purpose": r.purpose,
        "level": r.level,
        "starts_on": r.starts_on,
        "ends_on": r.ends_on,
        "state": r.state(today),
        "agencies": " ".join(r.agencies),
        "waiting_for": " ".join(r.waiting_for) if r.status == "pending" else "",
        "elements": len(r.elements),
    }


def _said(r: DataRequest, today: date) -> str:
    state = r.state(today)
    if state == "pending":
        return f"data request {r.request_id} is pending: waiting for the stewards of {', '.join(r.waiting_for)}"
    return f"data request {r.request_id} is {state}"


@request_app.command("create")
@reads()
def request_create(
    who: Asker,
    element: Annotated[
        list[str],
        typer.Option(help="A data element as <dataset>.<element>, e.g. hfs.events.program."),
    ],
    level: Annotated[str, typer.Option(help="identified, pseudonymised or aggregate.")],
    justification: Annotated[str, typer.Option(help="Why the data are needed.")],
    start: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (today).")] = None,
    end: Annotated[
        str | None, typer.Option(help="Last day, YYYY-MM-DD (a year from the start).")
    ] = None,
    control: Control = None,
) -> None:
    """Ask for data elements at a level for a purpose and a period, signed in as the
    requester.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/researcher) crosswalk request create --element hfs.events.program --element hfs.clients.dob --level pseudonymised --justification "Medicaid churn study" --purpose research
    """
    first = clock.today() if start is None else _day(start, "--start")
    last = first + timedelta(days=364) if end is None else _day(end, "--end")
    made = Gate(control=control).request_data(
        who.principal,
        who.purpose,
        [_element(e) for e in element],
        level,
        first,
        last,
        justification,
    )
    Console().print(_said(made, clock.today()), soft_wrap=True)


@request_app.command("list")
@acts()
def request_list(
    who: SignedIn,
    status: Annotated[
        str | None,
        typer.Option(help="pending, denied, granted, revoked, expired or 'not yet in force'."),
    ] = None,
    control: Control = None,
    as_json: Json = False,
    as_csv: Csv = False,
) -> None:
    """List the data requests you may see: your own, those your agency answers, all of
    them for the hub operator's privacy officers.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/hfs-steward) crosswalk request list --status pending
    """
    today = clock.today()
    found = Gate(control=control).list_requests(who.user, status)
    emit(
        [_summary(r, today) for r in found],
        title="data requests",
        as_json=as_json,
        as_csv=as_csv,
    )


@request_app.command("show")
@acts()
def request_show(
    who: SignedIn,
    request_id: Annotated[str, typer.Argument(help="The request's id, e.g. R1a2b3c4d5e6.")],
    control: Control = None,
    as_json: Json = False,
) -> None:
    """Show one data request: its elements, every agency's answer, any revocation.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/researcher) crosswalk request show R1a2b3c4d5e6
    """
    today = clock.today()
    r = Gate(control=control).show_request(who.user, request_id)
    body = {
        **_summary(r, today),
        "justification": r.justification,
        "created_at": r.created_at,
        "granted_at": r.granted_at,
        "revoked_at": r.revoked_at,
        "revoked_by": r.revoked_by,
        "revoke_reason": r.revoke_reason,
    }
    if as_json:
        emit(
            [
                {
                    **body,
                    "elements": [f"{d}.{e}" for d, e in r.elements],
                    "answers": [d.__dict__ for d in r.decisions],
                }
            ],
            title="data request",
            as_json=True,
        )
        return
    console = Console()
    for key, value in body.items():
        if value not in (None, ""):
            console.print(f"{key}: {value}", soft_wrap=True, highlight=False)
    console.print("elements: " + ", ".join(f"{d}.{e}" for d, e in r.elements), soft_wrap=True)
    emit(
        [
            {
                "agency": d.agency,
                "steward": d.steward,
                "decision": d.decision,
                "reason": d.reason,
                "at": d.decided_at,
            }
            for d in r.decisions
        ],
        title="answers",
    )


@request_app.command("approve")
@acts()
def request_approve(
    who: SignedIn,
    request_id: Annotated[str, typer.Argument()],
    reason: Reason = "",
    control: Control = None,
) -> None:
    """Approve a data request for the agency you steward; the last approval makes the grant.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/hfs-steward) crosswalk request approve R1a2b3c4d5e6 --reason "within the project's aims"
    """
    done = Gate(control=control).approve_request(who.user, request_id, reason)
    Console().print(_said(done, clock.today()), soft_wrap=True)


@request_app.command("deny")
@acts()
def request_deny(
    who: SignedIn,
    request_id: Annotated[str, typer.Argument()],
    reason: Reason,
    control: Control = None,
) -> None:
    """Deny a data request for the agency you steward (it is then denied whole).

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/hfs-steward) crosswalk request deny R1a2b3c4d5e6 --reason "no ethics approval on file"
    """
    done = Gate(control=control).deny_request(who.user, request_id, reason)
    Console().print(_said(done, clock.today()), soft_wrap=True)


@request_app.command("revoke")
@acts()
def request_revoke(
    who: SignedIn,
    request_id: Annotated[str, typer.Argument()],
    reason: Reason,
    control: Control = None,
) -> None:
    """Revoke a grant (a steward or privacy officer): it counts for nothing from the next request.

    Example: CROSSWALK_TOKEN=$(cat demo-out/tokens/privacy-officer) crosswalk request revoke R1a2b3c4d5e6 --reason "project closed"
    """
    done = Gate(control=control).revoke_grant(who.user, request_id, reason)
    Console().print(_said(done, clock.today()), soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(request_app, name="request")
