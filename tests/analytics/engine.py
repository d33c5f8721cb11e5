"""The engine step alone, for tests that built a hub by hand: a question's exact counts on
a connection the test holds, and those counts protected at ``k``. Not part of the
library's surface: answers for users leave only through the gate (``analytics.ask``)."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from crosswalk.access import Scope
from crosswalk.access.scope import run_counts
from crosswalk.analytics import Answer, Question
from crosswalk.disclosure import ReleaseHistory, protect


def exact_counts(
    con: duckdb.DuckDBPyConnection, question: Question, secret: bytes, scope: Scope | None = None
) -> pa.Table:
    """The question's exact count table (never released as is)."""
    return run_counts(con, question.render(scope), secret)


def compute(
    con: duckdb.DuckDBPyConnection,
    question: Question,
    *,
    k: int,
    secret: bytes,
    scope: Scope | None = None,
    history: ReleaseHistory | None = None,
) -> Answer:
    """Exact counts, protected at ``k`` (against ``history``, if given), turned into the
    answer (no policy decision)."""
    protected = protect(exact_counts(con, question, secret, scope), question.spec, k, history)
    return Answer(question, question.answer(protected), protected)
