"""Attacks on the whole-person view: levels, Part 2 status, and who exists."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from crosswalk.access import WITHHOLDING_NOTICE, Gate
from crosswalk.agreement import Principal
from crosswalk.agreement.consent import ConsentRegistry
from crosswalk.audit import AuditLog
from crosswalk.cli import run
from crosswalk.errors import NotFound

HFS_CASEWORKER = Principal("ana", "hfs", "caseworker")
DIRECT = {
    "first_name",
    "middle_name",
    "last_name",
    "name_suffix",
    "ssn_last4",
    "address_line",
    "phone",
    "source_record_id",
    "dob",
}


def text_of(answer) -> str:
    return json.dumps(
        [answer.records, answer.events, answer.notices, answer.decision.to_dict()], default=str
    )


def test_pseudonymised_carries_no_direct_identifier_and_no_part2(hub, sud_person, control):
    """The attack: a caseworker asking at the pseudonymised level got the SUD record (names,
    DOB, ZIP, county) and its SUD_TREATMENT services; only the id was replaced."""
    answer = Gate(hub, control).person(
        HFS_CASEWORKER, "care_coordination", sud_person, level="pseudonymised"
    )
    assert answer.records and answer.person != sud_person
    for r in answer.records:
        assert not DIRECT & set(r), r
        assert isinstance(r.get("dob_year"), int | type(None))
    assert "sud" not in {r["agency"] for r in answer.records + answer.events}
    assert "SUD_TREATMENT" not in text_of(answer)


def test_pseudonymised_part2_needs_consent_too(hub, sud_person, control):
    ConsentRegistry(control).add(
        sud_person,
        "sud",
        "hfs",
        "care_coordination",
        "treatment",
        date(2025, 1, 1),
        date(2026, 1, 1),
    )
    answer = Gate(hub, control).person(
        HFS_CASEWORKER, "care_coordination", sud_person, level="pseudonymised"
    )
    sud = [r for r in answer.records if r["agency"] == "sud"]
    assert sud and all(not DIRECT & set(r) for r in sud)


def test_the_answer_does_not_say_whether_part2_records_were_withheld(
    hub, sud_person, plain_person, control
):
    """The attack: the view ended with 'sud record withheld: needs the person's consent'."""
    gate = Gate(hub, control)
    with_sud = gate.person(HFS_CASEWORKER, "care_coordination", sud_person)
    without = gate.person(HFS_CASEWORKER, "care_coordination", plain_person)
    assert with_sud.notices == without.notices == [WITHHOLDING_NOTICE]
    assert with_sud.decision == without.decision  # the decision does not depend on the person
    shown = text_of(with_sud).replace(json.dumps(with_sud.decision.to_dict(), default=str), "")
    assert not re.search(r"\bsud\b|2\.31|consent", shown, re.IGNORECASE)


def test_a_missing_person_and_an_unseen_person_get_the_same_answer(hub, sud_only_person, control):
    gate = Gate(hub, control)
    answers = []
    for person in (sud_only_person, "P9999999999"):
        with pytest.raises(NotFound) as err:
            gate.person(HFS_CASEWORKER, "care_coordination", person)
        answers.append(str(err.value).replace(person, "ID"))
    assert answers[0] == answers[1]
    entries = AuditLog(control).entries()
    assert [(e["action"], e["outcome"]) for e in entries] == [("data.denied", "denied")] * 2
    assert sud_only_person in entries[0]["body"] and "P9999999999" in entries[1]["body"]


def test_cli_person_prints_each_value_under_its_header(
    hub: Path, plain_person: str, control: str, capsys, monkeypatch, signed_in
) -> None:
    """The attack: headers built from a set printed values under the wrong columns,
    differently each run; withheld services printed as blank rows."""
    monkeypatch.setenv("COLUMNS", "400")
    answer = Gate(hub, control).person(HFS_CASEWORKER, "care_coordination", plain_person)
    code = run(
        ["person", plain_person, *signed_in("ana", "hfs", "caseworker", control=control),
         "--purpose", "care_coordination", "--hub", str(hub), "--control", control]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "agency" in line and "last_name" in line)
    columns = [c.strip() for c in header.strip("┃│ ").replace("┃", "│").split("│")]
    assert columns == answer.record_columns
    first = answer.records[0]
    row = next(line for line in out.splitlines() if str(first["last_name"]) in line)
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert cells[columns.index("last_name")] == str(first["last_name"])
    assert cells[columns.index("dob")] == str(first["dob"])
    for e in answer.events:
        assert e.get("program"), "no service is listed without what it was"
