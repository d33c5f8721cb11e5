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


def test_a_placement_the_reader_may_not_see_leaves_no_gap(hub, control) -> None:
    # The attack: an eligibility worker, who may not see child welfare, asked for the
    # mother's household on days in turn: the child was a member until 2019-12-31, gone
    # for 2020, back from 2021-01-01: the dates of a foster placement.
    from datetime import date

    from crosswalk.access import Gate
    from crosswalk.agreement import Principal

    gate = Gate(hub, control)
    eligibility = Principal("eli", "hfs", "eligibility_worker")
    seen = []
    for day in (date(2019, 6, 1), date(2020, 6, 1), date(2021, 6, 1)):
        answer = gate.family(eligibility, "eligibility_verification", "P0000000001", day)
        seen.append({(m.person, m.valid_from, m.valid_to) for m in answer.members})
    assert seen[0] == seen[1] == seen[2]
    assert ("P0000000002", None, None) in seen[0]
    # A caseworker, who may see the placement, sees the child in the foster home.
    caseworker = Principal("ana", "fcs", "caseworker")
    placed = gate.family(caseworker, "care_coordination", "P0000000002", date(2020, 6, 1))
    assert "P0000000003" in {m.person for m in placed.members}


def test_a_death_the_reader_may_not_see_leaves_no_end(tmp_path: Path, control) -> None:
    # The attack: Family and Community Services' steward, who may see their own agency's
    # data only (no vital records), asked for a child's household on one day and the
    # next: the mother was a member until 2022-03-04 and gone from 2022-03-05, the day of
    # her death.
    from datetime import date

    from tests.identity.test_households import RECORDS

    from crosswalk.access import Gate
    from crosswalk.agreement import Principal

    records = dict(RECORDS)
    records["P0000000001"] = [*RECORDS["P0000000001"], ("idph", None, None, None, None)]
    died = date(2022, 3, 4)
    path = tmp_path / "dead.duckdb"
    con = _hub(
        records=records,
        extra_events=[("idph:P0000000001-1", "DEATH_RECORD", died, died, None)],
        path=str(path),
    )
    con.execute(
        "INSERT INTO batch VALUES ('B1', 'all', 'hand', 1, '-', now()::TIMESTAMP, 'test', 'loaded', NULL, NULL)"
    )
    _build(con)
    con.close()
    gate = Gate(path, control)
    steward = Principal("fcs.steward", "fcs", "steward")
    seen = [
        {
            (m.person, m.valid_to)
            for m in gate.family(steward, "operations", "P0000000002", d).members
        }
        for d in (died, date(2022, 3, 5), date(2023, 1, 1))
    ]
    assert seen[0] == seen[1] == seen[2]
    assert ("P0000000001", None) in seen[0]
    # A caseworker, who may see vital records, sees the membership end on the death.
    caseworker = Principal("ana", "fcs", "caseworker")
    answer = gate.family(caseworker, "care_coordination", "P0000000002", died)
    assert ("P0000000001", died) in {(m.person, m.valid_to) for m in answer.members}
    after = gate.family(caseworker, "care_coordination", "P0000000002", date(2022, 3, 5))
    assert "P0000000001" not in {m.person for m in after.members}
