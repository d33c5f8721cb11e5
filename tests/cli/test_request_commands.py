"""``crosswalk request``: create, list, show, approve, deny, revoke, with the library's
refusals as messages and exit codes."""

from __future__ import annotations

import json
from datetime import date

import pytest

from crosswalk.cli import run

R = ["--user", "rae", "--agency", "cdo", "--role", "researcher", "--purpose", "research"]


@pytest.fixture(autouse=True)
def _day(clock_at):
    clock_at(date(2025, 6, 1))


def create(control: str, *elements: str, level: str = "pseudonymised") -> list[str]:
    args = ["request", "create", "--level", level, "--justification", "a study"]
    for e in elements:
        args += ["--element", e]
    return [*args, "--end", "2025-12-31", *R, "--control", control]


def request_id(control: str, capsys: pytest.CaptureFixture[str], user: str = "rae") -> str:
    assert run(["request", "list", "--user", user, "--json", "--control", control]) == 0
    return json.loads(capsys.readouterr().out)[-1]["id"]


def test_a_request_from_creation_to_revocation(control, capsys):
    assert run(create(control, "hfs.events.program", "fcs.events.program")) == 0
    out = capsys.readouterr().out
    assert "is pending: waiting for the stewards of fcs, hfs" in out
    rid = request_id(control, capsys)
    approve = ["request", "approve", rid, "--reason", "ok", "--control", control]
    assert run([*approve, "--user", "fcs.steward"]) == 0
    assert "waiting for the stewards of hfs" in capsys.readouterr().out
    assert run([*approve, "--user", "hfs.steward"]) == 0
    assert f"data request {rid} is granted" in capsys.readouterr().out
    assert run(["request", "show", rid, "--user", "rae", "--control", control]) == 0
    shown = capsys.readouterr().out
    assert "state: granted" in shown and "fcs.events.program, hfs.events.program" in shown
    assert "fcs.steward" in shown and "hfs.steward" in shown
    revoke = ["request", "revoke", rid, "--user", "cdo.privacy", "--reason", "closed"]
    assert run([*revoke, "--control", control]) == 0
    assert f"data request {rid} is revoked" in capsys.readouterr().out
    assert run(["request", "list", "--user", "hfs.steward", "--status", "revoked", "--json",
                "--control", control]) == 0  # fmt: skip
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [rid]


def test_refusals_are_messages_with_exit_codes(control, capsys):
    assert run(create(control, "hfs.events.shoe_size")) == 2
    assert (
        "Error: the data request cannot be made\n"
        "  - field 'elements': hfs.events has no data element 'shoe_size'"
    ) in capsys.readouterr().err
    assert run(create(control, "program")) == 2
    assert "--element is <dataset>.<element>" in capsys.readouterr().err
    assert run(create(control, "hfs.events.program")) == 0
    capsys.readouterr()
    rid = request_id(control, capsys)
    denied = ["request", "approve", rid, "--control", control]
    assert run([*denied, "--user", "rae"]) == 3
    assert "rae may not answer their own data request" in capsys.readouterr().err
    assert run([*denied, "--user", "sud.steward"]) == 2
    assert f"Error: no data request '{rid}'" in capsys.readouterr().err
    deny = ["request", "deny", rid, "--user", "hfs.steward", "--reason", "no ethics approval"]
    assert run([*deny, "--control", control]) == 0
    assert f"data request {rid} is denied" in capsys.readouterr().out
    assert run([*denied, "--user", "hfs.steward"]) == 2
    assert "is denied, not pending" in capsys.readouterr().err
