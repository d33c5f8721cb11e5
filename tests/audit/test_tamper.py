import os
import stat

import pytest
import sqlalchemy as sa

from crosswalk.audit import AuditLog, DataRead, load_key
from crosswalk.errors import AuditUnavailable


@pytest.fixture
def log(tmp_path):
    log = AuditLog(f"sqlite:///{tmp_path}/control.db")
    for i in range(1, 7):
        log.record(
            DataRead(
                f"user{i}",
                "fcs",
                "caseworker",
                "care_coordination",
                {"enterprise_ids": [f"P{i}"]},
                None,
                i,
            )
        )
    return log


def run(log, sql):
    with log.engine.begin() as conn:
        conn.execute(sa.text(sql))


def test_intact_log_verifies(log):
    result = log.verify()
    assert result.ok and result.entries == 6


def test_changed_entry_is_named(log):
    run(log, "UPDATE audit_entry SET body = replace(body, 'user3', 'userX') WHERE seq = 3")
    result = log.verify()
    assert not result.ok and result.first_bad == 3


def test_flipped_byte_in_a_column_is_named(log):
    run(log, "UPDATE audit_entry SET outcome = 'denied' WHERE seq = 4")
    assert log.verify().first_bad == 4


def test_deleted_entry_is_named(log):
    run(log, "DELETE FROM audit_entry WHERE seq = 2")
    result = log.verify()
    assert not result.ok and result.first_bad == 2


def test_swapped_entries_are_named(log):
    run(log, "UPDATE audit_entry SET seq = 100 WHERE seq = 3")
    run(log, "UPDATE audit_entry SET seq = 3 WHERE seq = 4")
    run(log, "UPDATE audit_entry SET seq = 4 WHERE seq = 100")
    result = log.verify()
    assert not result.ok and result.first_bad == 3


def test_inserted_entry_is_named(log):
    run(log, "UPDATE audit_entry SET seq = seq + 100 WHERE seq >= 5")
    run(log, "UPDATE audit_entry SET seq = seq - 99 WHERE seq >= 100")
    run(
        log,
        "INSERT INTO audit_entry SELECT 5, at, action, user, agency, purpose, outcome, body, prev_hash, hash FROM audit_entry WHERE seq = 2",
    )
    result = log.verify()
    assert not result.ok and result.first_bad == 5


def test_truncation_is_caught_by_a_checkpoint(log, tmp_path):
    key = load_key(tmp_path / "audit.key")
    checkpoint = log.checkpoint(key)
    run(log, "DELETE FROM audit_entry WHERE seq >= 5")
    assert log.verify().ok, "a cleanly truncated chain still links"
    result = log.verify(checkpoint, key)
    assert not result.ok and "truncated" in result.problem


def test_rewritten_history_is_caught_by_a_checkpoint(log, tmp_path):
    key = load_key(tmp_path / "audit.key")
    checkpoint = log.checkpoint(key)
    run(log, "DELETE FROM audit_entry")
    for _ in range(7):
        log.record(DataRead("forger", "fcs", "caseworker", "care_coordination"))
    assert log.verify().ok
    assert not log.verify(checkpoint, key).ok


def test_forged_checkpoint_is_refused(log, tmp_path):
    key = load_key(tmp_path / "audit.key")
    forged = log.checkpoint(os.urandom(32))
    assert "signature" in log.verify(forged, key).problem


def test_read_only_store_fails_closed(tmp_path):
    path = tmp_path / "control.db"
    log = AuditLog(f"sqlite:///{path}")
    log.record(DataRead("u"))
    path.chmod(stat.S_IRUSR)
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(path, os.W_OK):
            pytest.skip("running as a user who can write read-only files")
        with pytest.raises(AuditUnavailable):
            AuditLog(f"sqlite:///{path}").record(DataRead("u"))
    finally:
        tmp_path.chmod(stat.S_IRWXU)
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_unwritable_engine_fails_closed(tmp_path):
    path = tmp_path / "control.db"
    AuditLog(f"sqlite:///{path}").record(DataRead("u"))
    read_only = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(AuditUnavailable):
        AuditLog(read_only).record(DataRead("u"))
