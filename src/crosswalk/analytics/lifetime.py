"""Lifetime service use: programs, episodes, days and amounts per person or household."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crosswalk.access import Scope
from crosswalk.analytics.question import Question, elements_for
from crosswalk.analytics.sql import base_ctes, cell_key, literal, values_table
from crosswalk.disclosure import TableSpec

Breakdown = Literal["age_group", "sex", "county", "all"]
PROGRAM_BANDS = ("1", "2", "3", "4", "5+")


@dataclass(frozen=True)
class LifetimeUse(Question):
    """How many programs people use over their lifetime, by age group, sex or county.

    Rows: a group (``ALL`` for everyone) by number of programs used (``1`` ... ``5+``,
    ``ALL``); with the median episodes, days and amount of the people in each cell.
    ``unit="household"`` counts households (the agencies' household or case ids: the
    person index does not group households yet), by county only.
    """

    by: Breakdown = "all"
    unit: Literal["person", "household"] = "person"
    name = "lifetime"

    @property
    def elements(self) -> tuple[tuple[str, str], ...]:
        out = elements_for(self.programs, ("program", "start_date", "end_date", "county", "amount"))
        if self.unit == "household":
            out += tuple(
                (d.replace(".events", ".clients"), e)
                for d in {d for d, _ in out if d.endswith(".events")}
                for e in ("household_id", "case_id")
            )
        return out

    @property
    def spec(self) -> TableSpec:
        return TableSpec(
            dimensions=("group", "programs_used"),
            counts=("people",),
            margins={"group": "ALL", "programs_used": "ALL"},
            statistics={
                "median_episodes": "people",
                "median_days": "people",
                "median_amount": "people",
            },
            cell_keys={"people": "people_key"},
        )

    def sql(self, scope: Scope) -> str:
        group = "'ALL'" if self.by == "all" else f"p.{self.by}"
        if self.unit == "household" and self.by not in ("county", "all"):
            group = "'ALL'"
        horizon = literal(self.filters.end) if self.filters.end else "current_date"
        if self.unit == "person":
            units = "person_unit AS (SELECT person AS unit, person, rk FROM person)"
            unit_col = "s.person"
        else:
            units = f"""
            household_of AS (
                SELECT DISTINCT r.record_key,
                       r.agency || ':' || coalesce(r.household_id, r.case_id, r.record_key) AS unit
                FROM {scope["linked_record"]} r
            ),
            person_unit AS (
                SELECT DISTINCT h.unit, p.person, hash({scope.secret}, h.unit) AS rk
                FROM service s JOIN household_of h ON h.record_key = s.record_key
                JOIN person p ON p.person = s.person
            )"""
            unit_col = "h.unit"
        # Per unit, over the whole history up to the horizon: programs, episodes, days
        # (open services end on the horizon) and amounts.
        usage = f"""
        usage AS (
            SELECT {unit_col} AS unit, count(DISTINCT s.program) AS programs,
                   count(*) AS episodes,
                   sum(date_diff('day', s.start_date, least(coalesce(s.end_date, horizon), horizon)) + 1) AS days,
                   coalesce(sum(s.amount), 0) AS amount
            FROM service s {"" if self.unit == "person" else "JOIN household_of h ON h.record_key = s.record_key"}
            CROSS JOIN horizon_date
            WHERE s.start_date <= horizon
            GROUP BY {unit_col}
        )"""
        band = "CASE WHEN u.programs >= 5 THEN '5+' ELSE CAST(u.programs AS VARCHAR) END"
        return f"""
        WITH {base_ctes(self.filters, scope)},
        horizon_date AS (SELECT {horizon} AS horizon),
        {units},
        {usage},
        unit_row AS (
            SELECT u.unit, any_value(pu.rk) AS rk, any_value({band}) AS band,
                   min({group}) AS grp, any_value(u.episodes) AS episodes,
                   any_value(u.days) AS days, any_value(u.amount) AS amount
            FROM usage u
            JOIN person_unit pu ON pu.unit = u.unit
            JOIN person p ON p.person = pu.person
            GROUP BY u.unit
        ),
        cube_rows AS (
            SELECT grp, band, rk, episodes, days, amount FROM unit_row
            UNION ALL SELECT 'ALL', band, rk, episodes, days, amount FROM unit_row
            UNION ALL SELECT grp, 'ALL', rk, episodes, days, amount FROM unit_row
            UNION ALL SELECT 'ALL', 'ALL', rk, episodes, days, amount FROM unit_row
        ),
        cell AS (
            SELECT grp, band, count(*) AS people,
                   median(episodes) AS median_episodes, median(days) AS median_days,
                   median(amount) AS median_amount, {cell_key("rk")} AS people_key
            FROM cube_rows CROSS JOIN population
            GROUP BY grp, band, population_key
        ),
        group_list AS (SELECT DISTINCT grp FROM cube_rows),
        {values_table("band_list", "band", (*PROGRAM_BANDS, "ALL"))}
        SELECT g.grp AS "group", b.band AS programs_used, coalesce(c.people, 0) AS people,
               CAST(c.median_episodes AS DOUBLE) AS median_episodes,
               CAST(c.median_days AS DOUBLE) AS median_days,
               CAST(c.median_amount AS DOUBLE) AS median_amount, c.people_key
        FROM group_list g CROSS JOIN band_list b
        LEFT JOIN cell c ON c.grp = g.grp AND c.band = b.band
        ORDER BY g.grp = 'ALL', g.grp, b.band = 'ALL', b.band
        """
