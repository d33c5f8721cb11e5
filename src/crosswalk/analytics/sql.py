"""SQL shared by every question, written once and rendered late for an engine.

Queries are DuckDB SQL built from intent objects; ``render`` parses it with SQLGlot and
writes it for the engine at hand (DuckDB by default, Spark for a cluster). Values enter
SQL only as literals made by SQLGlot from validated filters, never as raw text.

Every question starts from the same common table expressions:

- ``service``: each service event with its person (enterprise id), in the programs asked
  for, at any time (pathways and cohorts look before and after the period);
- ``person``: one row per person in the period, with date of birth, sex, age group,
  county (of the latest service in the period) and record key, filtered by age, sex and
  county;
- ``event``: services of those people that overlap the period;
- ``population``: the key of the whole population (see ``crosswalk.disclosure``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import sqlglot
from sqlglot import exp

from crosswalk.access.scope import Scope
from crosswalk.analytics.filters import AGE_GROUPS, Filters
from crosswalk.disclosure import cell_key_sql, population_key_sql, record_key_sql
from crosswalk.errors import ConfigError
from crosswalk.model import PROGRAMS


def literal(value: str | int | float | date) -> str:
    """A SQL literal for a validated value."""
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return exp.convert(value).sql("duckdb")


def in_list(column: str, values: Iterable[str]) -> str:
    return f"{column} IN ({', '.join(literal(v) for v in values)})"


def values_table(name: str, column: str, values: Iterable[str | int | date]) -> str:
    """A CTE listing values (programs, years, months) as rows."""
    rows = ", ".join(f"({literal(v)})" for v in values)
    return f"{name} AS (SELECT * FROM (VALUES {rows}) AS t({column}))"


def agencies(programs: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({PROGRAMS[p] for p in programs}))


def base_ctes(f: Filters, scope: Scope, programs: Iterable[str] | None = None) -> str:
    """The ``service``, ``person``, ``event`` and ``population`` CTEs (no WITH)."""
    wanted = tuple(programs) if programs is not None else f.program_list
    overlaps = []
    if f.end is not None:
        overlaps.append(f"s.start_date <= {literal(f.end)}")
    if f.start is not None:
        overlaps.append(f"(s.end_date IS NULL OR s.end_date >= {literal(f.start)})")
    in_period = " AND ".join(overlaps) or "TRUE"
    on = literal(f.end) if f.end is not None else "current_date"
    age = f"CAST(floor(date_diff('day', p.dob, {on}) / 365.25) AS INTEGER)"
    groups = " ".join(
        f"WHEN {age} BETWEEN {lo} AND {hi} THEN {literal(label)}"
        for label, (lo, hi) in AGE_GROUPS.items()
    )
    person_filters = ["TRUE"]
    if f.age_groups:
        person_filters.append(in_list("age_group", f.age_groups))
    if f.sexes:
        person_filters.append(in_list("sex", f.sexes))
    if f.counties:
        person_filters.append(in_list("county", f.counties))
    return f"""
    service AS (
        SELECT i.enterprise_id AS person, s.*
        FROM {scope["service_event"]} s
        JOIN {scope["person_index"]} i ON i.record_key = s.record_key
        WHERE {in_list("s.program", wanted)}
    ),
    in_period AS (SELECT * FROM service s WHERE {in_period}),
    latest AS (
        SELECT person, county FROM (
            SELECT person, county, row_number() OVER (
                PARTITION BY person ORDER BY start_date DESC, county) AS r
            FROM in_period) AS ranked
        WHERE r = 1
    ),
    attributes AS (
        SELECT i.enterprise_id AS person, min(r.dob) AS dob,
               coalesce(max(CASE WHEN r.sex IN ('M', 'F') THEN r.sex END), 'U') AS sex
        FROM {scope["person_record"]} r
        JOIN {scope["person_index"]} i ON i.record_key = r.record_key
        WHERE {in_list("r.agency", agencies(wanted))}
        GROUP BY i.enterprise_id
    ),
    person_all AS (
        SELECT l.person, p.dob, coalesce(p.sex, 'U') AS sex,
               coalesce(CASE {groups} END, 'unknown') AS age_group,
               coalesce(l.county, 'unknown') AS county,
               {record_key_sql("l.person", scope.secret)} AS rk
        FROM latest l LEFT JOIN attributes p ON p.person = l.person
    ),
    person AS (SELECT * FROM person_all WHERE {" AND ".join(person_filters)}),
    event AS (SELECT e.* FROM in_period e WHERE e.person IN (SELECT person FROM person)),
    population AS (SELECT {population_key_sql("rk")} AS population_key FROM person)"""


def cell_key(record_key: str = "rk") -> str:
    """The cell-key aggregate; the query must join ``population``."""
    return cell_key_sql(record_key, "population_key")


def render(sql: str, dialect: str = "duckdb") -> str:
    """The query for ``dialect``, through SQLGlot; raises if it cannot be expressed."""
    try:
        return sqlglot.transpile(
            sql,
            read="duckdb",
            write=dialect,
            pretty=True,
            unsupported_level=sqlglot.ErrorLevel.RAISE,
        )[0]
    except (sqlglot.errors.ParseError, sqlglot.errors.UnsupportedError) as e:
        raise ConfigError(f"the query cannot be written for {dialect}: {e}") from None
