"""The README's screenshots of the web UI, taken over the demo's stores.

    make demo
    .venv/bin/python -m tests.web.screenshots demo-out docs/screenshots

serves the demo hub on a free local port, signs in as the demo accounts (the password in
``demo-out/password``) in Debian's Chromium and saves one PNG per main page.
"""

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright
from tests.web.live import LiveServer
from tests.web.test_ui_browser import ARGS, CHROMIUM

from crosswalk.hub import Hub
from crosswalk.service import create_app

# The researcher's data request for the overlap of SNAP and Medicaid, as the dashboard
# links it; the screenshots make it (rae), the fcs steward approves, hfs's is shown.
DASHBOARD = (
    "/ui/dashboard?view=overlap&purpose=research&asked=true&start=2019-01-01&end=2019-12-31"
    "&programs=SNAP&programs=MEDICAID"
)
REQUEST = "/ui/requests/new?purpose=research&level=aggregate&" + "&".join(
    f"element={a}.{d}.{e}"
    for a in ("fcs", "hfs")
    for d, es in (
        ("events", ("county", "end_date", "program", "start_date")),
        ("clients", ("dob", "sex")),
    )
    for e in es
)
PAGES = (
    ("bob", "dashboard-overlap", "/ui/dashboard?view=overlap"),
    ("bob", "dashboard-pathways", "/ui/dashboard?view=pathways"),
    ("bob", "dashboard-cohort", "/ui/dashboard?view=cohort"),
    ("bob", "dashboard-trends", "/ui/dashboard?view=trends"),
    ("bob", "dashboard-lifetime", "/ui/dashboard?view=lifetime"),
    ("ana", "home", "/ui/"),
    ("ana", "agreement", "/ui/agreement"),
    ("ana", "person", None),
    ("cdo.linkage", "linkage", "/ui/linkage"),
    ("cdo.linkage", "linkage-accuracy", "/ui/linkage/accuracy"),
    ("fcs.steward", "batches", "/ui/batches"),
    ("cdo.privacy", "audit", "/ui/audit"),
    ("rae", "request-new", REQUEST),
    ("hfs.steward", "requests", "/ui/requests"),
    ("hfs.steward", "request", None),
    ("rae", "home-grants", "/ui/"),
)


def main(demo: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    password = (demo / "password").read_text().strip()
    hub = Hub(demo / "hub.duckdb", f"sqlite:///{demo / 'control.db'}", demo / "secrets")
    person = _a_person(hub)
    truth = demo / "state" / "truth"
    if truth.exists():
        os.environ.setdefault("CROSSWALK_LINKAGE_TRUTH", str(truth))
    with LiveServer(create_app(hub)) as live, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        signed_in: dict[str, object] = {}
        request = ""
        for who, name, path in PAGES:
            if who not in signed_in:
                signed_in[who] = _signed_in(browser, live.url, who, password)
            page = signed_in[who]
            if path is None:
                path = f"/ui/requests/{request}" if name == "request" else f"/ui/person?id={person}"
            page.goto(f"{live.url}{path}")
            page.screenshot(path=str(out / f"{name}.png"), full_page=False)
            if name == "request-new":  # the researcher sends it, fcs's steward approves
                request = _send_request(page, live.url)
                _approve(_signed_in(browser, live.url, "fcs.steward", password), live.url, request)
            elif name == "request":  # and hfs's: it is a grant
                _approve(page, live.url, request)
        page = browser.new_page()
        page.goto(f"{live.url}/ui/sign-in")
        page.screenshot(path=str(out / "sign-in.png"))
        browser.close()
    hub.close()


def _signed_in(browser, url: str, who: str, password: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/ui/sign-in")
    page.fill("#username", who)
    page.fill("#password", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{url}/ui/")
    return page


def _send_request(page, url: str) -> str:
    """The researcher sends the request form as it is filled in (``REQUEST``)."""
    page.goto(f"{url}{REQUEST}")
    page.fill("#justification", "Which SNAP households are also on Medicaid, for the state plan")
    page.click("form.request-form button[type=submit]")
    page.wait_for_url(f"{url}/ui/requests/R*")
    return page.url.split("/ui/requests/", 1)[1].split("?")[0]


def _approve(page, url: str, request: str) -> None:
    page.goto(f"{url}/ui/requests/{request}")
    page.fill("#approve-reason", "within the agreement")
    page.click("form[action$='/approve'] button")
    page.wait_for_selector("p.notice")


def _a_person(hub: Hub) -> str:
    """A person of several agencies, none of them a Part 2 program (read once, as the
    host operator preparing pictures of synthetic data)."""
    with hub.read() as con:
        return con.execute(
            "SELECT enterprise_id FROM person_index GROUP BY 1 HAVING count(DISTINCT agency) >= 3 "
            "AND NOT bool_or(agency = 'sud') AND bool_or(agency = 'fcs') ORDER BY 1 LIMIT 1"
        ).fetchone()[0]


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
