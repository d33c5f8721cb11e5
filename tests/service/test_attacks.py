"""Attacks on the service by insiders of each role and by outsiders, each a test that
the service refuses it (and that a refused read is audited)."""

import pytest
from tests.service.conftest import OPERATOR, PASSWORD


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _minted(s, agency: str, role: str) -> dict[str, str]:
    """What a malicious administrator of ``agency`` does: an account ``eve`` with ``role``
    and a password of their own choosing, made through the API, then signed in as."""
    s.accounts.add(OPERATOR, f"{agency}.admin", agency, ["administrator"])
    admin = _bearer(s.accounts.create_token(OPERATOR, f"{agency}.admin")[1])
    made = s.client.post(
        "/accounts",
        headers=admin,
        json={"username": "eve", "agency": agency, "roles": [role], "password": PASSWORD},
    )
    assert made.status_code == 201
    signed_in = s.client.post("/auth/sign-in", json={"username": "eve", "password": PASSWORD})
    return _bearer(signed_in.json()["token"])


@pytest.mark.parametrize(
    ("agency", "role", "paths", "named"),
    [
        # the consent registry (who is in substance-use treatment) and the audit log
        (
            "cdo",
            "privacy_officer",
            ["/consents", "/audit/entries", "/audit/purposes", "/audit/who-accessed/P1"],
            "cdo.privacy",
        ),
        # every agency's identified records in the review queue, and the person index
        ("cdo", "linkage_steward", ["/review", "/person-index"], "cdo.linkage"),
        # an agency's quarantined rows as sent (names, SSNs)
        ("fcs", "steward", ["/batches", "/batches/B000000000000/quarantine"], "fcs.steward"),
    ],
)
def test_an_administrator_cannot_mint_an_officer_the_agreement_does_not_name(
    service, agency, role, paths, named
):
    """The agreement names each party's stewards and privacy officers; an account an
    administrator gives such a role reads nothing through it (refused, audited), while
    the named account reads."""
    s = service
    eve = _minted(s, agency, role)
    for path in paths:
        r = s.client.get(path, headers=eve)
        assert r.status_code == 403, (path, r.text)
        assert s.hub.audit.entries()[-1]["action"] == "data.denied"
        assert s.get(path, named).status_code == 200, path


def test_an_answer_does_not_say_whether_two_questions_counted_the_same_people(service, linked_hub):
    """The attack (differencing through the protection summary): an analyst asks the
    program overlap of a period, then of the same period one day longer, on a day when
    one person enters a program. The release history gives the second answer the first's
    figures, so the tables cannot tell whether anyone was added; but the summary beside
    them said so: ``history`` counted the cell released as an earlier one a few people
    away (``near``), and the reasons said which hidden cells were below k (``primary``)."""
    import json

    import duckdb

    con = duckdb.connect(str(linked_hub), read_only=True)
    try:
        found = con.execute(
            """WITH s AS (SELECT enterprise_id, start_date, end_date FROM linked_event
                   WHERE program NOT IN ('BIRTH_RECORD', 'DEATH_RECORD', 'WAGE_RECORD')),
               days AS (SELECT start_date AS d, min(enterprise_id) AS p FROM s
                   WHERE start_date BETWEEN DATE '2019-02-01' AND DATE '2019-12-31'
                   GROUP BY 1 HAVING count(*) = 1)
               SELECT d FROM days WHERE NOT EXISTS (
                   SELECT 1 FROM s WHERE s.enterprise_id = days.p AND s.start_date < days.d
                   AND coalesce(s.end_date, DATE '9999-12-31') >= DATE '2019-01-01')
               ORDER BY d LIMIT 1"""
        ).fetchall()
    finally:
        con.close()
    assert found, "the synthetic state has no day on which one person alone enters"
    day = found[0][0]

    def ask(end):
        answer = service.post(
            "/analytics/overlap",
            "ada",
            json={
                "purpose": "program_evaluation",
                "filters": {"start": "2019-01-01", "end": end.isoformat()},
            },
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    from datetime import timedelta

    before, on = ask(day - timedelta(days=1)), ask(day)
    assert on["rows"] == before["rows"]  # the history keeps the added person out of sight
    assert on["protection"] == before["protection"]
    assert "primary" not in str(on["protection"]) and "near" not in str(on["protection"])
    reads = [
        json.loads(e["body"]) for e in service.hub.audit.entries() if e["action"] == "data.read"
    ]
    assert int(reads[-1]["objects"]["protection"]["history"]["near"]) >= 1  # the officer sees it


def test_no_page_of_the_service_runs_another_sites_script(service):
    """The attack (a script of another site on the hub's origin): FastAPI's documentation
    pages (``/docs``, ``/redoc``) loaded Swagger UI and ReDoc from a content delivery
    network, under no Content-Security-Policy. Whoever serves (or takes over) that
    network's copy runs a script on the hub's origin: it may fetch any page of the UI with
    the visitor's session cookie, read the token pasted into the page's form, and send
    both anywhere. No operation of the service serves a page that loads from elsewhere."""
    import re

    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert service.client.get(path).status_code == 404, path
    outside = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", re.IGNORECASE)
    for route in service.client.app.routes:
        methods = getattr(route, "methods", None) or set()
        path = getattr(route, "path", "")
        if "GET" not in methods or "{" in path:
            continue
        r = service.client.get(path, headers=service.as_("ada"))
        assert not outside.search(r.text), path
    schema = service.client.get("/openapi.json")
    assert schema.status_code == 200 and schema.json()["paths"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/Your-session-has-ended.-Call-555-0100-to-restore-it"),
        ("GET", "/ui/Your-session-has-ended.-Call-555-0100-to-restore-it"),
        ("GET", "/ui/static/Your-session-has-ended.-Call-555-0100-to-restore-it"),
        ("DELETE", "/me?Your-session-has-ended.-Call-555-0100-to-restore-it"),
        ("CALL-555-0100", "/me"),
    ],
)
def test_a_link_cannot_put_words_on_a_not_found_page(service, method, path):
    """The attack (content spoofing, no sign-in needed): a link to a path that is no
    operation got ``no operation at /Your session has ended. Call 555-0100 ...``, any
    sentence of the sender's shown by the hub's own origin; a method that is none got it
    repeated too. The answer is in fixed words."""
    r = service.client.request(method, path)
    assert r.status_code in (404, 405)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "555" not in r.text and "session" not in r.text.lower()
