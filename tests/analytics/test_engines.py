"""Questions render their SQL late: DuckDB runs it, and it also transpiles to Spark."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
import sqlglot
from tests.analytics.engine import exact_counts

from crosswalk.analytics import (
    CohortOutcomes,
    Filters,
    LifetimeUse,
    Pathways,
    ProgramCombinations,
    ProgramOverlap,
    Question,
    Scope,
    Trends,
)
from crosswalk.disclosure import protect

SECRET = b"analytics test secret"

F = Filters(
    start=date(2015, 1, 1),
    end=date(2016, 12, 31),
    counties=("COOK",),
    age_groups=("25-44", "6-17"),
    sexes=("F",),
)
QUESTIONS: list[Question] = [
    ProgramOverlap(F),
    ProgramCombinations(F),
    Pathways(F, program="SNAP"),
    LifetimeUse(F, by="age_group"),
    LifetimeUse(F, by="county", unit="household"),
    CohortOutcomes(F, program="FOSTER_CARE", years=3),
    Trends(F),
    Trends(F, by_county=False),
]
IDS = [f"{q.name}-{i}" for i, q in enumerate(QUESTIONS)]


@pytest.mark.parametrize("question", QUESTIONS, ids=IDS)
def test_transpiles_to_spark(question: Question) -> None:
    spark = question.render(dialect="spark")
    # Spark SQL parses back, and reads the same tables.
    tree = sqlglot.parse_one(spark, read="spark")
    tables = {t.name for t in tree.find_all(sqlglot.exp.Table)}
    assert {"linked_event", "linked_record"} <= tables
    assert "getvariable" not in spark.lower()


@pytest.mark.parametrize("question", QUESTIONS, ids=IDS)
def test_result_matches_its_spec(hub: duckdb.DuckDBPyConnection, question: Question) -> None:
    table = exact_counts(hub, question, SECRET)
    question.spec.check(table)
    protect(table, question.spec, 11)


def test_scope_names_the_relations_read(hub: duckdb.DuckDBPyConnection) -> None:
    scope = Scope({"linked_event": "allowed_events", "linked_record": "allowed_records"})
    sql = ProgramOverlap(F).render(scope)
    assert "allowed_events" in sql and "linked_event" not in sql


def test_filter_values_cannot_inject_sql() -> None:
    q = ProgramOverlap(Filters(counties=("COOK') OR TRUE --",)))
    tree = sqlglot.parse_one(q.render(), read="duckdb")
    literals = [lit.this for lit in tree.find_all(sqlglot.exp.Literal) if lit.is_string]
    assert "COOK') OR TRUE --" in literals
