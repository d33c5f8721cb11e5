"""Trends: people enrolled in each program each month, by county."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from crosswalk.access import Scope
from crosswalk.analytics.question import Question
from crosswalk.analytics.sql import base_ctes, cell_key, literal, values_table
from crosswalk.disclosure import TableSpec
from crosswalk.errors import ConfigError


def months(start: date, end: date) -> list[date]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@dataclass(frozen=True)
class Trends(Question):
    """Monthly enrolment: distinct people with a service in the program during the month.

    The county is the county of the service. Without totals, the table has no relations
    to protect beyond the cells themselves.
    """

    by_county: bool = True
    name = "trends"

    def __post_init__(self) -> None:
        if self.filters.start is None or self.filters.end is None:
            raise ConfigError("trends need a period: give a start and an end")
        if len(months(self.filters.start, self.filters.end)) > 240:
            raise ConfigError("trends cover at most 20 years of months")

    @property
    def dimensions(self) -> tuple[str, ...]:
        return ("month", "program", "county") if self.by_county else ("month", "program")

    @property
    def spec(self) -> TableSpec:
        return TableSpec(self.dimensions, ("people",), cell_keys={"people": "people_key"})

    def sql(self, scope: Scope) -> str:
        assert self.filters.start is not None and self.filters.end is not None
        county = "e.county" if self.by_county else "'ALL'"
        return f"""
        WITH {base_ctes(self.filters, scope)},
        {values_table("month_list", "month", months(self.filters.start, self.filters.end))},
        enrolled AS (
            SELECT DISTINCT m.month, e.program, coalesce({county}, 'unknown') AS county,
                   e.person
            FROM event e JOIN month_list m
              ON e.start_date < m.month + INTERVAL 1 MONTH
             AND coalesce(e.end_date, {literal(self.filters.end)}) >= m.month
        ),
        {values_table("program_list", "program", self.programs)},
        county_list AS (SELECT DISTINCT county FROM enrolled),
        cell AS (
            SELECT n.month, n.program, n.county, count(*) AS people,
                   {cell_key("k.rk")} AS people_key
            FROM enrolled n JOIN record_key k ON k.person = n.person
            GROUP BY n.month, n.program, n.county
        )
        SELECT m.month, g.program, {"c.county, " if self.by_county else ""}
               coalesce(x.people, 0) AS people, x.people_key
        FROM month_list m CROSS JOIN program_list g CROSS JOIN county_list c
        LEFT JOIN cell x ON x.month = m.month AND x.program = g.program AND x.county = c.county
        ORDER BY m.month, g.program{", c.county" if self.by_county else ""}
        """
