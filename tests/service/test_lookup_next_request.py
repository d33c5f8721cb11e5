"""What a person lookup reads once and keeps (the agreement version parsed, the decision
and its audit text, the row store of person views) never outlives a change: each of
these is seen on the very next lookup, through HTTP, by one long-lived service."""

import importlib.resources
import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from crosswalk.accounts import store as account_store
from crosswalk.audit.log import audit_entry

LOOKUP = {"purpose": "care_coordination"}


def _lookup(s, person, who="ana"):
    return s.get(f"/persons/{person}", who, params=LOOKUP)


def _last_read(s):
    with s.hub.control.connect() as conn:
        body = conn.execute(
            sa.select(audit_entry.c.body)
            .where(audit_entry.c.action == "data.read")
            .order_by(audit_entry.c.seq.desc())
            .limit(1)
        ).scalar_one()
    return json.loads(body)


def test_a_revoked_token_and_a_disabled_account_read_nothing_on_the_next_lookup(
    service, sud_person
):
    s = service
    made = s.post("/accounts/ana/tokens", "ana", json={"days": 1, "label": "laptop"}).json()
    headers = {"Authorization": f"Bearer {made['token']}"}
    path = f"/persons/{sud_person}"
    assert s.client.get(path, headers=headers, params=LOOKUP).status_code == 200
    assert s.client.delete(f"/tokens/{made['token_id']}", headers=headers).status_code == 200
    assert s.client.get(path, headers=headers, params=LOOKUP).status_code == 401
    assert _lookup(s, sud_person).status_code == 200
    assert s.post("/accounts/ana/disable", "fran").status_code == 200
    assert _lookup(s, sud_person).status_code == 401
    assert s.post("/accounts/ana/enable", "fran").status_code == 200
    assert _lookup(s, sud_person).status_code == 200


def test_an_expired_token_reads_nothing_on_the_next_lookup(service, sud_person, monkeypatch):
    s = service
    assert _lookup(s, sud_person).status_code == 200
    later = datetime.now(UTC) + timedelta(days=400)  # past the longest a token may last
    monkeypatch.setattr(account_store, "now", lambda: later)
    assert _lookup(s, sud_person).status_code == 401


def test_a_new_agreement_version_decides_the_next_lookup(service, sud_person, tmp_path):
    s = service
    assert _lookup(s, sud_person).status_code == 200
    assert _last_read(s)["decision"]["agreement_version"] == 1
    text = importlib.resources.files("crosswalk.agreement").joinpath("emou.yaml").read_text()
    amendment = tmp_path / "emou-v2.yaml"
    amendment.write_text(text.replace("version: 1\n", "version: 2\n", 1), encoding="utf-8")
    s.app.state.gate.agreement_load("cdo.steward", amendment)
    assert _lookup(s, sud_person).status_code == 200
    assert _last_read(s)["decision"]["agreement_version"] == 2


def test_a_withdrawn_consent_counts_from_the_next_lookup(service, sud_person):
    s = service
    consent = {
        "enterprise_id": sud_person,
        "recipient": "fcs",
        "purpose": "care_coordination",
        "information": "treatment records",
        "signed_on": "2025-01-01",
        "expires_on": "2026-01-01",
    }
    made = s.post("/consents", "sud.steward", json=consent).json()
    seen = [_lookup(s, sud_person).json() for _ in range(2)]
    assert all("sud" in {r["agency"] for r in x["records"]} for x in seen)
    assert s.post(f"/consents/{made['consent_id']}/revoke", "sud.steward").status_code == 204
    later = _lookup(s, sud_person).json()
    assert "sud" not in {r["agency"] for r in later["records"]}
    # Each lookup its own entry, in order, each verified.
    assert s.get("/audit/verify", "cdo.privacy").json()["ok"] is True
