"""The web UI in a real browser: Debian's Chromium driven by Playwright (never a browser
download). Each role signs in and walks its pages; every page must render its charts,
break no rule of its Content-Security-Policy and pass axe-core's accessibility check
with no serious violation; an analyst never sees a name or a count of 1 to 10.

Screenshots of each page go to ``$CROSSWALK_SCREENSHOTS`` (the README's are made with
``CROSSWALK_SCREENSHOTS=docs/screenshots``), or to a scratch folder.
"""

import csv
import io
import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect
from tests.web.conftest import PASSWORD, start_ui
from tests.web.live import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).parent / "axe" / "axe-4.14.1.min.js"
SERIOUS = ("serious", "critical")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed (.ci/install-chromium)"
)


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("CROSSWALK_SCREENSHOTS")
    out = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    out.mkdir(parents=True, exist_ok=True)
    return out


# For this module only: while a service holds the hub, no other may open it (DuckDB
# refuses a second configuration of one file in a process).
@pytest.fixture(scope="module")
def live(web_hub, web_control, tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    shutil.copy(web_control / "control.db", root / "control.db")
    if (web_control / "control.db-wal").exists():  # commits not yet checkpointed into it
        shutil.copy(web_control / "control.db-wal", root / "control.db-wal")
    shutil.copytree(web_control / "secrets", root / "secrets")
    for extra in web_control.glob("control.db.*"):
        if extra.is_dir():
            shutil.copytree(extra, root / extra.name)
    ui = start_ui(web_hub, f"sqlite:///{root}/control.db", root / "secrets", add_accounts=False)
    with LiveServer(ui.app) as server:
        server.ui = ui
        yield server
    ui.hub.close()
    ui.hub.control.dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One signed-in browser context, collecting every console error (a broken CSP rule
    shows there as 'Refused to ...')."""

    def __init__(self, browser, live, who: str, shots: Path):
        self.live = live
        self.shots = shots
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{live.url}/ui/sign-in")
        self.page.fill("#username", who)
        self.page.fill("#password", PASSWORD)
        self.page.click("form button[type=submit]")
        self.page.wait_for_url(f"{live.url}/ui/")

    def go(self, path: str):
        self.page.goto(f"{self.live.url}{path}")
        return self.page

    def nav(self) -> list[str]:
        return [
            a.get_attribute("href") for a in self.page.locator('nav[aria-label="Pages"] a').all()
        ]

    def check(self, name: str) -> None:
        """The page as it is now: charts drawn, no console error, no serious axe
        violation; a screenshot."""
        page = self.page
        for svg in page.locator("figure svg").all():
            if not svg.is_visible():  # in a closed <details>
                continue
            box = svg.bounding_box()
            assert box and box["width"] > 50 and box["height"] > 50, name
            assert svg.locator("path, rect").count() > 3, name
        page.evaluate(AXE.read_text())
        violations = page.evaluate(
            """() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']})
                .then(r => r.violations.map(v => ({id: v.id, impact: v.impact,
                    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"""
        )
        serious = [v for v in violations if v["impact"] in SERIOUS]
        assert serious == [], (name, serious)
        assert self.errors == [], (name, self.errors)
        page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, live, shots):
    opened = []

    def open_as(who: str) -> Visit:
        v = Visit(browser, live, who, shots)
        opened.append(v)
        return v

    yield open_as
    for v in opened:
        v.close()


def test_sign_in_page_and_home(visit, live, browser, shots):
    page = browser.new_page()
    page.goto(f"{live.url}/")
    assert page.url == f"{live.url}/ui/sign-in"
    page.screenshot(path=str(shots / "sign-in.png"))
    page.close()
    v = visit("ana")
    assert "Who can see what, explained" in v.page.inner_text("h1")
    v.check("home")
    v.go("/ui/agreement")
    v.check("agreement")


def _small(text: str) -> bool:
    value = text.replace(",", "").strip()
    return value.isdigit() and 1 <= int(value) <= 10


def test_an_analyst_sees_charts_never_a_name_or_a_small_count(visit, hub_facts):
    v = visit("ada")
    assert v.nav() == ["/ui/", "/ui/agreement", "/ui/dashboard", "/ui/requests"]
    names = hub_facts["names"]
    for view in ("overlap", "pathways", "cohort", "trends", "lifetime"):
        page = v.go(f"/ui/dashboard?view={view}")
        v.check(f"dashboard-{view}")
        counts = page.locator("td.count").all_inner_texts()
        assert counts and not [c for c in counts if _small(c)], view
        text = page.inner_text("body") + page.content()
        assert not [n for n in names if n in text], view
        with page.expect_download() as got:
            page.locator(".downloads a", has_text="CSV").first.click()
        rows = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text())))
        for row in rows:
            for column in ("people", "at_risk", "entered"):
                assert not _small(row.get(column) or ""), (view, row)
        href = page.locator(".downloads a", has_text="JSON").first.get_attribute("href")
        body = v.context.request.get(f"{v.live.url}{href}").text()
        assert not re.search(r'"(people|at_risk|entered)": ([1-9]|10)\b', body), view
        assert not [n for n in names if n in body], view


@pytest.mark.slow
def test_the_dashboard_filters_answer_in_place(visit):
    v = visit("ada")
    page = v.go("/ui/dashboard?view=trends")
    first = page.locator("#answers").inner_html()
    page.select_option("#sex", "F")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"sex=F"))
    expect(page.locator("#answers figure svg")).to_have_count(1)
    assert page.locator("#answers").inner_html() != first
    assert page.locator("#sex").input_value() == "F"
    assert v.errors == []


def test_a_caseworker_looks_up_a_person(visit, hub_facts):
    v = visit("ana")
    page = v.go("/ui/person")
    page.fill("#id", hub_facts["sud"])
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("figure svg")
    assert "Records may be withheld under federal or state law." in page.inner_text("main")
    v.check("person")


def test_a_steward_follows_a_batch_to_its_quarantine(visit):
    v = visit("fcs.steward")
    page = v.go("/ui/batches")
    v.check("batches")
    rows = page.locator("tbody tr").all()
    with_quarantine = next(r for r in rows if r.locator("td").last.inner_text() != "0")
    with_quarantine.locator("a").click()
    page.wait_for_selector("text=Quarantine of batch")
    assert page.locator("th", has_text="Rule").count() == 1
    v.check("quarantine")


def test_a_linkage_steward_reads_quality_and_a_pair(visit):
    v = visit("cdo.linkage")
    page = v.go("/ui/linkage")
    assert page.locator("figure svg").count() >= 2
    v.check("linkage")
    page.locator("details summary").click()
    before = page.url
    page.keyboard.press("j")
    page.wait_for_url(re.compile(r"pair=1"))
    assert page.url != before


def test_a_privacy_officer_verifies_the_chain_and_searches(visit):
    v = visit("cdo.privacy")
    page = v.go("/ui/audit")
    assert "Verified" in page.inner_text("section")
    page.fill("#user", "ana")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"user=ana"))
    expect(page.locator("#entries p").first).to_contain_text("entries found")
    users = page.locator("#entries tbody tr td:nth-child(4)").all_inner_texts()
    assert set(users) <= {"ana"}
    v.check("audit")


JOURNEY = (
    "/ui/dashboard?view=overlap&purpose=research&asked=true&start=2019-01-01&end=2019-12-31"
    "&programs=SNAP&programs=MEDICAID"
)


def _no_name_nor_small_count(page, names, where: str) -> None:
    counts = page.locator("td.count").all_inner_texts()
    assert not [c for c in counts if _small(c)], where
    text = page.inner_text("body") + page.content()
    assert not [n for n in names if n in text], where


def test_request_approve_then_the_dashboard(visit, hub_facts):
    """A researcher asks from a refused dashboard answer, the stewards of both agencies
    approve, and the dashboard answers under the grant; no page of it shows a name or
    a count of 1 to 10."""
    names = hub_facts["names"]
    rae = visit("rae")
    page = rae.go(JOURNEY)
    expect(page.locator(".problem").first).to_be_visible()
    page.locator("a", has_text="ask for the data this question reads").first.click()
    page.wait_for_url(re.compile(r"/ui/requests/new"))
    assert page.locator("input[name=element]:checked").count() == 12  # 2 agencies x 6
    page.fill("#justification", "Which SNAP households are also on Medicaid")
    rae.check("request-new")
    page.click("form.request-form button[type=submit]")
    page.wait_for_url(re.compile(r"/ui/requests/R[0-9a-f]+"))
    request_path = page.url.split(rae.live.url, 1)[1].split("?")[0]
    expect(page.locator("h1")).to_contain_text("pending")
    for who in ("fcs.steward", "hfs.steward"):
        steward = visit(who)
        listing = steward.go("/ui/requests")
        if who == "hfs.steward":
            steward.check("requests")
        listing.locator(f'#awaiting ~ table a[href="{request_path}"]').first.click()
        listing.fill("#approve-reason", "within the agreement")
        if who == "hfs.steward":
            steward.check("request")
        listing.click("form[action$='/approve'] button")
        expect(listing.locator("p.notice")).to_contain_text("approval is recorded")
    page = rae.go(request_path)
    expect(page.locator("h1")).to_contain_text("granted")
    _no_name_nor_small_count(page, names, "request")
    page = rae.go(JOURNEY)
    assert page.locator(".problem").count() == 0
    assert page.locator("#answers figure svg").count() == 2
    assert page.locator("td.count").count() > 0
    _no_name_nor_small_count(page, names, "dashboard")
    with page.expect_download() as got:
        page.locator(".downloads a", has_text="CSV").first.click()
    for row in csv.DictReader(io.StringIO(Path(got.value.path()).read_text())):
        assert not _small(row.get("people") or ""), row
    href = page.locator(".downloads a", has_text="JSON").first.get_attribute("href")
    body = rae.context.request.get(f"{rae.live.url}{href}").text()
    assert not re.search(r'"people": ([1-9]|10)\b', body)
    assert not [n for n in names if n in body]
    page = rae.go("/ui/")
    expect(page.locator("#grants ~ table")).to_contain_text("granted")
    _no_name_nor_small_count(page, names, "home")
    rae.check("home-grants")
    page = rae.go("/ui/requests")
    _no_name_nor_small_count(page, names, "requests")


def test_a_linkage_steward_reads_the_accuracy(visit, web_hub, monkeypatch):
    monkeypatch.setenv("CROSSWALK_LINKAGE_TRUTH", str(web_hub.parent / "state" / "truth"))
    v = visit("cdo.linkage")
    page = v.go("/ui/linkage")
    page.click("a[href='/ui/linkage/accuracy']")
    page.wait_for_url(re.compile(r"/ui/linkage/accuracy"))
    assert "pairwise F1" in page.inner_text("main")
    v.check("linkage-accuracy")


def test_a_steward_uploads_an_extract_and_sees_its_quarantine(
    browser, owning_ui, web_hub, shots, tmp_path
):
    """The upload form in the browser: a job followed to its end, then its batch's
    quarantine with the row, field and rule (a service writing its own copy of the hub)."""
    clients = web_hub.parent / "state" / "agencies" / "fcs" / "clients.csv"
    rows = list(csv.reader(io.StringIO(clients.read_text())))[:6]
    for n, row in enumerate(rows[1:], start=1):
        row[rows[0].index("Client ID")] = f"WEB{n:05d}"  # new clients, not the loaded ones
    rows[1][rows[0].index("Client ID")] = ""  # quarantined: no id
    extract = tmp_path / "clients-fix.csv"
    with extract.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    with LiveServer(owning_ui.app) as server:
        v = Visit(browser, server, "fcs.steward", shots)
        page = v.go("/ui/batches")
        page.set_input_files("#files", str(extract))
        page.locator('form[action="/ui/batches/upload"] button[type=submit]').click()
        page.wait_for_selector("text=5 rows read, 4 accepted, 1 quarantined", timeout=120_000)
        v.check("upload-job")
        page.locator('main a[href^="/ui/batches/B"]').first.click()
        page.wait_for_selector("text=Quarantine of batch")
        assert page.locator("main tbody tr").count() == 1
        assert page.locator("main tbody", has_text="clients-fix.csv").count() == 1
        v.check("upload-quarantine")
        v.close()


def test_a_linkage_steward_decides_a_pair_with_a_key(browser, owning_ui, shots):
    """Review in the browser: the key n records "not the same person" for the pair shown
    (a service writing its own copy of the hub), and the queue moves on."""
    with LiveServer(owning_ui.app) as server:
        v = Visit(browser, server, "cdo.linkage", shots)
        page = v.go("/ui/linkage")
        heading = page.locator("#queue").inner_text()
        pair = [page.locator(f'input[name="record_{s}"]').get_attribute("value") for s in "ab"]
        page.locator("details summary").first.click()
        page.keyboard.press("n")
        page.wait_for_selector("text=Recorded:")
        notice = page.locator("p.notice").inner_text()
        assert pair[0] in notice and pair[1] in notice and "not the same person" in notice
        assert page.locator("#queue").inner_text() != heading
        v.check("review-decided")
        v.close()
