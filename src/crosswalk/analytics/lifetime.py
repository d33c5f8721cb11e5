"""Lifetime service use: programs, episodes, days and amounts per person or household."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crosswalk import clock
from crosswalk.access import Scope
from crosswalk.analytics.filters import AGE_GROUPS
from crosswalk.analytics.question import Question, elements_for
from crosswalk.analytics.sql import (
    base_ctes,
    cell_key,
    household_elements,
    household_of,
    keyed,
    literal,
    values_table,
)
from crosswalk.disclosure import TableSpec

Breakdown = Literal["age_group", "sex", "county", "all"]
PROGRAM_BANDS = ("1", "2", "3", "4", "5+")


@dataclass(frozen=True)
class LifetimeUse(Question):
    """How many programs people use over their lifetime, by age group, sex or county.

    Rows: a group (``ALL`` for everyone) by number of programs used (``1`` ... ``5+``,
    ``ALL``); with the median episodes, days and amount of the people in each cell.
    ``unit="household"`` counts enterprise households (families grouped across agencies
    at linkage, ``crosswalk.identity.households``), by county only: each service counts
    for the household its person belonged to on the day it started, as the data of the
    programs' agencies place them (a person they place nowhere is a household of one).
    """

    by: Breakdown = "all"
    unit: Literal["person", "household"] = "person"
    name = "lifetime"

    @property
    def elements(self) -> tuple[tuple[str, str], ...]:
        out = elements_for(self.programs, ("program", "start_date", "end_date", "county", "amount"))
        if self.unit == "household":
            out += household_elements(out)
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
        breakdown = self.by != "all" and (self.unit == "person" or self.by == "county")
        group = f"p.{self.by}" if breakdown else "'ALL'"
        horizon = literal(self.filters.end) if self.filters.end else literal(clock.today())
        # Each unit's members (people in the period passing the filters), its record key
        # and its group: a household's group is the least of its members'.
        if self.unit == "person":
            units = f"""
            member AS (
                SELECT p.person AS unit, k.rk, {group} AS grp
                FROM person p JOIN record_key k ON k.person = p.person
            )"""
            unit_of, joined = "s.person", ""
        else:
            units = f"""
            household_of AS ({household_of(scope)}),
            household AS (
                SELECT h.unit, min({group}) AS grp
                FROM household_of h JOIN person p ON p.person = h.person
                GROUP BY h.unit
            ),
            member AS ({keyed(scope, "household", "unit", ("unit", "grp"))})"""
            unit_of, joined = "h.unit", "JOIN household_of h ON h.event_key = s.event_key"
        # Per unit, over the whole history up to the horizon: programs, episodes, days
        # (open services end on the horizon) and amounts.
        band = "CASE WHEN count(DISTINCT s.program) >= 5 THEN '5+' ELSE CAST(count(DISTINCT s.program) AS VARCHAR) END"
        sets = "(grp, band), (grp), (band), ()" if breakdown else "(band), ()"
        return f"""
        WITH {base_ctes(self.filters, scope)},
        {units},
        usage AS (
            SELECT {unit_of} AS unit, {band} AS band, count(*) AS episodes,
                   sum(date_diff('day', s.start_date, least(coalesce(s.end_date, {horizon}), {horizon})) + 1) AS days,
                   coalesce(sum(s.amount), 0) AS amount
            FROM service s {joined}
            WHERE s.start_date <= {horizon}
            GROUP BY {unit_of}
        ),
        unit_row AS (
            SELECT m.grp, u.band, m.rk, u.episodes, u.days, u.amount
            FROM usage u JOIN member m ON m.unit = u.unit
        ),
        cell AS (
            SELECT {"CASE WHEN grouping(grp) = 1 THEN 'ALL' ELSE grp END" if breakdown else "'ALL'"} AS grp,
                   CASE WHEN grouping(band) = 1 THEN 'ALL' ELSE band END AS band,
                   count(*) AS people,
                   median(episodes) AS median_episodes, median(days) AS median_days,
                   median(amount) AS median_amount,
                   {cell_key("rk")} AS people_key
            FROM unit_row
            GROUP BY GROUPING SETS ({sets})
        ),
        group_list AS (SELECT DISTINCT grp FROM cell),
        {values_table("band_list", "band", (*PROGRAM_BANDS, "ALL"))}
        SELECT g.grp AS "group", b.band AS programs_used, coalesce(c.people, 0) AS people,
               CAST(c.median_episodes AS DOUBLE) AS median_episodes,
               CAST(c.median_days AS DOUBLE) AS median_days,
               CAST(c.median_amount AS DOUBLE) AS median_amount, c.people_key
        FROM group_list g CROSS JOIN band_list b
        LEFT JOIN cell c ON c.grp = g.grp AND c.band = b.band
        ORDER BY g.grp = 'ALL', {self._group_order("g.grp")}, b.band = 'ALL', b.band
        """

    def _group_order(self, column: str) -> str:
        """Age groups youngest first (as text, 6-17 would sort after 45-64)."""
        if self.by != "age_group":
            return column
        ranks = " ".join(f"WHEN {literal(a)} THEN {i}" for i, a in enumerate(AGE_GROUPS))
        return f"CASE {column} {ranks} ELSE {len(AGE_GROUPS)} END, {column}"
