"""Data requests through the API and the client: request -> approve -> analyse, revocation
on the very next request, and another agency's request id as if it did not exist. On
SQLite and on a real PostgreSQL server."""

import pyarrow as pa
import pytest
from tests.service.test_error_shape import assert_problem

from crosswalk.analytics import Filters
from crosswalk.analytics.heavy import HeavyUsers
from crosswalk.client import Client
from crosswalk.errors import AccessDenied, NotFound, RequestConflict

QUESTION = HeavyUsers(Filters(programs=("SNAP", "TANF")), limit=5)
ELEMENTS = [{"dataset": d, "element": e} for d, e in QUESTION.elements]
HEAVY = {"purpose": "research", "limit": 5, "filters": {"programs": ["SNAP", "TANF"]}}


def make_request(s, **changes):
    body = {
        "purpose": "research",
        "elements": ELEMENTS,
        "level": "pseudonymised",
        "ends_on": "2025-12-31",
        "justification": "Who moves between SNAP and TANF",
        **changes,
    }
    return s.post("/requests", "rae", json=body)


def test_request_approve_analyse_revoke(any_service):
    s = any_service
    assert s.post("/analytics/heavy-users", "rae", json=HEAVY).status_code == 403
    made = make_request(s)
    assert made.status_code == 201, made.text
    request = made.json()
    assert request["state"] == "pending" and request["waiting_for"] == ["fcs"]
    assert request["requester"] == {"user": "rae", "agency": "cdo", "role": "researcher"}
    rid = request["request_id"]
    pending = s.get("/requests?state=pending", "fcs.steward").json()
    assert [r["request_id"] for r in pending["items"]] == [rid]
    approved = s.post(f"/requests/{rid}/approve", "fcs.steward", json={"reason": "fine"})
    assert approved.status_code == 200 and approved.json()["state"] == "granted"
    answer = s.post("/analytics/heavy-users", "rae", json=HEAVY)
    assert answer.status_code == 200, answer.text
    assert "pseudonym" in answer.json()["columns"]
    revoked = s.post(f"/requests/{rid}/revoke", "cdo.privacy", json={"reason": "closed"})
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert s.post("/analytics/heavy-users", "rae", json=HEAVY).status_code == 403
    # every step is visible to the requester, and in the audit log
    seen = s.get(f"/requests/{rid}", "rae").json()
    assert seen["answers"][0]["steward"] == "fcs.steward" and seen["revoked_by"] == "cdo.privacy"
    entries = s.get("/audit/entries?limit=500", "cdo.privacy").json()["items"]
    steps = [
        (e["action"], e["user"])
        for e in entries
        if e["action"] in ("request.created", "request.decision", "grant.change")
    ]
    assert steps == [
        ("request.created", "rae"),
        ("request.decision", "fcs.steward"),
        ("grant.change", "fcs.steward"),
        ("grant.change", "cdo.privacy"),
    ]


def test_another_agencys_request_is_not_there(service):
    """The attack: change the id in the path to another agency's request."""
    rid = make_request(service).json()["request_id"]
    for method, path, body in (
        ("GET", f"/requests/{rid}", None),
        ("POST", f"/requests/{rid}/approve", {"reason": "x"}),
        ("POST", f"/requests/{rid}/deny", {"reason": "x"}),
        ("POST", f"/requests/{rid}/revoke", {"reason": "x"}),
    ):
        theirs = service.client.request(method, path, headers=service.as_("sud.steward"), json=body)
        missing = service.client.request(
            method,
            path.replace(rid, "R000000000000"),
            headers=service.as_("sud.steward"),
            json=body,
        )
        assert_problem(theirs, 404)
        assert theirs.json()["detail"] == missing.json()["detail"].replace("R000000000000", rid)
    assert service.get("/requests", "sud.steward").json()["total"] == 0


def test_a_requester_cannot_approve_their_own_request(service):
    """rae holds a steward's account too? No: but a requester is refused whatever they hold."""
    rid = make_request(service).json()["request_id"]
    own = service.post(f"/requests/{rid}/approve", "rae", json={"reason": "mine"})
    assert_problem(own, 403)
    assert service.get(f"/requests/{rid}", "rae").json()["state"] == "pending"


def test_bad_requests_name_every_problem(service):
    bad = make_request(
        service,
        purpose="research",
        elements=[{"dataset": "fcs.events", "element": "shoe_size"}],
        justification=" ",
    )
    body = assert_problem(bad, 400)
    said = {p["message"] for p in body["problems"]}
    assert (
        "fcs.events has no data element 'shoe_size'" in said
        and "say why the data are needed" in said
    )
    assert_problem(make_request(service, level="everything"), 422)
    # a purpose the caller's roles have no clause for is refused before the gate
    assert_problem(make_request(service, purpose="care_coordination"), 403)


def test_the_client_takes_a_request_to_a_grant(service):
    rae = Client(token=service.tokens["rae"], http=service.client)
    steward = Client(token=service.tokens["fcs.steward"], http=service.client)
    elements = [f"{d}.{e}" for d, e in QUESTION.elements]
    with pytest.raises(AccessDenied):
        rae.ask("heavy-users", purpose="research", programs=["SNAP", "TANF"], limit=5)
    made = rae.request_data("research", elements, "pseudonymised", "2025-12-31", "a study")
    assert [r["request_id"] for r in steward.list_requests("pending")] == [made["request_id"]]
    assert steward.approve_request(made["request_id"], "ok")["state"] == "granted"
    table = rae.ask("heavy-users", purpose="research", programs=["SNAP", "TANF"], limit=5)
    assert table.num_rows == 5 and "pseudonym" in table.column_names
    for measure in ("days", "amount"):  # numbers, not the strings JSON makes of decimals
        kind = table.schema.field(measure).type
        assert pa.types.is_integer(kind) or pa.types.is_floating(kind), (measure, kind)
    with pytest.raises(RequestConflict):
        steward.approve_request(made["request_id"], "again")
    with pytest.raises(NotFound):
        Client(token=service.tokens["sud.steward"], http=service.client).show_request(
            made["request_id"]
        )
    assert rae.show_request(made["request_id"])["answers"][0]["reason"] == "ok"
