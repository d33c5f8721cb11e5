"""Households through the gate: a family's services across agencies for those whose
clauses allow it, refused and audited like person reads, and no family member learnt
from an agency the reader may not see, nor a small household from an aggregate."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from itertools import pairwise

import duckdb
import pytest

from crosswalk.access import Gate
from crosswalk.agreement import Principal
from crosswalk.analytics import Filters, LifetimeUse, ProgramOverlap, ask
from crosswalk.audit import AuditLog
from crosswalk.errors import AccessDenied
from crosswalk.identity import households

CASEWORKER = Principal("ana", "fcs", "caseworker")
# Eligibility workers see case numbers and enrolment (clause 5.3), not child welfare.
ELIGIBILITY = Principal("eli", "hfs", "eligibility_worker")
ANALYST = Principal("ada", "hfs", "analyst")


@pytest.fixture(scope="module")
def placed(hub):
    """A child in a foster home with others on a day: (child, day, foster household,
    the birth household)."""
    con = duckdb.connect(str(hub), read_only=True)
    try:
        child, start, end, foster = con.execute(
            """SELECT p.enterprise_id, p.valid_from, p.valid_to, p.household_id
            FROM household_member p WHERE p.basis = 'placement' AND p.valid_to IS NOT NULL
              AND (SELECT count(DISTINCT enterprise_id) FROM household_member o
                   WHERE o.household_id = p.household_id AND o.basis <> 'placement') >= 2
            ORDER BY p.valid_to - p.valid_from DESC, 1 LIMIT 1"""
        ).fetchall()[0]
        (birth,) = con.execute(
            "SELECT DISTINCT household_id FROM household_member WHERE enterprise_id = ? AND basis <> 'placement'",
            [child],
        ).fetchall()[0]
    finally:
        con.close()
    return child, start + (end - start) / 2, foster, birth


def test_a_caseworker_sees_the_foster_family_during_the_placement(hub, placed, control):
    child, day, foster, birth = placed
    answer = Gate(hub, control).family(CASEWORKER, "care_coordination", child, day)
    assert answer.household == foster
    members = {m.person: m for m in answer.members}
    assert child in members and len(members) >= 2
    assert all(m.records for m in answer.members)
    # Before the placement, the same child is with the birth family.
    before = Gate(hub, control).family(
        CASEWORKER, "care_coordination", child, members[child].valid_from - timedelta(days=1)
    )
    assert before.household == birth != foster
    entry = next(e for e in AuditLog(control).entries() if e["action"] == "data.read")
    assert json.loads(entry["body"])["objects"]["household"] == foster


def test_child_welfare_placements_are_not_shown_to_eligibility_workers(hub, placed, control):
    # The placement is child-welfare data: an eligibility worker learns neither the
    # foster family nor that the child is placed. The child is at home for them, all
    # along (a refusal on the placement's days only would date the placement).
    child, day, foster, birth = placed
    gate = Gate(hub, control)
    during = gate.family(ELIGIBILITY, "eligibility_verification", child, day)
    assert during.household == birth != foster
    stays = {m.person: (m.valid_from, m.valid_to) for m in during.members}
    con = duckdb.connect(str(hub), read_only=True)
    start, end = con.execute(
        """SELECT valid_from, valid_to FROM household_member WHERE enterprise_id = ?
        AND basis = 'placement' AND valid_from <= ? AND valid_to >= ?""",
        [child, day, day],
    ).fetchall()[0]
    con.close()
    # The stay at home shown spans the placement: neither of its dates is told.
    since, until = stays[child]
    assert (since is None or since < start) and (until is None or until > end)
    before = gate.family(ELIGIBILITY, "eligibility_verification", child, start - timedelta(days=1))
    assert {m.person: (m.valid_from, m.valid_to) for m in before.members}[child] == stays[child]
    entry = [e for e in AuditLog(control).entries() if e["action"] == "data.read"][-1]
    assert json.loads(entry["body"])["objects"]["household"] == birth


@pytest.mark.parametrize(
    ("principal", "purpose"),
    [
        (ANALYST, "program_evaluation"),  # aggregates only
        (CASEWORKER, "program_evaluation"),  # not the caseworker's purpose
        (Principal("x", "nowhere", "caseworker"), "care_coordination"),  # not a party
    ],
)
def test_a_household_read_is_refused_and_audited_like_a_person_read(
    hub, placed, control, principal, purpose
):
    child, day, _, _ = placed
    with pytest.raises(AccessDenied):
        Gate(hub, control).family(principal, purpose, child, day)
    [entry] = AuditLog(control).entries()
    assert entry["action"] == "data.denied"
    assert json.loads(entry["body"])["objects"]["enterprise_ids"] == [child]


def test_small_households_do_not_leak_from_aggregates(hub, control):
    f = Filters(
        start=date(2015, 1, 1), end=date(2020, 12, 31), programs=("MEDICAID", "SNAP", "FOSTER_CARE")
    )
    for question in (
        LifetimeUse(f, by="county", unit="household"),
        ProgramOverlap(f, unit="household"),
    ):
        answer = ask(question, ANALYST, "program_evaluation", hub=hub, control=control)
        released = [v for v in answer.table.column("people").to_pylist() if v is not None]
        assert released and all(v == 0 or v >= 11 for v in released)
        assert any(v is None for v in answer.table.column("people").to_pylist())


def test_the_household_unit_needs_the_household_elements(hub, control):
    # The household unit reads each agency's household membership (case identifiers at
    # the hub, clause 4.4): a question without them never sees the households' table.
    f = Filters(end=date(2020, 12, 31), programs=("SNAP",))
    assert ("fcs.clients", "household") in LifetimeUse(f, unit="household").elements
    assert ("fcs.clients", "household") not in LifetimeUse(f).elements
    assert "linked_household" not in LifetimeUse(f).render()


def _two_households_of_sud_clients(hub):
    """Two persons known to the substance-use program, each at home on 2025-06-01 with
    others by another agency's data, in two households."""
    con = duckdb.connect(str(hub), read_only=True)
    try:
        rows = con.execute(
            """SELECT enterprise_id, min(household_id) FROM household_member
            WHERE agency <> 'sud' AND basis IN ('case', 'address')
              AND (valid_from IS NULL OR valid_from <= DATE '2025-06-01')
              AND (valid_to IS NULL OR valid_to >= DATE '2025-06-01')
              AND enterprise_id IN (SELECT enterprise_id FROM person_index WHERE agency = 'sud')
              AND household_id IN (SELECT household_id FROM household_member
                GROUP BY 1 HAVING count(DISTINCT enterprise_id) >= 2)
            GROUP BY 1 ORDER BY 1"""
        ).fetchall()
    finally:
        con.close()
    (a, home_a), (c, _) = next((x, y) for x, y in pairwise(rows) if x[1] != y[1])
    return a, home_a, c


def test_a_household_joined_by_data_the_reader_may_not_see_is_not_shown_joined(
    hub, control, tmp_path
):
    # The attack: two families' members are grouped into one household only because two
    # of them share a case number of the substance-use program. A caseworker without
    # their consent, who may not see that program's households, was shown the other
    # family as living with their client: each member's own memberships were of
    # agencies the caseworker may see, but what joined the two families was not.
    copy = tmp_path / "hub.duckdb"
    shutil.copy(hub, copy)
    a, home_a, c = _two_households_of_sud_clients(copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute(
            """UPDATE person_record SET case_id = 'JOINED-BY-TREATMENT' WHERE record_key IN (
              SELECT min(record_key) FROM person_index WHERE agency = 'sud'
              AND enterprise_id IN (?, ?) GROUP BY enterprise_id)""",
            [a, c],
        )
        households.build(con, "joined")
        joined = {
            p
            for (p,) in con.execute(
                """SELECT enterprise_id FROM household_member WHERE household_id = (
                  SELECT household_id FROM household_member WHERE enterprise_id = ? LIMIT 1)""",
                [a],
            ).fetchall()
        }
    finally:
        con.close()
    assert c in joined  # the substance-use case number joined the two families
    gate = Gate(copy, control)
    answer = gate.family(CASEWORKER, "care_coordination", a, date(2025, 6, 1))
    shown = {m.person for m in answer.members}
    assert a in shown and c not in shown
    # Who is shown lives with the client by data the caseworker may see: the same
    # family as before the two were joined.
    before = Gate(hub, control).family(CASEWORKER, "care_coordination", a, date(2025, 6, 1))
    assert shown == {m.person for m in before.members}
    assert home_a == before.household
