"""Signing in and out of the web UI: cookies, CSRF, rate limits and audit, headers."""

import json

import pytest
from tests.web.conftest import PASSWORD, csrf_of

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


def _entries(ui, action):
    return [json.loads(r["body"]) for r in ui.hub.audit.entries() if r["action"] == action]


def test_the_session_cookie_is_secure_httponly_strict_and_expires(ui):
    c = ui.client()
    page = c.get("/ui/sign-in")
    r = c.post(
        "/ui/sign-in",
        data={"username": "ada", "password": PASSWORD, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/ui/"
    cookie = next(
        h for h in r.headers.get_list("set-cookie") if h.startswith("__Host-crosswalk_session=")
    )
    flags = {f.strip().split("=")[0].lower(): f for f in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path", "max-age"} <= set(flags)
    assert flags["samesite"].strip().lower() == "samesite=strict"
    assert flags["path"].strip() == "Path=/" and "domain" not in flags
    assert 11 * 3600 < int(flags["max-age"].split("=")[1]) <= 12 * 3600
    assert _entries(ui, "session.login")[-1]["user"] == "ada"


def test_every_page_carries_the_security_headers(ui):
    c = ui.sign_in("ada")
    for path in ("/ui/", "/ui/agreement", "/ui/sign-in", "/ui/static/crosswalk.css", "/ui/nowhere"):
        h = c.get(path).headers
        assert h["content-security-policy"] == CSP, path
        assert h["strict-transport-security"].startswith("max-age=31536000")
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "same-origin"
        assert h.get_list("content-security-policy") == [CSP]  # one policy, not two


def test_a_page_without_a_session_sends_the_browser_to_sign_in(ui):
    r = ui.client().get("/ui/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/sign-in"
    r = ui.client().get("/ui/", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.headers["hx-redirect"] == "/ui/sign-in"


def test_a_forged_or_api_token_cookie_is_no_session(ui):
    c = ui.client()
    c.cookies.set(
        "__Host-crosswalk_session", "cwt_000000000000_" + "A" * 43, domain="testserver.local"
    )
    assert c.get("/ui/", follow_redirects=False).status_code == 303


def test_sign_in_refuses_a_form_without_its_token_or_from_another_site(ui):
    c = ui.client()
    page = c.get("/ui/sign-in")
    no_token = c.post("/ui/sign-in", data={"username": "ada", "password": PASSWORD})
    assert no_token.status_code == 403
    other_site = c.post(
        "/ui/sign-in",
        data={"username": "ada", "password": PASSWORD, "csrf": csrf_of(page.text)},
        headers={"Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403
    # A form posted by another site's page arrives without our cookie (SameSite=Strict).
    fresh = ui.client()
    r = fresh.post(
        "/ui/sign-in", data={"username": "ada", "password": PASSWORD, "csrf": csrf_of(page.text)}
    )
    assert r.status_code == 400
    assert _entries(ui, "session.login") == []


def test_failed_sign_ins_are_audited_and_rate_limited_like_the_api(ui):
    c = ui.client()
    for _ in range(5):
        page = c.get("/ui/sign-in")
        r = c.post(
            "/ui/sign-in",
            data={"username": "ada", "password": "wrong password!", "csrf": csrf_of(page.text)},
        )
        assert r.status_code == 401
        assert "the username or password is not right" in r.text
    page = c.get("/ui/sign-in")
    r = c.post(
        "/ui/sign-in", data={"username": "ada", "password": PASSWORD, "csrf": csrf_of(page.text)}
    )
    assert r.status_code == 429 and "too many failed sign-ins" in r.text
    failed = _entries(ui, "session.failed")
    assert len(failed) == 6 and failed[-1]["objects"]["why"] == "too many attempts"
    # The API refuses the same username: one limit, whichever door.
    api = ui.client().post("/auth/sign-in", json={"username": "ada", "password": PASSWORD})
    assert api.status_code == 429


def test_signing_out_revokes_the_session_for_good(ui):
    c = ui.sign_in("ada")
    stolen = c.cookies.get("__Host-crosswalk_session")
    home = c.get("/ui/")
    r = c.post("/ui/sign-out", data={"csrf": csrf_of(home.text)}, follow_redirects=False)
    assert r.status_code == 303
    replay = ui.client()
    replay.cookies.set("__Host-crosswalk_session", stolen, domain="testserver.local")
    assert replay.get("/ui/", follow_redirects=False).status_code == 303
    # The same token no longer works against the API either.
    assert ui.client().get("/me", headers={"Authorization": f"Bearer {stolen}"}).status_code == 401


def test_sign_out_without_the_csrf_token_is_refused(ui):
    c = ui.sign_in("ada")
    r = c.post("/ui/sign-out", data={"csrf": "0" * 64}, follow_redirects=False)
    assert r.status_code == 403
    assert c.get("/ui/", follow_redirects=False).status_code == 200


def test_a_disabled_account_loses_its_session_at_once(ui):
    from tests.web.conftest import OPERATOR

    c = ui.sign_in("ada")
    ui.accounts.set_disabled(OPERATOR, "ada")
    assert c.get("/ui/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("body", ["username=ada&password=x", "not a form"])
def test_sign_in_takes_only_a_url_encoded_form(ui, body):
    c = ui.client()
    c.get("/ui/sign-in")
    r = c.post("/ui/sign-in", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "application/x-www-form-urlencoded" in r.text


def test_a_sibling_hosts_cookie_is_neither_a_session_nor_a_sign_in_form(ui):
    """The attack (cookie tossing): a page of another host under the same parent domain
    (``apps.state.example`` beside ``crosswalk.state.example``) sets cookies for the parent
    domain, which the browser also sends to Crosswalk. With plain names it could plant the
    session of an account of its own (the visitor, say a steward, then uploads an extract
    into the planter's session) or its own sign-in form token (login CSRF). The cookies
    are ``__Host-`` ones, which only this host can set: the tossed ones are ignored."""
    attacker = ui.sign_in("ada")
    (planted,) = [c.value for c in attacker.cookies.jar if c.name.endswith("crosswalk_session")]
    victim = ui.client()
    victim.cookies.set("crosswalk_session", planted, domain="testserver.local")
    assert victim.get("/ui/", follow_redirects=False).status_code == 303  # sign in first
    victim = ui.client()
    victim.cookies.set("crosswalk_sign_in", "known-to-the-attacker", domain="testserver.local")
    r = victim.post(
        "/ui/sign-in",
        data={"username": "ada", "password": PASSWORD, "csrf": "known-to-the-attacker"},
        follow_redirects=False,
    )
    assert r.status_code != 303
    assert not [c for c in victim.cookies.jar if c.name.endswith("crosswalk_session")]
    for h in ui.client().get("/ui/sign-in").headers.get_list("set-cookie"):
        assert h.startswith("__Host-") and "Path=/;" in h + ";" and "domain" not in h.lower()
