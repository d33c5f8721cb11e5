"""Attacks on the gate's SQL, on both engines: a question rendered for Spark is held to
the granted views as one rendered for DuckDB is, and Spark's own ways out of SQL (files
as tables, calls into Java, parameters it was not given) are closed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pytest
from tests.analytics.conftest import State

from crosswalk.access import Gate, Scope
from crosswalk.agreement import Principal
from crosswalk.analytics import Filters, ProgramOverlap
from crosswalk.audit import AuditLog
from crosswalk.errors import AccessDenied
from crosswalk.hub import Hub

ANALYST = Principal("ada", "hfs", "analyst")
F = Filters(start=date(2015, 1, 1), end=date(2020, 12, 31), programs=("MEDICAID", "SNAP"))


@dataclass(frozen=True)
class Hostile(ProgramOverlap):
    """Declares an ordinary overlap's elements; its SQL, written for the engine at hand,
    tries to read something else."""

    text: str = ""
    files: str = ""

    def render(self, scope: Scope | None = None, dialect: str = "duckdb") -> str:
        scope = scope or Scope.default(dialect)
        marker = "$other" if dialect == "duckdb" else ":other"
        return self.text.format(event=scope["linked_event"], files=self.files, param=marker)


ATTACKS = {
    "hub table": "SELECT count(*) AS people FROM linked_event",
    "reflect": "SELECT reflect('java.lang.System', 'getProperty', 'user.home') AS people FROM {event}",
    "java_method": "SELECT java_method('java.lang.System', 'exit', 1) AS people FROM {event}",
    "file as table": "SELECT count(*) AS people FROM parquet.`{files}`",
    "range": "SELECT count(*) AS people FROM range(10)",
    "other parameter": "SELECT count(*) AS people FROM {event} WHERE agency = {param}",
    "set": "SET spark.sql.runSQLOnFiles = true",
}


# Spark runs the attacks that are its own in the default run, and all of them in the slow one.
SPARK_OWN = ("reflect", "file as table", "other parameter")
CASES = [pytest.param("duckdb", name, id=f"duckdb-{name}") for name in sorted(ATTACKS)] + [
    pytest.param(
        "spark",
        name,
        id=f"spark-{name}",
        marks=() if name in SPARK_OWN else pytest.mark.slow,
    )
    for name in sorted(ATTACKS)
]


@pytest.mark.parametrize(("engine", "name"), CASES, indirect=["engine"])
def test_a_question_reads_only_the_granted_views(engine: Hub, state: State, name: str) -> None:
    files = str(next(iter(state.warehouse.glob("snapshots/*/linked_record"))))
    q = Hostile(F, text=ATTACKS[name], files=files)
    with pytest.raises(AccessDenied):
        Gate(engine).aggregate(ANALYST, "program_evaluation", q)
    [entry] = AuditLog(engine.control, secrets=engine.secrets).entries()
    assert entry["action"] == "data.denied"
    assert json.loads(entry["body"])["objects"]["question"] == "overlap"


def test_a_spark_read_runs_sql_on_no_file(state: State, spark_session: object) -> None:
    """Second wall: past the gate's check, a read's Spark session still reads no file."""
    from crosswalk.engines import SparkEngine

    files = next(iter(state.warehouse.glob("snapshots/*/linked_record")))
    with (
        SparkEngine(state.warehouse, session=spark_session).read() as read,
        pytest.raises(Exception, match=r"(?i)parquet|file|table"),
    ):
        read.arrow(f"SELECT count(*) AS n FROM parquet.`{files}`")


def test_a_spark_read_sees_no_person_record(state: State, spark_session: object) -> None:
    """The warehouse holds the standardised records (names, SSNs) for linkage on Spark;
    a read for a question holds views of the analytic tables only, so no question, even
    one past the gate's check, can name them."""
    from crosswalk.engines import SparkEngine, warehouse_tables
    from crosswalk.engines.warehouse import EXPORTED

    assert "person_record" in warehouse_tables(state.warehouse)
    with SparkEngine(state.warehouse, session=spark_session).read() as read:
        assert read.relations() == set(EXPORTED)  # the analytic tables alone
        with pytest.raises(Exception, match=r"(?i)person_record"):
            read.arrow("SELECT count(*) AS n FROM person_record")
