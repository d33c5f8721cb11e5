"""Asking a question: through the gate, for a principal and purpose.

``ask`` and ``ask_rows`` are the way users get answers: the gate decides the request
for the question's data elements (refusing it whole if any element is not granted),
runs it over views holding only what was granted, applies disclosure control at the
agreement's minimum cell size (aggregates) or per-purpose pseudonyms (row-level), and
writes the audit entry before anything is returned. There is no other way to an
answer: the engine step alone (exact counts on a connection) is not part of the library's
surface.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from crosswalk.access import Gate
from crosswalk.agreement import Principal
from crosswalk.analytics.heavy import HeavyUsers
from crosswalk.analytics.question import Question
from crosswalk.disclosure import Protected


@dataclass(frozen=True)
class Answer:
    """A released answer, the protected count table behind it, and how it was made."""

    question: Question
    table: pa.Table
    protected: Protected


def ask(
    question: Question,
    principal: Principal,
    purpose: str,
    *,
    hub: str | Path | None = None,
    control: str | sa.Engine | None = None,
    secrets: str | Path | None = None,
) -> Answer:
    """Answer an aggregate question for ``principal`` and ``purpose``, or refuse it.

    Example:
        >>> ask(ProgramOverlap(Filters(start=date(2019, 1, 1))),
        ...     Principal("ada", "hfs", "analyst"), "program_evaluation")  # doctest: +SKIP
    """
    gate = Gate(hub, control, secrets)
    released = gate.aggregate(principal, purpose, question)
    return Answer(question, released.table, released.protected)


def ask_rows(
    question: HeavyUsers,
    principal: Principal,
    purpose: str,
    level: str = "pseudonymised",
    *,
    hub: str | Path | None = None,
    control: str | sa.Engine | None = None,
    secrets: str | Path | None = None,
) -> pa.Table:
    """Answer a row-level question where the agreement allows ``level`` for ``purpose``."""
    return Gate(hub, control, secrets).rows(principal, purpose, question, level)
