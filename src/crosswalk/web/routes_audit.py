"""The audit log for privacy officers: search by person, user, purpose and date
(``Gate.audit_search``, itself audited), the chain's verification and the last signed
checkpoint, and an export of the entries found (CSV)."""

from __future__ import annotations

import io
import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from crosswalk import csvfile
from crosswalk.access import Gate
from crosswalk.accounts import PRIVACY_OFFICER
from crosswalk.audit import checkpoints
from crosswalk.service import auth
from crosswalk.web.pages import WebRoute, agreement_now, day, render
from crosswalk.web.session import TYPED_FIELD, Session, check_typed, current

router = APIRouter(route_class=WebRoute)
SignedIn = Annotated[Session, Depends(current)]
PURPOSE = "oversight"
SHOWN = 200
Text = Annotated[str, Query(max_length=128)]
TYPED_FILTERS = ("person", "user", "purpose", "action")


def _search(
    request: Request,
    s: Session,
    person: str,
    user: str,
    purpose: str,
    action: str,
    outcome: str,
    since: str,
    until: str,
) -> list[dict[str, Any]]:
    if not s.caller.has(PRIVACY_OFFICER) or "audit" not in s.caller.token.scopes:
        raise auth.refuse(request, s.caller, "the audit log is for privacy officers", PURPOSE)
    typed = dict(zip(TYPED_FILTERS, (person, user, purpose, action), strict=True))
    check_typed(request, s, typed, "a person, user, purpose or action")
    principal = auth.principal(request, s.caller, agreement_now(request), PURPOSE, None)
    gate: Gate = request.app.state.gate
    return gate.audit_search(
        principal,
        PURPOSE,
        action=action.strip() or None,
        user=user.strip() or None,
        of_purpose=purpose.strip() or None,
        outcome=outcome.strip() or None,
        enterprise_id=person.strip() or None,
        since=None if (d := day(since, "from")) is None else d.isoformat(),
        until=None if (d := day(until, "to")) is None else d.isoformat(),
    )


def _last_checkpoint(request: Request) -> Any:
    found, _ = checkpoints.read_all(request.app.state.hub.audit.checkpoint_folder)
    return max((cp for _, cp in found), key=lambda cp: cp.count, default=None)


@router.get("/ui/audit", response_class=HTMLResponse)
def audit(
    request: Request,
    s: SignedIn,
    person: Text = "",
    user: Text = "",
    purpose: Text = "",
    action: Text = "",
    outcome: Text = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    found = _search(request, s, person, user, purpose, action, outcome, since, until)
    verification = request.app.state.hub.audit.verify()
    filters = {
        "person": person, "user": user, "purpose": purpose, "action": action,
        "outcome": outcome, "since": since, "until": until,
    }  # fmt: skip
    # Each value encoded: one holding ``&`` or ``#`` would otherwise add filters of its own
    # to the export's address, and the export would not be the search shown.
    query = urlencode(
        {k: v for k, v in filters.items() if v}
        | ({TYPED_FIELD: s.typed} if any(filters[k] for k in TYPED_FILTERS) else {})
    )
    return render(
        request,
        "audit.html",
        s,
        entries=list(reversed(found))[:SHOWN],
        total=len(found),
        shown=SHOWN,
        filters=filters,
        query=query,
        verification=verification,
        checkpoint=_last_checkpoint(request),
    )


@router.get("/ui/audit/export.csv")
def export(
    request: Request,
    s: SignedIn,
    person: Text = "",
    user: Text = "",
    purpose: Text = "",
    action: Text = "",
    outcome: Text = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """Every entry the search finds, oldest first, with its whole body (JSON)."""
    found = _search(request, s, person, user, purpose, action, outcome, since, until)
    out = io.StringIO()
    names = ["seq", "at", "action", "user", "agency", "purpose", "outcome", "hash", "body"]
    rows = ({**e, "body": json.dumps(e["body"], sort_keys=True)} for e in found)
    csvfile.write_rows(out, names, ([r.get(n) for n in names] for r in rows))
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="audit-entries.csv"'},
    )
