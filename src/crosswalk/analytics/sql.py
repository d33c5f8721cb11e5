"""SQL shared by every question, written once and rendered late for an engine.

Queries are DuckDB SQL built from intent objects; ``render`` parses it with SQLGlot and
writes it for the engine at hand (DuckDB by default, Spark for a cluster). Values enter
SQL only as literals made by SQLGlot from validated filters, never as raw text.

Every question starts from the same common table expressions:

- ``service``: each service event with its person, in the programs asked for, at any
  time (pathways and cohorts look before and after the period);
- ``in_period``: those that overlap the period;
- ``person``: one row per person in the period, with date of birth, sex, age group,
  county (of the latest service in the period) and record key, filtered by age, sex and
  county (computed only where a question or a filter uses it);
- ``event``: services of those people that overlap the period;
- ``record_key``: the record key (``rk``) of each person in ``event``, a keyed hash of
  their enterprise id (see ``crosswalk.disclosure``); a cell's key is ``cell_key()`` over
  its members' keys. Questions counting people found outside the period (cohorts,
  pathways) key them with ``keyed`` instead, so only the people counted are hashed.

People are joined and grouped by their person number (``person``, an integer); cell keys
come from the enterprise id, which stays the same across linkage runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlglot import exp

from crosswalk import clock
from crosswalk.access.scope import Scope
from crosswalk.analytics.filters import AGE_GROUPS, Filters
from crosswalk.disclosure import cell_key_sql, key_of_hash_sql, record_key_sql
from crosswalk.engines import to_dialect
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


def keyed(scope: Scope, relation: str, unit: str, columns: tuple[str, ...]) -> str:
    """A query of ``columns`` of ``relation`` with the record key ``rk`` of ``unit``.

    The key is the keyed hash of the unit's id (a text column) as a 48-bit integer,
    computed in a query of its own so that the hash is computed once per row.
    """
    kept = ", ".join(columns)
    return f"""SELECT {kept}, {key_of_hash_sql("digest")} AS rk FROM (
            SELECT {kept}, {record_key_sql(unit, scope.secret)} AS digest FROM {relation}
        ) AS hashed"""


def has_person_filters(f: Filters) -> bool:
    return bool(f.age_groups or f.sexes or f.counties)


def of_people(f: Filters, person: str) -> str:
    """A condition keeping the people that pass the filters on age, sex and county."""
    return f"{person} IN (SELECT person FROM person)" if has_person_filters(f) else "TRUE"


def base_ctes(f: Filters, scope: Scope, programs: Iterable[str] | None = None) -> str:
    """The ``service``, ``in_period``, ``person``, ``event`` and ``record_key`` CTEs (no
    WITH). ``person`` is computed only by the questions that use it, or when a filter on
    age, sex or county needs it."""
    wanted = tuple(programs) if programs is not None else f.program_list
    overlaps = []
    if f.end is not None:
        overlaps.append(f"s.start_date <= {literal(f.end)}")
    if f.start is not None:
        overlaps.append(f"(s.end_date IS NULL OR s.end_date >= {literal(f.start)})")
    in_period = " AND ".join(overlaps) or "TRUE"
    on = literal(f.end) if f.end is not None else literal(clock.today())
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
        SELECT * FROM {scope["linked_event"]} s WHERE {in_list("s.program", wanted)}
    ),
    in_period AS (SELECT * FROM service s WHERE {in_period}),
    latest AS (
        -- The county of the latest service; on a tie, the first county by name.
        SELECT person,
               arg_min(county, (date_diff('day', start_date, DATE '9999-12-31'), county)) AS county
        FROM in_period GROUP BY person
    ),
    attributes AS (
        SELECT r.person, min(r.dob) AS dob,
               coalesce(max(CASE WHEN r.sex IN ('M', 'F') THEN r.sex END), 'U') AS sex
        FROM {scope["linked_record"]} r
        WHERE {in_list("r.agency", agencies(wanted))}
        GROUP BY r.person
    ),
    person_all AS (
        SELECT l.person, p.dob, coalesce(p.sex, 'U') AS sex,
               coalesce(CASE {groups} END, 'unknown') AS age_group,
               coalesce(l.county, 'unknown') AS county
        FROM latest l LEFT JOIN attributes p ON p.person = l.person
    ),
    person AS (SELECT * FROM person_all WHERE {" AND ".join(person_filters)}),
    event AS (SELECT * FROM in_period e WHERE {of_people(f, "e.person")}),
    people_keyed AS (SELECT DISTINCT person, enterprise_id FROM event),
    record_key AS ({keyed(scope, "people_keyed", "enterprise_id", ("person",))})"""


def household_of(scope: Scope, services: str = "service") -> str:
    """A query of (event_key, person, unit): the enterprise household each service's person
    belonged to on the day it started, as the granted agencies' data place them; a person
    they place nowhere is a household of one (``P`` and the person number)."""
    return f"""SELECT s.event_key, s.person,
               coalesce(min(h.household_id), 'P' || CAST(s.person AS VARCHAR)) AS unit
        FROM {services} s LEFT JOIN {scope["linked_household"]} h ON h.person = s.person
         AND (h.valid_from IS NULL OR h.valid_from <= s.start_date)
         AND (h.valid_to IS NULL OR h.valid_to >= s.start_date)
        GROUP BY s.event_key, s.person"""


def household_elements(
    elements: tuple[tuple[str, str], ...],
) -> tuple[tuple[str, str], ...]:
    """The ``household`` element of the agencies whose events ``elements`` read."""
    return tuple(
        (d.replace(".events", ".clients"), "household")
        for d in sorted({d for d, _ in elements if d.endswith(".events")})
    )


def cell_key(record_key: str = "rk") -> str:
    """The cell-key aggregate over the record keys of a cell's members."""
    return cell_key_sql(record_key)


def render(sql: str, dialect: str = "duckdb") -> str:
    """The query for ``dialect``, through SQLGlot; raises if it cannot be expressed."""
    return to_dialect(sql, dialect)
