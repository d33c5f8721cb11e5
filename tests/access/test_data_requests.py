"""Data requests -> approvals -> grants, and the attacks on them."""

import importlib.resources
from datetime import date

import pytest

from crosswalk.access import Gate
from crosswalk.agreement import Principal
from crosswalk.audit import AuditLog
from crosswalk.errors import AccessDenied, ConfigError, NotFound, RequestConflict

RAE = Principal("rae", "cdo", "researcher")
TODAY = date(2025, 6, 1)
HFS = [("hfs.clients", "dob"), ("hfs.clients", "sex"), ("hfs.events", "program")]
HFS_MH = [*HFS, ("mh.events", "program")]


def ask(gate, elements=HFS, level="pseudonymised", who=RAE, end=date(2025, 12, 31)):
    return gate.request_data(
        who, "research", elements, level, TODAY, end, "Outcomes of Medicaid enrolees"
    )


def actions(control, since=0):
    return [(e["action"], e["user"], e["outcome"]) for e in AuditLog(control).entries()[since:]]


@pytest.fixture
def gate(hub, control):
    return Gate(hub, control)


def test_request_approve_then_read_then_revoke(gate, control, sud_person, plain_person):
    """The journey: denied before, granted after every steward approved, denied again on
    the very next request after the revocation; each step audited."""
    with pytest.raises(AccessDenied):
        gate.person(RAE, "research", plain_person, level="pseudonymised")
    request = ask(gate)
    assert request.status == "pending" and request.waiting_for == ("hfs",)
    granted = gate.approve_request("hfs.steward", request.request_id, "within the project's aims")
    assert granted.status == "granted" and granted.decisions[0].steward == "hfs.steward"
    pseudonym = gate.pseudonym(plain_person, "research", request.request_id)
    answer = gate.person(RAE, "research", pseudonym, level="pseudonymised")
    assert answer.decision.grant == request.request_id and answer.person == pseudonym
    assert {r["agency"] for r in answer.records + answer.events} <= {"hfs"}
    assert answer.records and all(set(r) <= {"agency", "dob_year", "sex"} for r in answer.records)
    gate.revoke_grant("cdo.privacy", request.request_id, "project closed")
    with pytest.raises(AccessDenied):
        gate.person(RAE, "research", plain_person, level="pseudonymised")
    assert [a for a in actions(control) if a[0] != "data.denied" and a[0] != "data.read"] == [
        ("request.created", "rae", "ok"),
        ("request.decision", "hfs.steward", "ok"),
        ("grant.change", "hfs.steward", "ok"),
        ("grant.change", "cdo.privacy", "ok"),
    ]
    shown = gate.show_request("rae", request.request_id)
    assert shown.status == "revoked" and shown.revoked_by == "cdo.privacy"
    assert shown.revoke_reason == "project closed"


def test_every_involved_agency_must_approve(gate, plain_person):
    request = ask(gate, HFS_MH)
    assert request.waiting_for == ("hfs", "mh")
    after = gate.approve_request("hfs.steward", request.request_id, "ok")
    assert after.status == "pending" and after.waiting_for == ("mh",)
    with pytest.raises(RequestConflict, match="already answered for hfs"):
        gate.approve_request("hfs.steward", request.request_id, "again")
    assert gate.approve_request("mh.steward", request.request_id, "ok").status == "granted"


def test_one_denial_denies_the_request(gate):
    request = ask(gate, HFS_MH)
    with pytest.raises(ConfigError, match="reason"):
        gate.deny_request("mh.steward", request.request_id, " ")
    denied = gate.deny_request("mh.steward", request.request_id, "no IRB approval on file")
    assert denied.status == "denied" and denied.decisions[0].reason == "no IRB approval on file"
    with pytest.raises(RequestConflict, match="denied, not pending"):
        gate.approve_request("hfs.steward", request.request_id, "ok")


def test_a_steward_of_another_agency_cannot_approve(gate, control):
    """The attack: the steward of an agency the request does not involve approves it.
    To them it does not exist (as a missing one), and the attempt is audited."""
    request = ask(gate)
    before = len(AuditLog(control).entries())
    with pytest.raises(NotFound) as missing:
        gate.approve_request("sud.steward", request.request_id, "ok")
    with pytest.raises(NotFound) as other:
        gate.approve_request("sud.steward", "Rnothere", "ok")
    assert str(missing.value) == str(other.value).replace("Rnothere", request.request_id)
    assert actions(control, before) == [
        ("request.decision", "sud.steward", "denied"),
        ("request.decision", "sud.steward", "denied"),
    ]
    assert gate.show_request("rae", request.request_id).status == "pending"


def test_a_steward_answers_only_for_their_own_agency(gate):
    """The attack: one involved agency's steward tries to grant the whole request."""
    request = ask(gate, HFS_MH)
    after = gate.approve_request("mh.steward", request.request_id, "ok")
    assert after.status == "pending" and after.waiting_for == ("hfs",)
    assert [d.agency for d in after.decisions] == ["mh"]


def test_a_requester_cannot_approve_their_own_request(gate, control):
    """The attack: a steward asks for their own agency's data and approves it."""
    steward_as_researcher = Principal("hfs.steward", "cdo", "researcher")
    request = ask(gate, who=steward_as_researcher)
    with pytest.raises(AccessDenied, match="their own data request"):
        gate.approve_request("hfs.steward", request.request_id, "mine")
    assert actions(control)[-1] == ("request.decision", "hfs.steward", "denied")
    assert gate.show_request("hfs.steward", request.request_id).status == "pending"


def test_an_expired_grant_counts_for_nothing(gate, plain_person, clock_at):
    request = ask(gate, end=date(2025, 6, 30))
    gate.approve_request("hfs.steward", request.request_id, "ok")
    gate.person(
        RAE,
        "research",
        gate.pseudonym(plain_person, "research", request.request_id),
        "pseudonymised",
    )
    clock_at(date(2025, 7, 1))
    with pytest.raises(AccessDenied) as denied:
        gate.person(RAE, "research", plain_person, level="pseudonymised")
    assert any("used only by request" in r.text for r in denied.value.decision.reasons)
    assert gate.show_request("rae", request.request_id).state(date(2025, 7, 1)) == "expired"
    with pytest.raises(RequestConflict, match="expired"):
        gate.revoke_grant("hfs.steward", request.request_id, "late")


def test_an_aggregate_grant_gives_no_person_level_read(gate, plain_person):
    """The attack: a grant approved at the aggregate level used for a pseudonymised read."""
    request = ask(gate, level="aggregate")
    gate.approve_request("hfs.steward", request.request_id, "counts only")
    with pytest.raises(AccessDenied):
        gate.person(RAE, "research", plain_person, level="pseudonymised")


def test_an_element_outside_the_grant_is_not_shown(gate, hub):
    """The attack: a grant of Medicaid data used to read a person's mental-health services."""
    import duckdb

    con = duckdb.connect(str(hub), read_only=True)
    person = con.execute(
        """SELECT enterprise_id FROM person_index GROUP BY 1
        HAVING bool_or(agency = 'hfs') AND bool_or(agency = 'mh')
        AND NOT bool_or(agency = 'sud') ORDER BY 1 LIMIT 1"""
    ).fetchall()[0][0]
    con.close()
    request = ask(gate)
    gate.approve_request("hfs.steward", request.request_id, "ok")
    pseudonym = gate.pseudonym(person, "research", request.request_id)
    answer = gate.person(RAE, "research", pseudonym, level="pseudonymised")
    assert {r["agency"] for r in answer.records + answer.events} == {"hfs"}
    assert ("mh.events", "program") in answer.decision.dropped


def test_a_request_the_agreement_does_not_know_is_refused(gate, control):
    before = len(AuditLog(control).entries())
    with pytest.raises(ConfigError) as bad:
        gate.request_data(
            RAE,
            "fishing",
            [("hfs.clients", "shoe_size"), ("nowhere.events", "program")],
            "everything",
            TODAY,
            date(2030, 1, 1),
            "",
        )
    said = [str(p) for p in bad.value.problems]
    assert "field 'purpose': 'fishing' is not a purpose of the agreement" in said
    assert any("hfs.clients has no data element 'shoe_size'" in p for p in said)
    assert any("'nowhere.events' is not a dataset" in p for p in said)
    assert any("level is one of" in p for p in said)
    assert any("at most 731 days" in p for p in said)
    assert any("say why" in p for p in said)
    assert len(AuditLog(control).entries()) == before  # nothing was asked of anyone


def test_a_request_no_clause_would_permit_is_refused_and_audited(gate, control):
    """Identified names for research: no grant could ever widen a clause to that."""
    with pytest.raises(AccessDenied, match=r"hfs\.clients\.last_name"):
        ask(gate, [("hfs.clients", "last_name")], level="identified")
    with pytest.raises(AccessDenied):
        ask(gate, HFS, who=Principal("ana", "fcs", "caseworker"))
    assert actions(control)[-1] == ("request.created", "ana", "denied")
    assert gate.list_requests("rae") == []


def test_approving_what_the_agreement_no_longer_permits_is_refused(gate, control, tmp_path):
    request = ask(gate)
    text = importlib.resources.files("crosswalk.agreement").joinpath("emou.yaml").read_text()
    text = text.replace("version: 1\n", "version: 2\n", 1)
    text = text.replace("effective_from: 2024-01-01\n", "effective_from: 2025-06-01\n", 1)
    text = text.replace(
        "    by_request: true\n", "    by_request: true\n    effective_to: 2025-05-31\n"
    )
    amendment = tmp_path / "emou-v2.yaml"
    amendment.write_text(text, encoding="utf-8")
    gate.agreement_load("cdo.steward", amendment)
    with pytest.raises(RequestConflict, match="no longer permits"):
        gate.approve_request("hfs.steward", request.request_id, "ok")
    assert actions(control)[-1] == ("request.decision", "hfs.steward", "denied")


def test_who_sees_a_request(gate):
    hfs = ask(gate)
    both = ask(gate, HFS_MH)
    assert [r.request_id for r in gate.list_requests("rae")] == [hfs.request_id, both.request_id]
    assert [r.request_id for r in gate.list_requests("mh.steward")] == [both.request_id]
    assert [r.request_id for r in gate.list_requests("cdo.privacy")] == [
        hfs.request_id,
        both.request_id,
    ]
    assert gate.list_requests("sud.steward") == []
    assert gate.list_requests("eve") == []
    with pytest.raises(NotFound):
        gate.show_request("mh.steward", hfs.request_id)
    assert gate.list_requests("rae", status="granted") == []


def test_revocation_is_for_stewards_and_privacy_officers(gate, control):
    request = ask(gate)
    gate.approve_request("hfs.steward", request.request_id, "ok")
    with pytest.raises(AccessDenied, match="may not revoke"):
        gate.revoke_grant("rae", request.request_id, "I am done")
    with pytest.raises(NotFound):
        gate.revoke_grant("sud.steward", request.request_id, "not mine")
    assert gate.revoke_grant("hfs.steward", request.request_id, "misuse").status == "revoked"
    with pytest.raises(RequestConflict):
        gate.revoke_grant("hfs.steward", request.request_id, "again")


def test_two_answers_for_one_agency_at_once_conflict(gate, hub, control):
    """Two stewards of one agency answering at the same moment: the second is refused,
    not a server error, and the request keeps the first answer."""
    from crosswalk.hub import Hub

    request = ask(gate)
    registry = Hub(hub, control).requests
    registry.decide(request.request_id, ["hfs"], "hfs.steward", "approved", "first")
    with pytest.raises(RequestConflict, match="meanwhile"):
        registry.decide(request.request_id, ["hfs"], "hfs.other", "denied", "second")
    shown = gate.show_request("rae", request.request_id)
    assert shown.status == "granted" and [d.reason for d in shown.decisions] == ["first"]


def test_a_researcher_cannot_learn_whose_pseudonym_is_whose(gate, control, plain_person):
    """The attack: a pseudonymised person view was asked for by enterprise id, so a
    researcher tried every id in turn and learnt the id behind each pseudonym of their
    extract; two projects could then join their extracts on the ids."""
    request = ask(gate)
    gate.approve_request("hfs.steward", request.request_id, "ok")
    with pytest.raises(AccessDenied, match="by the pseudonym"):
        gate.person(RAE, "research", plain_person, level="pseudonymised")
    assert actions(control)[-1] == ("data.denied", "rae", "denied")
    # By the pseudonym the project holds, the same person; a pseudonym of another
    # project (or made up) is a person who does not exist.
    pseudonym = gate.pseudonym(plain_person, "research", request.request_id)
    answer = gate.person(RAE, "research", pseudonym, level="pseudonymised")
    assert answer.person == pseudonym and answer.records
    other = gate.pseudonym(plain_person, "research", "R-another-project")
    with pytest.raises(NotFound) as unseen:
        gate.person(RAE, "research", other, level="pseudonymised")
    with pytest.raises(NotFound) as made_up:
        gate.person(RAE, "research", "X0123456789abcdef", level="pseudonymised")
    assert str(unseen.value).replace(other, "") == str(made_up.value).replace(
        "X0123456789abcdef", ""
    )
    entry = AuditLog(control).entries()[-3]
    assert plain_person in entry["body"] and pseudonym in entry["body"]
