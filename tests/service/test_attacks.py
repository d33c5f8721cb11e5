"""Attacks on the service by insiders of each role and by outsiders, each a test that
the service refuses it (and that a refused read is audited)."""

from tests.service.conftest import OPERATOR, PASSWORD


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_administrator_cannot_make_a_privacy_officer_the_agreement_does_not_name(service):
    """The hub operator's administrator makes an account with the privacy officer's role
    and a password of their own choosing, signs in as it and asks for the consent
    registry (who is in substance-use treatment) and the audit log: refused, because the
    agreement names cdo.privacy alone."""
    s = service
    s.accounts.add(OPERATOR, "cdo.admin", "cdo", ["administrator"])
    admin = _bearer(s.accounts.create_token(OPERATOR, "cdo.admin")[1])
    made = s.client.post(
        "/accounts",
        headers=admin,
        json={
            "username": "eve",
            "agency": "cdo",
            "roles": ["privacy_officer"],
            "password": PASSWORD,
        },
    )
    assert made.status_code == 201
    signed_in = s.client.post("/auth/sign-in", json={"username": "eve", "password": PASSWORD})
    eve = _bearer(signed_in.json()["token"])
    for path in ("/consents", "/audit/entries", "/audit/purposes", "/audit/who-accessed/P1"):
        r = s.client.get(path, headers=eve)
        assert r.status_code == 403, (path, r.text)
    assert s.hub.audit.entries()[-1]["action"] == "data.denied"
    # The officer the agreement names reads them.
    assert s.get("/consents", "cdo.privacy").status_code == 200
    assert s.get("/audit/entries", "cdo.privacy").status_code == 200
