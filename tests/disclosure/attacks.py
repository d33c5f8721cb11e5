"""The attacks of a determined analyst, on released tables only.

Each attack gets ``ask``: a function from a question to its released table, as an analyst
would get it (hidden figures are null). Nothing here reads exact counts, keys or the
release history: the attacks know only what any analyst knows, plus, as the strongest
attacker would, the truth about their target's birthday and county.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import mean

import pyarrow as pa
from population import Person

from crosswalk.analytics import AGE_GROUPS, Filters, ProgramOverlap, Question

Ask = Callable[[Question], pa.Table]
START = date(2015, 1, 1)
# Programs an attacker adds to a question to get other variants of the same cells.
EXTRAS: tuple[tuple[str, ...], ...] = (
    (),
    ("SNAP",),
    ("TANF",),
    ("MENTAL_HEALTH",),
    ("UI_CLAIM",),
    ("HOMELESS_SERVICES",),
    ("FOSTER_CARE",),
    ("SNAP", "TANF"),
    ("SNAP", "MENTAL_HEALTH"),
    ("TANF", "UI_CLAIM"),
    ("MENTAL_HEALTH", "HOMELESS_SERVICES"),
    ("SNAP", "TANF", "UI_CLAIM"),
)


def value(table: pa.Table, count: str = "people", **dims: str) -> int | None:
    """The released figure of the row with ``dims`` (None if hidden)."""
    for row in table.to_pylist():
        if all(row[d] == v for d, v in dims.items()):
            return row[count]
    raise KeyError(dims)


def overlap(programs: Sequence[str], **filters: object) -> ProgramOverlap:
    return ProgramOverlap(Filters(programs=tuple(dict.fromkeys(programs)), **filters))  # type: ignore[arg-type]


def average_cell(ask: Ask, a: str, b: str, variants: int, **filters: object) -> float | None:
    """The mean released (a, b) overlap over ``variants`` questions that each ask other
    programs beside a and b: the averaging attack."""
    shown = []
    for extra in EXTRAS[:variants]:
        v = value(ask(overlap((a, b, *extra), **filters)), program_a=a, program_b=b)
        if v is not None:
            shown.append(v)
    return mean(shown) if shown else None


def county_by_differencing(
    ask: Ask, program: str, county: str, counties: Sequence[str], variants: int
) -> list[int]:
    """A county's count of a program as the state's total minus the other counties'
    total, in each of ``variants`` phrasings (where both are shown)."""
    others = tuple(c for c in counties if c != county)
    out = []
    for extra in EXTRAS[:variants]:
        everyone, rest = (
            value(
                ask(overlap((program, *extra), counties=tuple(c))),
                program_a=program,
                program_b=program,
            )
            for c in (counties, others)
        )
        if everyone is not None and rest is not None:
            out.append(everyone - rest)
    return out


def birthday(person: Person) -> tuple[str, date] | None:
    """The age group the person enters next in 2016-2020, and the first day they are in it
    (ages are whole years on the period's end, as docs/analytics.md says)."""
    for group, (lo, _) in AGE_GROUPS.items():
        if lo == 0:
            continue
        first = person.dob + timedelta(days=math.ceil(lo * 365.25))
        if date(2016, 1, 1) <= first <= date(2020, 12, 31) and first.day != 1:
            return group, first
    return None


@dataclass(frozen=True)
class Guess:
    target: str
    truth: bool
    guess: bool


def in_sud_by_birthday(ask: Ask, person: Person, variants: int) -> bool:
    """Is ``person`` in substance-use treatment? Ask the people in SUD treatment of their
    next age group on the day before they enter it and on the day they do, in
    ``variants`` phrasings, and compare."""
    group, first = birthday(person)  # type: ignore[misc]
    differences = []
    for extra in EXTRAS[:variants]:
        programs = ("SUD_TREATMENT", "MEDICAID", *extra)
        before, on = (
            ask(overlap(programs, start=START, end=end, age_groups=(group,)))
            for end in (first - timedelta(days=1), first)
        )
        for other in ("SUD_TREATMENT", "MEDICAID"):
            cells = [value(t, program_a=other, program_b="SUD_TREATMENT") for t in (before, on)]
            if None not in cells:
                differences.append(cells[1] - cells[0])  # type: ignore[operator]
    if not differences:
        return False
    if len(set(differences)) == 1:
        # Consistent noise: the cell changed only if the person is in it.
        return differences[0] != 0
    return mean(differences) >= 0.5


def membership(ask: Ask, targets: Sequence[Person], variants: int) -> list[Guess]:
    out = []
    for person in targets:
        _, first = birthday(person)  # type: ignore[misc]
        out.append(
            Guess(
                person.enterprise_id,
                person.served("SUD_TREATMENT", first),
                in_sud_by_birthday(ask, person, variants),
            )
        )
    return out


def success(guesses: Sequence[Guess]) -> float:
    return sum(g.truth == g.guess for g in guesses) / len(guesses)
