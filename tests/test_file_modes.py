"""The hub and the control plane are their owner's only: their files, write-ahead logs
and journals are created 0600, whatever umask the process started with."""

import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from crosswalk import stores
from crosswalk.audit import AuditLog, DataRead


@pytest.fixture
def loose_umask():
    """A process started with the common umask 022 (files readable by everyone)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(Path(path).stat().st_mode)


def test_a_new_hub_and_its_write_ahead_log_are_private(tmp_path, loose_umask):
    hub = tmp_path / "hub.duckdb"
    con = stores.connect_hub(hub)
    try:
        con.execute("CREATE TABLE person_record (name VARCHAR)")
        con.execute("INSERT INTO person_record VALUES ('Ada')")
        wal = tmp_path / "hub.duckdb.wal"
        assert wal.exists()
        assert mode(hub) == 0o600 and mode(wal) == 0o600
    finally:
        con.close()
    assert mode(hub) == 0o600


def test_a_new_sqlite_control_plane_and_its_journals_are_private(tmp_path, loose_umask):
    path = tmp_path / "control.db"
    engine = stores.control_engine(f"sqlite:///{path}")
    log = AuditLog(engine, secrets=tmp_path / "secrets")
    log.record(DataRead("ada", "hfs"))
    assert mode(path) == 0o600
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode = WAL")
        conn.exec_driver_sql("CREATE TABLE t (a INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        conn.commit()
        journals = [p for p in tmp_path.iterdir() if p.name.startswith("control.db-")]
        assert journals and all(mode(p) == 0o600 for p in journals), journals
    engine.dispose()


def test_an_in_memory_control_plane_creates_no_file(tmp_path, loose_umask, monkeypatch):
    monkeypatch.chdir(tmp_path)
    engine = stores.control_engine("sqlite://")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 1")).scalar() == 1
    assert list(tmp_path.iterdir()) == []


def test_a_warehouse_snapshot_is_private(tmp_path, loose_umask):
    # The attack: an export opened the hub read-only, so the process kept umask 022 and
    # the snapshot's Parquet files (the standardised records: names, SSNs, addresses)
    # were readable by every account of the machine.
    from crosswalk.engines.warehouse import export_warehouse

    hub = tmp_path / "hub.duckdb"
    con = stores.connect_hub(hub)
    con.execute("CREATE TABLE person_record (record_key VARCHAR, last_name VARCHAR)")
    con.execute("INSERT INTO person_record VALUES ('hfs:1', 'Lovelace')")
    con.close()
    os.umask(0o022)  # as a process that only reads the hub starts
    export_warehouse(
        hub, tmp_path / "warehouse", control=f"sqlite:///{tmp_path}/c.db", secrets=tmp_path / "s"
    )
    written = list((tmp_path / "warehouse").rglob("*"))
    assert any(p.name.endswith(".parquet") for p in written)
    loose = [p for p in written if mode(p) & 0o077]
    assert not loose, [(str(p), oct(mode(p))) for p in loose]


@pytest.mark.parametrize("name", ["extract.csv", "extract.parquet", "extract.json"])
def test_a_table_written_for_an_analyst_is_private(tmp_path, loose_umask, name):
    # An extract or an answer written by `crosswalk analyze ... --out` is person-level or
    # agency data: 0644 let every account of the host read it.
    import pyarrow as pa

    from crosswalk.analytics import write_table

    path = write_table(pa.table({"pseudonym": ["a1", "b2"], "n": [1, 2]}), tmp_path / name)
    assert mode(path) == 0o600
