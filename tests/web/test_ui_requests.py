"""Data requests in the web UI: a researcher asks, the stewards of the agencies it names
approve (each for their own agency only), the dashboard answers under the grant, the
privacy officer revokes it; forged and crafted forms change nothing."""

import json
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from tests.grants import granted
from tests.web.conftest import csrf_of

from crosswalk import analytics
from crosswalk.access import Gate
from crosswalk.agreement import Principal

OVERLAP = analytics.ProgramOverlap(
    analytics.Filters(start=date(2019, 1, 1), end=date(2019, 12, 31), programs=("SNAP", "MEDICAID"))
)
DASHBOARD = (
    "/ui/dashboard?view=overlap&purpose=research&asked=true&start=2019-01-01&end=2019-12-31"
    "&programs=SNAP&programs=MEDICAID"
)
COUNT_CELL = re.compile(r'<td class="num count">([^<]*)</td>')


def _small(text: str) -> bool:
    value = text.replace(",", "").strip()
    return value.isdigit() and 1 <= int(value) <= 10


def _ask(c, elements, purpose="research", level="aggregate", **extra):
    form = c.get("/ui/requests/new")
    assert form.status_code == 200, form.text[-800:]
    data = {
        "csrf": csrf_of(form.text),
        "purpose": purpose,
        "level": level,
        "element": [f"{d}.{e}" for d, e in elements],
        "starts_on": "2025-06-01",
        "ends_on": "2025-11-30",
        "justification": "Which SNAP households are also on Medicaid, for the state plan",
        **extra,
    }
    return c.post("/ui/requests", data=data, follow_redirects=False)


def _request_id(response) -> str:
    assert response.status_code == 303, response.text[-1500:]
    return urlsplit(response.headers["location"]).path.rsplit("/", 1)[1]


def _answer(c, request_id, act, reason="within the agreement", csrf=None):
    page = c.get(f"/ui/requests/{request_id}")
    token = csrf if csrf is not None else csrf_of(page.text)
    return c.post(
        f"/ui/requests/{request_id}/{act}",
        data={"csrf": token, "reason": reason},
        follow_redirects=False,
    )


def _entries(ui, action):
    return [
        (e["user"], e["outcome"], json.loads(e["body"])["objects"])
        for e in ui.hub.audit.entries()
        if e["action"] == action
    ]


def test_request_approve_then_the_dashboard_answers_under_the_grant(ui, hub_facts):
    rae = ui.sign_in("rae")
    refused = rae.get(DASHBOARD).text
    assert 'class="problem"' in refused and "ask for the data this question reads" in refused
    # The dashboard's link asks for exactly the elements the question reads.
    link = re.search(r'href="(/ui/requests/new\?[^"]+)"', refused).group(1)
    asked = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
    assert set(asked["element"]) == {f"{d}.{e}" for d, e in OVERLAP.elements}
    prefilled = rae.get(link.replace("&amp;", "&")).text
    assert prefilled.count("checked>") >= len(set(OVERLAP.elements))

    request_id = _request_id(_ask(rae, OVERLAP.elements))
    page = rae.get(f"/ui/requests/{request_id}").text
    assert "pending" in page and "Your request is made" not in page
    assert "waiting" in page and "Clause 4.2" in page
    listing = rae.get("/ui/requests").text
    assert request_id in listing and "fcs, hfs" in listing

    # The fcs steward approves for fcs only: the request still waits for hfs.
    fcs = ui.sign_in("fcs.steward")
    assert request_id in fcs.get("/ui/requests").text.split('id="awaiting"')[1]
    r = _answer(fcs, request_id, "approve")
    assert r.status_code == 303
    after = fcs.get(r.headers["location"]).text
    assert "Your approval is recorded." in after and "pending" in after
    assert _answer(fcs, request_id, "approve").status_code == 409  # answered already
    assert 'class="problem"' in rae.get(DASHBOARD).text  # no grant yet

    r = _answer(ui.sign_in("hfs.steward"), request_id, "approve", "for the state plan")
    assert r.status_code == 303
    page = rae.get(f"/ui/requests/{request_id}").text
    assert "granted" in page and "for the state plan" in page and "hfs.steward" in page

    # Under the grant: answered, drawn, no name, no count of 1 to 10.
    html = rae.get(DASHBOARD).text
    assert 'class="problem"' not in html, html[-2000:]
    assert "<svg" in html
    counts = COUNT_CELL.findall(html)
    assert counts and not [c for c in counts if _small(c)]
    home = rae.get("/ui/").text
    for text in (html, home, page, listing):
        assert not [n for n in hub_facts["names"] if n in text]
    # The home page shows the grant, its expiry and the clause behind it.
    grants = home.split('id="grants"')[1]
    assert request_id in grants and "2025-11-30" in grants and "4.2" in grants
    read = [
        json.loads(e["body"])
        for e in ui.hub.audit.entries()
        if e["action"] == "data.read" and e["user"] == "rae"
    ]
    assert read and read[-1]["decision"]["grant"] == request_id  # the audit names the grant


def test_the_privacy_officer_revokes_and_the_next_request_is_refused(ui):
    rae = Principal("rae", "cdo", "researcher")
    request_id = granted(Gate(ui.hub), rae, "research", OVERLAP.elements, "aggregate").request_id
    officer = ui.sign_in("cdo.privacy")
    refused = _answer(officer, request_id, "revoke", "")
    assert refused.status_code == 400 and "give a reason" in refused.text
    r = _answer(officer, request_id, "revoke", "the project has ended")
    assert r.status_code == 303
    page = officer.get(r.headers["location"]).text
    assert "revoked" in page and "the project has ended" in page
    assert 'action="/ui/requests/' + request_id + '/revoke"' not in page
    assert 'class="problem"' in ui.sign_in("rae").get(DASHBOARD).text
    changes = [o["change"] for _, outcome, o in _entries(ui, "grant.change") if outcome == "ok"]
    assert changes == ["granted", "revoked"]


def test_a_steward_of_another_agency_cannot_approve_by_a_crafted_post(ui):
    rae = ui.sign_in("rae")
    hfs_only = [(d, e) for d, e in OVERLAP.elements if d.startswith("hfs.")]
    request_id = _request_id(_ask(rae, hfs_only))
    fcs = ui.sign_in("fcs.steward")
    # fcs's steward sees no form (nor the request), and a POST made by hand changes nothing.
    assert fcs.get(f"/ui/requests/{request_id}").status_code == 404
    token = csrf_of(fcs.get("/ui/").text)
    for act in ("approve", "deny", "revoke"):
        r = _answer(fcs, request_id, act, "crafted", csrf=token)
        assert r.status_code == 404, (act, r.status_code)
    page = rae.get(f"/ui/requests/{request_id}").text
    assert "pending" in page and "fcs.steward" not in page
    denied = [u for u, outcome, _ in _entries(ui, "request.decision") if outcome == "denied"]
    assert denied == ["fcs.steward", "fcs.steward"]
    # The requester cannot approve their own request either.
    assert _answer(rae, request_id, "approve").status_code == 403


def test_forged_and_cross_site_forms_are_refused(ui):
    rae = ui.sign_in("rae")
    assert _ask(rae, OVERLAP.elements, csrf="0" * 64).status_code == 403
    request_id = _request_id(_ask(rae, OVERLAP.elements))
    hfs = ui.sign_in("hfs.steward")
    assert _answer(hfs, request_id, "approve", csrf="0" * 64).status_code == 403
    token = csrf_of(hfs.get(f"/ui/requests/{request_id}").text)
    r = hfs.post(
        f"/ui/requests/{request_id}/approve",
        data={"csrf": token, "reason": "x"},
        headers={"origin": "https://elsewhere.example"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert "hfs.steward" not in rae.get(f"/ui/requests/{request_id}").text


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"element": []}, "at least one data element"),
        ({"purpose": "no_such"}, "no_such"),
        ({"justification": " "}, "say why"),
        ({"ends_on": "2024-01-01"}, "ends before it starts"),
        ({"element": ["hfs.events.nope"]}, "no data element"),
        ({"starts_on": "soon"}, "not a date"),
    ],
)
def test_a_request_that_cannot_be_made_comes_back_with_why(ui, change, says):
    rae = ui.sign_in("rae")
    r = _ask(rae, OVERLAP.elements, **change)
    assert r.status_code in (400, 403, 422), r.status_code
    assert says in r.text and 'name="justification"' in r.text
    assert 'role="alert"' in r.text


def test_a_request_no_clause_permits_is_refused_and_audited(ui):
    ada = ui.sign_in("ada")  # an analyst: no clause gives analysts program data for research
    r = _ask(ada, OVERLAP.elements)
    assert r.status_code == 403 and "no clause" in r.text
    assert [o for u, outcome, o in _entries(ui, "request.created") if u == "ada"]
    assert ada.get("/ui/requests").status_code == 200


def test_the_period_defaults_to_a_year_from_today(ui):
    page = ui.sign_in("rae").get("/ui/requests/new").text
    assert 'value="2025-06-01"' in page
    assert f'value="{date(2025, 6, 1) + timedelta(days=364)}"' in page


def test_a_steward_denies_with_a_reason_and_the_request_is_denied_whole(ui):
    rae = ui.sign_in("rae")
    request_id = _request_id(_ask(rae, OVERLAP.elements))
    hfs = ui.sign_in("hfs.steward")
    without = _answer(hfs, request_id, "deny", " ")
    assert without.status_code == 400 and "give a reason" in without.text
    r = _answer(hfs, request_id, "deny", "Medicaid data need a signed project plan")
    assert r.status_code == 303
    page = rae.get(f"/ui/requests/{request_id}").text
    assert "denied" in page and "Medicaid data need a signed project plan" in page
    assert 'action="/ui/requests/' not in page  # nothing left to answer or revoke
    # fcs can no longer approve it: the request is denied whole.
    assert _answer(ui.sign_in("fcs.steward"), request_id, "approve").status_code == 409
