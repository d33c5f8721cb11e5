import pytest
import sqlalchemy as sa

from crosswalk import migrations
from crosswalk.accounts import Accounts, Actor
from crosswalk.audit import AuditLog

OPERATOR = Actor("operator:test", None, frozenset(), operator=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def control_url(request, tmp_path):
    """An empty control plane: a SQLite file, or a new database on the throwaway server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/control.db"
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def accounts(control_url, tmp_path):
    engine = sa.create_engine(control_url)
    migrations.upgrade(engine)
    yield Accounts(engine, AuditLog(engine, secrets=tmp_path / "secrets", checkpoint_every=0))
    engine.dispose()


def actions(accounts: Accounts) -> list[tuple[str, str, str]]:
    """(action, user, outcome) of every audit entry, in order."""
    return [(e["action"], e["user"], e["outcome"]) for e in accounts.audit.entries()]
