"""The heaviest multi-system users: a row-level question.

Row-level answers name people, so they leave the hub only where the agreement allows
identified or pseudonymised access for the purpose (care coordination, approved
research); the gate replaces enterprise ids with per-purpose pseudonyms where required.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from crosswalk import clock
from crosswalk.access import Scope
from crosswalk.analytics.filters import Filters
from crosswalk.analytics.question import elements_for
from crosswalk.analytics.sql import base_ctes, literal, render
from crosswalk.errors import ConfigError

ELEMENTS = ("program", "start_date", "end_date", "county", "amount")


@dataclass(frozen=True)
class HeavyUsers:
    """The ``limit`` people using the most programs (then most days) in the period.

    Columns: enterprise_id, programs (count), agencies (count), program_list, episodes,
    days (in the period; open services run to its end) and amount.
    """

    filters: Filters = field(default_factory=Filters)
    limit: int = 100
    name = "heavy-users"
    row_level: ClassVar[bool] = True  # one row per person: answered by ``Gate.rows``

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= 10_000:
            raise ConfigError(f"limit must be 1 to 10,000, not {self.limit}")

    @property
    def elements(self) -> tuple[tuple[str, str], ...]:
        return elements_for(self.filters.program_list, ELEMENTS)

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(sorted({d for d, _ in self.elements}))

    def sql(self, scope: Scope) -> str:
        end = literal(self.filters.end) if self.filters.end else literal(clock.today())
        start = literal(self.filters.start) if self.filters.start else "DATE '1900-01-01'"
        clipped = (
            f"date_diff('day', greatest(e.start_date, {start}), "
            f"least(coalesce(e.end_date, {end}), {end})) + 1"
        )
        return f"""
        WITH {base_ctes(self.filters, scope)}
        SELECT any_value(e.enterprise_id) AS enterprise_id,
               count(DISTINCT e.program) AS programs,
               count(DISTINCT e.agency) AS agencies,
               -- Sorted distinct list, not string_agg(DISTINCT ... ORDER BY): Spark
               -- cannot plan an ordered distinct string aggregate.
               array_to_string(list_sort(list_distinct(list(e.program))), '+') AS program_list,
               count(*) AS episodes,
               sum({clipped}) AS days,
               coalesce(sum(e.amount), 0) AS amount
        FROM event e
        GROUP BY e.person
        ORDER BY programs DESC, days DESC, enterprise_id
        LIMIT {int(self.limit)}
        """

    def render(self, scope: Scope | None = None, dialect: str = "duckdb") -> str:
        return render(self.sql(scope or Scope.default(dialect)), dialect)
