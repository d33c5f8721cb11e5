"""The SQLite control plane: write-ahead log at the durability chosen, and an audit entry
whose append returned is in the log even if the process dies the next instant."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa

from crosswalk import stores
from crosswalk.audit import AuditLog
from crosswalk.errors import ConfigError


def pragmas(engine: sa.Engine) -> tuple[str, int]:
    with engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    return str(mode), int(sync or 0)


@pytest.mark.parametrize(("chosen", "level"), [(None, 1), ("normal", 1), ("FULL", 2)])
def test_a_sqlite_control_plane_runs_in_wal_at_the_durability_chosen(
    tmp_path, monkeypatch, chosen, level
):
    if chosen is None:
        monkeypatch.delenv("CROSSWALK_CONTROL_SYNC", raising=False)
    else:
        monkeypatch.setenv("CROSSWALK_CONTROL_SYNC", chosen)
    engine = stores.control_engine(f"sqlite:///{tmp_path}/control.db")
    try:
        assert pragmas(engine) == ("wal", level)  # SQLite: NORMAL is 1, FULL is 2
    finally:
        engine.dispose()


def test_an_unknown_durability_is_refused_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("CROSSWALK_CONTROL_SYNC", "off")
    with pytest.raises(ConfigError, match="CROSSWALK_CONTROL_SYNC is normal or full, not 'off'"):
        stores.control_engine(f"sqlite:///{tmp_path}/control.db")


CRASH = textwrap.dedent(
    """
    import os, signal, sys
    from crosswalk.audit import AuditLog, DataRead
    log = AuditLog(sys.argv[1], secrets=sys.argv[2])
    for i in range(3):
        log.record(DataRead("ana", "fcs", "caseworker", "care_coordination",
                            {"n": i}, {"decision": "allow"}, 1, "ok"))
    print("recorded", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no clean shutdown, no checkpoint of the WAL
    """
)


def test_an_entry_recorded_survives_the_process_being_killed(tmp_path):
    control, secrets = f"sqlite:///{tmp_path}/control.db", tmp_path / "secrets"
    done = subprocess.run(
        [sys.executable, "-c", CRASH, control, str(secrets)],
        capture_output=True,
        text=True,
        env={**os.environ, "CROSSWALK_CONTROL_SYNC": "normal"},
        check=False,
    )
    assert done.returncode == -signal.SIGKILL and done.stdout == "recorded\n", done.stderr
    log = AuditLog(control, secrets=secrets)
    assert log.verify().ok
    assert [json.loads(e["body"])["objects"]["n"] for e in log.entries()] == [0, 1, 2]
