"""Every page, as every role sees it: nothing from another site, no inline script or
style, and only the pages the agreement opens to that role."""

import re

import pytest
from tests.web.conftest import PEOPLE

ATTRIBUTE_URL = re.compile(
    r"""\s(?:src|href|action|formaction|poster|data|srcset)\s*=\s*["']([^"']*)""", re.I
)
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)", re.I)
INLINE = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>|\sstyle\s*=|\son[a-z]+\s*=|javascript:", re.I)


def local(url: str) -> bool:
    return url.startswith(("/", "#", "?")) or url == ""


def nav_of(html: str) -> list[str]:
    nav = html.split('<nav aria-label="Pages">', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'href="([^"]+)"', nav)


@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_no_page_references_another_site_or_runs_inline_code(ui, who):
    c = ui.sign_in(who)
    pages = nav_of(c.get("/ui/").text)
    assert pages[:2] == ["/ui/", "/ui/agreement"]
    for path in pages:
        r = c.get(path)
        assert r.status_code == 200, (path, r.text[-500:])
        html = r.text
        outside = [u for u in ATTRIBUTE_URL.findall(html) if not local(u)]
        assert outside == [], (path, outside)
        assert "http://" not in html and "https://" not in html
        assert INLINE.findall(html) == [], path


def test_the_assets_reference_nothing_outside(ui):
    c = ui.client()
    css = c.get("/ui/static/crosswalk.css").text
    assert [u for u in CSS_URL.findall(css) if not local(u)] == []
    assert "@import" not in css
    for name in ("htmx-2.0.11.min.js", "crosswalk.js"):
        r = c.get(f"/ui/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize(
    ("who", "pages"),
    [
        ("ada", {"/ui/dashboard", "/ui/requests"}),
        ("rae", {"/ui/dashboard", "/ui/person", "/ui/requests"}),  # clause 4.2: pseudonymised
        ("ana", {"/ui/person"}),
        ("cdo.linkage", {"/ui/linkage"}),
        ("fcs.steward", {"/ui/batches", "/ui/requests"}),
        ("cdo.privacy", {"/ui/audit", "/ui/requests"}),
        ("fran", set()),
    ],
)
def test_each_role_sees_the_pages_its_clauses_open(ui, who, pages):
    c = ui.sign_in(who)
    assert set(nav_of(c.get("/ui/").text)) - {"/ui/", "/ui/agreement"} == pages


def test_home_explains_the_clauses_behind_each_role(ui):
    html = ui.sign_in("ana").get("/ui/").text
    assert "As caseworker" in html and "care coordination" in html
    assert "5.1" in html and "Care coordination by caseworkers" in html
    assert "written consent (42 CFR 2.31)" in html  # clause 5.2


def test_the_agreement_page_shows_parties_elements_and_levels(ui):
    html = ui.sign_in("ada").get("/ui/agreement").text
    assert "Corrections" in html and "sud.clients" in html and "42 CFR Part 2" in html
    assert "substance use" in html and "pseudonymised" in html
