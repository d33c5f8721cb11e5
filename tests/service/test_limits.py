"""Limits and headers of the service: a read that runs too long is interrupted and the
worker freed; a JSON body has a far smaller limit than an upload; forwarded headers are
believed only from configured proxies; security headers on every response, errors too;
the audit log is checkpointed on a schedule while the service runs."""

import threading
import time

import pytest
from fastapi.testclient import TestClient
from tests.service.test_error_shape import assert_problem

from crosswalk import audit
from crosswalk.errors import ReadTimedOut
from crosswalk.hub import Hub
from crosswalk.service import create_app
from crosswalk.service.app import checkpoint_schedule

SLOW = "SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE a.range + b.range = -1"


def test_a_slow_read_of_the_hub_is_interrupted(linked_hub, tmp_path):
    with Hub(linked_hub, f"sqlite:///{tmp_path}/c.db", tmp_path / "s") as hub:
        hub.limit_reads(0.3)
        started = time.monotonic()
        with pytest.raises(ReadTimedOut, match=r"0\.3 s"), hub.read() as con:
            con.execute(SLOW).fetchall()
        assert time.monotonic() - started < 5
        with hub.read() as con:  # the next read is unaffected
            assert con.execute("SELECT 42").fetchone() == (42,)


def test_a_slow_question_gets_a_problem_and_frees_the_worker(service, monkeypatch):
    s = service
    s.hub.limit_reads(0.3)

    def slow_person(con, enterprise_id, *args, **kwargs):
        con.execute(SLOW).fetchall()

    # Whichever way the view is read: the row store of person views, or the hub's tables.
    monkeypatch.setattr("crosswalk.identity.views.read", slow_person)
    monkeypatch.setattr("crosswalk.access.core.person_records", slow_person)
    started = time.monotonic()
    r = s.get("/persons/P0000000001", "ana", params={"purpose": "care_coordination"})
    body = assert_problem(r, 503)
    assert body["title"] == "Read timed out" and time.monotonic() - started < 5
    assert s.get("/me", "ana").status_code == 200


def test_a_json_body_has_its_own_smaller_limit(service):
    app = create_app(service.hub, cors_origins=[], max_body_mb=1, max_json_kb=16)
    client = TestClient(app, raise_server_exceptions=False)
    headers = service.as_("ada")
    big = {"purpose": "program_evaluation", "filters": {"counties": ["x" * 20_000]}}
    body = assert_problem(client.post("/analytics/overlap", headers=headers, json=big), 413)
    assert "16 KB" in body["detail"]
    # Streamed without a length: refused all the same.
    chunks = iter([b'{"purpose": "', b"x" * 20_000, b'"}'])
    streamed = client.post(
        "/analytics/overlap",
        headers={**headers, "Content-Type": "application/json"},
        content=chunks,
    )
    assert_problem(streamed, 413)
    # An upload body of the same size passes the limit where uploads are taken (the
    # operation then judges it) ...
    files = {"files": ("clients.csv", b"x" * 20_000, "text/csv")}
    upload = client.post("/uploads", headers=service.as_("fcs.steward"), files=files)
    assert upload.status_code != 413
    # ... and nowhere else, whatever its type says: an outsider's upload-sized body sent
    # to the sign-in, or to a question, is refused before it is read whole.
    for path, who in (("/auth/sign-in", None), ("/analytics/overlap", "ada")):
        sent = client.post(path, headers=service.as_(who), files=files)
        assert "16 KB" in assert_problem(sent, 413)["detail"]
    octets = {**headers, "Content-Type": "application/octet-stream"}
    assert_problem(client.post("/accounts", headers=octets, content=b"x" * 20_000), 413)


def test_forwarded_headers_are_believed_only_from_configured_proxies(
    monkeypatch, tmp_path, linked_hub
):
    import uvicorn

    from crosswalk import migrations
    from crosswalk.cli import serve as serve_cli

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    control = f"sqlite:///{tmp_path}/c.db"
    migrations.upgrade(__import__("sqlalchemy").create_engine(control))
    monkeypatch.delenv("CROSSWALK_SERVICE_FORWARDED_ALLOW_IPS", raising=False)
    serve_cli.serve(hub=linked_hub, control=control)
    assert seen["proxy_headers"] is False
    monkeypatch.setenv("CROSSWALK_SERVICE_FORWARDED_ALLOW_IPS", "10.0.0.5")
    serve_cli.serve(hub=linked_hub, control=control)
    assert seen["proxy_headers"] is True and seen["forwarded_allow_ips"] == "10.0.0.5"


HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def test_security_headers_on_answers_and_on_every_kind_of_error(service, monkeypatch):
    s = service

    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(s.app.state.gate, "person", fail)
    answers = [
        s.get("/me", "ana"),
        s.get("/me", None),
        s.get("/audit/verify", "ana"),
        s.get("/nowhere", "ana"),
        s.post("/accounts", "fran", content=b"x" * (2 * 1024 * 1024)),
        s.get("/persons/P1", "ana", params={"purpose": "care_coordination"}),
        s.client.get("/openapi.json"),
    ]
    assert [r.status_code for r in answers] == [200, 401, 403, 404, 413, 500, 200]
    for r in answers:
        for name, value in HEADERS.items():
            assert r.headers.get_list(name) == [value], (r.request.url, name)


def test_the_audit_log_is_checkpointed_on_a_schedule(service):
    log = service.hub.audit
    log.record(audit.DataRead("ana", "fcs"))
    before = log.verify().since_checkpoint
    stop = checkpoint_schedule(service.hub, 0.05)
    try:
        deadline = time.monotonic() + 5
        while log.verify().since_checkpoint and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
    assert before and log.verify().since_checkpoint == 0
    assert any(t.name == "audit-checkpoints" for t in threading.enumerate()) or stop.is_set()


def test_every_list_takes_the_one_offset_bound():
    # An offset past what a database takes failed a request (500); each list had its own
    # copy of the bound, so a new list could forget it.
    import importlib
    import pkgutil

    from fastapi.routing import APIRoute

    import crosswalk.service
    import crosswalk.web
    from crosswalk.service.paging import MAX_OFFSET

    bounds = {}
    for package in (crosswalk.service, crosswalk.web):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for route in getattr(getattr(module, "router", None), "routes", []):
                if not isinstance(route, APIRoute):
                    continue
                for param in route.dependant.query_params:
                    if param.name == "offset":
                        le = [m.le for m in param.field_info.metadata if hasattr(m, "le")]
                        bounds[route.path] = le
    assert "/ui/batches" in bounds and "/accounts" in bounds and len(bounds) >= 10
    assert all(le == [MAX_OFFSET] for le in bounds.values()), bounds
