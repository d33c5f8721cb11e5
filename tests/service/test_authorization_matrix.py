"""Every operation x every role x own and other agency: a 2xx only where the policy says
yes, and an object of another agency is not there (404) when its id is changed to it.
A missing, forged, expired or revoked token gets 401 from every operation."""

import shutil
import uuid
from datetime import date

import pytest
from tests.grants import granted
from tests.service.conftest import OPERATOR, PEOPLE, person_of, start_service
from tests.service.test_error_shape import OPERATIONS

from crosswalk import clock
from crosswalk.accounts.tables import api_token
from crosswalk.agreement import Principal
from crosswalk.analytics import Filters
from crosswalk.analytics.heavy import HeavyUsers

EVERYONE = set(PEOPLE)


@pytest.fixture(scope="module")
def s(linked_hub, tmp_path_factory):
    root = tmp_path_factory.mktemp("matrix")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(clock, "today", lambda: date(2025, 6, 1))
        hub = root / "hub.duckdb"  # a copy: uploads, linkage runs and decisions write it
        shutil.copy(linked_hub, hub)
        service = start_service(
            hub, f"sqlite:///{root}/control.db", root / "secrets", writable=True
        )
        service.person = person_of(
            linked_hub, "bool_or(agency = 'sud') AND bool_or(agency = 'fcs')"
        )
        with service.hub.read() as con:
            service.fcs_batch = con.execute(
                "SELECT batch_id FROM batch WHERE agency = 'fcs' ORDER BY batch_id LIMIT 1"
            ).fetchone()[0]
        consent = service.hub.consents.add(
            service.person,
            "sud",
            "fcs",
            "care_coordination",
            "treatment",
            date(2025, 1, 1),
            date(2026, 1, 1),
        )
        service.sud_consent = consent.consent_id
        service.fcs_clients = (linked_hub.parent / "state/agencies/fcs/clients.csv").read_bytes()
        r = service.client.post(
            "/uploads", headers=service.as_("fcs.steward"), files=_files(service)["__files__"]
        )
        service.fcs_job = r.json()["job_id"]
        with service.hub.read() as con:
            service.pair = con.execute(
                "SELECT record_key_l, record_key_r FROM review_queue ORDER BY 1, 2 LIMIT 1"
            ).fetchone()
        # research is used only by request: rae's heavy-users question under a grant
        heavy = HeavyUsers(Filters(programs=("MEDICAID", "SNAP")), limit=3)
        service.fcs_request = fcs_request(service)
        granted(
            service.app.state.gate,
            Principal("rae", "cdo", "researcher"),
            "research",
            heavy.elements,
        )
        yield service
        service.stop()


def _files(s) -> dict:
    """An upload of FCS's clients extract (already loaded: its job loads nothing new)."""
    return {"__files__": [("files", ("clients.csv", s.fcs_clients, "text/csv"))]}


def _decision(s) -> dict:
    s.idle()  # a decision waits only seconds for a running linkage job
    return {"record_a": s.pair[0], "record_b": s.pair[1], "decision": "no-match"}


def victim(s, agency: str = "fcs") -> str:
    """A fresh account to act on, so that acts do not change the accounts of the matrix."""
    name = f"v{uuid.uuid4().hex[:10]}"
    s.accounts.add(OPERATOR, name, agency, ["caseworker"])
    return name


def ana_token_id(s) -> str:
    return s.accounts.create_token(OPERATOR, "ana")[0].token_id


CONSENT = {
    "recipient": "fcs",
    "purpose": "care_coordination",
    "information": "treatment records",
    "signed_on": "2025-01-01",
    "expires_on": "2026-01-01",
}

# operation -> (how to call it for this service, who gets a 2xx, who gets 404 instead of 403)
CASES = {
    "GET /me": (lambda s: ("GET", "/me", None), EVERYONE, set()),
    "GET /agreement": (lambda s: ("GET", "/agreement", None), EVERYONE, set()),
    "GET /agreement/parties": (lambda s: ("GET", "/agreement/parties", None), EVERYONE, set()),
    "GET /accounts": (lambda s: ("GET", "/accounts", None), {"fran", "hank"}, set()),
    "POST /accounts": (
        lambda s: (
            "POST",
            "/accounts",
            {"username": f"n{uuid.uuid4().hex[:8]}", "agency": "fcs", "roles": ["caseworker"]},
        ),
        {"fran"},
        set(),
    ),
    "GET /accounts/{username}": (
        lambda s: ("GET", "/accounts/ana", None),
        {"ana", "fran"},
        EVERYONE - {"ana", "fran"},
    ),
    "POST /accounts/{username}/disable": (
        lambda s: ("POST", f"/accounts/{victim(s)}/disable", None),
        {"fran"},
        {"hank"},
    ),
    "POST /accounts/{username}/enable": (
        lambda s: ("POST", f"/accounts/{victim(s)}/enable", None),
        {"fran"},
        {"hank"},
    ),
    "POST /accounts/{username}/roles": (
        lambda s: ("POST", f"/accounts/{victim(s)}/roles", {"role": "steward"}),
        {"fran"},
        {"hank"},
    ),
    "DELETE /accounts/{username}/roles/{role}": (
        lambda s: ("DELETE", f"/accounts/{victim(s)}/roles/caseworker", None),
        {"fran"},
        {"hank"},
    ),
    "GET /accounts/{username}/tokens": (
        lambda s: ("GET", "/accounts/ana/tokens", None),
        {"ana", "fran"},
        EVERYONE - {"ana", "fran"},
    ),
    "POST /accounts/{username}/tokens": (
        lambda s: ("POST", "/accounts/ana/tokens", {"days": 1}),
        {"ana"},
        EVERYONE - {"ana", "fran"},
    ),
    "DELETE /tokens/{token_id}": (
        lambda s: ("DELETE", f"/tokens/{ana_token_id(s)}", None),
        {"ana", "fran"},
        EVERYONE - {"ana", "fran"},
    ),
    "GET /persons/{enterprise_id}": (
        lambda s: ("GET", f"/persons/{s.person}?purpose=care_coordination", None),
        {"ana"},
        set(),
    ),
    "GET /batches": (
        lambda s: ("GET", "/batches?purpose=operations", None),
        {"fcs.steward", "sud.steward"},
        set(),
    ),
    # another agency's batch has no rows for them: see test_another_agencys_batch_is_empty
    "GET /batches/{batch_id}/quarantine": (
        lambda s: ("GET", f"/batches/{s.fcs_batch}/quarantine", None),
        {"fcs.steward", "sud.steward"},
        set(),
    ),
    "GET /batches/{batch_id}": (
        lambda s: ("GET", f"/batches/{s.fcs_batch}", None),
        {"fcs.steward"},
        {"sud.steward"},  # another agency's batch: as one that does not exist
    ),
    # another agency's batch has no issues for them, as one that does not exist
    "GET /batches/{batch_id}/issues": (
        lambda s: ("GET", f"/batches/{s.fcs_batch}/issues", None),
        {"fcs.steward", "sud.steward"},
        set(),
    ),
    "GET /person-index": (
        lambda s: ("GET", "/person-index?limit=5", None),
        {"cdo.linkage"},
        set(),
    ),
    "POST /uploads": (
        lambda s: ("POST", "/uploads", _files(s)),
        {"fcs.steward"},
        set(),
        {"sud.steward": 422},  # as sud (the account's agency): FCS's file is not sud's
    ),
    "GET /jobs": (lambda s: ("GET", "/jobs", None), EVERYONE, set()),
    "GET /jobs/{job_id}": (
        lambda s: ("GET", f"/jobs/{s.fcs_job}", None),
        {"fcs.steward"},
        EVERYONE - {"fcs.steward"},  # someone else's job: as one that does not exist
    ),
    "POST /link-runs": (lambda s: ("POST", "/link-runs", {}), {"cdo.linkage"}, set()),
    "GET /review": (lambda s: ("GET", "/review", None), {"cdo.linkage"}, set()),
    "POST /review/decisions": (
        lambda s: ("POST", "/review/decisions", _decision(s)),
        {"cdo.linkage"},
        set(),
    ),
    "GET /consents": (lambda s: ("GET", "/consents", None), {"cdo.privacy"}, set()),
    "POST /consents": (
        lambda s: ("POST", "/consents", {"enterprise_id": s.person, "discloser": "sud", **CONSENT}),
        {"sud.steward", "sud.privacy"},
        set(),
    ),
    "POST /consents/{consent_id}/revoke": (
        lambda s: ("POST", f"/consents/{s.sud_consent}/revoke", None),
        {"sud.steward", "sud.privacy"},
        set(),
    ),
    "GET /audit/entries": (lambda s: ("GET", "/audit/entries", None), {"cdo.privacy"}, set()),
    "GET /audit/who-accessed/{enterprise_id}": (
        lambda s: ("GET", f"/audit/who-accessed/{s.person}", None),
        {"cdo.privacy"},
        set(),
    ),
    "GET /audit/purposes": (lambda s: ("GET", "/audit/purposes", None), {"cdo.privacy"}, set()),
    "GET /audit/denials": (lambda s: ("GET", "/audit/denials", None), {"cdo.privacy"}, set()),
    "GET /review/{record_key}": (
        lambda s: ("GET", f"/review/{s.pair[0]}", None),
        {"cdo.linkage"},
        set(),
    ),
    "GET /audit/verify": (
        lambda s: ("GET", "/audit/verify", None),
        {"cdo.privacy", "sud.privacy"},
        set(),
    ),
    "POST /audit/checkpoints": (
        lambda s: ("POST", "/audit/checkpoints", None),
        {"cdo.privacy", "sud.privacy"},
        set(),
    ),
    "POST /auth/sign-in": (
        lambda s: (
            "POST",
            "/auth/sign-in",
            {"username": "ada", "password": "a long enough password"},
        ),
        EVERYONE,
        set(),
    ),
}
RESEARCH = HeavyUsers(Filters(programs=("SNAP",)), limit=3)
RAE = Principal("rae", "cdo", "researcher")


def fcs_request(s, grant: bool = False) -> str:
    """A fresh research request of rae's naming fcs data only (granted, if asked)."""
    gate = s.app.state.gate
    if grant:
        return granted(gate, RAE, "research", RESEARCH.elements).request_id
    today = clock.today()
    made = gate.request_data(
        RAE, "research", RESEARCH.elements, "pseudonymised", today, today, "a study"
    )
    return made.request_id


NO_DATA_SCOPE = {"fran", "hank"}  # administrators' tokens carry the admin scope only
# A request naming fcs data is seen by its requester, fcs's steward and the hub operator's
# privacy officer; to everyone else it does not exist.
SEES_FCS_REQUEST = {"rae", "fcs.steward", "cdo.privacy"}
NOT_THERE = EVERYONE - SEES_FCS_REQUEST - NO_DATA_SCOPE
CASES["POST /requests"] = (
    lambda s: (
        "POST",
        "/requests",
        {
            "purpose": "research",
            "elements": [{"dataset": d, "element": e} for d, e in RESEARCH.elements],
            "level": "pseudonymised",
            "ends_on": "2025-12-31",
            "justification": "a study",
        },
    ),
    {"rae"},
    set(),
)
CASES["GET /requests"] = (
    lambda s: ("GET", "/requests", None),
    EVERYONE - NO_DATA_SCOPE,
    set(),
)
CASES["GET /requests/{request_id}"] = (
    lambda s: ("GET", f"/requests/{s.fcs_request}", None),
    SEES_FCS_REQUEST,
    NOT_THERE,
)
CASES["POST /requests/{request_id}/approve"] = (
    lambda s: ("POST", f"/requests/{fcs_request(s)}/approve", {"reason": "ok"}),
    {"fcs.steward"},
    NOT_THERE,
)
CASES["POST /requests/{request_id}/deny"] = (
    lambda s: ("POST", f"/requests/{fcs_request(s)}/deny", {"reason": "no"}),
    {"fcs.steward"},
    NOT_THERE,
)
CASES["POST /requests/{request_id}/revoke"] = (
    lambda s: ("POST", f"/requests/{fcs_request(s, grant=True)}/revoke", {"reason": "closed"}),
    {"fcs.steward", "cdo.privacy"},
    NOT_THERE,
)
ASKS = {
    "overlap": {},
    "combinations": {},
    "pathways": {"program": "TANF"},
    "lifetime": {},
    "cohort": {"program": "FOSTER_CARE"},
    "trends": {"filters": {"start": "2019-01-01", "end": "2019-03-31"}},
}
for _q, _extra in ASKS.items():
    CASES[f"POST /analytics/{_q}"] = (
        lambda s, e=_extra, q=_q: (
            "POST",
            f"/analytics/{q}",
            {"purpose": "program_evaluation", **e},
        ),
        {"ada", "rae"},
        set(),
    )
CASES["POST /analytics/heavy-users"] = (
    lambda s: (
        "POST",
        "/analytics/heavy-users",
        {"purpose": "research", "limit": 3, "filters": {"programs": ["MEDICAID", "SNAP"]}},
    ),
    {"rae"},
    set(),
)


def test_the_matrix_covers_every_operation():
    assert set(CASES) == OPERATIONS


def _call(s, who, method, path, body, headers=None):
    headers = headers if headers is not None else s.as_(who)
    if isinstance(body, dict) and "__files__" in body:
        return s.client.request(method, path, headers=headers, files=body["__files__"])
    return s.client.request(method, path, headers=headers, json=body)


@pytest.mark.parametrize("operation", sorted(CASES))
def test_only_the_policy_gets_a_2xx(s, operation):
    make, allowed, hidden, *special = CASES[operation]
    got = {}
    for who in sorted(EVERYONE):
        method, path, body = make(s)
        got[who] = _call(s, who, method, path, body).status_code
    expected = {
        who: ("2xx" if who in allowed else 404 if who in hidden else 403) for who in EVERYONE
    } | (special[0] if special else {})
    seen = {who: ("2xx" if 200 <= code < 300 else code) for who, code in got.items()}
    assert seen == expected


@pytest.mark.parametrize("operation", sorted(set(CASES) - {"POST /auth/sign-in"}))
def test_no_valid_token_no_answer(s, operation):
    make = CASES[operation][0]
    forged = s.tokens["cdo.privacy"][:-4] + "AAAA"
    expired, _ = s.accounts.create_token(OPERATOR, "cdo.privacy", scopes=["data", "audit"])
    expired_secret = _
    with s.accounts.engine.begin() as conn:
        conn.execute(
            api_token.update()
            .where(api_token.c.token_id == expired.token_id)
            .values(expires_at="2020-01-01T00:00:00+00:00")
        )
    revoked, revoked_secret = s.accounts.create_token(
        OPERATOR, "cdo.privacy", scopes=["data", "audit"]
    )
    s.accounts.revoke_token(OPERATOR, revoked.token_id)
    for headers in (
        {},
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": f"Bearer {expired_secret}"},
        {"Authorization": f"Bearer {revoked_secret}"},
        {"Authorization": f"Basic {s.tokens['cdo.privacy']}"},
    ):
        method, path, body = make(s)
        assert _call(s, None, method, path, body, headers).status_code == 401, headers


def test_a_token_without_the_scope_is_refused_whatever_the_role(s):
    _, data_only = s.accounts.create_token(OPERATOR, "cdo.privacy", scopes=["data"])
    r = s.client.get("/audit/verify", headers={"Authorization": f"Bearer {data_only}"})
    assert r.status_code == 403 and "scope" in r.json()["detail"]


def test_another_agencys_batch_is_empty_and_every_read_is_audited(s):
    before = len(s.hub.audit.entries())
    own = s.get(f"/batches/{s.fcs_batch}/quarantine", "fcs.steward").json()
    other = s.get(f"/batches/{s.fcs_batch}/quarantine", "sud.steward").json()
    assert other["items"] == [] and other["total"] == 0
    assert own["total"] == len(own["items"])
    after = s.hub.audit.entries()[before:]
    assert [(e["user"], e["action"]) for e in after] == [
        ("fcs.steward", "data.read"),
        ("sud.steward", "data.read"),
    ]


def test_an_administrator_cannot_widen_their_reach(s):
    """An admin-only token mints nothing for a steward of its agency, nor for itself
    beyond its own scopes, and grants its own account no role."""
    minted = s.post(
        "/accounts/fcs.steward/tokens", "fran", {"scopes": ["data", "audit", "admin"], "days": 1}
    )
    assert minted.status_code == 403
    wider = s.post("/accounts/fran/tokens", "fran", {"scopes": ["admin", "data"], "days": 1})
    assert wider.status_code == 400 and "maker's token lacks" in wider.json()["detail"]
    itself = s.post("/accounts/fran/roles", "fran", {"role": "steward"})
    assert itself.status_code == 403
    assert s.get("/accounts/fran", "fran").json()["roles"] == ["administrator"]
