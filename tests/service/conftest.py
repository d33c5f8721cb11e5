from datetime import date

import duckdb
import pytest

from crosswalk.identity import link
from crosswalk.ingest import ingest_state
from crosswalk.synth import small_state


@pytest.fixture(scope="session")
def linked_hub(tmp_path_factory):
    """A small linked hub (a synthetic state of 1,500 people), built once."""
    root = tmp_path_factory.mktemp("service-hub")
    small_state(str(root / "state"), people=1500, seed=11)
    hub = root / "hub.duckdb"
    ingest_state(root / "state", hub=hub, control=f"sqlite:///{root}/build-control.db")
    link(hub, control=f"sqlite:///{root}/build-control.db")
    return hub


def person_of(hub, having: str) -> str:
    con = duckdb.connect(str(hub), read_only=True)
    try:
        return con.execute(
            f"SELECT enterprise_id FROM person_index GROUP BY 1 HAVING {having} ORDER BY 1 LIMIT 1"
        ).fetchall()[0][0]
    finally:
        con.close()


@pytest.fixture(scope="session")
def sud_person(linked_hub):
    """A person known to the substance-use agency and to the child-welfare agency."""
    return person_of(linked_hub, "bool_or(agency = 'sud') AND bool_or(agency = 'fcs')")


@pytest.fixture
def on_day(clock_at):
    return clock_at(date(2025, 6, 1))


# -- the service ------------------------------------------------------------------------

import shutil  # noqa: E402
import time  # noqa: E402

import sqlalchemy as sa  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from crosswalk import migrations  # noqa: E402
from crosswalk.accounts import Accounts, Actor  # noqa: E402
from crosswalk.hub import Hub  # noqa: E402
from crosswalk.service import create_app  # noqa: E402

OPERATOR = Actor("operator:test", None, frozenset(), operator=True)
PASSWORD = "a long enough password"

# name -> (agency, roles): one account per role, two agencies for own/other checks.
PEOPLE = {
    "fran": ("fcs", ["administrator"]),
    "hank": ("hfs", ["administrator"]),
    "ana": ("fcs", ["caseworker"]),
    "ada": ("hfs", ["analyst"]),
    "fcs.steward": ("fcs", ["steward"]),
    "sud.steward": ("sud", ["steward"]),
    "cdo.privacy": ("cdo", ["privacy_officer"]),
    "sud.privacy": ("sud", ["privacy_officer"]),
    "cdo.linkage": ("cdo", ["linkage_steward"]),
    "rae": ("cdo", ["researcher"]),
}


class Service:
    """A running service (in-process) with one account and token per person."""

    def __init__(self, client: TestClient, hub: Hub, accounts: Accounts, tokens: dict[str, str]):
        self.client = client
        self.app = None
        self.hub = hub
        self.accounts = accounts
        self.tokens = tokens

    def as_(self, who: str | None) -> dict[str, str]:
        return {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, path: str, who: str | None, **kw):
        return self.client.get(path, headers=self.as_(who), **kw)

    def post(self, path: str, who: str | None, json=None, **kw):
        return self.client.post(path, headers=self.as_(who), json=json, **kw)

    def delete(self, path: str, who: str | None, **kw):
        return self.client.delete(path, headers=self.as_(who), **kw)

    def finished(self, job_id: str, who: str, timeout: float = 120.0) -> dict:
        """Poll a job until it is done or failed."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(f"/jobs/{job_id}", who).json()
            if job["status"] in ("done", "failed") or time.monotonic() > deadline:
                return job
            time.sleep(0.05)

    def idle(self, timeout: float = 120.0) -> None:
        """Wait until the service's jobs have all finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.hub.control.connect() as conn:
                busy = conn.execute(
                    sa.text("SELECT count(*) FROM job WHERE status IN ('queued', 'running')")
                ).scalar_one()
            if not busy:
                return
            time.sleep(0.05)

    def stop(self) -> None:
        self.app.state.jobs.close()
        self.hub.close()


def start_service(hub_path, control_url: str, secrets, *, writable: bool = False) -> Service:
    """The service over ``hub_path``; ``writable``: owning it, as ``crosswalk serve`` does
    (give it a copy of the shared hub: its jobs write it)."""
    engine = sa.create_engine(control_url)
    migrations.upgrade(engine)
    hub = Hub(hub_path, engine, secrets, writable=writable)
    accounts = Accounts(engine, hub.audit)
    tokens = {}
    for name, (agency, roles) in PEOPLE.items():
        accounts.add(OPERATOR, name, agency, roles, password=PASSWORD if name == "ada" else None)
        tokens[name] = accounts.create_token(OPERATOR, name)[1]
    app = create_app(hub, cors_origins=[], max_body_mb=1)
    s = Service(TestClient(app, raise_server_exceptions=False), hub, accounts, tokens)
    s.app = app
    return s


@pytest.fixture
def service(linked_hub, tmp_path, on_day):
    s = start_service(linked_hub, f"sqlite:///{tmp_path}/control.db", tmp_path / "secrets")
    yield s
    s.hub.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_service(request, linked_hub, tmp_path, on_day):
    """The service on a SQLite control plane and on the throwaway PostgreSQL server."""
    url = (
        f"sqlite:///{tmp_path}/control.db"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_database")
    )
    s = start_service(linked_hub, url, tmp_path / "secrets")
    yield s
    s.hub.close()
    s.hub.control.dispose()


@pytest.fixture
def owned(linked_hub, tmp_path, on_day):
    """The service owning (writing) a copy of the linked hub, as ``crosswalk serve`` does."""
    hub = tmp_path / "owned.duckdb"
    shutil.copy(linked_hub, hub)
    s = start_service(hub, f"sqlite:///{tmp_path}/control.db", tmp_path / "secrets", writable=True)
    s.state = linked_hub.parent / "state"
    yield s
    s.stop()
