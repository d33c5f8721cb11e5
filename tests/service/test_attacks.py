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
