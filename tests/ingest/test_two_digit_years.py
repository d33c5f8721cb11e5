"""A date of birth written with a two-digit year is never in the future: 03/01/64 is
1964 (strptime alone reads 00-68 as 20xx, and the DOB would be flagged implausible)."""

from datetime import date

from tests.ingest.conftest import ingest_csv

MAPPING = """\
agency: housing
version: 1
clients:
  format: csv
  ssn_form: absent
  date_formats: ["%d %b %Y", "%d/%m/%y"]
  columns:
    source_record_id: id
    first_name: first
    last_name: last
    dob: dob
"""


def test_a_two_digit_year_of_birth_is_of_the_past(tmp_path, monkeypatch):
    monkeypatch.setattr("crosswalk.clock.today", lambda: date(2026, 6, 30))
    _, rows = ingest_csv(
        tmp_path,
        MAPPING,
        "id,first,last,dob\n"
        "1,Ann,Lee,03/01/64\n"  # 2064 as strptime reads it: 1964
        "2,Bo,Lee,03/01/84\n"  # 1984 either way
        "3,Cy,Lee,03/01/21\n"  # 2021: in the past, kept
        "4,Di,Lee,3 Jan 2064\n",  # a four-digit year is what it says: implausible
        ["dob", "flags"],
    )
    assert rows == [
        ("1", date(1964, 1, 3), []),
        ("2", date(1984, 1, 3), []),
        ("3", date(2021, 1, 3), []),
        ("4", None, ["dob_implausible"]),
    ]
