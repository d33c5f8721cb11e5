"""Enterprise households on a hand-built hub: who lives with whom, from when to when.

The birth family: mother M and child C on one SNAP case, at 1 OAK ST. The foster family:
F1 and F2 at 9 ELM ST, known to Medicaid by their address and to child welfare as a
foster home (its household id HH77). C is placed with them for 2020.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from crosswalk.identity import households, store
from crosswalk.ingest import hub as hub_schema

# person -> records: (agency, case_id, household_id, address_line, zip)
RECORDS: dict[str, list[tuple[str, str | None, str | None, str | None, str | None]]] = {
    "P0000000001": [("fcs", "C-1", "HH1", "1 OAK ST", "60601")],  # M
    "P0000000002": [("fcs", "C-1", "HH1", None, None), ("dcfs", "D-5", None, None, None)],  # C
    "P0000000003": [("hfs", None, None, "9 ELM ST", "60602"), ("dcfs", None, "HH77", None, None)],
    "P0000000004": [("hfs", None, None, "9 ELM ST", "60602")],  # F2
    "P0000000005": [("doc", None, None, None, None)],  # known to an agency with neither
}
PLACEMENT = (date(2020, 1, 1), date(2020, 12, 31))


def _hub(
    records=RECORDS, placement=PLACEMENT, extra_events=(), path: str = ":memory:"
) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(path)
    hub_schema.migrate(con)
    store.migrate(con)
    households.migrate(con)
    for person, rows in records.items():
        for n, (agency, case, household, street, zip_code) in enumerate(rows):
            key = f"{agency}:{person}-{n}"
            con.execute(
                """INSERT INTO person_record (record_key, agency, source_record_id, batch_id,
                source_row, case_id, household_id, address_line, zip)
                VALUES (?, ?, ?, 'B1', 1, ?, ?, ?, ?)""",
                [key, agency, f"{person}-{n}", case, household, street, zip_code],
            )
            con.execute(
                "INSERT INTO person_index VALUES (?, ?, ?, ?, 'L1', 1.0)",
                [key, agency, f"{person}-{n}", person],
            )
    events = [("dcfs:P0000000002-1", "FOSTER_CARE", *placement, "HH77"), *extra_events]
    for n, (key, program, start, end, household) in enumerate(events):
        con.execute(
            """INSERT INTO service_event (event_key, agency, source_event_id, record_key,
            batch_id, source_row, program, start_date, end_date, household_id)
            VALUES (?, ?, ?, ?, 'B1', 1, ?, ?, ?, ?)""",
            [f"{key}:{n}", key.split(":")[0], str(n), key, program, start, end, household],
        )
    return con


def _build(con: duckdb.DuckDBPyConnection, run: str = "L1") -> households.HouseholdCounts:
    con.execute("BEGIN")
    counts = households.build(con, run)
    con.execute("COMMIT")
    return counts


def _living_with(con: duckdb.DuckDBPyConnection, person: str, on: date) -> set[str]:
    return {r["enterprise_id"] for r in households.family(con, person, on)} - {person}


def _household(con: duckdb.DuckDBPyConnection, person: str, on: date) -> str:
    (household,) = {r["household_id"] for r in households.family(con, person, on)}
    return household


def test_a_foster_child_moves_to_the_foster_home_and_back() -> None:
    con = _hub()
    _build(con)
    mother, child, foster = "P0000000001", "P0000000002", {"P0000000003", "P0000000004"}
    assert _living_with(con, child, date(2019, 6, 1)) == {mother}
    assert _living_with(con, child, date(2020, 6, 1)) == foster
    assert _living_with(con, mother, date(2020, 6, 1)) == set()
    assert _living_with(con, child, date(2021, 1, 1)) == {mother}
    # The placement is child welfare's; the foster parents were grouped by their address
    # (Medicaid) and the home's id (child welfare).
    rows = con.execute(
        """SELECT agency, basis, valid_from, valid_to FROM household_member
        WHERE enterprise_id = ? ORDER BY valid_from NULLS FIRST, agency""",
        [child],
    ).fetchall()
    assert ("dcfs", "placement", *PLACEMENT) in rows
    assert ("fcs", "case", None, date(2019, 12, 31)) in rows
    assert ("fcs", "case", date(2021, 1, 1), None) in rows
    assert _household(con, child, date(2019, 6, 1)) == _household(con, child, date(2021, 1, 1))


def test_a_person_nothing_groups_is_a_household_of_one() -> None:
    con = _hub()
    _build(con)
    assert _living_with(con, "P0000000005", date(2020, 6, 1)) == set()
    (basis,) = con.execute(
        "SELECT DISTINCT basis FROM household_member WHERE enterprise_id = 'P0000000005'"
    ).fetchall()[0]
    assert basis == "alone"


@pytest.mark.parametrize("street", ["HOMELESS", "PO BOX 12", "GENERAL DELIVERY"])
def test_an_address_that_is_no_home_groups_nobody(street: str) -> None:
    records = {
        "P0000000001": [("housing", None, None, street, "60601")],
        "P0000000002": [("housing", None, None, street, "60601")],
    }
    con = _hub(records)
    _build(con)
    assert _living_with(con, "P0000000001", date(2020, 6, 1)) == set()


def test_an_address_of_many_persons_groups_nobody() -> None:
    records = {
        f"P{n:010d}": [("hfs", None, None, "100 MAIN ST", "60601")]
        for n in range(1, households.MAX_MEMBERS + 2)
    }
    con = _hub(records)
    _build(con)
    assert _living_with(con, "P0000000001", date(2020, 6, 1)) == set()


def test_ids_of_different_agencies_never_meet() -> None:
    records = {
        "P0000000001": [("fcs", "7", None, None, None)],
        "P0000000002": [("hfs", "7", None, None, None)],
    }
    con = _hub(records)
    _build(con)
    assert _living_with(con, "P0000000001", date(2020, 6, 1)) == set()


def test_household_ids_stay_across_a_relink_and_a_merge_keeps_the_oldest() -> None:
    con = _hub()
    first = _build(con, "L1")
    assert first.new == first.households
    before = {p: _household(con, p, date(2019, 6, 1)) for p in RECORDS}
    again = _build(con, "L2")
    assert (again.new, again.retired) == (0, 0)
    assert {p: _household(con, p, date(2019, 6, 1)) for p in RECORDS} == before
    # A new record puts the doc person at the birth family's address: the two households
    # become one, which keeps the older id; the other id is retired, naming its successor.
    con.execute(
        """INSERT INTO person_record (record_key, agency, source_record_id, batch_id,
        source_row, address_line, zip) VALUES ('hfs:X', 'hfs', 'X', 'B1', 1, '1 OAK ST', '60601')"""
    )
    con.execute("INSERT INTO person_index VALUES ('hfs:X', 'hfs', 'X', 'P0000000005', 'L3', 1.0)")
    merged = _build(con, "L3")
    assert merged.retired == 1
    now = _household(con, "P0000000005", date(2019, 6, 1))
    assert now == before["P0000000001"] == min(before["P0000000001"], before["P0000000005"])
    assert con.execute(
        "SELECT event, successor FROM household_id_event WHERE household_id = ? AND link_run_id = 'L3'",
        [before["P0000000005"]],
    ).fetchall() == [("retired", now)]


def test_a_death_ends_the_membership() -> None:
    died = date(2022, 3, 4)
    con = _hub(extra_events=[("fcs:P0000000001-0", "DEATH_RECORD", died, died, None)])
    _build(con)
    assert _living_with(con, "P0000000002", died) == {"P0000000001"}
    assert _living_with(con, "P0000000002", date(2022, 3, 5)) == set()


def test_who_is_joined_by_the_evidence_of_some_agencies() -> None:
    # The gate shows a member only where the data it may see groups them with the person
    # asked about: the foster home is joined to the child by child welfare's placement.
    con = _hub()
    _build(con)
    child, foster = "P0000000002", {"P0000000003", "P0000000004"}
    on = date(2020, 6, 1)
    members = sorted({r["enterprise_id"] for r in households.family(con, child, on)})
    evidence = households.evidence(con, members, on)

    def joined(agencies: set[str]) -> set[str]:
        edges = [(p, key) for p, agency, key in evidence if agency in agencies]
        return households.joined(child, edges) - {child}

    assert joined({"fcs", "hfs", "dcfs"}) == foster
    assert joined({"fcs", "hfs"}) == set()  # without the placement, nobody
    assert households.joined("P0000000003", [(p, k) for p, a, k in evidence if a == "hfs"]) == {
        "P0000000003",
        "P0000000004",
    }


def _mothers_hub() -> duckdb.DuckDBPyConnection:
    """A mother known to Medicaid at one address, her child's birth certificate (vital
    records) at another, and a woman of the same name born on another day."""
    records = {
        "P0000000001": [("hfs", None, None, "5 PINE ST", "60603")],  # the mother
        "P0000000002": [("idph", None, None, "77 BIRCH RD", "60604")],  # the child
        "P0000000003": [("hfs", None, None, "8 ASH AVE", "60605")],  # same name
    }
    con = _hub(records)
    people = [
        ("hfs:P0000000001-0", "MARIA", "LOPEZ", date(1990, 3, 4)),
        ("idph:P0000000002-0", "ANA", "LOPEZ", date(2015, 5, 6)),
        ("hfs:P0000000003-0", "MARIA", "LOPEZ", date(1991, 1, 1)),
    ]
    for key, first, last, dob in people:
        con.execute(
            "UPDATE person_record SET first_name = ?, last_name = ?, dob = ? WHERE record_key = ?",
            [first, last, dob, key],
        )
    return con


def _names_mother(con: duckdb.DuckDBPyConnection, maiden: str = "GARCIA") -> None:
    con.execute(
        """UPDATE person_record SET mother_first_name = 'MARIA', mother_last_name = ?,
        mother_dob = DATE '1990-03-04' WHERE record_key = 'idph:P0000000002-0'""",
        [maiden],
    )


@pytest.mark.parametrize(
    ("maiden", "child_last", "together"),
    [
        ("LOPEZ", "GARCIA", True),  # her records give the maiden name the certificate gives
        ("GARCIA", "LOPEZ", True),  # they give her married name, which the child has
        ("SMITH", "GARCIA", False),  # neither: the certificate names nobody of the index
    ],
)
def test_a_birth_certificate_puts_the_child_with_the_mother_it_names(
    maiden: str, child_last: str, together: bool
) -> None:
    con = _mothers_hub()
    _names_mother(con, maiden)
    con.execute(
        "UPDATE person_record SET last_name = ? WHERE record_key = 'idph:P0000000002-0'",
        [child_last],
    )
    _build(con)
    mother, child, other = "P0000000001", "P0000000002", "P0000000003"
    on = date(2020, 6, 1)
    # The woman of the same name born on another day is nobody's mother here.
    assert _living_with(con, other, on) == set()
    if not together:
        assert _living_with(con, child, on) == set()
        return
    assert _living_with(con, child, on) == {mother}
    (basis,) = con.execute(
        "SELECT DISTINCT basis FROM household_member WHERE enterprise_id = ?", [child]
    ).fetchall()[0]
    assert basis == "relation"
    # The relation is vital records' evidence: the gate joins the two only where it
    # grants vital records' data.
    evidence = households.evidence(con, [mother, child], on)
    assert households.joined(child, [(p, k) for p, a, k in evidence if a == "idph"]) == {
        child,
        mother,
    }
    assert households.joined(child, [(p, k) for p, a, k in evidence if a == "hfs"]) == {child}


def test_a_mother_named_by_a_later_certificate_joins_in_an_incremental_build() -> None:
    con = _mothers_hub()
    _build(con, "L1")
    mother, child = "P0000000001", "P0000000002"
    on = date(2020, 6, 1)
    assert _living_with(con, child, on) == set()
    _names_mother(con)
    con.execute("CREATE TEMP TABLE week AS SELECT 'idph:P0000000002-0' AS record_key")
    con.execute("BEGIN")
    households.build(con, "L2", touched="week")
    con.execute("COMMIT")
    assert _living_with(con, child, on) == {mother}
    incremental = con.execute(
        "SELECT household_id, enterprise_id, basis FROM household_member ORDER BY ALL"
    ).fetchall()
    # The certificate corrected to name nobody of the index: the mother's relation key
    # goes with it, and the two are apart again.
    con.execute(
        "UPDATE person_record SET mother_dob = DATE '1980-01-01' WHERE record_key = 'idph:P0000000002-0'"
    )
    con.execute("BEGIN")
    households.build(con, "L3", touched="week")
    con.execute("COMMIT")
    assert _living_with(con, child, on) == set()
    assert _living_with(con, mother, on) == set()
    # A full build from the same records gives what the incremental builds gave.
    _names_mother(con)
    con.execute("BEGIN")
    households.build(con, "L4", touched="week")
    con.execute("COMMIT")
    again = con.execute(
        "SELECT household_id, enterprise_id, basis FROM household_member ORDER BY ALL"
    ).fetchall()
    con.execute("BEGIN")
    households.build(con, "L5")
    con.execute("COMMIT")
    full = con.execute(
        "SELECT household_id, enterprise_id, basis FROM household_member ORDER BY ALL"
    ).fetchall()
    assert [r[1:] for r in full] == [r[1:] for r in again] == [r[1:] for r in incremental]
