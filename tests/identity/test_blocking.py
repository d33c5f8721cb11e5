"""Blocking rules that survive a typo in an identifier or a missing DOB: each finds a pair
of one person's records that no other rule compares."""

import duckdb
import pytest

from crosswalk.identity.features import build_features
from crosswalk.identity.model import CANDIDATE_RULES

COLUMNS = {
    "record_key": "VARCHAR", "agency": "VARCHAR", "first_name": "VARCHAR",
    "last_name": "VARCHAR", "middle_name": "VARCHAR", "name_suffix": "VARCHAR",
    "first_name_canonical": "VARCHAR", "dob": "DATE", "sex": "VARCHAR", "ssn": "VARCHAR",
    "ssn_last4": "VARCHAR", "medicaid_id": "VARCHAR",
    "other_ids": "STRUCT(kind VARCHAR, value VARCHAR)[]", "address_line": "VARCHAR",
    "zip": "VARCHAR", "county": "VARCHAR", "phone": "VARCHAR",
}  # fmt: skip


def rules_comparing(left: dict, right: dict) -> set[str]:
    """Names of the candidate rules that compare the two records."""
    con = duckdb.connect()
    names = ", ".join(COLUMNS)
    con.execute(f"CREATE TABLE person_record ({', '.join(f'{c} {t}' for c, t in COLUMNS.items())})")
    for key, row in (("a:1", left), ("b:1", right)):
        values = dict.fromkeys(COLUMNS) | {"record_key": key, "agency": key[0]} | row
        con.execute(
            f"INSERT INTO person_record ({names}) VALUES ({', '.join('?' for _ in COLUMNS)})",
            list(values.values()),
        )
    build_features(con)
    return {
        rule.name
        for rule in CANDIDATE_RULES
        if con.execute(
            f"SELECT coalesce({rule.sql}, false) FROM link_input l, link_input r"
            " WHERE l.unique_id = 'a:1' AND r.unique_id = 'b:1'"
        ).fetchall()[0][0]
    }


@pytest.mark.parametrize(
    ("digits", "rule"),
    [
        ("3061308", "first half of the other identifier + surname initial"),
        ("3161208", "second half of the other identifier + surname initial"),
    ],
)
def test_an_identifier_with_a_typo_is_blocked_on_its_whole_half(digits, rule):
    """ERIAZ KEACNY and ELIZA KEANY, 1928-08-02, national ids 3061208 and one typo off: no
    name, DOB or address rule compares them."""
    common = {"dob": "1928-08-02", "zip": None}
    left = {**common, "first_name": "ERIAZ", "last_name": "KEACNY",
            "other_ids": [{"kind": "x_national_id", "value": "3061208"}]}  # fmt: skip
    right = {**common, "first_name": "ELIZA", "last_name": "KEANY",
             "other_ids": [{"kind": "x_national_id", "value": digits}]}  # fmt: skip
    assert rules_comparing(left, right) == {rule}


def test_a_record_without_a_dob_is_blocked_on_surname_and_postcode():
    """NICHOOAS CAMPBELL (no DOB) and NICHOLAS CAMPBELL, same postcode: the exact names
    rule for records without a DOB misses the misspelt first name."""
    left = {"first_name": "NICHOOAS", "last_name": "CAMPBELL", "zip": "4655"}
    right = {"first_name": "NICHOLAS", "last_name": "CAMPBELL", "zip": "4655",
             "dob": "1904-12-12"}  # fmt: skip
    assert rules_comparing(left, right) == {"surname + postcode, no DOB on the left"}
    # another first initial at the same postcode: a household member, not compared
    other = {**left, "first_name": "MARGARET"}
    assert rules_comparing(other, right) == set()
