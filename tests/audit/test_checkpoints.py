"""Checkpoints are written by the log itself to a second location, and verify compares
the log with every one of them: a truncated tail or a rewritten history is caught
without a checkpoint kept by hand."""

import json

import pytest
import sqlalchemy as sa
from tests.audit.conftest import read

from crosswalk.audit import AuditLog, Checkpoint
from crosswalk.audit.keys import load_signing_key
from crosswalk.errors import AuditUnavailable


def run(log, sql):
    with log.engine.begin() as conn:
        conn.execute(sa.text(sql))


@pytest.fixture
def log(make_log):
    log = make_log(checkpoint_every=5)
    for i in range(1, 13):
        log.record(read(i))
    return log


def test_checkpoints_are_written_every_n_entries_beside_the_control_plane(log, tmp_path):
    folder = tmp_path / "control.db.checkpoints"
    assert log.checkpoint_folder == folder
    assert sorted(p.name[:12] for p in folder.glob("*.json")) == ["000000000005", "000000000010"]
    result = log.verify()
    assert result.ok and result.checkpoints == 2


def test_truncated_tail_is_caught(log):
    run(log, "DELETE FROM audit_entry WHERE seq >= 8")
    result = log.verify()
    assert not result.ok and result.first_bad == 8 and "truncated" in result.problem


def test_history_rewritten_with_the_key_is_caught(log, make_log):
    """Someone with the key and the database (not the checkpoint folder) starts over, from
    a process of their own (the one that wrote the entries refuses to go on from fewer)."""
    run(log, "DELETE FROM audit_entry")
    forger = make_log(checkpoint_every=5)
    for i in range(1, 13):
        forger.record(read(i, user="forger"))
    result = log.verify()
    assert not result.ok and result.first_bad == 5 and "rewritten" in result.problem


def test_checkpoint_in_the_folder_signed_by_another_key_is_refused(log, tmp_path):
    other = load_signing_key(tmp_path / "elsewhere")
    forged = Checkpoint.signed(other, 12, log.entries()[-1]["hash"], "2026-01-01T00:00:00")
    (log.checkpoint_folder / "000000000012-forged.json").write_text(json.dumps(forged.to_dict()))
    result = log.verify()
    assert not result.ok and "not signed" in result.problem


def test_unreadable_checkpoint_is_named(log):
    (log.checkpoint_folder / "000000000011-x.json").write_text("{")
    result = log.verify()
    assert not result.ok and "000000000011-x.json" in result.problem


def test_a_kept_checkpoint_is_compared_too(make_log):
    log = make_log(checkpoint_every=0)
    for i in range(1, 4):
        log.record(read(i))
    kept = log.checkpoint()
    run(log, "DELETE FROM audit_entry WHERE seq = 3")
    assert log.verify().ok, "a cleanly truncated chain still links"
    result = log.verify(kept)
    assert not result.ok and "truncated" in result.problem


def test_empty_log_checkpoint_verifies_now_and_after_appends(make_log):
    log = make_log(checkpoint_every=0)
    empty = log.write_checkpoint()
    assert empty.count == 0
    assert log.verify(empty).ok
    log.record(read(1))
    log.record(read(2))
    result = log.verify(empty)
    assert result.ok, result.problem
    assert result.checkpoints == 2  # the folder's and the kept one


def test_empty_log_checkpoint_with_a_forged_head_is_caught(make_log):
    log = make_log(checkpoint_every=0)
    key = log._signing_key()
    log.record(read(1))
    forged = Checkpoint.signed(key, 0, "f" * 64, "2026-01-01T00:00:00")
    assert not log.verify(forged).ok


def test_unwritable_checkpoint_folder_fails_closed(tmp_path):
    (tmp_path / "not-a-folder").write_text("")
    log = AuditLog(
        f"sqlite:///{tmp_path}/control.db",
        secrets=tmp_path / "secrets",
        checkpoints=tmp_path / "not-a-folder",
        checkpoint_every=1,
    )
    with pytest.raises(AuditUnavailable, match="checkpoint"):
        log.record(read(1))


def test_checkpoint_folder_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("CROSSWALK_AUDIT_CHECKPOINTS", str(tmp_path / "elsewhere"))
    log = AuditLog(f"sqlite:///{tmp_path}/control.db", secrets=tmp_path / "secrets")
    assert log.checkpoint_folder == tmp_path / "elsewhere"
    log.write_checkpoint()
    assert len(list((tmp_path / "elsewhere").glob("*.json"))) == 1
