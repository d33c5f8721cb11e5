"""Pathways: which programs people enter just before and just after a given program."""

from __future__ import annotations

from dataclasses import dataclass

from crosswalk.access import Scope
from crosswalk.analytics.filters import SERVICE_PROGRAMS
from crosswalk.analytics.question import Question, elements_for
from crosswalk.analytics.sql import (
    base_ctes,
    cell_key,
    keyed,
    literal,
    of_people,
    values_table,
)
from crosswalk.disclosure import Sum, TableSpec
from crosswalk.errors import ConfigError
from crosswalk.model import PROGRAMS

NONE = "(none)"


@dataclass(frozen=True)
class Pathways(Question):
    """Transitions around ``program`` for the people who first entered it in the period.

    For each such person, the step ``before`` is the other program they entered most
    recently before (at any earlier time), the step ``after`` the next program they
    entered; ``(none)`` when there is none. ``median_days`` is the median time between the
    two entries. Rows are links of a Sankey diagram: before:X -> program -> after:Y, and
    each direction's ``ALL`` row is the number of people entering the program.
    """

    program: str = "SNAP"
    name = "pathways"

    def __post_init__(self) -> None:
        if self.program not in PROGRAMS:
            raise ConfigError(f"unknown program {self.program!r}")

    @property
    def steps(self) -> tuple[str, ...]:
        """Programs that can come before or after."""
        listed = self.filters.programs or SERVICE_PROGRAMS
        return tuple(p for p in listed if p != self.program)

    @property
    def programs(self) -> tuple[str, ...]:
        return (self.program, *self.steps)

    @property
    def elements(self) -> tuple[tuple[str, str], ...]:
        return elements_for(self.programs)

    @property
    def spec(self) -> TableSpec:
        return TableSpec(
            dimensions=("direction", "program"),
            counts=("people",),
            margins={"program": "ALL"},
            sums=(
                Sum(
                    {"direction": "before", "program": "ALL"},
                    ({"direction": "after", "program": "ALL"},),
                ),
            ),
            statistics={"median_days": "people"},
            cell_keys={"people": "people_key"},
        )

    def sql(self, scope: Scope) -> str:
        anchor = literal(self.program)
        period = ["TRUE"]
        if self.filters.start is not None:
            period.append(f"entered >= {literal(self.filters.start)}")
        if self.filters.end is not None:
            period.append(f"entered <= {literal(self.filters.end)}")
        return f"""
        WITH {base_ctes(self.filters, scope, self.programs)},
        first_entry AS (
            SELECT s.person, any_value(s.enterprise_id) AS enterprise_id,
                   min(s.start_date) AS entered
            FROM service s
            WHERE s.program = {anchor} AND {of_people(self.filters, "s.person")}
            GROUP BY s.person
        ),
        entrant_period AS (SELECT * FROM first_entry WHERE {" AND ".join(period)}),
        entrant AS ({keyed(scope, "entrant_period", "enterprise_id", ("person", "entered"))}),
        ranked AS (
            SELECT a.person, s.program,
                   CASE WHEN s.start_date < a.entered THEN 'before' ELSE 'after' END AS direction,
                   abs(date_diff('day', a.entered, s.start_date)) AS days,
                   row_number() OVER (
                       PARTITION BY a.person, s.start_date < a.entered
                       ORDER BY abs(date_diff('day', a.entered, s.start_date)), s.program
                   ) AS r
            FROM entrant a
            JOIN service s ON s.person = a.person AND s.program <> {anchor}
                AND s.start_date <> a.entered
        ),
        {values_table("direction_list", "direction", ("before", "after"))},
        step AS (
            SELECT a.person, d.direction, coalesce(r.program, {literal(NONE)}) AS program, r.days,
                   a.rk
            FROM entrant a CROSS JOIN direction_list d
            LEFT JOIN ranked r ON r.person = a.person AND r.direction = d.direction AND r.r = 1
        ),
        link AS (
            SELECT s.direction, s.program, count(*) AS people,
                   median(s.days) AS median_days, {cell_key("s.rk")} AS people_key
            FROM step s
            GROUP BY s.direction, s.program
            UNION ALL
            SELECT s.direction, 'ALL', count(*), NULL, {cell_key("s.rk")}
            FROM step s
            GROUP BY s.direction
        ),
        {values_table("step_list", "program", (*self.steps, NONE, "ALL"))}
        SELECT d.direction, l.program, coalesce(k.people, 0) AS people,
               CAST(k.median_days AS DOUBLE) AS median_days, k.people_key
        FROM direction_list d CROSS JOIN step_list l
        LEFT JOIN link k ON k.direction = d.direction AND k.program = l.program
        ORDER BY d.direction DESC, l.program = 'ALL', people DESC, l.program
        """
