"""``crosswalk analyze …``: cross-agency questions, answered under the agreement.

Each command builds a question from the crosswalk.analytics library and asks it as a
named principal for a purpose: aggregates come back under disclosure control, row-level
answers only where the agreement allows them. ``--sql`` prints the query instead.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from crosswalk import analytics
from crosswalk.cli.access import Agency, Control, Profile, Purpose, Role, User, principal_from
from crosswalk.cli.ingest import HubOption
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


def answer_table(name: str, table: pa.Table, title: str) -> Table:
    """A question's answer for the terminal; the overlap as a program-by-program matrix."""
    if name == "overlap":
        programs = list(dict.fromkeys(table.column("program_a").to_pylist()))
        people = {
            (r["program_a"], r["program_b"]): r["people"]
            for r in table.select(["program_a", "program_b", "people"]).to_pylist()
        }
        out = Table("", *programs, title=title)
        for a in programs:
            out.add_row(a, *(_cell(people[a, b]) for b in programs))
        return out
    shown = [c for c in table.column_names if not c.endswith("_suppressed")]
    out = Table(*shown, title=title)
    for row in table.select(shown).to_pylist():
        out.add_row(*(_cell(v) for v in row.values()))
    return out


def protection_note(protected: Protected) -> str:
    counts = sum(c.reason != "derived" for c in protected.suppressed)
    return (
        f"{counts} counts hidden ({HIDDEN}): counts 1 to {protected.k - 1} and any count that "
        "would reveal one, with the rates made from them; counts perturbed by the cell-key "
        "method (see docs/disclosure.md)"
    )


def _deliver(
    question: analytics.Question,
    title: str,
    principal_args: tuple,
    hub: Path | None,
    control: str | None,
    out: Path | None,
    charts: list[Path] | None,
    sql: bool,
    dialect: str,
) -> None:
    if sql:
        Console().print(question.render(dialect=dialect), markup=False, highlight=False)
        return
    principal, purpose = principal_from(*principal_args)
    answer = analytics.ask(question, principal, purpose, hub=hub, control=control)
    if out is not None:
        analytics.write_table(answer.table, out)
    for path in charts or ():
        analytics.write_chart(analytics.chart(question.name, answer.table, title), path)
    if out is None:
        Console().print(answer_table(question.name, answer.table, title))
    Console(stderr=True).print(protection_note(answer.protected))


@analyze_app.command("overlap")
def overlap(
    start: Start = None,
    end: End = None,
    program: Programs = None,
    county: Counties = None,
    age_group: AgeGroups = None,
    sex: Sexes = None,
    user: User = None,
    agency: Agency = None,
    role: Role = None,
    purpose: Purpose = None,
    profile: Profile = None,
    hub: HubOption = None,
    control: Control = None,
    out: Out = None,
    chart: ChartOut = None,
    sql: Sql = False,
    dialect: Dialect = "duckdb",
) -> None:
    """People in each pair of programs (N x N, with the share of the row's program).

    Example: crosswalk analyze overlap --start 2019-01-01 --end 2019-12-31 --user ada --agency hfs --role analyst --purpose program_evaluation --chart overlap.html
    """
    f = filters_from(start, end, program, county, age_group, sex)
    _deliver(
        analytics.ProgramOverlap(f),
        "People in both programs",
        (user, agency, role, purpose, profile),
        hub,
        control,
        out,
        chart,
        sql,
        dialect,
    )


@analyze_app.command("combinations")
def combinations(
    start: Start = None,
    end: End = None,
    program: Programs = None,
    county: Counties = None,
    age_group: AgeGroups = None,
    sex: Sexes = None,
    user: User = None,
    agency: Agency = None,
    role: Role = None,
    purpose: Purpose = None,
    profile: Profile = None,
    hub: HubOption = None,
    control: Control = None,
    out: Out = None,
    chart: ChartOut = None,
    sql: Sql = False,
    dialect: Dialect = "duckdb",
) -> None:
    """People by the exact combination of programs they used (UpSet-style).

    Example: crosswalk analyze combinations --start 2019-01-01 --end 2019-12-31 --profile analyst.yaml --out combinations.csv
    """
    f = filters_from(start, end, program, county, age_group, sex)
    _deliver(
        analytics.ProgramCombinations(f),
        "People by combination of programs",
        (user, agency, role, purpose, profile),
        hub,
        control,
        out,
        chart,
        sql,
        dialect,
    )


@analyze_app.command("pathways")
def pathways(
    around: Annotated[str, typer.Argument(help="The program, e.g. TANF.")],
    start: Start = None,
    end: End = None,
    program: Programs = None,
    county: Counties = None,
    age_group: AgeGroups = None,
    sex: Sexes = None,
    user: User = None,
    agency: Agency = None,
    role: Role = None,
    purpose: Purpose = None,
    profile: Profile = None,
    hub: HubOption = None,
    control: Control = None,
    out: Out = None,
    chart: ChartOut = None,
    sql: Sql = False,
    dialect: Dialect = "duckdb",
) -> None:
    """Programs entered just before and just after a program, and the days between.

    Example: crosswalk analyze pathways TANF --start 2015-01-01 --end 2020-12-31 --profile analyst.yaml --chart tanf.png
    """
    f = filters_from(start, end, program, county, age_group, sex)
    _deliver(
        analytics.Pathways(f, program=around.upper()),
        f"Pathways into and out of {around.upper()}",
        (user, agency, role, purpose, profile),
        hub,
        control,
        out,
        chart,
        sql,
        dialect,
    )


@analyze_app.command("lifetime")
def lifetime(
    by: Annotated[str, typer.Option(help="Break down by age_group, sex, county or all.")] = "all",
    unit: Annotated[str, typer.Option(help="person or household.")] = "person",
    start: Start = None,
    end: End = None,
    program: Programs = None,
    county: Counties = None,
    age_group: AgeGroups = None,
    sex: Sexes = None,
    user: User = None,
    agency: Agency = None,
    role: Role = None,
    purpose: Purpose = None,
    profile: Profile = None,
    hub: HubOption = None,
    control: Control = None,
    out: Out = None,
    chart: ChartOut = None,
    sql: Sql = False,
    dialect: Dialect = "duckdb",
) -> None:
    """Programs used over a lifetime, with median episodes, days and amounts.

    Example: crosswalk analyze lifetime --by age_group --end 2024-12-31 --profile analyst.yaml --chart lifetime.png
    """
    if by not in ("age_group", "sex", "county", "all"):
        raise ConfigError(f"--by must be age_group, sex, county or all, not {by!r}")
    if unit not in ("person", "household"):
        raise ConfigError(f"--unit must be person or household, not {unit!r}")
    f = filters_from(start, end, program, county, age_group, sex)
    question = analytics.LifetimeUse(
        f,
        by=by,  # type: ignore[arg-type]
        unit=unit,  # type: ignore[arg-type]
    )
    _deliver(
        question,
        f"Programs used per {unit}, by {by}",
        (user, agency, role, purpose, profile),
        hub,
        control,
        out,
        chart,
        sql,
        dialect,
    )


@analyze_app.command("cohort")
def cohort(
    of: Annotated[str, typer.Argument(help="The cohort's program, e.g. FOSTER_CARE.")],
    event: Annotated[str, typer.Option(help="entry or exit.")] = "exit",
    cohort_start: Annotated[str, typer.Option(help="Cohort window start.")] = "2015-01-01",
    cohort_end: Annotated[str, typer.Option(help="Cohort window end.")] = "2018-12-31",
    years: Annotated[int, typer.Option(help="Years of follow-up.")] = 5,
    outcome: Annotated[
        list[str] | None, typer.Option("--outcome", help="Outcome program (repeat).")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Follow-up ends (default today).")] = None,
    county: Counties = None,
    age_group: AgeGroups = None,
    sex: Sexes = None,
    user: User = None,
    agency: Agency = None,
    role: Role = None,
    purpose: Purpose = None,
    profile: Profile = None,
    hub: HubOption = None,
    control: Control = None,
    out: Out = None,
    chart: ChartOut = None,
    sql: Sql = False,
    dialect: Dialect = "duckdb",
) -> None:
    """Follow a cohort into other programs: cumulative incidence by year.

    Example: crosswalk analyze cohort FOSTER_CARE --event exit --cohort-start 2015-01-01 --cohort-end 2018-12-31 --outcome JUVENILE_DETENTION --outcome INCARCERATION --profile analyst.yaml --chart cohort.html
    """
    if event not in ("entry", "exit"):
        raise ConfigError(f"--event must be entry or exit, not {event!r}")
    f = filters_from(None, end, None, county, age_group, sex)
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
    _deliver(
        question,
        f"After {of.upper()} {event}: cumulative % entering each program",
        (user, agency, role, purpose, profile),
        hub,
        control,
        out,
        chart,
        sql,
        dialect,
    )


@analyze_app.command("trends")
def trends(
    start: Annotated[str, typer.Option(help="First month, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option(help="Last month, YYYY-MM-DD.")],
    by_county: Annotated[bool, typer.Option(help="One series per county.")] = True,
    program: Programs = None,
    county: Counties = None,
    age_group: AgeGroups = None,
    sex: Sexes = None,
    user: User = None,
    agency: Agency = None,
    role: Role = None,
    purpose: Purpose = None,
    profile: Profile = None,
    hub: HubOption = None,
    control: Control = None,
    out: Out = None,
    chart: ChartOut = None,
    sql: Sql = False,
    dialect: Dialect = "duckdb",
) -> None:
    """Monthly enrolment by program (and county).

    Example: crosswalk analyze trends --start 2019-01-01 --end 2020-12-31 --program SNAP --program TANF --no-by-county --profile analyst.yaml --chart trends.png
    """
    f = filters_from(start, end, program, county, age_group, sex)
    _deliver(
        analytics.Trends(f, by_county=by_county),
        "People enrolled per month",
        (user, agency, role, purpose, profile),
        hub,
        control,
        out,
        chart,
        sql,
        dialect,
    )


@analyze_app.command("heavy-users")
def heavy_users(
    limit: Annotated[int, typer.Option(help="How many people.")] = 100,
    level: Annotated[str, typer.Option(help="identified or pseudonymised.")] = "pseudonymised",
    start: Start = None,
    end: End = None,
    program: Programs = None,
    county: Counties = None,
    age_group: AgeGroups = None,
    sex: Sexes = None,
    user: User = None,
    agency: Agency = None,
    role: Role = None,
    purpose: Purpose = None,
    profile: Profile = None,
    hub: HubOption = None,
    control: Control = None,
    out: Out = None,
    sql: Sql = False,
    dialect: Dialect = "duckdb",
) -> None:
    """The heaviest multi-system users (row-level: only where the agreement allows).

    Example: crosswalk analyze heavy-users --limit 50 --program MEDICAID --program SNAP --program TANF --user rae --agency cdo --role researcher --purpose research
    """
    f = filters_from(start, end, program, county, age_group, sex)
    question = analytics.HeavyUsers(f, limit=limit)
    if sql:
        Console().print(question.render(dialect=dialect), markup=False, highlight=False)
        return
    principal, why = principal_from(user, agency, role, purpose, profile)
    table = analytics.ask_rows(question, principal, why, level, hub=hub, control=control)
    if out is not None:
        analytics.write_table(table, out)
    else:
        Console().print(
            answer_table(question.name, table, f"Heaviest multi-system users ({level})")
        )


def register(app: typer.Typer) -> None:
    app.add_typer(analyze_app, name="analyze")
