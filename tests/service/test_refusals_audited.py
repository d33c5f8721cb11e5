"""Every 403 the service decides before the gate writes a ``data.denied`` entry: the
authenticated account, the purpose asked and the operation (the CLI's refusals are)."""

import json

import pytest
from tests.service.conftest import OPERATOR


def _denials(s, user):
    found = [json.loads(e["body"]) for e in s.hub.audit.entries()]
    return [e for e in found if e["action"] == "data.denied" and e["user"] == user]


@pytest.mark.parametrize(
    ("who", "path", "params", "purpose"),
    [
        # a purpose none of the account's roles may use
        ("ana", "/persons/{person}", {"purpose": "program_evaluation"}, "program_evaluation"),
        # a role the account does not hold
        (
            "ana",
            "/persons/{person}",
            {"purpose": "care_coordination", "role": "steward"},
            "care_coordination",
        ),
        # the hub operator's linkage review, asked by a caseworker
        ("ana", "/review", {}, "linkage_review"),
        # the audit log, asked by an analyst
        ("ada", "/audit/entries", {}, None),
    ],
)
def test_a_refusal_before_the_gate_is_audited(service, sud_person, who, path, params, purpose):
    before = len(_denials(service, who))
    url = path.format(person=sud_person)
    r = service.get(url, who, params=params)
    assert r.status_code == 403
    after = _denials(service, who)
    assert len(after) == before + 1
    entry = after[-1]
    assert entry["outcome"] == "denied"
    assert entry["agency"] == service.accounts.get(who).agency
    assert entry["purpose"] == purpose
    assert entry["objects"] == {"operation": f"GET {url}"}
    assert entry["decision"]["reasons"] == [r.json()["detail"]]


def test_a_token_without_the_scope_is_refused_and_audited(any_service, sud_person):
    s = any_service
    _, audit_only = s.accounts.create_token(OPERATOR, "cdo.privacy", scopes=["audit"])
    before = len(_denials(s, "cdo.privacy"))
    r = s.client.get(
        f"/persons/{sud_person}",
        params={"purpose": "oversight"},
        headers={"Authorization": f"Bearer {audit_only}"},
    )
    assert r.status_code == 403 and "scope" in r.json()["detail"]
    after = _denials(s, "cdo.privacy")
    assert len(after) == before + 1
    assert after[-1]["purpose"] == "oversight"
    assert after[-1]["objects"] == {"operation": f"GET /persons/{sud_person}"}


def test_a_failed_token_is_audited_with_its_cause_never_its_secret(service):
    """A forged bearer token gets the same 401 as any other bad token; the log says why."""
    _, secret = service.accounts.create_token(OPERATOR, "ana")
    forged = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    r = service.client.get("/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    failed = [
        json.loads(e["body"])
        for e in service.hub.audit.entries()
        if e["action"] == "session.failed"
    ]
    assert failed[-1]["user"] == "ana" and failed[-1]["objects"]["why"] == "wrong secret"
    assert failed[-1]["objects"]["token"] == secret.split("_")[1]
    assert secret.split("_", 2)[2] not in json.dumps(failed)
