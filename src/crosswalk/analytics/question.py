"""What every analytic question is: an intent object that renders its SQL late.

An aggregate question declares the data elements it reads (for the policy decision), the
shape of its count table (a ``TableSpec`` for disclosure control), renders its SQL
against a ``Scope`` for an engine, and turns the protected table into its answer (a pure
step: percentages and curves are computed from released figures only).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa

from crosswalk.access import Scope
from crosswalk.analytics.filters import Filters
from crosswalk.analytics.sql import agencies, render
from crosswalk.disclosure import Protected, TableSpec

EVENT_ELEMENTS = ("program", "start_date", "end_date", "county")
PERSON_ELEMENTS = ("dob", "sex")


def elements_for(
    programs: Iterable[str], events: Iterable[str] = EVENT_ELEMENTS
) -> tuple[tuple[str, str], ...]:
    """(dataset, element) pairs read from the agencies running ``programs``."""
    events = tuple(events)
    out: list[tuple[str, str]] = []
    for a in agencies(programs):
        out += [(f"{a}.events", e) for e in events]
        out += [(f"{a}.clients", e) for e in PERSON_ELEMENTS]
    return tuple(out)


@dataclass(frozen=True)
class Question(ABC):
    """An aggregate question over the hub."""

    filters: Filters = field(default_factory=Filters)

    name = "question"

    @property
    @abstractmethod
    def spec(self) -> TableSpec:
        """The count table's shape, for ``crosswalk.disclosure.protect``."""

    @property
    def programs(self) -> tuple[str, ...]:
        """Programs whose events the question reads."""
        return self.filters.program_list

    @property
    def elements(self) -> tuple[tuple[str, str], ...]:
        """The data elements read, for the policy decision."""
        return elements_for(self.programs)

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(sorted({d for d, _ in self.elements}))

    @abstractmethod
    def sql(self, scope: Scope) -> str:
        """The query in DuckDB SQL against ``scope``."""

    def render(self, scope: Scope | None = None, dialect: str = "duckdb") -> str:
        """The query for ``dialect`` (``duckdb``, ``spark``...)."""
        return render(self.sql(scope or Scope.default(dialect)), dialect)

    def answer(self, protected: Protected) -> pa.Table:
        """The released answer from the protected count table."""
        return protected.table
