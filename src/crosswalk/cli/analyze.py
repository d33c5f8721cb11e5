"""``crosswalk analyze …``: cross-agency questions, answered under the agreement.

Each command builds a question from the crosswalk.analytics library and asks it as a
signed-in account for a purpose: aggregates come back under disclosure control, row-level
answers only where the agreement allows them. ``--sql`` prints the query instead.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import typer
from pydantic import ValidationError
from rich.console import Console, RenderableType

from crosswalk import analytics
from crosswalk.cli import output
from crosswalk.cli.ingest import HubOption
from crosswalk.cli.principal import READ_OPTIONS, asker_from
from crosswalk.disclosure import Protected
from crosswalk.errors import ConfigError, Problem

analyze_app = typer.Typer(
    help="Cross-agency analytics: overlap, pathways, lifetime use, cohorts, trends.",
    no_args_is_help=True,
)

Start = Annotated[str | None, typer.Option(help="Period start, YYYY-MM-DD.")]
End = Annotated[str | None, typer.Option(help="Period end, YYYY-MM-DD.")]
Programs = Annotated[list[str] | None, typer.Option("--program", help="Program (repeat).")]
Counties = Annotated[list[str] | None, typer.Option("--county", help="County (repeat).")]
AgeGroups = Annotated[
    list[str] | None,
    typer.Option("--age-group", help=f"Age group (repeat): {', '.join(analytics.AGE_GROUPS)}."),
]
Sexes = Annotated[list[str] | None, typer.Option("--sex", help="Sex M, F or U (repeat).")]
Out = Annotated[Path | None, typer.Option(help="Write the table: .csv, .parquet or .json.")]
ChartOut = Annotated[
    list[Path] | None, typer.Option("--chart", help="Write a chart: .png or .html (repeat).")
]
Sql = Annotated[bool, typer.Option("--sql", help="Print the SQL and stop.")]
Dialect = Annotated[str, typer.Option(help="SQL dialect for --sql, e.g. duckdb or spark.")]


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ConfigError(f"--{name} must be a date YYYY-MM-DD, not {value!r}") from None


def filters_from(
    start: str | None,
    end: str | None,
    programs: list[str] | None,
    counties: list[str] | None,
    age_groups: list[str] | None,
    sexes: list[str] | None,
) -> analytics.Filters:
    """Validated filters from the command line; every problem reported at once."""
    try:
        return analytics.Filters(
            start=_day(start, "start"),
            end=_day(end, "end"),
            programs=tuple(p.upper() for p in programs or ()),
            counties=tuple(counties or ()),
            age_groups=tuple(age_groups or ()),
            sexes=tuple(sexes or ()),
        )
    except ValidationError as e:
        problems = [
            Problem(err["msg"], field=".".join(str(x) for x in err["loc"]) or None)
            for err in e.errors()
        ]
        raise ConfigError("invalid filters", problems) from None


HIDDEN = "·"  # how a figure hidden by disclosure control is shown


def _cell(value: object) -> str:
    if value is None:
        return HIDDEN
    return f"{value:,}" if isinstance(value, int) else str(value)


def answer_table(name: str, table: pa.Table, title: str) -> RenderableType:
    """A question's answer for the terminal; the overlap as a program-by-program matrix."""
    if name == "overlap":
        programs = list(dict.fromkeys(table.column("program_a").to_pylist()))
        people = {
            (r["program_a"], r["program_b"]): r["people"]
            for r in table.select(["program_a", "program_b", "people"]).to_pylist()
        }
        matrix = ([a, *(_cell(people[a, b]) for b in programs)] for a in programs)
        return output.table(["people in", *programs], matrix, title=title)
    shown = [c for c in table.column_names if not c.endswith("_suppressed")]
    rows = ([_cell(v) for v in row.values()] for row in table.select(shown).to_pylist())
    return output.table(shown, rows, title=title)


def protection_note(protected: Protected) -> str:
    counts = sum(c.reason != "derived" for c in protected.suppressed)
    return (
        f"{counts} counts hidden ({HIDDEN}): counts 1 to {protected.k - 1} and any count that "
        "would reveal one, with the rates made from them; counts and medians perturbed by the "
        "cell-key method (see docs/disclosure.md)"
    )


def _deliver(
    question: analytics.Question | analytics.HeavyUsers,
    title: str,
    sign_in: dict[str, Any],
    *,
    hub: Path | None,
    control: str | None,
    out: Path | None,
    chart: list[Path] | None,
    sql: bool,
    dialect: str,
    as_json: bool = False,
    as_csv: bool = False,
    level: str = "pseudonymised",
) -> None:
    """Print the SQL (no sign-in: it reads nothing), or sign in, ask the question as the
    account and deliver the answer."""
    if sql:
        Console().print(question.render(dialect=dialect), markup=False, highlight=False)
        return
    operation = sign_in.pop("operation")
    who = asker_from({**sign_in, "control": control}, operation=operation)
    principal, why = who.principal, who.purpose
    if isinstance(question, analytics.HeavyUsers):
        table = analytics.ask_rows(question, principal, why, level, hub=hub, control=control)
        note = None
    else:
        answer = analytics.ask(question, principal, why, hub=hub, control=control)
        table, note = answer.table, protection_note(answer.protected)
        for path in chart or ():
            about = getattr(question, "program", None)
            analytics.write_chart(analytics.chart(question.name, table, title, about), path)
    if out is not None:
        analytics.write_table(table, out)
    elif as_json or as_csv:
        output.emit(table, as_json=as_json, as_csv=as_csv)
    else:
        Console().print(answer_table(question.name, table, title))
    if note:
        Console(stderr=True).print(note)


# Options every command shares: the filters, who asks and why, the stores, the output.
FILTERS: dict[str, tuple[Any, Any]] = {
    "start": (Start, None),
    "end": (End, None),
    "program": (Programs, None),
    "county": (Counties, None),
    "age_group": (AgeGroups, None),
    "sex": (Sexes, None),
}
SHARED: dict[str, tuple[Any, Any]] = {
    **READ_OPTIONS,
    "hub": (HubOption, None),
    "out": (Out, None),
    "chart": (ChartOut, None),
    "sql": (Sql, False),
    "dialect": (Dialect, "duckdb"),
    "as_json": (output.Json, False),
    "as_csv": (output.Csv, False),
}

Build = Callable[..., tuple["analytics.Question | analytics.HeavyUsers", str]]


def question_command(
    name: str, *, shared: tuple[str, ...] = tuple(SHARED)
) -> Callable[[Build], Build]:
    """Register ``crosswalk analyze NAME`` from a function that builds the question and
    its title from validated filters ``f`` and its own options; the filters and shared
    options are added to the command's signature here, once for every command."""

    def register(build: Build) -> Build:
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(build, eval_str=True).parameters.values()
            if p.name != "f"
        ]
        added = [
            inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=a, default=d)
            for n, (a, d) in {**FILTERS, **SHARED}.items()
            if n in FILTERS or n in shared
        ]

        def command(ctx: typer.Context, **options: Any) -> None:
            f = filters_from(*(options.pop(n) for n in FILTERS))
            given = {n: options.pop(n, SHARED[n][1]) for n in SHARED}
            sign_in = {n: given.pop(n) for n in READ_OPTIONS if n != "control"}
            sign_in["operation"] = ctx.command_path
            level = options.get("level", "pseudonymised")
            question, title = build(f, **options)
            _deliver(question, title, sign_in, **given, level=level)

        context = inspect.Parameter(
            "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
        )
        params = [context, *own, *added]
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        command.__doc__ = build.__doc__
        analyze_app.command(name)(command)
        return build

    return register


@question_command("overlap")
def overlap(
    f: analytics.Filters,
    unit: Annotated[
        str, typer.Option(help="person, or household (enterprise households).")
    ] = "person",
) -> tuple[analytics.Question, str]:
    """People (or households) in each pair of programs (N x N, with the share of the row's program).

    Example: crosswalk analyze overlap --start 2019-01-01 --end 2019-12-31 --purpose program_evaluation --chart overlap.html
    """
    if unit not in ("person", "household"):
        raise ConfigError(f"--unit must be person or household, not {unit!r}")
    question = analytics.ProgramOverlap(f, unit=unit)  # type: ignore[arg-type]
    return (
        question,
        "People in both programs" if unit == "person" else "Households in both programs",
    )


@question_command("combinations")
def combinations(f: analytics.Filters) -> tuple[analytics.Question, str]:
    """People by the exact combination of programs they used (UpSet-style).

    Example: crosswalk analyze combinations --start 2019-01-01 --end 2019-12-31 --profile analyst.yaml --out combinations.csv
    """
    return analytics.ProgramCombinations(f), "People by combination of programs"


@question_command("pathways")
def pathways(
    f: analytics.Filters,
    around: Annotated[str, typer.Argument(help="The program, e.g. TANF.")],
) -> tuple[analytics.Question, str]:
    """Programs entered just before and just after a program, and the days between.

    Example: crosswalk analyze pathways TANF --start 2015-01-01 --end 2020-12-31 --profile analyst.yaml --chart tanf.png
    """
    program = around.upper()
    return analytics.Pathways(f, program=program), f"Pathways into and out of {program}"


@question_command("lifetime")
def lifetime(
    f: analytics.Filters,
    by: Annotated[str, typer.Option(help="Break down by age_group, sex, county or all.")] = "all",
    unit: Annotated[
        str, typer.Option(help="person, or household (enterprise households).")
    ] = "person",
) -> tuple[analytics.Question, str]:
    """Programs used over a lifetime, with median episodes, days and amounts.

    Example: crosswalk analyze lifetime --by age_group --end 2024-12-31 --profile analyst.yaml --chart lifetime.png
    """
    if by not in ("age_group", "sex", "county", "all"):
        raise ConfigError(f"--by must be age_group, sex, county or all, not {by!r}")
    if unit not in ("person", "household"):
        raise ConfigError(f"--unit must be person or household, not {unit!r}")
    question = analytics.LifetimeUse(f, by=by, unit=unit)  # type: ignore[arg-type]
    return question, f"Programs used per {unit}, by {by}"


@question_command("cohort")
def cohort(
    f: analytics.Filters,
    of: Annotated[str, typer.Argument(help="The cohort's program, e.g. FOSTER_CARE.")],
    event: Annotated[str, typer.Option(help="entry or exit.")] = "exit",
    cohort_start: Annotated[str, typer.Option(help="Cohort window start.")] = "2015-01-01",
    cohort_end: Annotated[str, typer.Option(help="Cohort window end.")] = "2018-12-31",
    years: Annotated[int, typer.Option(help="Years of follow-up.")] = 5,
    outcome: Annotated[
        list[str] | None, typer.Option("--outcome", help="Outcome program (repeat).")
    ] = None,
) -> tuple[analytics.Question, str]:
    """Follow a cohort into other programs: cumulative incidence by year, from a yearly life
    table with 95% bands (follow-up ends at --end, default today; --start and --program do
    not apply).

    Example: crosswalk analyze cohort FOSTER_CARE --event exit --cohort-start 2015-01-01 --cohort-end 2018-12-31 --outcome JUVENILE_DETENTION --outcome INCARCERATION --profile analyst.yaml --chart cohort.html
    """
    if event not in ("entry", "exit"):
        raise ConfigError(f"--event must be entry or exit, not {event!r}")
    if f.start is not None or f.programs:
        raise ConfigError("cohort: use --cohort-start and --outcome, not --start and --program")
    first, last = _day(cohort_start, "cohort-start"), _day(cohort_end, "cohort-end")
    assert first is not None and last is not None
    question = analytics.CohortOutcomes(
        f,
        program=of.upper(),
        event=event,  # type: ignore[arg-type]
        cohort_start=first,
        cohort_end=last,
        years=years,
        outcomes=tuple(o.upper() for o in outcome or ()),
    )
    return (
        question,
        f"After {of.upper()} {event}: cumulative % entering each program (yearly life table)",
    )


@question_command("trends")
def trends(
    f: analytics.Filters,
    by_county: Annotated[bool, typer.Option(help="One series per county.")] = True,
) -> tuple[analytics.Question, str]:
    """Monthly enrolment by program (and county); --start and --end are required.

    Example: crosswalk analyze trends --start 2019-01-01 --end 2020-12-31 --program SNAP --program TANF --no-by-county --profile analyst.yaml --chart trends.png
    """
    return analytics.Trends(f, by_county=by_county), "People enrolled per month"


@question_command("heavy-users", shared=tuple(n for n in SHARED if n != "chart"))
def heavy_users(
    f: analytics.Filters,
    limit: Annotated[int, typer.Option(help="How many people.")] = 100,
    level: Annotated[str, typer.Option(help="identified or pseudonymised.")] = "pseudonymised",
) -> tuple[analytics.HeavyUsers, str]:
    """The heaviest multi-system users (row-level: only where the agreement allows).

    Example: crosswalk analyze heavy-users --limit 50 --program MEDICAID --program SNAP --program TANF --purpose research --token-file ~/.config/crosswalk/researcher.token
    """
    return analytics.HeavyUsers(f, limit=limit), f"Heaviest multi-system users ({level})"


def register(app: typer.Typer) -> None:
    app.add_typer(analyze_app, name="analyze")
