"""Journeys through the API: sign in, ask, see the audit; revocation takes effect on the
very next request; the principal is always the token's account. On SQLite and on a real
PostgreSQL server."""

from tests.grants import granted
from tests.service.conftest import PASSWORD

from crosswalk.agreement import Principal
from crosswalk.analytics import Filters
from crosswalk.analytics.heavy import HeavyUsers


def test_sign_in_ask_and_see_it_in_the_audit(any_service):
    s = any_service
    signed = s.client.post("/auth/sign-in", json={"username": "ada", "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    token = signed.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = s.client.get("/me", headers=headers).json()
    assert me["username"] == "ada" and "program_evaluation" in me["purposes"]["analyst"]
    answer = s.client.post(
        "/analytics/overlap",
        headers=headers,
        json={
            "purpose": "program_evaluation",
            "filters": {"start": "2019-01-01", "end": "2019-12-31"},
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["question"] == "overlap" and body["rows"] and body["protection"]["k"] == 11
    # the counts shown are 0 or at least k, never 1 to 10
    assert all(r["people"] is None or r["people"] == 0 or r["people"] >= 11 for r in body["rows"])
    reads = [e for e in s.hub.audit.entries() if e["action"] == "data.read" and e["user"] == "ada"]
    assert len(reads) == 1 and reads[0]["purpose"] == "program_evaluation"
    verified = s.get("/audit/verify", "cdo.privacy").json()
    assert verified["ok"] and verified["entries"] == len(s.hub.audit.entries())


def test_a_caseworker_sees_a_person_and_the_privacy_officer_sees_who_did(any_service, sud_person):
    s = any_service
    person = s.get(f"/persons/{sud_person}", "ana", params={"purpose": "care_coordination"})
    assert person.status_code == 200, person.text
    assert person.json()["records"] and "sud" not in {r["agency"] for r in person.json()["records"]}
    found = s.get("/audit/entries", "cdo.privacy", params={"enterprise_id": sud_person}).json()
    assert [(e["user"], e["action"]) for e in found["items"]] == [("ana", "data.read")]


def test_a_revoked_token_fails_on_the_very_next_request(any_service):
    s = any_service
    made = s.post("/accounts/ana/tokens", "ana", json={"days": 1, "label": "laptop"})
    assert made.status_code == 201, made.text
    token, token_id = made.json()["token"], made.json()["token_id"]
    headers = {"Authorization": f"Bearer {token}"}
    assert s.client.get("/me", headers=headers).status_code == 200
    assert s.client.delete(f"/tokens/{token_id}", headers=headers).status_code == 200
    assert s.client.get("/me", headers=headers).status_code == 401


def test_a_disabled_account_is_signed_out_at_once(any_service):
    s = any_service
    assert s.get("/me", "ana").status_code == 200
    assert s.post("/accounts/ana/disable", "fran").status_code == 200
    assert s.get("/me", "ana").status_code == 401


def test_the_principal_is_the_account_whatever_the_body_says(service):
    forged = service.post(
        "/analytics/overlap",
        "ada",
        json={"purpose": "program_evaluation", "user": "cdo.privacy", "agency": "cdo"},
    )
    assert forged.status_code == 422
    assert {p["field"] for p in forged.json()["problems"]} == {"body.user", "body.agency"}


def test_a_purpose_no_role_of_the_account_covers_is_refused_and_audited(service, sud_person):
    refused = service.get(f"/persons/{sud_person}", "ada", params={"purpose": "care_coordination"})
    assert refused.status_code == 403
    wrong_role = service.get(
        f"/persons/{sud_person}", "ana", params={"purpose": "care_coordination", "role": "steward"}
    )
    assert wrong_role.status_code == 403 and "does not hold the role" in wrong_role.json()["detail"]


def test_a_steward_records_and_revokes_a_consent_of_their_own_agency(service, sud_person):
    consent = {
        "enterprise_id": sud_person,
        "recipient": "fcs",
        "purpose": "care_coordination",
        "information": "treatment records",
        "signed_on": "2025-01-01",
        "expires_on": "2026-01-01",
    }
    made = service.post("/consents", "sud.steward", json=consent)
    assert made.status_code == 201, made.text
    seen = service.get(f"/persons/{sud_person}", "ana", params={"purpose": "care_coordination"})
    assert "sud" in {r["agency"] for r in seen.json()["records"]}
    cid = made.json()["consent_id"]
    assert service.post(f"/consents/{cid}/revoke", "fcs.steward").status_code == 403
    assert service.post(f"/consents/{cid}/revoke", "sud.steward").status_code == 204
    later = service.get(f"/persons/{sud_person}", "ana", params={"purpose": "care_coordination"})
    assert "sud" not in {r["agency"] for r in later.json()["records"]}


def test_every_analytic_question_of_the_cli_is_answered(service):
    asks = {
        "overlap": {},
        "combinations": {},
        "pathways": {"program": "TANF"},
        "lifetime": {"by": "age_group"},
        "cohort": {"program": "FOSTER_CARE", "outcomes": ["JUVENILE_DETENTION"]},
        "trends": {"filters": {"start": "2019-01-01", "end": "2019-06-30"}, "by_county": False},
    }
    for name, extra in asks.items():
        r = service.post(
            f"/analytics/{name}", "ada", json={"purpose": "program_evaluation", **extra}
        )
        assert r.status_code == 200, (name, r.text)
        assert r.json()["rows"], name
    question = HeavyUsers(Filters(programs=("MEDICAID", "SNAP", "TANF")), limit=5)
    rae = Principal("rae", "cdo", "researcher")
    granted(service.app.state.gate, rae, "research", question.elements)
    heavy = service.post(
        "/analytics/heavy-users",
        "rae",
        json={
            "purpose": "research",
            "limit": 5,
            "filters": {"programs": ["MEDICAID", "SNAP", "TANF"]},
        },
    )
    assert heavy.status_code == 200, heavy.text
    assert "pseudonym" in heavy.json()["columns"] and "enterprise_id" not in heavy.json()["columns"]
