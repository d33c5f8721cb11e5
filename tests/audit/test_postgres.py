"""The audit log on a PostgreSQL control plane: appends serialised by an advisory lock, so
eight concurrent writers are never refused; tampering is caught as on SQLite."""

import multiprocessing

import pytest
import sqlalchemy as sa
from tests.audit.conftest import read
from tests.audit.test_concurrency import APPENDS, WRITERS, refused_appends

from crosswalk.audit import AuditLog


@pytest.fixture
def pg_control(postgres_url, tmp_path):
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS audit_entry"))
    engine.dispose()
    return postgres_url, {"secrets": tmp_path / "secrets", "checkpoints": tmp_path / "cp"}


def test_eight_processes_append_without_refusals(pg_control):
    url, options = pg_control
    log = AuditLog(url, **options)
    log.public_key()
    log.engine.dispose()  # no connection shared with the writers
    refused = refused_appends(multiprocessing.get_context("fork"), url, options)
    assert refused == 0, f"{refused} of {WRITERS * APPENDS} appends were refused"
    result = AuditLog(url, **options).verify()
    assert result.ok, result.problem
    assert result.entries == WRITERS * APPENDS
    assert result.checkpoints == WRITERS * APPENDS // 10


def test_edited_field_is_caught(pg_control):
    url, options = pg_control
    log = AuditLog(url, checkpoint_every=0, **options)
    for i in range(1, 4):
        log.record(read(i))
    with log.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_entry SET agency = 'hfs' WHERE seq = 2"))
    result = log.verify()
    assert not result.ok and result.first_bad == 2 and "agency" in result.problem
