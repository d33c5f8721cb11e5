"""The audit commands: an outside auditor verifies with the published key alone."""

import sqlalchemy as sa
from tests.audit.conftest import read

from crosswalk.cli import run


def test_auditor_verifies_with_the_exported_public_key(log, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    control = f"sqlite:///{tmp_path}/control.db"
    pem = tmp_path / "audit-key.pem"
    assert run(["audit", "public-key", "--out", str(pem), "--control", control]) == 0
    assert (
        run(["audit", "checkpoint", "--out", str(tmp_path / "head.json"), "--control", control])
        == 0
    )
    log.record(read(7))
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "auditor-has-no-secrets"))
    capsys.readouterr()
    args = ["audit", "verify", "--public-key", str(pem), "--control", control]
    assert run([*args, "--checkpoint", str(tmp_path / "head.json")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "7 entries" in out and log.public_key().fingerprint in out
    assert "2 checkpoints" in out  # the folder's and the kept one
    with log.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_entry SET purpose = 'x' WHERE seq = 2"))
    assert run(args) != 0
    assert "failed at entry 2" in " ".join(capsys.readouterr().err.split())


def test_public_key_is_printed_as_pem(log, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    assert run(["audit", "public-key", "--control", f"sqlite:///{tmp_path}/control.db"]) == 0
    assert capsys.readouterr().out.startswith("-----BEGIN PUBLIC KEY-----")


def test_empty_log_checkpoint_from_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    control = f"sqlite:///{tmp_path}/empty.db"
    head = tmp_path / "head.json"
    assert run(["audit", "checkpoint", "--out", str(head), "--control", control]) == 0
    assert run(["audit", "verify", "--checkpoint", str(head), "--control", control]) == 0
