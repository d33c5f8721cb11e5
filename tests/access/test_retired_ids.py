"""A retired enterprise id asked for in a person view: followed only to persons this
reader may see, and otherwise answered as an id that never existed."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from crosswalk.access import Gate
from crosswalk.agreement import Principal
from crosswalk.errors import NotFound

HFS_CASEWORKER = Principal("ana", "hfs", "caseworker")
UNKNOWN = "P9999999999"


@pytest.fixture
def retired_hub(hub, tmp_path, sud_only_person, plain_person):
    """The linked hub with three retired ids: one merged into a person known only to
    the substance-use program, one split between that person and another, one merged
    into the other alone."""
    copy = tmp_path / "hub.duckdb"
    shutil.copy(hub, copy)
    con = duckdb.connect(str(copy))
    try:
        con.executemany(
            "INSERT INTO enterprise_id_retired VALUES (?, ?, 'r')",
            [
                ("P8000000001", sud_only_person),
                ("P8000000002", sud_only_person),
                ("P8000000002", plain_person),
                ("P8000000003", plain_person),
            ],
        )
    finally:
        con.close()
    return copy


def _refusal(gate: Gate, person: str) -> str:
    with pytest.raises(NotFound) as err:
        gate.person(HFS_CASEWORKER, "care_coordination", person)
    return str(err.value).replace(person, "ID")


def test_a_retired_id_of_an_unseen_person_is_answered_as_a_stranger(
    retired_hub, control, sud_only_person
):
    # The attack: the refusal named the person the retired id was followed to, so a
    # caseworker learnt the current id of a person known only to the substance-use
    # program (and that the retired id had existed).
    gate = Gate(retired_hub, control)
    refusal = _refusal(gate, "P8000000001")
    assert sud_only_person not in refusal
    assert refusal == _refusal(gate, UNKNOWN)


def test_a_split_id_is_followed_only_to_persons_the_reader_may_see(
    retired_hub, control, sud_only_person, plain_person
):
    # The attack: the refusal listed every person the id was split into, a person known
    # only to the substance-use program among them.
    gate = Gate(retired_hub, control)
    answer = gate.person(HFS_CASEWORKER, "care_coordination", "P8000000002")
    assert answer.person == plain_person and answer.followed_from == "P8000000002"
    assert sud_only_person not in repr(answer)
    # Merged into the same person alone, the answer is the same.
    merged = gate.person(HFS_CASEWORKER, "care_coordination", "P8000000003")
    assert merged.records == answer.records


def test_the_history_of_a_person_known_only_to_part2_is_no_ones_history(
    hub, control, sud_only_person
):
    # The attack: the id history answered for a person known only to the substance-use
    # program (its creation, its merges), where the person index leaves Part 2 records
    # out: that the person exists was told to a linkage steward.
    gate = Gate(hub, control)
    steward = Principal("cdo.linkage", "cdo", "linkage_steward")
    refusals = []
    for person in (sud_only_person, UNKNOWN):
        with pytest.raises(NotFound) as err:
            gate.person_history(steward, "linkage_review", person)
        refusals.append(str(err.value).replace(person, "ID"))
    assert refusals[0] == refusals[1]


def test_the_history_of_a_person_names_no_part2_only_person(
    hub, control, tmp_path, sud_only_person, plain_person
):
    # The attack: a merge or split event of a person the linkage steward may see named
    # the other id, that of a person known only to the substance-use program; so did the
    # successors of a retired id split between the two.
    copy = tmp_path / "merged.duckdb"
    shutil.copy(hub, copy)
    con = duckdb.connect(str(copy))
    try:
        con.executemany(
            """INSERT INTO enterprise_id_event (changed_at, run_id, kind, enterprise_id,
            other_id, records, cause) VALUES (now(), 'r', ?, ?, ?, 1, 'full run')""",
            [("split", plain_person, sud_only_person), ("merged", sud_only_person, plain_person)],
        )
    finally:
        con.close()
    gate = Gate(copy, control)
    steward = Principal("cdo.linkage", "cdo", "linkage_steward")
    found = gate.person_history(steward, "linkage_review", plain_person)
    assert {e["kind"] for e in found.events} >= {"split", "merged"}
    assert sud_only_person not in repr(found)
