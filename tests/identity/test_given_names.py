"""A first-name column holding two given names, where the record has no middle name, is
read as first and middle name: agencies that keep a middle name write the same person as
MARY + JANE, so the two forms compare and block alike."""

import duckdb

from crosswalk.identity.features import build_features
from crosswalk.model import PERSON_RECORD, ddl


def _features(rows):
    con = duckdb.connect()
    con.execute(ddl("person_record", PERSON_RECORD))
    for key, first, middle, canonical in rows:
        con.execute(
            "INSERT INTO person_record (record_key, agency, source_record_id, batch_id,"
            " source_row, first_name, middle_name, last_name, first_name_canonical)"
            " VALUES (?, 'a', ?, 'B1', 1, ?, ?, 'GARCIA', ?)",
            [key, key, first, middle, canonical],
        )
    build_features(con)
    return {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT unique_id, first_name, middle_name, first_canonical, first_token"
            " FROM link_input"
        ).fetchall()
    }


def test_a_compound_first_name_is_read_as_first_and_middle():
    got = _features(
        [
            ("1", "MARY JANE", None, None),  # one column, no middle name: split
            ("2", "MARY", "JANE", "MARY"),  # another agency's first and middle
            ("3", "JOSE LUIS", "ANTONIO", None),  # a middle name of its own: kept whole
            ("4", "JOHN A", None, None),  # a middle initial in the first-name column
            ("5", "BOB", None, "ROBERT"),  # one name: its nickname-canonical form kept
            ("6", "J R", None, None),  # an initial first: not split
        ]
    )
    assert got["1"] == ("MARY", "JANE", "MARY", "MARY")
    assert got["1"][:3] == got["2"][:3]
    assert got["3"] == ("JOSE LUIS", "ANTONIO", "JOSE LUIS", "JOSE")
    assert got["4"] == ("JOHN", "A", "JOHN", "JOHN")
    assert got["5"] == ("BOB", None, "ROBERT", "BOB")
    assert got["6"] == ("J R", None, "J R", "J")


def test_a_split_compound_name_takes_its_first_parts_formal_name():
    """LALO ROBERTO in one column is EDUARDO + ROBERTO, as another agency's LALO + ROBERTO
    (canonical EDUARDO at ingest) is: the first part's nickname is looked up."""
    got = _features([("1", "LALO ROBERTO", None, None), ("2", "PEPE", "LUIS", "JOSE")])
    assert got["1"] == ("LALO", "ROBERTO", "EDUARDO", "LALO")
    assert got["2"] == ("PEPE", "LUIS", "JOSE", "PEPE")
