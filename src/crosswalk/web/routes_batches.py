"""An agency's batches and their quarantine, for that agency's stewards.

The list is ``crosswalk.access.lineage.batches`` (read = accepted + quarantined for every
file); a batch's quarantined rows, with file, row, field, value and rule, are
``Gate.quarantine``: only of agencies whose quarantine the steward may read, so another
agency's batch shows none.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from crosswalk.access import Gate, lineage
from crosswalk.service import auth
from crosswalk.service.paging import Offset
from crosswalk.web.pages import BATCH_ID, WebRoute, agreement_now, object_id, render
from crosswalk.web.session import Session, current

router = APIRouter(route_class=WebRoute)
SignedIn = Annotated[Session, Depends(current)]
PURPOSE = "operations"
ROWS = 200


@router.get("/ui/batches", response_class=HTMLResponse)
def batches(request: Request, s: SignedIn, offset: Offset = 0) -> Response:
    principal = auth.principal(request, s.caller, agreement_now(request), PURPOSE, None)
    rows, total = lineage.batches(
        request.app.state.hub, principal, PURPOSE, principal.agency, offset, 50
    )
    return render(
        request,
        "batches.html",
        s,
        batches=rows,
        total=total,
        offset=offset,
        agency=principal.agency,
    )


@router.get("/ui/batches/{batch_id}", response_class=HTMLResponse)
def batch(request: Request, s: SignedIn, batch_id: str) -> Response:
    principal = auth.principal(request, s.caller, agreement_now(request), PURPOSE, None)
    gate: Gate = request.app.state.gate
    batch_id = object_id(batch_id, BATCH_ID, "batch")
    table = gate.quarantine(principal, PURPOSE, batch_id, limit=ROWS)
    rows: list[dict[str, Any]] = table.to_pylist()
    rules: dict[str, int] = {}
    for r in rows:
        key = f"{r['field'] or '(row)'}: {r['rule']}"
        rules[key] = rules.get(key, 0) + 1
    return render(
        request,
        "batch.html",
        s,
        batch_id=batch_id,
        rows=rows,
        rules=sorted(rules.items(), key=lambda kv: -kv[1]),
        limit=ROWS,
    )
