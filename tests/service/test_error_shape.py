"""One problem+json shape for every error the service returns; no traceback in any of
them; CORS closed by default; a body size limit; the OpenAPI schema names every operation
and its bearer authentication."""

import pytest
from tests.service.conftest import OPERATOR, PEOPLE

from crosswalk.accounts import MAX_FAILURES

OPERATIONS = {
    "POST /auth/sign-in",
    "GET /me",
    "GET /accounts",
    "POST /accounts",
    "GET /accounts/{username}",
    "POST /accounts/{username}/disable",
    "POST /accounts/{username}/enable",
    "POST /accounts/{username}/roles",
    "DELETE /accounts/{username}/roles/{role}",
    "GET /accounts/{username}/tokens",
    "POST /accounts/{username}/tokens",
    "DELETE /tokens/{token_id}",
    "GET /agreement",
    "GET /agreement/parties",
    "GET /persons/{enterprise_id}",
    *(
        f"POST /analytics/{q}"
        for q in (
            "overlap",
            "combinations",
            "pathways",
            "lifetime",
            "cohort",
            "trends",
            "heavy-users",
        )
    ),
    "GET /batches",
    "GET /batches/{batch_id}",
    "GET /batches/{batch_id}/quarantine",
    "POST /uploads",
    "POST /link-runs",
    "GET /jobs",
    "GET /jobs/{job_id}",
    "POST /review/decisions",
    "GET /review/{record_key}",
    "GET /batches/{batch_id}/issues",
    "GET /person-index",
    "GET /audit/who-accessed/{enterprise_id}",
    "GET /audit/purposes",
    "GET /audit/denials",
    "GET /review",
    "GET /consents",
    "POST /consents",
    "POST /consents/{consent_id}/revoke",
    "POST /requests",
    "GET /requests",
    "GET /requests/{request_id}",
    "POST /requests/{request_id}/approve",
    "POST /requests/{request_id}/deny",
    "POST /requests/{request_id}/revoke",
    "GET /audit/entries",
    "GET /audit/verify",
    "POST /audit/checkpoints",
}
SHAPE = {"type", "title", "status", "detail"}
OPTIONAL = {"problems", "decision", "holder", "holder_pid"}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert SHAPE <= set(body) <= SHAPE | OPTIONAL, set(body)
    assert body["status"] == status and body["type"].startswith("urn:crosswalk:error:")
    assert isinstance(body["title"], str) and isinstance(body["detail"], str)
    for p in body.get("problems", []):
        assert set(p) <= {"message", "file", "row", "field", "value", "rule"} and "message" in p
    text = response.text
    assert "Traceback" not in text and 'File "' not in text and ".py" not in text
    return body


def test_every_kind_of_error_has_the_one_shape(service, monkeypatch):
    s = service
    assert_problem(s.get("/me", None), 401)
    assert s.get("/me", None).headers["www-authenticate"].startswith("Bearer")
    assert_problem(s.client.get("/me", headers={"Authorization": "Bearer cwt_forged"}), 401)
    assert_problem(s.get("/audit/verify", "ana"), 403)
    assert_problem(s.get("/no/such/path", "ana"), 404)
    assert_problem(s.get("/accounts/nobody", "fran"), 404)
    assert_problem(s.client.put("/me", headers=s.as_("ana")), 405)
    body = assert_problem(s.post("/accounts", "fran", json={"username": 3}), 422)
    assert {p["field"] for p in body["problems"]} >= {"body.username", "body.agency"}
    assert_problem(s.post("/accounts", "fran", json={**_account(), "roles": ["king"]}), 400)
    assert s.post("/accounts", "fran", json=_account()).status_code == 201
    assert_problem(s.post("/accounts", "fran", json=_account()), 409)
    assert_problem(s.post("/accounts", "fran", content=b"x" * (2 * 1024 * 1024)), 413)
    for _ in range(MAX_FAILURES):
        assert_problem(
            s.post("/auth/sign-in", None, json={"username": "ada", "password": "x"}), 401
        )
    assert_problem(s.post("/auth/sign-in", None, json={"username": "ada", "password": "x"}), 429)

    def fail(*args, **kwargs):
        raise RuntimeError("internal detail /srv/secret.py line 12")

    monkeypatch.setattr(s.app.state.gate, "person", fail)
    body = assert_problem(s.get("/persons/P1", "ana", params={"purpose": "care_coordination"}), 500)
    assert "secret" not in s.get("/persons/P1", "ana", params={"purpose": "care_coordination"}).text


def _account() -> dict:
    return {"username": "newbie", "agency": "fcs", "roles": ["caseworker"]}


def test_a_password_or_token_sent_in_a_bad_request_is_not_echoed(service):
    r = service.post(
        "/auth/sign-in", None, json={"username": "ada", "password": ["hunter2-secret"]}
    )
    assert r.status_code == 422 and "hunter2-secret" not in r.text


def test_cross_origin_requests_are_refused_by_default(service):
    preflight = service.client.options(
        "/me",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = service.client.get(
        "/me", headers={**service.as_("ana"), "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in simple.headers


def test_security_headers_on_every_answer(service):
    for r in (service.get("/me", "ana"), service.get("/me", None)):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-store"


def test_openapi_names_every_operation_and_its_authentication(service):
    schema = service.client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    operations = {
        f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item
    }
    assert operations == OPERATIONS
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if path != "/auth/sign-in":
                assert op.get("security") == [{"HTTPBearer": []}], (method, path)
    listed = [p for p, item in schema["paths"].items() if "get" in item]
    pages = [
        p
        for p in listed
        if schema["paths"][p]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        .get("$ref", "")
        .startswith("#/components/schemas/Page")
    ]
    assert set(pages) == {
        "/accounts",
        "/accounts/{username}/tokens",
        "/agreement/parties",
        "/consents",
        "/audit/entries",
        "/batches",
        "/batches/{batch_id}/quarantine",
        "/review",
        "/jobs",
        "/review/{record_key}",
        "/batches/{batch_id}/issues",
        "/person-index",
        "/audit/who-accessed/{enterprise_id}",
        "/audit/purposes",
        "/audit/denials",
        "/requests",
    }


@pytest.mark.parametrize("limit", [0, 501, -1])
def test_pagination_is_bounded(service, limit):
    r = service.get("/agreement/parties", "ana", params={"limit": limit})
    assert r.status_code == 422


def test_pages_cover_the_list_once(service):
    first = service.get("/agreement/parties", "ana", params={"limit": 5}).json()
    rest = service.get("/agreement/parties", "ana", params={"offset": 5, "limit": 500}).json()
    codes = [p["code"] for p in first["items"] + rest["items"]]
    assert first["total"] == len(codes) == len(set(codes)) == 14


def test_a_streamed_body_over_the_limit_is_refused(service):
    def chunks():
        for _ in range(3):
            yield b"x" * (512 * 1024)

    r = service.client.post(
        "/accounts",
        headers={**service.as_("fran"), "Content-Type": "application/json"},
        content=chunks(),
    )
    assert_problem(r, 413)
    assert service.accounts.list_accounts(OPERATOR)[1] == len(PEOPLE)
