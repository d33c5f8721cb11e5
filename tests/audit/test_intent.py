"""The log never claims a change the hub does not hold: an ingest batch or a linkage run
records its intent before the hub's commit and its outcome after it, so a process killed
between the two leaves an intent without an outcome, never a false claim."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from tests.ingest.conftest import MAPPING

from crosswalk.audit import AuditLog
from crosswalk.ingest import ingest, parse_mapping

CLIENTS = 'id,name,dob,sex,ssn,phone\n1,"DOE, JO",01/02/1990,M,,\n2,"ROE, AL",03/04/1980,M,,\n'

KILLED_INGEST = """
import os, sys
from crosswalk.audit import log as audit_log
from crosswalk.ingest import ingest

hub, control, mapping, clients, die_at = sys.argv[1:]
real = audit_log.AuditLog._append  # the one write of an entry
written = []

def append(self, *args):
    if die_at == "before-second-write" and len(written) == 1:
        os._exit(9)  # the hub has committed; the outcome is never written
    written.append(real(self, *args))
    if die_at == "after-first-write":
        os._exit(9)  # killed just after the audit write, before the hub's commit
    return written[-1]

audit_log.AuditLog._append = append
ingest("fcs", [clients], hub=hub, mapping=mapping, control=control, loaded_by="loader")
"""


def held_batches(hub: Path) -> set[str]:
    con = duckdb.connect(str(hub), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT batch_id FROM batch").fetchall()}
    finally:
        con.close()


def claimed_batches(log: AuditLog) -> set[str]:
    return {
        b
        for e in log.entries()
        if e["action"] == "ingest.batch"
        for b in json.loads(e["body"])["objects"]["batch_ids"]
    }


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    (tmp_path / "fcs.yaml").write_text(MAPPING)
    (tmp_path / "clients.csv").write_text(CLIENTS)
    return tmp_path


@pytest.mark.parametrize("die_at", ["after-first-write", "before-second-write"])
def test_killed_ingest_never_leaves_a_false_claim(files, die_at):
    hub, control = files / "hub.duckdb", f"sqlite:///{files}/control.db"
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    args = [hub, control, files / "fcs.yaml", files / "clients.csv", die_at]
    done = subprocess.run(
        [sys.executable, "-c", KILLED_INGEST, *map(str, args)], env=env, timeout=120
    )
    assert done.returncode == 9, "the ingest was killed"
    log = AuditLog(control)
    held = held_batches(hub)
    assert claimed_batches(log) <= held, "the log claims a batch the hub does not hold"
    started = [e for e in log.entries() if e["action"] == "ingest.started"]
    assert len(started) == 1 and started[0]["user"] == "loader"
    assert len(held) == (1 if die_at == "before-second-write" else 0)
    assert log.verify().ok
    # The next ingest into this hub records the outcome of a batch the hub holds, and
    # leaves open an intent whose batch it does not.
    files_again = [files / "clients.csv"]
    ingest("fcs", files_again, hub=hub, mapping=files / "fcs.yaml", control=control)
    claims = [json.loads(e["body"]) for e in log.entries() if e["action"] == "ingest.batch"]
    assert claimed_batches(log) <= held_batches(hub)
    reconciled = [c for c in claims if c["objects"].get("reconciled_by")]
    assert len(reconciled) == len(held)
    assert all(c["user"] == "loader" and c["rows"] == 2 for c in reconciled)
    assert log.verify().ok


def test_failed_ingest_records_its_outcome(files, monkeypatch):
    from crosswalk.ingest import batch

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(batch, "_stage", fail)
    control = f"sqlite:///{files}/control.db"
    with pytest.raises(RuntimeError):
        ingest(
            "fcs",
            [files / "clients.csv"],
            hub=files / "hub.duckdb",
            mapping=parse_mapping(MAPPING, "fcs.yaml"),
            control=control,
        )
    log = AuditLog(control)
    assert [e["action"] for e in log.entries()] == ["ingest.started", "ingest.failed"]
    assert not held_batches(files / "hub.duckdb")


def test_committed_ingest_is_claimed_and_checkpointed(files):
    control = f"sqlite:///{files}/control.db"
    result = ingest(
        "fcs",
        [files / "clients.csv"],
        hub=files / "hub.duckdb",
        mapping=parse_mapping(MAPPING, "fcs.yaml"),
        control=control,
    )
    log = AuditLog(control)
    assert [e["action"] for e in log.entries()] == ["ingest.started", "ingest.batch"]
    assert claimed_batches(log) == {result.batch_id} == held_batches(files / "hub.duckdb")
    assert [p.name[:12] for p in log.checkpoint_folder.glob("*.json")] == ["000000000002"]
    assert log.verify().checkpoints == 1


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    from crosswalk.ingest import ingest_state
    from crosswalk.synth import small_state

    root = tmp_path_factory.mktemp("state")
    small_state(str(root / "state"), people=400, seed=3)
    ingest_state(root / "state", hub=root / "hub.duckdb", control=f"sqlite:///{root}/ingest.db")
    return root / "hub.duckdb"


def test_failed_linkage_run_records_its_outcome(ingested, tmp_path, monkeypatch):
    from crosswalk.identity import link, linked

    hub = tmp_path / "hub.duckdb"
    shutil.copy(ingested, hub)
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))

    def fail(con):
        raise RuntimeError("out of disk while writing the analytic tables")

    monkeypatch.setattr(linked, "refresh", fail)
    control = f"sqlite:///{tmp_path}/control.db"
    with pytest.raises(RuntimeError):
        link(hub, control=control)
    log = AuditLog(control)
    actions = [e["action"] for e in log.entries()]
    assert actions == ["identity.link.started", "identity.link.failed"]
    con = duckdb.connect(str(hub), read_only=True)
    assert con.execute("SELECT count(*) FROM link_run").fetchall() == [(0,)]
    con.close()
    assert log.verify().ok


def test_committed_linkage_run_is_claimed_and_checkpointed(ingested, tmp_path, monkeypatch):
    from crosswalk.identity import link

    hub = tmp_path / "hub.duckdb"
    shutil.copy(ingested, hub)
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    control = f"sqlite:///{tmp_path}/control.db"
    result = link(hub, control=control)
    log = AuditLog(control)
    entries = log.entries()
    assert [e["action"] for e in entries] == ["identity.link.started", "identity.link"]
    assert json.loads(entries[1]["body"])["objects"]["link_run"] == result.run_id
    assert log.verify().checkpoints == 1


KILLED_LINK = """
import os, sys
from crosswalk.audit import log as audit_log
from crosswalk.identity import link

hub, control = sys.argv[1:]
real = audit_log.AuditLog._append
written = []

def append(self, *args):
    if written:
        os._exit(9)  # the hub has committed the run; its outcome is never written
    written.append(real(self, *args))
    return written[-1]

audit_log.AuditLog._append = append
link(hub, control=control, run_by="linker")
"""


def test_linkage_run_killed_after_the_hub_commit_is_reconciled(ingested, tmp_path, monkeypatch):
    from crosswalk.identity import link

    hub = tmp_path / "hub.duckdb"
    shutil.copy(ingested, hub)
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    control = f"sqlite:///{tmp_path}/control.db"
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", KILLED_LINK, str(hub), control], env=env, timeout=300
    )
    assert done.returncode == 9, "the linkage run was killed"
    log = AuditLog(control)
    assert [e["action"] for e in log.entries()] == ["identity.link.started"]
    killed = json.loads(log.entries()[0]["body"])["objects"]["link_run"]

    second = link(hub, control=control, run_by="steward")
    entries = [(e["action"], json.loads(e["body"])) for e in log.entries()]
    assert [a for a, _ in entries] == [
        "identity.link.started",
        "identity.link",  # the killed run's outcome, found in the hub
        "identity.link.started",
        "identity.link",
    ]
    reconciled = entries[1][1]
    assert reconciled["objects"]["link_run"] == killed
    assert reconciled["user"] == "linker" and reconciled["objects"]["reconciled_by"] == "steward"
    assert entries[3][1]["objects"]["link_run"] == second.run_id
    assert log.verify().ok
