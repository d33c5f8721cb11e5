"""The README's screenshots of the web UI, taken over the demo's stores.

    make demo
    .venv/bin/python -m tests.web.screenshots demo-out docs/screenshots

serves the demo hub on a free local port, signs in as the demo accounts (the password in
``demo-out/password``) in Debian's Chromium and saves one PNG per main page.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright
from tests.web.live import LiveServer
from tests.web.test_ui_browser import ARGS, CHROMIUM

from crosswalk.hub import Hub
from crosswalk.service import create_app

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
    ("fcs.steward", "batches", "/ui/batches"),
    ("cdo.privacy", "audit", "/ui/audit"),
)


def main(demo: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    password = (demo / "password").read_text().strip()
    hub = Hub(demo / "hub.duckdb", f"sqlite:///{demo / 'control.db'}", demo / "secrets")
    person = _a_person(hub)
    with LiveServer(create_app(hub)) as live, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        signed_in: dict[str, object] = {}
        for who, name, path in PAGES:
            if who not in signed_in:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(f"{live.url}/ui/sign-in")
                page.fill("#username", who)
                page.fill("#password", password)
                page.click("form button[type=submit]")
                page.wait_for_url(f"{live.url}/ui/")
                signed_in[who] = page
            page = signed_in[who]
            page.goto(f"{live.url}{path or '/ui/person?id=' + person}")
            page.screenshot(path=str(out / f"{name}.png"), full_page=False)
        page = browser.new_page()
        page.goto(f"{live.url}/ui/sign-in")
        page.screenshot(path=str(out / "sign-in.png"))
        browser.close()
    hub.close()


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
