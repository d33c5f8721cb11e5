"""A person's programs across agencies on a time line (``Gate.person``), for the roles
whose clauses grant person-level data: identified for caseworkers, pseudonymised where
the purpose's clause grants no more. Records withheld under 42 CFR Part 2 are not shown
and not acknowledged: every view carries the gate's fixed withholding notice, and the
redisclosure notice where Part 2 records are shown (with the person's consent)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from crosswalk import clock
from crosswalk.access import Gate
from crosswalk.errors import CrosswalkError
from crosswalk.service import auth
from crosswalk.web.charts import svg
from crosswalk.web.pages import (
    PERSON_LEVELS,
    PERSON_PURPOSES,
    WebRoute,
    agreement_now,
    levels_for,
    render,
    usable_purposes,
)
from crosswalk.web.session import Session, current

router = APIRouter(route_class=WebRoute)
SignedIn = Annotated[Session, Depends(current)]
# What the search box takes: an enterprise id (P and ten digits or more) or the pseudonym
# an answer gave (X and 16 hexadecimal digits).
_ID = re.compile(r"P[0-9]{10,20}|X[0-9a-f]{16}")
NOT_AN_ID = (
    "That is not an enterprise id (P and ten digits, such as P0000000042) nor a pseudonym"
    " (X and 16 hexadecimal digits): nothing was looked up."
)


def timeline(events: list[dict[str, Any]], title: str) -> Any:
    """Each service as a bar from its start to its end (open ones to today), one row per
    program, coloured by agency."""
    import altair as alt

    today = clock.today().isoformat()
    values = [
        {
            "program": e.get("program") or "",
            "agency": e["agency"],
            "start": str(e["start_date"]),
            "end": str(e.get("end_date") or today),
            "open": e.get("end_date") is None,
        }
        for e in events
        if e.get("start_date") is not None
    ]
    return (
        alt.Chart(alt.Data(values=values))
        .mark_bar(height=12)
        .encode(
            x=alt.X("start:T", title=None),
            x2="end:T",
            y=alt.Y("program:N", title=None, sort="x"),
            color=alt.Color("agency:N", title="agency"),
        )
        .properties(width=640, height=max(26 * len({v["program"] for v in values}), 60))
        .properties(
            title=alt.Title(
                title, subtitle="each bar: one service, start to end (open services to today)"
            )
        )
    )


@router.get("/ui/person", response_class=HTMLResponse)
def person(
    request: Request,
    s: SignedIn,
    id: Annotated[str, Query(max_length=32)] = "",
    purpose: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    agreement = agreement_now(request)
    purposes = usable_purposes(s, agreement, PERSON_PURPOSES, PERSON_LEVELS)
    if not purposes:
        raise auth.refuse(
            request,
            s.caller,
            "no clause of the agreement in force gives your roles person-level data",
        )
    purpose = purpose if purpose in purposes else purposes[0]
    level = "identified" if "identified" in levels_for(s, agreement, purpose) else "pseudonymised"
    context: dict[str, Any] = {
        "agreement": agreement,
        "purposes": purposes,
        "purpose": purpose,
        "level": level,
        "wanted": id.strip(),
        "answer": None,
        "problem": None,
        "chart": None,
    }
    if context["wanted"] and not _ID.fullmatch(context["wanted"]):
        # Not an id at all: said in words of our own, the text not shown back, so that a
        # link cannot put a sentence of its sender's on the page (in the box or the refusal).
        context["wanted"] = ""
        context["problem"] = NOT_AN_ID
    elif context["wanted"]:
        gate: Gate = request.app.state.gate
        try:
            principal = auth.principal(request, s.caller, agreement, purpose, None)
            answer = gate.person(principal, purpose, context["wanted"], level)
        except CrosswalkError as e:
            context["problem"] = e.message
        else:
            context["answer"] = answer
            context["clauses"] = sorted({r.clause for r in answer.decision.reasons if r.clause})
            if answer.events:
                title = f"Services of {answer.person}"
                context["chart"] = svg(timeline(answer.events, title), title)
            context["events"] = sorted(
                answer.events, key=lambda e: (str(e.get("start_date") or ""), e["agency"])
            )
    return render(request, "person.html", s, **context)
