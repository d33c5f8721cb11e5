"""The tail of the log after the last checkpoint is the one part that can be deleted
unnoticed: a denial, a failed sign-in and every administrative act are checkpointed as
they are written, checkpoints also follow a time schedule, and verify says how old the
newest checkpoint is and how many entries came after it."""

import pytest
import sqlalchemy as sa
from tests.audit.conftest import read

from crosswalk.audit import (
    AccessDenied,
    AccountChanged,
    AgreementChanged,
    ConsentChanged,
    ReviewDecided,
    SignInFailed,
    TokenChanged,
)


def delete_from(log, seq: int) -> None:
    with log.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_entry WHERE seq >= :s"), {"s": seq})


def test_a_deleted_denial_is_caught(make_log):
    log = make_log(checkpoint_every=100, checkpoint_seconds=0)
    for i in range(1, 4):
        log.record(read(i))
    log.record(AccessDenied("mallory", "fcs", "caseworker", "care_coordination", outcome="denied"))
    delete_from(log, 4)  # the denial, which no Nth-entry checkpoint covered
    result = log.verify()
    assert not result.ok and result.first_bad == 4 and "truncated" in result.problem


@pytest.mark.parametrize(
    "act",
    [
        AgreementChanged("cdo.steward", "cdo"),
        ConsentChanged("sud.steward", "sud"),
        ReviewDecided("cdo.linkage", "cdo"),
        AccountChanged("fran", "fcs"),
        TokenChanged("fran", "fcs"),
        SignInFailed("nobody"),
    ],
    ids=lambda act: act.action,
)
def test_every_administrative_act_and_failed_sign_in_is_checkpointed(make_log, act):
    log = make_log(checkpoint_every=100, checkpoint_seconds=0)
    log.record(read(1))
    seq = log.record(act)
    result = log.verify()
    assert result.ok and result.since_checkpoint == 0, result
    delete_from(log, seq)
    caught = log.verify()
    assert not caught.ok and "truncated" in caught.problem


def test_plain_reads_wait_for_the_nth_entry(make_log):
    log = make_log(checkpoint_every=100, checkpoint_seconds=0)
    for i in range(1, 4):
        log.record(read(i))
    result = log.verify()
    assert result.ok and result.checkpoints == 0 and result.since_checkpoint == 3
    assert "no checkpoint yet" in result.tail_summary()


def test_an_entry_after_an_old_checkpoint_gets_one(make_log, monkeypatch):
    log = make_log(checkpoint_every=100, checkpoint_seconds=60)
    log.record(read(1))
    log.write_checkpoint()
    log.record(read(2))
    assert log.verify().since_checkpoint == 1  # the checkpoint is new: no other yet
    later = __import__("time").time() + 61
    monkeypatch.setattr("crosswalk.audit.log.time.time", lambda: later)
    log.record(read(3))
    result = log.verify()
    assert result.ok and result.since_checkpoint == 0


def test_a_new_process_finds_the_age_of_the_newest_checkpoint(make_log, monkeypatch):
    first = make_log(checkpoint_every=100, checkpoint_seconds=60)
    first.record(read(1))
    first.write_checkpoint()
    later = __import__("time").time() + 61
    monkeypatch.setattr("crosswalk.audit.log.time.time", lambda: later)
    second = make_log(checkpoint_every=100, checkpoint_seconds=60)  # another command
    second.record(read(2))
    assert second.verify().since_checkpoint == 0


def test_the_schedule_writes_only_when_the_log_moved(make_log):
    log = make_log(checkpoint_every=100, checkpoint_seconds=0)
    log.record(read(1))
    assert log.checkpoint_if_moved() is not None
    assert log.checkpoint_if_moved() is None
    log.record(read(2))
    cp = log.checkpoint_if_moved()
    assert cp is not None and cp.count == 2


def test_verify_reports_the_uncovered_tail(make_log):
    log = make_log(checkpoint_every=2, checkpoint_seconds=0)
    for i in range(1, 6):
        log.record(read(i))
    result = log.verify()
    assert result.ok and result.since_checkpoint == 1
    assert "1 entries after it" in result.tail_summary()


def test_a_tail_deleted_from_under_a_running_process_is_caught(make_log):
    # The attack: someone with write access to the control plane (not to the checkpoint
    # folder) deletes the newest plain reads, which no checkpoint covered yet, while the
    # service runs. Its next entry was chained onto the shortened log, and verification
    # said the log was intact: the deletion could never be seen.
    from crosswalk.errors import AuditUnavailable

    log = make_log(checkpoint_every=100, checkpoint_seconds=0)
    for i in range(1, 6):
        log.record(read(i))
    delete_from(log, 4)
    assert log.verify().ok  # no checkpoint covers entries 4 and 5: nothing to compare
    with pytest.raises(AuditUnavailable, match="this process wrote entry 5"):
        log.record(read(6))  # fail closed: nothing is chained onto the shortened log
    caught = log.verify()
    assert not caught.ok and "truncated" in caught.problem
    assert len(log.entries()) == 3


def test_a_scheduled_checkpoint_catches_a_deleted_tail_too(make_log):
    from crosswalk.errors import AuditUnavailable

    log = make_log(checkpoint_every=100, checkpoint_seconds=0)
    for i in range(1, 4):
        log.record(read(i))
    delete_from(log, 3)
    with pytest.raises(AuditUnavailable):
        log.checkpoint_if_moved()  # the service's schedule, with nothing appended since
    assert not log.verify().ok


def test_another_process_appending_is_not_taken_for_a_deletion(make_log):
    first = make_log(checkpoint_every=100, checkpoint_seconds=0)
    first.record(read(1))
    second = make_log(checkpoint_every=100, checkpoint_seconds=0)
    second.record(read(2))
    first.record(read(3))
    assert first.checkpoint_if_moved() is not None
    assert first.verify().ok and len(first.entries()) == 3
