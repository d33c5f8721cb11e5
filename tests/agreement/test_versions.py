import importlib.resources
from datetime import date

import pytest

from crosswalk.agreement import agreement_in_force
from crosswalk.agreement.versions import store_version
from crosswalk.audit import AuditLog
from crosswalk.cli import run
from crosswalk.errors import AgreementError

SHIPPED = importlib.resources.files("crosswalk.agreement").joinpath("emou.yaml").read_text()


def test_amendment_applies_from_its_effective_date(tmp_path):
    control = f"sqlite:///{tmp_path}/control.db"
    v1 = tmp_path / "v1.yaml"
    v1.write_text(SHIPPED)
    v2 = tmp_path / "v2.yaml"
    v2.write_text(
        SHIPPED.replace("version: 1", "version: 2")
        .replace("effective_from: 2024-01-01", "effective_from: 2026-01-01")
        .replace("min_cell: 11", "min_cell: 20")
    )
    store_version(v1, control)
    store_version(v2, control)
    assert agreement_in_force(date(2025, 12, 31), control).min_cell == 11
    assert agreement_in_force(date(2026, 1, 1), control).min_cell == 20
    with pytest.raises(AgreementError, match="already has version 2"):
        store_version(v1, control)


def test_cli_check_and_load_are_audited(tmp_path, capsys, signed_in):
    control = f"sqlite:///{tmp_path}/control.db"
    path = tmp_path / "v1.yaml"
    path.write_text(SHIPPED)
    steward = signed_in("cdo.steward", "cdo", "steward", control=control)
    assert run(["agreement", "check", str(path)]) == 0
    assert run(["agreement", "load", str(path), *steward, "--control", control]) == 0
    assert run(["audit", "verify", "--control", control]) == 0
    assert "3 entries" in capsys.readouterr().out  # the account, its token, the load
    loads = [e for e in AuditLog(control).entries() if e["action"] == "agreement.version"]
    assert [(e["user"], e["outcome"]) for e in loads] == [("cdo.steward", "ok")]


def test_cli_show_lists_the_version_in_force(tmp_path, capsys):
    control = f"sqlite:///{tmp_path}/control.db"
    v2 = tmp_path / "v2.yaml"
    v2.write_text(
        SHIPPED.replace("version: 1", "version: 2")
        .replace("effective_from: 2024-01-01", "effective_from: 2026-01-01")
        .replace("Program evaluation from aggregate statistics", "Amended evaluation clause")
    )

    def shown(*args: str) -> str:
        assert run(["agreement", "show", *args]) == 0
        return " ".join(capsys.readouterr().out.replace("│", " ").split())

    assert "version 1, in force from 2024-01-01" in shown("--control", control)  # none stored
    store_version(v2, control)
    out = shown("--control", control, "--on", "2026-01-01")
    assert "version 2, in force from 2026-01-01" in out
    assert "Amended evaluation clause" in out
    assert "version 1, in force from 2024-01-01" in shown(
        "--control", control, "--on", "2025-12-31"
    )
    assert "version 2" in shown(str(v2))  # a file, as it is written


def test_cli_read_needs_a_signed_in_account(capsys):
    assert run(["person", "P0000000001", "--purpose", "care_coordination"]) == 3
    err = " ".join(capsys.readouterr().err.split())
    assert "not signed in: set CROSSWALK_TOKEN" in err
