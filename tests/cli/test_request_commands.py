"""``crosswalk request``: create, list, show, approve, deny, revoke, with the library's
refusals as messages and exit codes."""

from __future__ import annotations

import json
from datetime import date

import pytest

from crosswalk.cli import run


@pytest.fixture(autouse=True)
def _day(clock_at):
    clock_at(date(2025, 6, 1))


@pytest.fixture
def as_(signed_in, control):
    """The CLI options that sign in as one of the accounts the agreement names."""
    agencies = {"rae": "cdo", "cdo.privacy": "cdo", "sud.steward": "sud"}
    roles = {"rae": "researcher", "cdo.privacy": "privacy_officer"}

    def options(user: str) -> list[str]:
        agency = agencies.get(user, user.split(".")[0])
        return [*signed_in(user, agency, roles.get(user, "steward"), control=control),
                "--control", control]  # fmt: skip

    return options


def create(as_, *elements: str, level: str = "pseudonymised") -> list[str]:
    args = ["request", "create", "--level", level, "--justification", "a study"]
    for e in elements:
        args += ["--element", e]
    return [*args, "--end", "2025-12-31", "--purpose", "research", *as_("rae")]


def request_id(as_, capsys: pytest.CaptureFixture[str], user: str = "rae") -> str:
    assert run(["request", "list", "--json", *as_(user)]) == 0
    return json.loads(capsys.readouterr().out)[-1]["id"]


def test_a_request_from_creation_to_revocation(as_, capsys):
    assert run(create(as_, "hfs.events.program", "fcs.events.program")) == 0
    out = capsys.readouterr().out
    assert "is pending: waiting for the stewards of fcs, hfs" in out
    rid = request_id(as_, capsys)
    approve = ["request", "approve", rid, "--reason", "ok"]
    assert run([*approve, *as_("fcs.steward")]) == 0
    assert "waiting for the stewards of hfs" in capsys.readouterr().out
    assert run([*approve, *as_("hfs.steward")]) == 0
    assert f"data request {rid} is granted" in capsys.readouterr().out
    assert run(["request", "show", rid, *as_("rae")]) == 0
    shown = capsys.readouterr().out
    assert "state: granted" in shown and "fcs.events.program, hfs.events.program" in shown
    assert "fcs.steward" in shown and "hfs.steward" in shown
    revoke = ["request", "revoke", rid, "--reason", "closed"]
    assert run([*revoke, *as_("cdo.privacy")]) == 0
    assert f"data request {rid} is revoked" in capsys.readouterr().out
    assert run(["request", "list", "--status", "revoked", "--json", *as_("hfs.steward")]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [rid]


def test_refusals_are_messages_with_exit_codes(as_, capsys):
    assert run(create(as_, "hfs.events.shoe_size")) == 2
    assert (
        "Error: the data request cannot be made\n"
        "  - field 'elements': hfs.events has no data element 'shoe_size'"
    ) in capsys.readouterr().err
    assert run(create(as_, "program")) == 2
    assert "--element is <dataset>.<element>" in capsys.readouterr().err
    assert run(create(as_, "hfs.events.program")) == 0
    capsys.readouterr()
    rid = request_id(as_, capsys)
    approve = ["request", "approve", rid]
    assert run([*approve, *as_("rae")]) == 3
    assert "rae may not answer their own data request" in capsys.readouterr().err
    assert run([*approve, *as_("sud.steward")]) == 2
    assert f"Error: no data request '{rid}'" in capsys.readouterr().err
    deny = ["request", "deny", rid, "--reason", "no ethics approval"]
    assert run([*deny, *as_("hfs.steward")]) == 0
    assert f"data request {rid} is denied" in capsys.readouterr().out
    assert run([*approve, *as_("hfs.steward")]) == 2
    assert "is denied, not pending" in capsys.readouterr().err
