"""Running a question: SQL on the hub, then disclosure control, then the answer.

``compute`` is the engine step the gate performs after it has decided and audited the
request; it holds no policy of its own and is only ever handed a connection by the gate
(or, in tests and benchmarks, by the code that built the hub).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from crosswalk.analytics.question import Question
from crosswalk.analytics.sql import CELL_KEY_SECRET, Scope
from crosswalk.disclosure import Protected, protect


@dataclass(frozen=True)
class Answer:
    """A released answer, the protected count table behind it, and how it was made."""

    question: Question
    table: pa.Table
    protected: Protected


def exact_counts(
    con: duckdb.DuckDBPyConnection, question: Question, secret: bytes, scope: Scope | None = None
) -> pa.Table:
    """The question's exact count table (never released as is)."""
    con.execute(f"SET VARIABLE {CELL_KEY_SECRET} = ?", [secret.hex()])
    relation = con.sql(question.render(scope))
    assert relation is not None
    return relation.to_arrow_table()


def compute(
    con: duckdb.DuckDBPyConnection,
    question: Question,
    *,
    k: int,
    secret: bytes,
    scope: Scope | None = None,
) -> Answer:
    """Exact counts, protected at ``k``, turned into the released answer."""
    protected = protect(exact_counts(con, question, secret, scope), question.spec, k)
    return Answer(question, question.answer(protected), protected)
