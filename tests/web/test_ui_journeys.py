"""Each role's pages in the web UI, read through the gate: what each may see, what it
must not, and that what it downloads is what it was shown."""

import csv
import io
import json
import re

import pytest
from tests.grants import granted, person_view_elements
from tests.web.conftest import csrf_of, typed_of

from crosswalk.access import REDISCLOSURE_NOTICE, WITHHOLDING_NOTICE, Gate
from crosswalk.agreement import Principal

COUNT_CELL = re.compile(r'<td class="num count">([^<]*)</td>')
RELEASE = re.compile(r'href="(/ui/releases/[^"]+)\.csv"')


def _small(text: str) -> bool:
    value = text.replace(",", "").strip()
    return value.isdigit() and 1 <= int(value) <= 10


@pytest.fixture
def analyst(ui):
    return ui.sign_in("ada")


@pytest.mark.parametrize("view", ["overlap", "pathways", "cohort", "trends", "lifetime"])
def test_an_analyst_never_sees_a_name_or_a_small_count(hub_facts, analyst, view):
    page = analyst.get(f"/ui/dashboard?view={view}")
    assert page.status_code == 200
    html = page.text
    assert 'class="problem"' not in html, html[-2000:]
    assert "<svg" in html and "<path" in html  # a chart was drawn
    counts = COUNT_CELL.findall(html)
    assert counts and not [c for c in counts if _small(c)]
    names = hub_facts["names"]
    for path in RELEASE.findall(html):
        table = list(csv.DictReader(io.StringIO(analyst.get(path + ".csv").text)))
        body = json.loads(analyst.get(path + ".json").text)
        for rows in (table, body["rows"]):
            for row in rows:
                for column in ("people", "at_risk", "entered"):
                    if column in row and row[column] not in (None, ""):
                        assert not _small(str(row[column])), (view, row)
        assert not [n for n in names if n in html or n in json.dumps(body)]


def test_a_hidden_cell_is_marked_hidden_with_its_reason_never_zero(analyst):
    html = analyst.get("/ui/dashboard?view=overlap").text
    assert '<span class="hidden-cell">hidden</span>' in html
    assert "a count of 1 to 10, or a figure from which such a count could be worked out" in html


def test_the_download_is_exactly_the_released_table(ui, analyst):
    html = analyst.get("/ui/dashboard?view=lifetime").text
    path = RELEASE.findall(html)[0]
    rows = list(csv.DictReader(io.StringIO(analyst.get(path + ".csv").text)))
    shown = COUNT_CELL.findall(html)
    assert [f"{int(r['people']):,}" for r in rows if r["people"]] == shown
    assert [r["people_suppressed"] == "true" for r in rows] == [not r["people"] for r in rows]
    assert {"people", "people_suppressed"} <= set(rows[0])
    # Downloading asks nothing again: no audit entry is added.
    before = len(ui.hub.audit.entries())
    analyst.get(path + ".csv")
    assert len(ui.hub.audit.entries()) == before
    # Another account cannot fetch it, even knowing its address.
    assert ui.sign_in("rae").get(path + ".csv").status_code == 404


def test_the_dashboard_filters_reach_the_question(analyst):
    r = analyst.get(
        "/ui/dashboard?view=overlap&asked=true&start=2019-01-01&end=2019-12-31"
        "&programs=SNAP&programs=MEDICAID&sex=F"
    )
    assert r.status_code == 200
    assert 'value="SNAP" selected' in r.text and 'value="F" selected' in r.text
    assert "TANF</td>" not in r.text
    bad = analyst.get("/ui/dashboard?view=overlap&asked=true&programs=NOPE")
    assert bad.status_code == 422 and "choose from the programs" in bad.text


def test_the_person_page_is_refused_to_an_analyst_and_audited(ui, analyst):
    r = analyst.get("/ui/person?id=P0000000001")
    assert r.status_code == 403
    denied = [e for e in ui.hub.audit.entries() if e["action"] == "data.denied"]
    assert denied and denied[-1]["user"] == "ada"


def test_a_caseworker_sees_a_persons_time_line_with_the_notices(hub_facts, ui):
    sud, plain = hub_facts["sud"], hub_facts["plain"]
    c = ui.sign_in("ana")
    with_part2 = c.get(f"/ui/person?id={sud}").text
    without = c.get(f"/ui/person?id={plain}").text
    for html in (with_part2, without):
        assert WITHHOLDING_NOTICE in html and "<svg" in html
        assert ">sud<" not in html  # no consent: the Part 2 records are not acknowledged
        assert REDISCLOSURE_NOTICE not in html
    # The same page for both: nothing says one of them has records withheld.
    strip = lambda h: re.sub(r"<(tbody|svg)[^>]*>.*?</\1>", "", h, flags=re.S)  # noqa: E731
    assert strip(with_part2).replace(sud, "X").count("notice") == strip(without).replace(
        plain, "X"
    ).count("notice")


def test_a_researcher_sees_a_person_only_pseudonymised(hub_facts, ui):
    pid = hub_facts["hfs"]
    # research is used only by request: under a grant the stewards approved
    rae = Principal("rae", "cdo", "researcher")
    elements = person_view_elements(rae, "research", "pseudonymised")
    gate = Gate(ui.hub)
    grant = granted(gate, rae, "research", elements).request_id
    c = ui.sign_in("rae")
    # Asked by enterprise id, refused: it would tell whose pseudonym is whose.
    assert "by the pseudonym" in c.get(f"/ui/person?id={pid}").text
    pseudonym = gate.pseudonym(pid, "research", grant)
    html = c.get(f"/ui/person?id={pseudonym}").text
    assert "pseudonymised" in html and "Pseudonym (from your extract)" in html
    assert f"Services of {pseudonym}" in html or "<tbody" in html
    assert pid not in html
    assert not [n for n in hub_facts["names"] if n in html]


def test_a_steward_sees_the_quarantine_of_their_agency_only(ui):
    c = ui.sign_in("fcs.steward")
    page = c.get("/ui/batches").text
    assert "Batches of fcs" in page
    batches = re.findall(
        r'href="/ui/batches/(B[0-9a-f]+)">.*?<td class="num">([0-9,]+)</td></tr>', page, re.S
    )
    quarantined = [b for b, n in batches if n != "0"]
    assert quarantined, batches
    rows = c.get(f"/ui/batches/{quarantined[0]}")
    assert rows.status_code == 200 and '<th scope="col">Rule</th>' in rows.text
    assert rows.text.count("<tr>") > 1
    assert ui.sign_in("ana").get("/ui/batches").status_code == 403


def test_a_linkage_steward_sees_quality_and_the_queue(ui):
    html = ui.sign_in("cdo.linkage").get("/ui/linkage").text
    assert "The last linkage run" in html and "Trained m and u" in html
    assert html.count("<svg") >= 3  # weights, m and u, the waterfall
    assert 'data-key="m"' in html and 'data-key="n"' in html
    assert ui.sign_in("ada").get("/ui/linkage").status_code == 403


def test_a_privacy_officer_searches_verifies_and_exports(ui):
    ui.sign_in("ada").get("/ui/dashboard?view=trends")
    c = ui.sign_in("cdo.privacy")
    typed = typed_of(c.get("/ui/audit").text)
    page = c.get(f"/ui/audit?user=ada&action=data.read&typed={typed}")
    assert page.status_code == 200 and "Verified" in page.text
    assert "trends" in page.text
    export = c.get(f"/ui/audit/export.csv?user=ada&typed={typed}").text
    export = list(csv.DictReader(io.StringIO(export)))
    assert export and {e["user"] for e in export} == {"ada"}
    searches = [
        json.loads(e["body"]) for e in ui.hub.audit.entries() if '"audit_search"' in e["body"]
    ]
    assert searches[-1]["objects"]["audit_search"] == {"user": "ada"}
    assert ui.sign_in("ana").get("/ui/audit").status_code == 403


def test_a_linkage_steward_decides_a_pair_with_a_note(owning_ui):
    c = owning_ui.sign_in("cdo.linkage")
    page = c.get("/ui/linkage").text
    a = re.search(r'name="record_a" value="([^"]+)"', page).group(1)
    b = re.search(r'name="record_b" value="([^"]+)"', page).group(1)
    form = {"record_a": a, "record_b": b, "decision": "no-match", "note": "different mothers"}
    forged = c.post("/ui/linkage/decide", data={**form, "csrf": "0" * 64})
    assert forged.status_code == 403
    r = c.post("/ui/linkage/decide", data={**form, "csrf": csrf_of(page)}, follow_redirects=True)
    assert r.status_code == 200 and "Recorded:" in r.text and "not the same person" in r.text
    decided = [
        json.loads(e["body"])
        for e in owning_ui.hub.audit.entries()
        if e["action"] == "identity.review" and e["outcome"] == "ok"
    ]
    assert len(decided) == 1
    assert decided[0]["objects"]["note"] == "different mothers"
    assert decided[0]["objects"]["record_keys"] == sorted((a, b))
    # An analyst cannot decide, whatever the form says.
    analyst = owning_ui.sign_in("ada")
    home = analyst.get("/ui/").text
    r = analyst.post("/ui/linkage/decide", data={**form, "csrf": csrf_of(home)})
    assert r.status_code == 403


def test_a_steward_uploads_an_extract_and_follows_its_job(owning_ui, web_hub):
    import time

    c = owning_ui.sign_in("fcs.steward")
    page = c.get("/ui/batches").text
    clients = web_hub.parent / "state" / "agencies" / "fcs" / "clients.csv"
    rows = list(csv.reader(io.StringIO(clients.read_text())))
    # Five new clients (not the loaded ones again), one without its id, one with a date
    # of birth that is not a date.
    rows = rows[:6]
    for n, row in enumerate(rows[1:], start=1):
        row[rows[0].index("Client ID")] = f"WEB{n:05d}"
    rows[1][rows[0].index("Client ID")] = ""
    rows[2][rows[0].index("Date of Birth")] = "not a date"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    body = out.getvalue()
    files = {"files": ("clients-fix.csv", body.encode(), "text/csv")}
    refused = c.post("/ui/batches/upload", data={"csrf": "0" * 64}, files=files)
    assert refused.status_code == 403
    r = c.post(
        "/ui/batches/upload", data={"csrf": csrf_of(page)}, files=files, follow_redirects=False
    )
    assert r.status_code == 303, r.text[-800:]
    job = r.headers["location"]
    deadline = time.monotonic() + 60
    while True:
        html = c.get(job).text
        if "Status: <strong>done" in html or "Status: <strong>failed" in html:
            break
        assert 'hx-trigger="every 1s"' in html
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert "Status: <strong>done" in html, html[-1500:]
    summary = re.sub(r"\s+", " ", html.split("<main")[1])[:1500]
    assert "5 rows read, 4 accepted, 1 quarantined" in summary, summary
    batch = re.search(r'href="/ui/batches/(B[0-9a-f]+)"', html).group(1)
    quarantine = c.get(f"/ui/batches/{batch}").text
    assert quarantine.count("<tr>") == 2, quarantine.split("<main")[1][:1500]  # one row
    assert "dob_unparseable" in html  # flagged, kept, and said
    # Another account cannot follow the job.
    assert owning_ui.sign_in("ana").get(job).status_code == 404
