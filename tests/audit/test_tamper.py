"""Editing, deleting, moving or inserting entries is caught, and the entry is named."""

import os
import stat

import pytest
import sqlalchemy as sa

from crosswalk.audit import AuditLog, DataRead
from crosswalk.errors import AuditUnavailable


def run(log, sql, **params):
    with log.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_intact_log_verifies(log):
    result = log.verify()
    assert result.ok and result.entries == 6


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("agency", "hfs"),
        ("purpose", "program_evaluation"),
        ("action", "data.denied"),
        ("user", "someone.else"),
        ("outcome", "denied"),
        ("at", "2020-01-01T00:00:00.000000+00:00"),
    ],
)
def test_edited_column_is_caught_and_named(log, column, value):
    run(log, f'UPDATE audit_entry SET "{column}" = :v WHERE seq = 4', v=value)
    result = log.verify()
    assert not result.ok and result.first_bad == 4
    if column != "at":
        assert f"its {column} is {value!r}" in result.problem


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('"rows":4', '"rows":1'),  # rows returned: no column mirrors it
        ('"P4"', '"P9"'),  # the person read: no column mirrors it
        ('"role":"caseworker"', '"role":"steward"'),  # role: no column mirrors it
        ('"agency":"fcs"', '"agency":"hfs"'),  # the body only, the column left alone
    ],
)
def test_edited_body_field_is_caught(log, before, after):
    run(log, "UPDATE audit_entry SET body = replace(body, :a, :b) WHERE seq = 4", a=before, b=after)
    result = log.verify()
    assert not result.ok and result.first_bad == 4
    assert "entry 4 was changed" in result.problem


def test_agency_and_purpose_edited_everywhere_are_caught(log):
    """The privacy officer's report changes with agency and purpose: both places edited."""
    for seq in range(1, 7):
        run(
            log,
            """UPDATE audit_entry SET agency = 'hfs', purpose = 'program_evaluation',
               body = replace(replace(body, '"fcs"', '"hfs"'), 'care_coordination', 'program_evaluation')
               WHERE seq = :s""",
            s=seq,
        )
    result = log.verify()
    assert not result.ok and result.first_bad == 1


def test_deleted_entry_is_named(log):
    run(log, "DELETE FROM audit_entry WHERE seq = 2")
    result = log.verify()
    assert not result.ok and result.first_bad == 2 and "missing" in result.problem


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
        "INSERT INTO audit_entry SELECT 5, at, action, user, agency, purpose, outcome, body, prev_hash, hash, signature FROM audit_entry WHERE seq = 2",
    )
    result = log.verify()
    assert not result.ok and result.first_bad == 5


@pytest.mark.parametrize("seq", [0, -5])
def test_entry_put_before_the_first_is_named(log, seq):
    run(
        log,
        f"INSERT INTO audit_entry SELECT {seq}, at, action, user, agency, purpose, outcome, body, prev_hash, hash, signature FROM audit_entry WHERE seq = 1",
    )
    result = log.verify()
    assert not result.ok and result.first_bad == 1 and f"found {seq}" in result.problem


def test_a_long_log_is_read_a_page_at_a_time(log, monkeypatch):
    from crosswalk.audit.log import AuditLog

    pages = AuditLog._pages
    monkeypatch.setattr(AuditLog, "_pages", lambda self: pages(self, size=4))
    assert log.verify().entries == 6
    run(log, "DELETE FROM audit_entry WHERE seq = 5")
    assert log.verify().first_bad == 5


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
