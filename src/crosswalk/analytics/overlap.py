"""Program overlap: people in each pair of programs, and in each combination."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crosswalk.access import Scope
from crosswalk.analytics.question import Question, elements_for
from crosswalk.analytics.sql import (
    base_ctes,
    cell_key,
    household_elements,
    household_of,
    keyed,
    values_table,
)
from crosswalk.disclosure import Rate, TableSpec


@dataclass(frozen=True)
class ProgramOverlap(Question):
    """An N x N matrix: people in both program A and program B during the period.

    The diagonal holds each program's total; ``pct_of_a`` is the share of A's people also
    in B (computed after protection from the released counts). ``unit="household"``
    counts enterprise households instead (a family in both programs: one member in A and
    one in B in the period, each in the household on the day their service started).
    """

    unit: Literal["person", "household"] = "person"
    name = "overlap"

    @property
    def elements(self) -> tuple[tuple[str, str], ...]:
        out = elements_for(self.programs)
        return out + household_elements(out) if self.unit == "household" else out

    @property
    def spec(self) -> TableSpec:
        dims = ("program_a", "program_b")
        return TableSpec(
            dimensions=dims,
            counts=("people",),
            rates=(Rate("pct_of_a", "people", "people", {"program_b": "program_a"}),),
            symmetric=dims,
            cell_keys={"people": "people_key"},
        )

    def sql(self, scope: Scope) -> str:
        if self.unit == "person":
            units = """person_program AS (
            SELECT d.person, d.program, k.rk
            FROM (SELECT DISTINCT person, program FROM event) AS d
            JOIN record_key k ON k.person = d.person
        )"""
        else:
            # The household takes the place of the person: one row per household and program.
            units = f"""household_of AS ({household_of(scope, "event")}),
        household_program AS (
            SELECT DISTINCT h.unit, e.program
            FROM event e JOIN household_of h ON h.event_key = e.event_key
        ),
        person_program AS (
            SELECT unit AS person, program, rk
            FROM ({keyed(scope, "household_program", "unit", ("unit", "program"))}) AS k
        )"""
        return f"""
        WITH {base_ctes(self.filters, scope)},
        {values_table("program_list", "program", self.programs)},
        {units},
        pair AS (
            SELECT a.program AS program_a, b.program AS program_b, count(*) AS people,
                   {cell_key("a.rk")} AS people_key
            FROM person_program a
            JOIN person_program b ON b.person = a.person
            GROUP BY a.program, b.program
        )
        SELECT pa.program AS program_a, pb.program AS program_b,
               coalesce(pair.people, 0) AS people, pair.people_key
        FROM program_list pa
        CROSS JOIN program_list pb
        LEFT JOIN pair ON pair.program_a = pa.program AND pair.program_b = pb.program
        ORDER BY program_a, program_b
        """


@dataclass(frozen=True)
class ProgramCombinations(Question):
    """UpSet-style: people by the exact set of programs they used in the period.

    ``combination`` joins the programs with ``+`` in alphabetical order; the ``ALL`` row
    is everyone, the sum of the combinations.
    """

    name = "combinations"

    @property
    def spec(self) -> TableSpec:
        return TableSpec(
            dimensions=("combination",),
            counts=("people",),
            margins={"combination": "ALL"},
            cell_keys={"people": "people_key"},
        )

    def sql(self, scope: Scope) -> str:
        return f"""
        WITH {base_ctes(self.filters, scope)},
        person_combination AS (
            SELECT d.person, string_agg(d.program, '+' ORDER BY d.program) AS combination,
                   any_value(k.rk) AS rk
            FROM (SELECT DISTINCT person, program FROM event) AS d
            JOIN record_key k ON k.person = d.person
            GROUP BY d.person
        )
        SELECT combination, people, people_key FROM (
            SELECT c.combination, count(*) AS people, {cell_key("c.rk")} AS people_key
            FROM person_combination c
            GROUP BY c.combination
            UNION ALL
            SELECT 'ALL', count(*), {cell_key("c.rk")}
            FROM person_combination c
        ) AS t
        ORDER BY combination = 'ALL', people DESC, combination
        """
