"""Cohort outcomes: follow the people of a program event into other programs.

A cohort is the people with a given event in a window, e.g. youth leaving FOSTER_CARE in
2015-2018 (``event="exit"``: the end of an episode). From each person's first such event
(the index date) we follow them to ``as_of`` (the period's end) and find, for each outcome
program, the first time they enter it. The released table has, per program and year since
the index date, the people still at risk at the start of the year and those entering the
program during it. ``cumulative_pct`` comes from a yearly life table: the product over
yearly intervals of (1 - entered / at risk), computed from the released counts (people
whose follow-up ends are censored), with a 95% confidence band. It is not a Kaplan-Meier
curve on exact days: that would need each person's dates, which aggregates do not release.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pyarrow as pa

from crosswalk import clock
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
from crosswalk.disclosure import Protected, Sum, TableSpec
from crosswalk.errors import ConfigError
from crosswalk.model import PROGRAMS

YEAR = 365.25


@dataclass(frozen=True)
class CohortOutcomes(Question):
    """People with ``event`` of ``program`` from ``cohort_start`` to ``cohort_end``,
    followed for ``years`` years into ``outcomes`` (default: every service program)."""

    program: str = "FOSTER_CARE"
    event: Literal["entry", "exit"] = "exit"
    cohort_start: date = date(2015, 1, 1)
    cohort_end: date = date(2018, 12, 31)
    years: int = 5
    outcomes: tuple[str, ...] = ()
    name = "cohort"

    def __post_init__(self) -> None:
        unknown = [p for p in (self.program, *self.outcomes) if p not in PROGRAMS]
        if unknown:
            raise ConfigError(f"unknown programs {unknown}")
        if not 1 <= self.years <= 30:
            raise ConfigError(f"follow-up must be 1 to 30 years, not {self.years}")
        if self.cohort_start > self.cohort_end:
            raise ConfigError("the cohort window starts after it ends")

    @property
    def outcome_programs(self) -> tuple[str, ...]:
        return self.outcomes or SERVICE_PROGRAMS

    @property
    def programs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.program, *self.outcome_programs)))

    @property
    def elements(self) -> tuple[tuple[str, str], ...]:
        return elements_for(self.programs)

    @property
    def spec(self) -> TableSpec:
        sums: list[Sum] = []
        for p in self.outcome_programs:
            for y in range(1, self.years + 1):
                at_risk = {"program": p, "year": str(y), "measure": "at_risk"}
                parts = [{"program": p, "year": str(y), "measure": "entered"}]
                if y < self.years:
                    parts.append({"program": p, "year": str(y + 1), "measure": "at_risk"})
                sums.append(Sum(at_risk, tuple(parts), relation="ge"))
        first = self.outcome_programs[0]
        for p in self.outcome_programs[1:]:
            # Everyone is at risk of every program at the start: the same people.
            sums.append(
                Sum(
                    {"program": first, "year": "1", "measure": "at_risk"},
                    ({"program": p, "year": "1", "measure": "at_risk"},),
                )
            )
        return TableSpec(
            dimensions=("program", "year", "measure"),
            counts=("people",),
            sums=tuple(sums),
            cell_keys={"people": "people_key"},
        )

    def sql(self, scope: Scope) -> str:
        as_of = literal(self.filters.end) if self.filters.end else literal(clock.today())
        column = "end_date" if self.event == "exit" else "start_date"
        # The cohort event decides who is in; the period only bounds the follow-up.
        filters = self.filters.model_copy(update={"start": self.cohort_start, "end": None})
        return f"""
        WITH {base_ctes(filters, scope, self.programs)},
        cohort_member AS (
            SELECT e.person, any_value(e.enterprise_id) AS enterprise_id,
                   min(e.{column}) AS index_date
            FROM service e
            WHERE e.program = {literal(self.program)}
              AND e.{column} BETWEEN {literal(self.cohort_start)} AND {literal(self.cohort_end)}
              AND {of_people(filters, "e.person")}
            GROUP BY e.person
        ),
        member AS ({keyed(scope, "cohort_member", "enterprise_id", ("person", "index_date"))}),
        followed AS (
            SELECT m.*, date_diff('day', m.index_date, {as_of}) AS follow_days FROM member m
        ),
        outcome AS (
            SELECT m.person, s.program, min(date_diff('day', m.index_date, s.start_date)) AS days
            FROM followed m
            JOIN service s ON s.person = m.person AND s.start_date > m.index_date
                AND s.start_date <= {as_of}
            GROUP BY m.person, s.program
        ),
        {values_table("outcome_list", "program", self.outcome_programs)},
        {values_table("year_list", "year", range(1, self.years + 1))},
        exposure AS (
            SELECT o.program, y.year, m.person, m.rk, m.follow_days, x.days
            FROM outcome_list o CROSS JOIN year_list y CROSS JOIN followed m
            LEFT JOIN outcome x ON x.person = m.person AND x.program = o.program
        ),
        counted AS (
            SELECT program, year, 'at_risk' AS measure, rk FROM exposure
            WHERE follow_days > (year - 1) * {YEAR} AND (days IS NULL OR days > (year - 1) * {YEAR})
            UNION ALL
            SELECT program, year, 'entered', rk FROM exposure
            WHERE days > (year - 1) * {YEAR} AND days <= year * {YEAR}
        ),
        cell AS (
            SELECT program, year, measure, count(*) AS people, {cell_key("rk")} AS people_key
            FROM counted
            GROUP BY program, year, measure
        ),
        {values_table("measure_list", "measure", ("at_risk", "entered"))}
        SELECT o.program, CAST(y.year AS VARCHAR) AS year, m.measure,
               coalesce(c.people, 0) AS people, c.people_key
        FROM outcome_list o CROSS JOIN year_list y CROSS JOIN measure_list m
        LEFT JOIN cell c ON c.program = o.program AND c.year = y.year AND c.measure = m.measure
        ORDER BY o.program, y.year, m.measure
        """

    def answer(self, protected: Protected) -> pa.Table:
        """Per program and year: at risk, entered, and the cumulative incidence (%)."""
        return cumulative_incidence(protected.table)


def cumulative_incidence(table: pa.Table) -> pa.Table:
    """A yearly life table from released at-risk and entered counts: the cumulative
    incidence 1 - S(t), S the product over yearly intervals of (1 - entered / at risk),
    with a 95% confidence band (Greenwood's variance on the log-log scale).

    ``status`` says why a point is missing: ``hidden`` from the first year whose counts
    are hidden (a product over the years: one hidden count hides every later point),
    ``not followed`` once nobody is still followed (no one at risk).
    """
    rows = table.to_pylist()
    cells = {(r["program"], int(r["year"]), r["measure"]): r["people"] for r in rows}
    programs = list(dict.fromkeys(r["program"] for r in rows))
    years = sorted({int(r["year"]) for r in rows})
    out: dict[str, list] = {k: [] for k in COLUMNS}
    for p in programs:
        survival: float | None = 1.0
        greenwood = 0.0
        status = "shown"
        for y in years:
            n, d = cells[p, y, "at_risk"], cells[p, y, "entered"]
            if status == "shown" and (n is None or d is None):
                status = "hidden"
            elif status == "shown" and n == 0:
                status = "not followed"
            if status == "shown":
                assert survival is not None and n is not None and d is not None
                survival *= 1 - d / n
                greenwood += d / (n * (n - d)) if n > d else 0.0
                low, high = _band(survival, greenwood, n)
                point: tuple[float | None, ...] = (100 * (1 - survival), low, high)
            else:
                survival, point = None, (None, None, None)
            for k, v in zip(COLUMNS, (p, y, n, d, *point, status), strict=True):
                out[k].append(round(v, 2) if isinstance(v, float) else v)
    return pa.table(
        {
            "program": pa.array(out["program"], pa.string()),
            "year": pa.array(out["year"], pa.int64()),
            "at_risk": pa.array(out["at_risk"], pa.int64()),
            "entered": pa.array(out["entered"], pa.int64()),
            "cumulative_pct": pa.array(out["cumulative_pct"], pa.float64()),
            "ci_low_pct": pa.array(out["ci_low_pct"], pa.float64()),
            "ci_high_pct": pa.array(out["ci_high_pct"], pa.float64()),
            "status": pa.array(out["status"], pa.string()),
        }
    )


COLUMNS = (
    "program",
    "year",
    "at_risk",
    "entered",
    "cumulative_pct",
    "ci_low_pct",
    "ci_high_pct",
    "status",
)
Z95 = 1.959964


def _band(survival: float, greenwood: float, at_risk: int) -> tuple[float, float]:
    """95% band of the cumulative incidence (in %). With no one entered yet the log-log
    band is empty, so the upper end is the exact (Clopper-Pearson) bound for none of the
    ``at_risk`` people entering; once everyone has entered, the band is the point."""
    if survival >= 1.0:
        return 0.0, 100 * (1 - 0.025 ** (1 / at_risk))
    if survival <= 0.0:
        return 100.0, 100.0
    log_s = np.log(survival)
    spread = Z95 * np.sqrt(greenwood) / abs(log_s)
    s_high = survival ** np.exp(-spread)  # exp(-exp(log(-log S) - spread))
    s_low = survival ** np.exp(spread)
    return float(100 * (1 - s_high)), float(100 * (1 - s_low))
