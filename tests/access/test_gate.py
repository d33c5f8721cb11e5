from datetime import date

import duckdb
import pytest
import sqlalchemy as sa
from tests.grants import granted, person_view_elements

from crosswalk.access import REDISCLOSURE_NOTICE, WITHHOLDING_NOTICE, Gate
from crosswalk.agreement import Principal
from crosswalk.agreement.consent import ConsentRegistry
from crosswalk.audit import AuditLog
from crosswalk.errors import AccessDenied, AuditUnavailable

CASEWORKER = Principal("ana", "fcs", "caseworker")
TODAY = date(2025, 6, 1)


def test_caseworker_sees_records_but_not_part2_without_consent(hub, sud_person, control):
    answer = Gate(hub, control).person(CASEWORKER, "care_coordination", sud_person)
    agencies = {r["agency"] for r in answer.records}
    assert "sud" not in agencies and agencies
    assert all(e["agency"] != "sud" for e in answer.events)
    assert answer.notices == [WITHHOLDING_NOTICE]


def test_valid_consent_discloses_part2_with_the_notice(hub, sud_person, control):
    ConsentRegistry(control).add(
        sud_person,
        "sud",
        "fcs",
        "care_coordination",
        "treatment records",
        date(2025, 1, 1),
        date(2026, 1, 1),
    )
    answer = Gate(hub, control).person(CASEWORKER, "care_coordination", sud_person)
    assert "sud" in {r["agency"] for r in answer.records}
    assert answer.notices == [WITHHOLDING_NOTICE, REDISCLOSURE_NOTICE]


@pytest.mark.parametrize(
    ("signed", "expires", "revoked", "purpose"),
    [
        (date(2023, 1, 1), date(2024, 1, 1), None, "care_coordination"),  # expired
        (date(2025, 1, 1), date(2026, 1, 1), date(2025, 5, 1), "care_coordination"),  # revoked
        (date(2025, 1, 1), date(2026, 1, 1), None, "eligibility_verification"),  # other purpose
    ],
)
def test_expired_revoked_or_other_consent_does_not_disclose(
    hub, sud_person, control, signed, expires, revoked, purpose
):
    registry = ConsentRegistry(control)
    c = registry.add(sud_person, "sud", "fcs", purpose, "treatment records", signed, expires)
    if revoked:
        registry.revoke(c.consent_id, revoked)
    answer = Gate(hub, control).person(CASEWORKER, "care_coordination", sud_person)
    assert "sud" not in {r["agency"] for r in answer.records}


def test_denied_purpose_gets_nothing_and_is_audited(hub, sud_person, control):
    with pytest.raises(AccessDenied) as err:
        Gate(hub, control).person(Principal("bob", "fcs", "caseworker"), "research", sud_person)
    assert err.value.decision is not None and not err.value.decision.allowed
    entries = AuditLog(control).entries()
    assert entries[-1]["outcome"] == "denied" and entries[-1]["user"] == "bob"


def test_every_read_is_audited_with_rows(hub, sud_person, control):
    answer = Gate(hub, control).person(CASEWORKER, "care_coordination", sud_person)
    entry = AuditLog(control).entries()[-1]
    assert entry["action"] == "data.read" and sud_person in entry["body"]
    assert f'"rows":{len(answer.records) + len(answer.events)}' in entry["body"]


def test_pseudonyms_are_stable_per_purpose_and_hide_identifiers(hub, sud_person, control):
    researcher = Principal("rae", "cdo", "researcher")
    gate = Gate(hub, control)
    grants = {}
    for purpose in ("research", "program_evaluation"):
        elements = person_view_elements(researcher, purpose, "pseudonymised")
        grants[purpose] = granted(gate, researcher, purpose, elements).request_id

    def view(purpose):
        pseudonym = gate.pseudonym(sud_person, purpose, grants[purpose])
        return gate.person(researcher, purpose, pseudonym, level="pseudonymised")

    a, b, c = view("research"), view("research"), view("program_evaluation")
    assert a.person == b.person != c.person and sud_person not in (a.person, c.person)
    for r in a.records:
        assert not {"first_name", "last_name", "ssn_last4", "address_line", "phone"} & set(r)


def test_audit_unwritable_means_no_data(hub, sud_person, tmp_path, monkeypatch):
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    path = tmp_path / "control.db"
    Gate(hub, f"sqlite:///{path}")  # creates the control-plane tables
    read_only = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    gate = Gate(hub, read_only)
    with pytest.raises(AuditUnavailable):
        gate.person(CASEWORKER, "care_coordination", sud_person)


def test_gate_hands_out_no_connection(hub, control):
    gate = Gate(hub, control)
    for name in dir(gate):
        assert not isinstance(getattr(gate, name), duckdb.DuckDBPyConnection), name


def test_no_row_reveals_a_program_the_reader_may_not_see(hub, sud_person, control):
    """A researcher may see quasi-identifiers, but not rows that show substance-use treatment."""
    researcher = Principal("rae", "cdo", "researcher")
    gate = Gate(hub, control)
    grant = granted(
        gate, researcher, "research", person_view_elements(researcher, "research", "pseudonymised")
    ).request_id
    pseudonym = gate.pseudonym(sud_person, "research", grant)
    answer = gate.person(researcher, "research", pseudonym, level="pseudonymised")
    assert answer.records, "other agencies' records are shown"
    assert all(r["agency"] != "sud" for r in answer.records)
    assert all(e["agency"] != "sud" for e in answer.events)
