"""`crosswalk family`: a thin shell over ``Gate.family``, signed in like every read."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.identity.test_households import _build, _hub

from crosswalk.cli import run


@pytest.fixture
def hub(tmp_path: Path) -> Path:
    path = tmp_path / "hub.duckdb"
    con = _hub(path=str(path))
    con.execute(
        "INSERT INTO batch VALUES ('B1', 'all', 'hand', 1, '-', now()::TIMESTAMP, 'test', 'loaded', NULL, NULL)"
    )
    _build(con)
    con.close()
    return path


def test_a_caseworker_sees_the_foster_family_on_a_day(hub, control, signed_in, capsys) -> None:
    ana = signed_in("ana", "fcs", "caseworker", control=control)
    argv = ["family", "P0000000002", "--on", "2020-06-01", "--purpose", "care_coordination"]
    assert run([*argv, *ana, "--hub", str(hub), "--control", control]) == 0
    out = capsys.readouterr().out
    assert "on 2020-06-01: 3 members" in out
    assert "Member P0000000003" in out and "Member P0000000001" not in out


def test_a_bad_day_is_refused_naming_the_option(hub, control, signed_in, capsys) -> None:
    ana = signed_in("ana", "fcs", "caseworker", control=control)
    argv = ["family", "P0000000002", "--on", "2020-13-01", "--purpose", "care_coordination"]
    assert run([*argv, *ana, "--hub", str(hub), "--control", control]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
