"""Every read through the gate: quarantine, review queue, consent registry, audit log.

Each of these read agency data (or who read it, or who consented) with no principal, no
decision and no audit entry; each is now decided, audited, and refused to the wrong role."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from crosswalk import analytics, audit, identity, ingest
from crosswalk.access import Gate
from crosswalk.agreement import Principal
from crosswalk.agreement.consent import ConsentRegistry
from crosswalk.audit import AuditLog
from crosswalk.errors import AccessDenied, NotFound

FCS_STEWARD = Principal("fcs.steward", "fcs", "steward")
LINKAGE = Principal("cdo.linkage", "cdo", "linkage_steward")
OFFICER = Principal("cdo.privacy", "cdo", "privacy_officer")
CASEWORKER = Principal("ana", "fcs", "caseworker")


def last(control):
    entry = AuditLog(control).entries()[-1]
    return entry["action"], entry["user"], entry["outcome"]


def test_a_steward_sees_only_their_own_agencys_quarantine(hub, control):
    rows = Gate(hub, control).quarantine(FCS_STEWARD, "operations")
    assert rows.num_rows and set(rows.column("agency").to_pylist()) == {"fcs"}
    assert last(control) == ("data.read", "fcs.steward", "ok")


@pytest.mark.parametrize(
    ("principal", "purpose"),
    [
        (CASEWORKER, "care_coordination"),  # clause 5.1 grants identifiers, not raw rows
        (OFFICER, "oversight"),
        (Principal("x", "fcs", "steward"), "research"),
    ],
)
def test_anyone_else_is_refused_the_quarantine_and_audited(hub, control, principal, purpose):
    with pytest.raises(AccessDenied):
        Gate(hub, control).quarantine(principal, purpose)
    assert last(control) == ("data.denied", principal.user, "denied")


def test_a_linkage_steward_sees_both_records_of_a_pair_but_no_part2_record(hub, control):
    pairs = Gate(hub, control).review_list(LINKAGE, "linkage_review")
    assert pairs
    for p in pairs:
        for side in ("record_l", "record_r"):
            assert p[side]["agency"] != "sud"
            assert {"first_name", "last_name", "dob"} <= set(p[side])
    body = json.loads(AuditLog(control).entries()[-1]["body"])
    assert body["action"] == "data.read" and body["rows"] == len(pairs)
    assert pairs[0]["record_key_l"] in body["objects"]["record_keys"]


def test_the_review_queue_is_refused_to_a_caseworker(hub, control):
    with pytest.raises(AccessDenied):
        Gate(hub, control).review_list(CASEWORKER, "linkage_review")
    assert last(control) == ("data.denied", "ana", "denied")


def test_only_a_privacy_officer_lists_consents(hub, sud_person, control):
    ConsentRegistry(control).add(
        sud_person,
        "sud",
        "fcs",
        "care_coordination",
        "treatment",
        date(2025, 1, 1),
        date(2026, 1, 1),
    )
    gate = Gate(hub, control)
    with pytest.raises(AccessDenied):
        gate.consent_list(Principal("ada", "hfs", "analyst"), "program_evaluation")
    assert last(control) == ("data.denied", "ada", "denied")
    assert [c.enterprise_id for c in gate.consent_list(OFFICER, "oversight")] == [sud_person]
    assert last(control) == ("data.read", "cdo.privacy", "ok")


def test_only_a_privacy_officer_asks_who_accessed_whom(hub, sud_person, control):
    gate = Gate(hub, control)
    gate.person(CASEWORKER, "care_coordination", sud_person)
    for ask in (gate.audit_purposes, gate.audit_denials):
        with pytest.raises(AccessDenied):
            ask(CASEWORKER, "care_coordination")
    with pytest.raises(AccessDenied):
        gate.who_accessed(CASEWORKER, "care_coordination", sud_person)
    reads = gate.who_accessed(OFFICER, "oversight", sud_person)
    assert [(r["user"], r["action"]) for r in reads] == [("ana", "data.read")]
    assert gate.audit_denials(OFFICER, "oversight")
    assert last(control) == ("data.read", "cdo.privacy", "ok")


def test_no_ungated_reader_is_left_on_the_public_surface():
    assert not {"compute", "exact_counts"} & set(analytics.__all__)
    assert not hasattr(analytics, "compute") and not hasattr(analytics, "exact_counts")
    assert "quarantine" not in ingest.__all__
    assert not {"review_list", "review_decide"} & set(identity.__all__)
    assert not {"who_accessed", "purposes", "denials"} & set(audit.__all__)


def test_a_review_pairs_person_counts_no_part2_record(hub, control):
    """42 CFR 2.13(c): counting a person's sud records next to its identifiers says that
    person is a patient (the person index export, which leaves them out, shows the gap)."""
    pairs = Gate(hub, control).review_list(LINKAGE, "linkage_review", limit=1_000)
    con = duckdb.connect(str(hub), read_only=True)
    try:
        counts = dict(
            con.execute(
                """SELECT enterprise_id, count(*) FILTER (WHERE agency <> 'sud') FROM person_index
                GROUP BY 1 HAVING bool_or(agency = 'sud')"""
            ).fetchall()
        )
    finally:
        con.close()
    shown = {
        p["persons"][k]["enterprise_id"]: p["persons"][k]["records"]
        for p in pairs
        for k in (p["record_key_l"], p["record_key_r"])
    }
    with_sud = shown.keys() & counts.keys()
    assert with_sud  # the queue has persons with a Part 2 record: the attack has a target
    assert {e: shown[e] for e in with_sud} == {e: counts[e] for e in with_sud}


def test_a_review_decision_on_a_part2_record_is_refused_as_if_it_did_not_exist(hub, control):
    """Deciding on a record the steward may not see would force a match of it, and a
    refusal different from a missing record's would say the Part 2 record exists."""
    con = duckdb.connect(str(hub), read_only=True)
    try:
        sud, fcs = (
            con.execute(
                "SELECT min(record_key) FROM person_record WHERE agency = ?", [agency]
            ).fetchall()[0][0]
            for agency in ("sud", "fcs")
        )
    finally:
        con.close()
    gate = Gate(hub, control)
    messages = []
    for record in (sud, "sud:SU99999999"):
        with pytest.raises(NotFound) as refused:
            gate.review_decide("cdo.linkage", record, fcs, "no-match")
        messages.append(str(refused.value).replace(record, "RECORD"))
    assert messages[0] == messages[1]
    con = duckdb.connect(str(hub), read_only=True)
    try:
        assert con.execute(
            "SELECT count(*) FROM review_decision WHERE ? IN (record_key_l, record_key_r)", [sud]
        ).fetchall() == [(0,)]
    finally:
        con.close()
    entries = [(e["action"], e["outcome"]) for e in AuditLog(control).entries()]
    assert entries == [("identity.review", "ok"), ("identity.review", "failed")] * 2


ELIGIBILITY = Principal("eli", "hfs", "eligibility_worker")


@pytest.mark.parametrize(
    ("principal", "purpose"),
    [(CASEWORKER, "care_coordination"), (ELIGIBILITY, "eligibility_verification")],
)
@pytest.mark.parametrize(
    "read",
    [
        lambda gate, p, purpose: gate.review_list(p, purpose, limit=3),
        lambda gate, p, purpose: gate.person_index(p, purpose),
        lambda gate, p, purpose: gate.link_quality(p, purpose),
        lambda gate, p, purpose: gate.person_history(p, purpose, "P0000000001"),
        lambda gate, p, purpose: gate.record_history(p, purpose, "hfs:1"),
    ],
    ids=["review", "person-index", "quality", "person-history", "record-history"],
)
def test_the_linkage_reads_are_refused_for_a_clients_purpose(
    hub, control, principal, purpose, read
):
    # The attack: a caseworker's or an eligibility worker's clause grants the record
    # elements of every agency (to see a client's records), so asking for the review
    # queue, the person index or the id history under that purpose was answered: every
    # agency's records and record ids in bulk, child welfare and corrections among them.
    with pytest.raises(AccessDenied, match="for linkage_review only"):
        read(Gate(hub, control), principal, purpose)
    assert last(control)[0] == "data.denied"
