"""The same questions on both engines: the same released tables (cell-key perturbation
and suppression included) and the same audit entries, the SQL aside (each engine's
entry names the SHA-256 of the SQL it ran, rendered for it)."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tests.analytics.conftest import State, read_engine
from tests.grants import granted

from crosswalk.access import Gate
from crosswalk.agreement import Principal
from crosswalk.analytics import (
    CohortOutcomes,
    Filters,
    LifetimeUse,
    Pathways,
    ProgramCombinations,
    ProgramOverlap,
    Question,
    Trends,
)
from crosswalk.analytics.heavy import HeavyUsers
from crosswalk.audit import AuditLog
from crosswalk.hub import Hub

ANALYST = Principal("ada", "hfs", "analyst")
RESEARCHER = Principal("rae", "cdo", "researcher")
F = Filters(start=date(2015, 1, 1), end=date(2020, 12, 31), programs=("MEDICAID", "SNAP", "TANF"))
ROW_PROGRAMS = ("MEDICAID", "SNAP", "TANF", "MENTAL_HEALTH", "FOSTER_CARE", "HOMELESS_SERVICES")

OVERLAP = ProgramOverlap(F)
# Every aggregate question, in a form the analyst may ask for program evaluation.
QUESTIONS: list[Question] = [
    OVERLAP,
    ProgramCombinations(F),
    Pathways(F, program="SNAP"),
    LifetimeUse(F, by="age_group"),
    LifetimeUse(F.model_copy(update={"sexes": ("F",)}), by="county", unit="household"),
    CohortOutcomes(F, program="MEDICAID", years=3),
    Trends(F),
    Trends(F, by_county=False),
]
IDS = [f"{q.name}-{i}" for i, q in enumerate(QUESTIONS)]


def values(table: pa.Table) -> list[dict[str, Any]]:
    """A table's rows: what a reader receives, whatever the engine's column types."""
    return table.to_pylist()


def audited(hub: Hub) -> list[dict[str, Any]]:
    """The audit entries of ``hub``, without when and the SQL's hash."""
    out = []
    for entry in AuditLog(hub.control, secrets=hub.secrets).entries():
        body = json.loads(entry["body"])
        body.get("objects", {}).pop("sql_sha256", None)
        body.pop("at", None)
        out.append(body)
    return out


def aggregate_on(name: str, state: State, request: pytest.FixtureRequest, q: Question) -> Any:
    root = Path(request.getfixturevalue("tmp_path")) / name
    root.mkdir()
    with Hub(
        read_engine(name, state, request), f"sqlite:///{root}/control.db", state.secrets
    ) as hub:
        answer = Gate(hub).aggregate(ANALYST, "program_evaluation", q)
        return values(answer.table), answer.protected.to_dict(), audited(hub)


def check_same_on_both(state: State, request: pytest.FixtureRequest, q: Question) -> None:
    on_duckdb = aggregate_on("duckdb", state, request, q)
    on_spark = aggregate_on("spark", state, request, q)
    assert on_spark[0] == on_duckdb[0]  # the released table
    assert on_spark[1] == on_duckdb[1]  # what protection did, cell by cell
    assert on_spark[2] == on_duckdb[2]  # the audit entries
    assert any(
        v not in (None, 0) for row in on_duckdb[0] for v in row.values() if isinstance(v, int)
    )


def test_overlap_is_released_the_same_on_both_engines(
    state: State, request: pytest.FixtureRequest
) -> None:
    check_same_on_both(state, request, OVERLAP)


@pytest.mark.slow
@pytest.mark.parametrize("question", QUESTIONS, ids=IDS)
def test_every_question_is_released_the_same_on_both_engines(
    state: State, request: pytest.FixtureRequest, question: Question
) -> None:
    check_same_on_both(state, request, question)


def test_the_audit_entry_names_the_sql_the_engine_ran(engine: Hub) -> None:
    answer = Gate(engine).aggregate(ANALYST, "program_evaluation", OVERLAP)
    people = [v for v in answer.table.column("people").to_pylist() if v]
    assert people and all(v >= 11 for v in people)
    [entry] = AuditLog(engine.control, secrets=engine.secrets).entries()
    objects = json.loads(entry["body"])["objects"]
    assert objects["question"] == "overlap"
    # The SQL that ran is the question rendered for this engine, over the granted views.
    from crosswalk.access import Scope

    secret = "getvariable('crosswalk_cell_key_secret')" if engine.dialect == "duckdb" else None
    scope = Scope(
        {t: f"granted_{t}" for t in ("linked_event", "linked_record")},
        **({"secret": secret} if secret else {"secret": "$crosswalk_cell_key_secret"}),
    )
    sql = OVERLAP.render(scope, engine.dialect)
    assert objects["sql_sha256"] == hashlib.sha256(sql.encode()).hexdigest()


@pytest.mark.slow
def test_row_answers_are_the_same_on_both_engines(
    state: State, request: pytest.FixtureRequest
) -> None:
    q = HeavyUsers(F.model_copy(update={"programs": ROW_PROGRAMS}), limit=20)
    # One project read on both engines: one control plane and one grant, so the same
    # pseudonyms (keyed with the grant) and the same audit entries are expected.
    control = f"sqlite:///{request.getfixturevalue('tmp_path')}/control.db"
    answers = []
    for name in ("duckdb", "spark"):
        with Hub(read_engine(name, state, request), control, state.secrets) as hub:
            if not answers:  # research is by request: the stewards' grant first
                granted(Gate(hub), RESEARCHER, "research", q.elements)
            before = len(audited(hub))
            rows = Gate(hub).rows(RESEARCHER, "research", q, "pseudonymised")
            answers.append((values(rows), audited(hub)[before:]))
    assert len(answers[0][0]) == 20
    assert answers[1] == answers[0]
