"""On a real PostgreSQL server: the service's own database role, given its privileges by
``crosswalk control grant-service-role``, can add and read audit entries and run the
service's work, but cannot change or delete an audit entry."""

import uuid

import pytest
import sqlalchemy as sa
from tests.accounts.conftest import OPERATOR

from crosswalk import migrations
from crosswalk.accounts import Accounts
from crosswalk.audit import AuditLog, DataRead
from crosswalk.cli import run
from crosswalk.errors import ConfigError


@pytest.fixture
def as_service(postgres_database, tmp_path, monkeypatch):
    """The control plane migrated by its owner, and a URL that connects as the service
    (the grant is audited as the host operator, with the log's key in ``secrets``)."""
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    owner = sa.create_engine(postgres_database)
    migrations.upgrade(owner)
    role = f"crosswalk_service_{uuid.uuid4().hex[:8]}"  # roles belong to the whole server
    with owner.begin() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
    assert run(["control", "grant-service-role", role, "--control", postgres_database]) == 0
    owner.dispose()
    service = postgres_database.replace("postgres@", f"{role}@", 1)
    yield sa.create_engine(service), tmp_path / "secrets"


def test_the_service_role_appends_and_reads_but_cannot_rewrite_the_audit_log(as_service):
    engine, secrets = as_service
    log = AuditLog(engine, secrets=secrets, checkpoint_every=0)
    for i in range(3):
        log.record(DataRead(f"user{i}", "fcs", "caseworker", "care_coordination"))
    first = log.entries()[0]
    assert (first["action"], first["user"][:9]) == ("operator.command", "operator:")
    assert log.verify().ok and log.verify().entries == 4
    for statement in (
        "UPDATE audit_entry SET agency = 'hfs' WHERE seq = 2",
        "DELETE FROM audit_entry WHERE seq = 3",
        "TRUNCATE audit_entry",
        "DROP TABLE audit_entry",
    ):
        with (
            engine.connect() as conn,
            pytest.raises(sa.exc.ProgrammingError, match=r"permission denied|must be owner"),
        ):
            conn.execute(sa.text(statement))
    assert log.verify().ok and log.verify().entries == 4


def test_the_service_role_does_the_services_work(as_service):
    engine, secrets = as_service
    accounts = Accounts(engine, AuditLog(engine, secrets=secrets, checkpoint_every=0))
    accounts.add(OPERATOR, "ana", "fcs", ["caseworker"], password="a long enough password")
    token, secret = accounts.create_token(OPERATOR, "ana")
    assert accounts.authenticate(secret).account.username == "ana"
    accounts.revoke_token(OPERATOR, token.token_id)
    with pytest.raises(Exception):  # noqa: B017 (a wrong password: refused and recorded)
        accounts.sign_in("ana", "not the password")
    accounts.sign_in("ana", "a long enough password")
    with (
        engine.connect() as conn,
        pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
    ):
        conn.execute(sa.text("CREATE TABLE intruder (x int)"))


def test_a_role_name_never_becomes_sql(postgres_database):
    engine = sa.create_engine(postgres_database)
    migrations.upgrade(engine)
    with pytest.raises(ConfigError):
        migrations.grant_service_role(engine, 'x"; DROP TABLE audit_entry; --')
    assert sa.inspect(engine).has_table("audit_entry")
