"""Attacks on the gate's SQL: a question is confined to the views its decision granted.

Each hostile question declares the elements of an ordinary overlap (so the decision
grants them) and then tries to read something else in its SQL."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from crosswalk.access import Gate, Scope
from crosswalk.access.confine import check_question_sql
from crosswalk.agreement import Principal
from crosswalk.analytics import Filters, ProgramOverlap, ask
from crosswalk.audit import AuditLog
from crosswalk.errors import AccessDenied

ANALYST = Principal("ada", "hfs", "analyst")
F = Filters(start=date(2015, 1, 1), end=date(2020, 12, 31), programs=("MEDICAID", "SNAP"))


@dataclass(frozen=True)
class Hostile(ProgramOverlap):
    text: str = ""

    def sql(self, scope: Scope) -> str:
        return self.text.format(event=scope["linked_event"])


ATTACKS = {
    "names person_record": "SELECT count(*) AS people, first_name FROM person_record GROUP BY 2",
    "joins person_record": (
        "SELECT count(*) AS people FROM {event} e JOIN person_record r USING (record_key)"
    ),
    "subquery on person_record": (
        "SELECT (SELECT max(ssn) FROM person_record) AS people FROM {event}"
    ),
    "qualified name": "SELECT count(*) AS people FROM main.person_record",
    "catalog name": "SELECT count(*) AS people FROM hub.main.person_record",
    "read_csv": "SELECT count(*) AS people FROM read_csv('/etc/passwd')",
    "read_parquet": "SELECT count(*) AS people FROM read_parquet('state/truth/people.parquet')",
    "query_table": "SELECT count(*) AS people FROM query_table('person_record')",
    "file as table": "SELECT count(*) AS people FROM '/etc/passwd'",
    "shadowing CTE": (
        "WITH person_record AS (SELECT * FROM {event}) SELECT count(*) AS people FROM person_record"
    ),
    "attach": "ATTACH 'other.duckdb' AS other",
    "set": "SET enable_external_access = true",
    "other variable": "SELECT getvariable('anything') AS people FROM {event}",
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_a_question_reads_only_the_granted_views(hub: Path, control: str, name: str) -> None:
    with pytest.raises(AccessDenied) as refused:
        ask(Hostile(F, text=ATTACKS[name]), ANALYST, "program_evaluation", hub=hub, control=control)
    assert refused.value.decision is not None  # the decision that was (not) applied
    [entry] = AuditLog(control).entries()
    assert entry["action"] == "data.denied" and entry["user"] == "ada"
    assert json.loads(entry["body"])["objects"]["question"] == "overlap"


def test_an_ordinary_question_still_runs(hub: Path, control: str) -> None:
    answer = ask(ProgramOverlap(F), ANALYST, "program_evaluation", hub=hub, control=control)
    assert answer.table.num_rows == 4


def test_ctes_and_granted_views_pass_the_check() -> None:
    check_question_sql(
        "WITH a AS (SELECT person FROM g_event) SELECT count(*) FROM a JOIN g_event USING (person)",
        ["g_event"],
        ["g_event", "person_record", "service_event"],
    )


@pytest.mark.parametrize(
    "sql", ["SELECT 1 FROM g_event; SELECT * FROM person_record", "DETACH hub", "PRAGMA version"]
)
def test_anything_but_one_query_is_refused(sql: str) -> None:
    with pytest.raises(AccessDenied, match="exactly one query"):
        check_question_sql(sql, ["g_event"], ["g_event", "person_record"])


def test_the_gate_reads_files_nowhere_even_past_the_check(
    hub: Path, control: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Second wall: with the statement check switched off, the connection itself refuses
    to read a file outside the hub."""
    secret = tmp_path / "outside.csv"
    secret.write_text("ssn\n123456789\n")
    monkeypatch.setattr("crosswalk.access.gate.check_question_sql", lambda *a, **k: None)
    q = Hostile(F, text=f"SELECT count(*) AS people FROM read_csv('{secret}')")
    with pytest.raises(Exception, match="disabled by configuration"):
        ask(q, ANALYST, "program_evaluation", hub=hub, control=control)


def test_callers_choose_neither_the_agreement_nor_the_day() -> None:
    assert set(inspect.signature(Gate).parameters) == {"hub", "control", "secrets"}
    assert not {"agreement", "today"} & set(inspect.signature(ask).parameters)
