import re
import shutil
from datetime import date

import duckdb
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from crosswalk import migrations
from crosswalk.accounts import Accounts, Actor
from crosswalk.hub import Hub
from crosswalk.identity import link
from crosswalk.ingest import ingest_state
from crosswalk.service import create_app
from crosswalk.synth import small_state

OPERATOR = Actor("operator:test", None, frozenset(), operator=True)
PASSWORD = "a long enough password"
# name -> (agency, roles): one account per role.
PEOPLE = {
    "fran": ("fcs", ["administrator"]),
    "ana": ("fcs", ["caseworker"]),
    "ada": ("hfs", ["analyst"]),
    "rae": ("cdo", ["researcher"]),
    "fcs.steward": ("fcs", ["steward"]),
    "hfs.steward": ("hfs", ["steward"]),
    "cdo.privacy": ("cdo", ["privacy_officer"]),
    "cdo.linkage": ("cdo", ["linkage_steward"]),
}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


FACTS: dict = {}


@pytest.fixture(scope="session")
def web_hub(tmp_path_factory):
    """A small linked hub (a synthetic state of 1,500 people), built once; what the tests
    look for in it is read now, before any service holds it (``hub_facts``)."""
    root = tmp_path_factory.mktemp("web-hub")
    small_state(str(root / "state"), people=1500, seed=11)
    hub = root / "hub.duckdb"
    ingest_state(root / "state", hub=hub, control=f"sqlite:///{root}/build-control.db")
    link(hub, control=f"sqlite:///{root}/build-control.db")
    con = duckdb.connect(str(hub), read_only=True)

    def one(having: str) -> str:
        return con.execute(
            f"SELECT enterprise_id FROM person_index GROUP BY 1 HAVING {having} ORDER BY 1 LIMIT 1"
        ).fetchone()[0]

    try:
        names = con.execute(
            "SELECT DISTINCT first_name || ' ' || last_name FROM person_record "
            "WHERE first_name IS NOT NULL AND last_name IS NOT NULL"
        ).fetchall()
        FACTS.update(
            names={r[0] for r in names},
            sud=one("bool_or(agency = 'sud') AND bool_or(agency = 'fcs')"),
            plain=one("NOT bool_or(agency = 'sud') AND bool_or(agency = 'fcs')"),
            hfs=one("bool_or(agency = 'hfs')"),
        )
    finally:
        con.close()
    return hub


@pytest.fixture(scope="session")
def hub_facts(web_hub):
    """Names in the hub and people to look up (see ``web_hub``)."""
    return FACTS


class UI:
    """The service in-process, over HTTPS as a browser sees it, with an account per role."""

    def __init__(self, app, hub: Hub, accounts: Accounts):
        self.app = app
        self.hub = hub
        self.accounts = accounts

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="https://testserver", raise_server_exceptions=False)

    def sign_in(self, who: str, password: str = PASSWORD) -> TestClient:
        c = self.client()
        page = c.get("/ui/sign-in")
        r = c.post(
            "/ui/sign-in",
            data={"username": who, "password": password, "csrf": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        return c


def typed_of(html: str) -> str:
    """The search forms' proof that their boxes were typed on this session's page."""
    found = re.search(r'name="typed" value="([0-9a-f]{64})"', html)
    assert found, "no typed-search field in the page"
    return found.group(1)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def start_ui(
    hub_path, control_url: str, secrets, *, add_accounts: bool = True, writable: bool = False
) -> UI:
    engine = sa.create_engine(control_url)
    migrations.upgrade(engine)
    hub = Hub(hub_path, engine, secrets, writable=writable)
    accounts = Accounts(engine, hub.audit)
    if add_accounts:
        for name, (agency, roles) in PEOPLE.items():
            accounts.add(OPERATOR, name, agency, roles, password=PASSWORD)
    return UI(create_app(hub, cors_origins=[], max_body_mb=1), hub, accounts)


@pytest.fixture(scope="session")
def web_control(tmp_path_factory, web_hub):
    """A control plane with the accounts, made once (argon2 is slow on purpose) and
    copied for each test: its file and its folder of keys."""
    root = tmp_path_factory.mktemp("web-control")
    made = start_ui(web_hub, f"sqlite:///{root}/control.db", root / "secrets")
    made.hub.close()
    made.hub.control.dispose()
    return root


@pytest.fixture
def on_day(clock_at):
    return clock_at(date(2025, 6, 1))


def _copy_control(web_control, to) -> None:
    shutil.copy(web_control / "control.db", to / "control.db")
    if (web_control / "control.db-wal").exists():  # commits not yet checkpointed into it
        shutil.copy(web_control / "control.db-wal", to / "control.db-wal")
    shutil.copytree(web_control / "secrets", to / "secrets")
    for extra in web_control.glob("control.db.*"):  # the audit log's checkpoints
        if extra.is_dir():
            shutil.copytree(extra, to / extra.name)


@pytest.fixture
def ui(web_hub, web_control, tmp_path, on_day):
    _copy_control(web_control, tmp_path)
    u = start_ui(
        web_hub, f"sqlite:///{tmp_path}/control.db", tmp_path / "secrets", add_accounts=False
    )
    yield u
    u.hub.close()
    u.hub.control.dispose()


@pytest.fixture
def owning_ui(web_hub, web_control, tmp_path, on_day):
    """The UI of a service that owns (writes) its own copy of the hub."""
    _copy_control(web_control, tmp_path)
    shutil.copy(web_hub, tmp_path / "hub.duckdb")
    u = start_ui(
        tmp_path / "hub.duckdb",
        f"sqlite:///{tmp_path}/control.db",
        tmp_path / "secrets",
        add_accounts=False,
        writable=True,
    )
    yield u
    u.hub.close()
    u.hub.control.dispose()
