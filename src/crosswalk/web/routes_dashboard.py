"""The analysts' dashboard: overlap (heat map and UpSet), pathways (Sankey), cohort
outcomes (cumulative incidence), monthly trends and lifetime use, under filters.

Each answer is one ``Gate.aggregate`` call as the signed-in account (decided, disclosure
controlled, audited); its chart is drawn from the released table only, the table is
shown beside it with hidden figures marked hidden (never zero), and the CSV and JSON
downloads serve that same released table (``Releases``), not a second question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from crosswalk import analytics
from crosswalk.access import Gate
from crosswalk.analytics.filters import AGE_GROUPS, SERVICE_PROGRAMS, SEXES
from crosswalk.errors import AccessDenied, ConfigError, CrosswalkError, InvalidRequest
from crosswalk.model import PROGRAMS
from crosswalk.service import auth
from crosswalk.web.charts import svg
from crosswalk.web.pages import WebRoute, agreement_now, day, render, usable_purposes
from crosswalk.web.releases import Release, Releases
from crosswalk.web.session import Session, check_typed, current

router = APIRouter(route_class=WebRoute)
SignedIn = Annotated[Session, Depends(current)]
AGGREGATE_PURPOSES = frozenset({"program_evaluation", "research"})
VIEWS = {
    "overlap": "Program overlap",
    "pathways": "Pathways",
    "cohort": "Cohort outcomes",
    "trends": "Monthly trends",
    "lifetime": "Lifetime use",
}
COUNTS = frozenset({"people", "at_risk", "entered"})
DEFAULT_PROGRAMS = (
    "MEDICAID",
    "SNAP",
    "TANF",
    "MENTAL_HEALTH",
    "SUD_TREATMENT",
    "HOMELESS_SERVICES",
)
DEFAULTS: dict[str, dict[str, Any]] = {
    "overlap": {"start": date(2019, 1, 1), "end": date(2019, 12, 31), "programs": DEFAULT_PROGRAMS},
    "pathways": {
        "start": date(2015, 1, 1),
        "end": date(2020, 12, 31),
        "programs": ("UI_CLAIM", "SNAP", "MEDICAID", "HOUSING_ASSISTANCE", "HOMELESS_SERVICES"),
    },
    "cohort": {"start": None, "end": None, "programs": ()},
    "trends": {
        "start": date(2018, 1, 1),
        "end": date(2019, 12, 31),
        "programs": ("SNAP", "MEDICAID", "TANF"),
    },
    "lifetime": {"start": None, "end": None, "programs": ()},
}


@dataclass(frozen=True)
class Shown:
    """One released answer as a page shows it."""

    title: str
    chart: Any
    columns: list[str]
    rows: list[list[dict[str, Any]]]
    release: Release | None
    hidden: int
    k: int
    problem: str | None = None
    ask: str | None = None  # a data request for the question's elements, if refused


def hidden_reason(k: int) -> str:
    return (
        f"hidden by disclosure control: a count of 1 to {k - 1}, or a figure from which "
        "such a count could be worked out"
    )


def _cell(column: str, value: Any, row: dict[str, Any], columns: set[str]) -> dict[str, Any]:
    if value is None:
        if column == "cumulative_pct" or column.startswith("ci_"):
            status = row.get("status")
            text = "not followed" if status == "not followed" else "hidden"
        elif f"{column}_suppressed" in columns or column in COUNTS or column.startswith("median"):
            text = "hidden"
        else:
            text = ""
        return {"text": text, "hidden": text == "hidden", "num": False, "count": column in COUNTS}
    if isinstance(value, float):
        text = f"{value:,.1f}"
    elif isinstance(value, int):
        text = f"{value:,}" if column not in ("year",) else str(value)
    else:
        text = str(value)
    return {
        "text": text,
        "hidden": False,
        "num": isinstance(value, int | float),
        "count": column in COUNTS,
    }


def shown_table(table: pa.Table) -> tuple[list[str], list[list[dict[str, Any]]], int]:
    """The released table's columns (without the ``_suppressed`` flags) and its cells,
    each hidden figure marked hidden; and how many counts are hidden."""
    names = set(table.column_names)
    columns = [c for c in table.column_names if not c.endswith("_suppressed")]
    rows = []
    hidden = 0
    for r in table.to_pylist():
        cells = [_cell(c, r[c], r, names) for c in columns]
        hidden += sum(
            1 for c, cell in zip(columns, cells, strict=True) if cell["hidden"] and c in COUNTS
        )
        rows.append(cells)
    return columns, rows, hidden


def _answer(
    request: Request,
    s: Session,
    purpose: str,
    question: analytics.Question,
    chart: str,
    title: str,
    about: str | None = None,
) -> Shown:
    """Ask ``question`` through the gate as the account, keep the release, draw it."""
    gate: Gate = request.app.state.gate
    releases: Releases = request.app.state.releases
    agreement = agreement_now(request)
    try:
        principal = auth.principal(request, s.caller, agreement, purpose, None)
        released = gate.aggregate(principal, purpose, question)
    except CrosswalkError as e:
        ask = None
        if isinstance(e, AccessDenied) and purpose in agreement.by_request:
            wanted = [("purpose", purpose), ("level", "aggregate")]
            wanted += [("element", f"{d}.{x}") for d, x in sorted(set(question.elements))]
            ask = "/ui/requests/new?" + urlencode(wanted)
        return Shown(title, None, [], [], None, 0, 0, problem=e.message, ask=ask)
    table = released.table
    release = releases.keep(s.username, question.name, table, _plain(released.protected.released()))
    columns, rows, hidden = shown_table(table)
    drawing = None
    if table.num_rows:
        drawing = svg(analytics.chart(chart, table, title, about), title)
    return Shown(title, drawing, columns, rows, release, hidden, released.protected.k)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()
    return value


def _filters(
    start: date | None,
    end: date | None,
    programs: list[str],
    county: str,
    age_group: str,
    sex: str,
) -> analytics.Filters:
    try:
        return analytics.Filters(
            start=start,
            end=end,
            programs=tuple(p.upper() for p in programs if p),
            counties=tuple(c for c in [county.strip()] if c),
            age_groups=tuple(a for a in [age_group] if a),
            sexes=tuple(x for x in [sex] if x),
        )
    except ValidationError as e:
        # A field's own message would repeat what was sent (an age group of the link's
        # choosing): name the field instead; the period's message names only dates.
        raise InvalidRequest(
            "invalid filters: "
            + "; ".join(
                f"{err['loc'][0]}: choose from the page's list" if err["loc"] else str(err["msg"])
                for err in e.errors()
            )
        ) from None


Text = Annotated[str, Query(max_length=64)]


def _known(names: list[str] | None, field: str) -> list[str] | None:
    """``names`` in upper case, each a program of the common model; otherwise refused
    without repeating what was sent."""
    if names is None:
        return None
    wanted = [n.strip().upper() for n in names if n.strip()]
    if any(n not in PROGRAMS for n in wanted):
        raise InvalidRequest(f"{field}: choose from the programs listed on the page")
    return wanted


@router.get("/ui/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    s: SignedIn,
    view: Annotated[str, Query(max_length=16)] = "overlap",
    purpose: Text = "",
    start: Annotated[str, Query(max_length=10)] = "",
    end: Annotated[str, Query(max_length=10)] = "",
    programs: Annotated[list[str] | None, Query(max_length=64)] = None,
    county: Text = "",
    age_group: Text = "",
    sex: Annotated[str, Query(max_length=1)] = "",
    program: Text = "",
    event: Literal["entry", "exit"] = "entry",
    cohort_start: Annotated[str, Query(max_length=10)] = "2015-01-01",
    cohort_end: Annotated[str, Query(max_length=10)] = "2017-12-31",
    years: Annotated[int, Query(ge=1, le=30)] = 4,
    outcomes: Annotated[list[str] | None, Query(max_length=32)] = None,
    by: Literal["age_group", "sex", "county", "all"] = "age_group",
    by_county: bool = False,
    asked: bool = False,
) -> Response:
    """One view of the dashboard, its filters in the query (so a view can be bookmarked)."""
    # Nothing a link sets is shown back in an error: a program or view that is not one of
    # ours is refused in fixed words, so a link cannot put a sentence of its own (up to 32
    # outcomes of 64 characters each) on a Crosswalk page.
    if view not in VIEWS:
        raise ConfigError(f"no such view: the views are {', '.join(VIEWS)}")
    # A county is free text: it is shown back in its box only as typed on this session's
    # page (a link's county would put the sender's words on a Crosswalk page).
    check_typed(request, s, {"county": county}, "a county")
    programs = _known(programs, "programs")
    outcomes = _known(outcomes, "outcomes")
    (program,) = _known([program], "program") or [""]
    agreement = agreement_now(request)
    purposes = usable_purposes(s, agreement, AGGREGATE_PURPOSES)
    if not purposes:
        raise auth.refuse(
            request,
            s.caller,
            "no clause of the agreement in force lets your roles receive aggregate "
            "statistics (program evaluation or research)",
        )
    purpose = purpose if purpose in purposes else purposes[0]
    defaults = DEFAULTS[view]
    first, last = day(start, "from"), day(end, "to")
    if not asked:  # the view's first look: its defaults
        first, last = defaults["start"], defaults["end"]
        programs = list(defaults["programs"])
    f = _filters(first, last, programs or [], county, age_group, sex)
    cohort_from = day(cohort_start, "between") or date(2015, 1, 1)
    cohort_to = day(cohort_end, "and") or date(2017, 12, 31)
    answers: list[Shown] = []
    if view == "overlap":
        span = f"{f.start or 'the start'} to {f.end or 'today'}"
        answers.append(
            _answer(request, s, purpose, analytics.ProgramOverlap(f), "overlap",
                    f"People in each pair of programs, {span}")
        )  # fmt: skip
        answers.append(
            _answer(request, s, purpose, analytics.ProgramCombinations(f), "combinations",
                    f"People by the exact combination of programs, {span}")
        )  # fmt: skip
    elif view == "pathways":
        program = (program or "TANF").upper()
        around = analytics.Pathways(f, program=program)
        answers.append(
            _answer(request, s, purpose, around, "pathways",
                    f"Programs entered just before and after {program}", about=program)
        )  # fmt: skip
    elif view == "cohort":
        program = (program or "UI_CLAIM").upper()
        wanted = tuple(
            o.upper() for o in (outcomes or ["SNAP", "TANF", "MEDICAID", "HOMELESS_SERVICES"]) if o
        )
        try:
            question = analytics.CohortOutcomes(
                analytics.Filters(counties=f.counties, age_groups=f.age_groups, sexes=f.sexes),
                program=program,
                event=event,
                cohort_start=cohort_from,
                cohort_end=cohort_to,
                years=years,
                outcomes=wanted,
            )
        except (ValidationError, ValueError) as e:
            raise InvalidRequest(f"invalid cohort: {e}") from None
        answers.append(
            _answer(request, s, purpose, question, "cohort",
                    f"After {program} {event} ({cohort_from.year}-{cohort_to.year}): "
                    f"share entering each program within {years} years")
        )  # fmt: skip
    elif view == "trends":
        answers.append(
            _answer(request, s, purpose, analytics.Trends(f, by_county=by_county), "trends",
                    "People enrolled each month" + (", by county" if by_county else ""))
        )  # fmt: skip
    else:
        answers.append(
            _answer(request, s, purpose, analytics.LifetimeUse(f, by=by), "lifetime",
                    f"Programs used over a lifetime, by {by.replace('_', ' ')}")
        )  # fmt: skip
    return render(
        request,
        "dashboard.html",
        s,
        agreement=agreement,
        view=view,
        views=VIEWS,
        purposes=purposes,
        purpose=purpose,
        filters=f,
        programs_all=SERVICE_PROGRAMS,
        age_groups=list(AGE_GROUPS),
        sexes=SEXES,
        program=(program or ("TANF" if view == "pathways" else "UI_CLAIM")).upper(),
        event=event,
        cohort_start=cohort_from,
        cohort_end=cohort_to,
        years=years,
        outcomes=[
            o.upper() for o in (outcomes or ["SNAP", "TANF", "MEDICAID", "HOMELESS_SERVICES"])
        ],
        by=by,
        by_county=by_county,
        answers=answers,
        reason=hidden_reason(agreement.min_cell),
    )


@router.get("/ui/releases/{release_id}.{fmt}")
def download(request: Request, s: SignedIn, release_id: str, fmt: str) -> Response:
    """A released answer exactly as it was shown: CSV (hidden figures empty, each count
    with its ``_suppressed`` flag) or JSON (with the disclosure control applied)."""
    release = request.app.state.releases.get(s.username, release_id)
    if fmt == "csv":
        body, kind = release.csv(), "text/csv; charset=utf-8"
    elif fmt == "json":
        body, kind = release.json(), "application/json"
    else:
        raise ConfigError("answers download as .csv or .json")
    name = f"{release.question}.{fmt}"
    return Response(
        body, media_type=kind, headers={"content-disposition": f'attachment; filename="{name}"'}
    )
