"""Answers leave only as the agreement allows: aggregates under disclosure control,
row-level answers at the level granted, nothing at all for a denied purpose."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
from tests.grants import granted

from crosswalk.access import Gate, Scope, granted_scope
from crosswalk.agreement import Principal
from crosswalk.analytics import Answer, Filters, LifetimeUse, ProgramOverlap, ask, ask_rows
from crosswalk.analytics.heavy import HeavyUsers
from crosswalk.audit import AuditLog
from crosswalk.errors import AccessDenied

TODAY = date(2025, 6, 1)
ANALYST = Principal("ada", "hfs", "analyst")
F = Filters(start=date(2015, 1, 1), end=date(2020, 12, 31), programs=("MEDICAID", "SNAP", "TANF"))
# Substance-use and wage data are left out: analysts' row-level grants do not cover them.
ROW_PROGRAMS = ("MEDICAID", "SNAP", "TANF", "MENTAL_HEALTH", "FOSTER_CARE", "HOMELESS_SERVICES")


def entries(control: str) -> list[dict]:
    return [{"action": e["action"], "body": e["body"]} for e in AuditLog(control).entries()]


def analyst_overlap(hub: Path, control: str) -> Answer:
    return ask(ProgramOverlap(F), ANALYST, "program_evaluation", hub=hub, control=control)


def test_analyst_gets_a_protected_overlap(state_hub: Path, control: str) -> None:
    answer = analyst_overlap(state_hub, control)
    people = answer.table.column("people").to_pylist()
    assert all(v is None or v == 0 or v >= 11 for v in people)
    assert answer.protected.perturbed == ("people",)
    [entry] = entries(control)
    assert entry["action"] == "data.read"
    assert "overlap" in entry["body"]


@pytest.mark.parametrize(
    ("principal", "purpose"),
    [
        (ANALYST, "care_coordination"),  # no aggregate clause for this purpose
        (Principal("cw", "fcs", "caseworker"), "program_evaluation"),  # wrong role
        (Principal("x", "nowhere", "analyst"), "program_evaluation"),  # not a party
        (ANALYST, "marketing"),  # not a purpose of the agreement
    ],
)
def test_denied_purpose_gets_nothing_and_is_audited(
    state_hub: Path, control: str, principal: Principal, purpose: str
) -> None:
    with pytest.raises(AccessDenied) as err:
        ask(ProgramOverlap(F), principal, purpose, hub=state_hub, control=control)
    assert err.value.decision is not None and not err.value.decision.allowed
    assert [e["action"] for e in entries(control)] == ["data.denied"]


def test_a_question_reading_data_the_purpose_may_not_use_is_refused_whole(
    state_hub: Path, control: str
) -> None:
    # Research purpose: aggregates only of substance-use and tax data; SNAP is not covered.
    q = ProgramOverlap(F.model_copy(update={"programs": ("SUD_TREATMENT", "SNAP")}))
    sud = [(d, e) for d, e in q.elements if d.startswith("sud.") and e != "county"]
    granted(Gate(state_hub, control), ANALYST, "research", sud, "aggregate")
    with pytest.raises(AccessDenied, match=r"fcs\.events"):
        ask(q, ANALYST, "research", hub=state_hub, control=control)


def test_researcher_gets_pseudonymised_heavy_users(state_hub: Path, control: str) -> None:
    researcher = Principal("rae", "cdo", "researcher")
    q = HeavyUsers(F.model_copy(update={"programs": ROW_PROGRAMS}), limit=5)
    for purpose in ("research", "program_evaluation"):
        granted(Gate(state_hub, control), researcher, purpose, q.elements)
    rows = ask_rows(q, researcher, "research", hub=state_hub, control=control)
    assert rows.num_rows == 5
    assert "enterprise_id" not in rows.column_names
    assert all(p.startswith("X") for p in rows.column("pseudonym").to_pylist())
    programs = rows.column("programs").to_pylist()
    assert programs == sorted(programs, reverse=True)
    other_purpose = ask_rows(q, researcher, "program_evaluation", hub=state_hub, control=control)
    assert set(rows.column("pseudonym").to_pylist()).isdisjoint(
        other_purpose.column("pseudonym").to_pylist()
    )


def test_two_projects_cannot_join_their_extracts_on_pseudonyms(
    state_hub: Path, control: str
) -> None:
    """Two researchers' projects under the same purpose, each with its own grant: were a
    pseudonym a function of purpose and person alone, their extracts would join."""
    q = HeavyUsers(F.model_copy(update={"programs": ROW_PROGRAMS}), limit=5)
    extracts = []
    for user in ("rae", "rob"):
        researcher = Principal(user, "cdo", "researcher")
        granted(Gate(state_hub, control), researcher, "research", q.elements)
        extracts.append(ask_rows(q, researcher, "research", hub=state_hub, control=control))
    first, second = (set(t.column("pseudonym").to_pylist()) for t in extracts)
    assert extracts[0].column("programs").to_pylist() == extracts[1].column("programs").to_pylist()
    assert len(first) == 5 and first.isdisjoint(second)
    again = ask_rows(
        q, Principal("rae", "cdo", "researcher"), "research", hub=state_hub, control=control
    )
    assert set(again.column("pseudonym").to_pylist()) == first  # stable within a project


@dataclass(frozen=True)
class _SecretRows(HeavyUsers):
    """A row question that tries to hand the cell-key secret to its reader."""

    def sql(self, scope: Scope) -> str:
        secret = "getvariable('crosswalk_cell_key_secret')"
        return f"SELECT enterprise_id, {secret} AS k FROM {scope['linked_event']} LIMIT 5"


def test_a_row_question_cannot_read_the_cell_key_secret(state_hub: Path, control: str) -> None:
    """With the secret, a researcher could compute the cell keys and undo the noise of
    every released table: a row read is rendered without it and may read no variable."""
    researcher = Principal("rae", "cdo", "researcher")
    q = _SecretRows(F.model_copy(update={"programs": ROW_PROGRAMS}), limit=5)
    granted(Gate(state_hub, control), researcher, "research", q.elements)
    with pytest.raises(AccessDenied, match="session variable"):
        ask_rows(q, researcher, "research", hub=state_hub, control=control)
    assert entries(control)[-1]["action"] == "data.denied"


@pytest.mark.parametrize("level", ["identified", "pseudonymised"])
def test_analyst_gets_no_rows(state_hub: Path, control: str, level: str) -> None:
    q = HeavyUsers(F, limit=5)
    with pytest.raises(AccessDenied):
        ask_rows(q, ANALYST, "program_evaluation", level, hub=state_hub, control=control)
    assert [e["action"] for e in entries(control)] == ["data.denied"]


def test_granted_views_hold_only_what_was_granted(hub: duckdb.DuckDBPyConnection) -> None:
    granted = [("hfs.events", "program"), ("hfs.events", "start_date"), ("hfs.clients", "dob")]
    scope = granted_scope(hub, granted, name="t1")
    keys = {"person", "enterprise_id", "record_key", "agency"}
    events = hub.sql(f"SELECT * FROM {scope['linked_event']}")
    assert set(events.columns) == keys | {"event_key", "program", "start_date"}
    assert {
        a for (a,) in hub.sql(f"SELECT DISTINCT agency FROM {scope['linked_event']}").fetchall()
    } == {"hfs"}
    records = hub.sql(f"SELECT * FROM {scope['linked_record']}").columns
    assert set(records) == keys | {"dob"}
    # Nothing granted for an agency's clients: none of its rows, not even its keys.
    empty = granted_scope(hub, [("fcs.events", "program")], name="t2")
    assert hub.sql(f"SELECT count(*) FROM {empty['linked_record']}").fetchall() == [(0,)]


@dataclass(frozen=True)
class _Undeclared(ProgramOverlap):
    """Declares the overlap's elements but also reads amounts."""

    def sql(self, scope: Scope) -> str:
        return f"SELECT sum(amount) AS people FROM {scope['linked_event']}"


def test_a_question_cannot_read_what_it_did_not_declare(state_hub: Path, control: str) -> None:
    with pytest.raises(duckdb.BinderException, match="amount"):
        ask(
            _Undeclared(F),
            ANALYST,
            "program_evaluation",
            hub=state_hub,
            control=control,
        )


def test_the_audit_entry_says_how_the_answer_was_protected(state_hub: Path, control: str) -> None:
    answer = analyst_overlap(state_hub, control)
    [entry] = AuditLog(control).entries()
    body = json.loads(entry["body"])
    protection = body["objects"]["protection"]
    assert protection["k"] == 11
    assert sum(protection["suppressed"].values()) == len(answer.protected.suppressed)
    assert body["rows"] == answer.table.num_rows


def test_pseudonymised_views_hold_birth_years_only(hub: duckdb.DuckDBPyConnection) -> None:
    dob = ("hfs.clients", "dob")
    scope = granted_scope(hub, [dob], name="t3", year_only=[dob])
    days = hub.sql(
        f"SELECT DISTINCT month(dob), day(dob) FROM {scope['linked_record']} WHERE dob IS NOT NULL"
    ).fetchall()
    assert days == [(1, 1)]


@pytest.mark.parametrize("level", ["identified", "pseudonymised"])
def test_an_aggregate_question_is_never_answered_as_rows(
    state_hub: Path, control: str, level: str
) -> None:
    # The caseworker may have identified rows for care coordination; a count question asked
    # as rows would hand over its raw, unprotected count table (small cells, exact medians).
    q = LifetimeUse(filters=Filters(programs=ROW_PROGRAMS[:4]), by="county")
    caseworker = Principal("ana", "fcs", "caseworker")
    with pytest.raises(AccessDenied, match="not a row-level question"):
        ask_rows(q, caseworker, "care_coordination", level, hub=state_hub, control=control)
    [entry] = entries(control)
    assert entry["action"] == "data.denied"
    assert "lifetime" in entry["body"]


def test_rows_are_audited_before_they_leave(
    state_hub: Path, control: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whatever the pseudonymising step does, the read was written to the audit log first.
    def broken(self: object, enterprise_id: str, purpose: str, grant: str | None = None) -> str:
        raise RuntimeError("pseudonym key unavailable")

    monkeypatch.setattr(Gate, "pseudonym", broken)
    researcher = Principal("rae", "cdo", "researcher")
    q = HeavyUsers(F.model_copy(update={"programs": ROW_PROGRAMS}), limit=5)
    granted(Gate(state_hub, control), researcher, "research", q.elements)
    before = len(entries(control))
    with pytest.raises(RuntimeError):
        ask_rows(q, researcher, "research", hub=state_hub, control=control)
    [entry] = entries(control)[before:]
    assert entry["action"] == "data.read"
    assert "heavy-users" in entry["body"]
