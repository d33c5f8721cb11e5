"""A year of birth or an age instead of a DOB: kept as the record's birth year, which
linkage compares and blocks on; a value that cannot be a year is flagged, not lost."""

from datetime import date

import duckdb
import pytest
from tests.ingest.conftest import ingest_csv

from crosswalk.errors import MappingError
from crosswalk.ingest import ingest, parse_mapping

MAPPING = """\
agency: housing
version: 1
clients:
  format: csv
  ssn_form: absent
  date_formats: ["%d/%m/%Y"]
  ages_on: 2020-06-30
  columns:
    source_record_id: id
    first_name: first
    last_name: last
    dob: dob
    birth_year: born
    age: age
"""


def test_a_year_or_an_age_gives_the_birth_year(tmp_path):
    result, rows = ingest_csv(
        tmp_path,
        MAPPING,
        "id,first,last,dob,born,age\n"
        "1,Ann,Lee,03/04/1985,,\n"  # the DOB's year
        "2,Bo,Lee,,1990,\n"  # a year alone
        "3,Cy,Lee,,,34\n"  # an age on 2020-06-30
        "4,Di,Lee,,19X,\n"  # not a year: flagged
        "5,Ed,Lee,,1850,\n"  # before 1900: flagged
        "6,Fe,Lee,,,200\n"  # no one is 200: flagged
        "7,Gu,Lee,,,\n",
        ["dob", "birth_year", "flags"],
    )
    assert rows == [
        ("1", date(1985, 4, 3), 1985, []),
        ("2", None, 1990, []),
        ("3", None, 1986, []),
        ("4", None, None, ["birth_year_implausible"]),
        ("5", None, None, ["birth_year_implausible"]),
        ("6", None, None, ["age_implausible"]),
        ("7", None, None, []),
    ]
    issues = {(i.field, i.rule): i.rows for f in result.files for i in f.issues}
    assert issues == {("birth_year", "birth_year_implausible"): 2, ("age", "age_implausible"): 1}


def test_ages_on_needs_an_age_column():
    text = MAPPING.replace("    age: age\n", "")
    with pytest.raises(MappingError, match="ages_on is the date of an age column"):
        parse_mapping(text, "housing.yaml")


def test_a_hub_from_before_birth_years_is_migrated_with_its_dobs_years(tmp_path):
    from crosswalk.ingest.hub import MIGRATIONS, PART
    from crosswalk.stores import apply_migrations

    hub = tmp_path / "hub.duckdb"
    con = duckdb.connect(str(hub))
    apply_migrations(con, PART, MIGRATIONS[:7])
    con.execute(
        "INSERT INTO person_record (record_key, agency, source_record_id, batch_id, source_row, dob)"
        " VALUES ('fcs:0', 'fcs', '0', 'B0', 1, DATE '1970-05-06'), ('fcs:1', 'fcs', '1', 'B0', 2, NULL)"
    )
    con.close()
    path = tmp_path / "clients.csv"
    path.write_text("id,first,last,dob,born,age\n1,Bo,Lee,,1990,\n", encoding="utf-8")
    ingest("housing", [path], hub=hub, mapping=parse_mapping(MAPPING, "housing.yaml"))
    con = duckdb.connect(str(hub), read_only=True)
    assert con.execute(
        "SELECT record_key, birth_year FROM person_record ORDER BY 1"
    ).fetchall() == [
        ("fcs:0", 1970),
        ("fcs:1", None),
        ("housing:1", 1990),
    ]
    version = [r[0] for r in con.execute("DESCRIBE person_record_version").fetchall()]
    con.close()
    assert "birth_year" in version


def test_a_hostile_year_or_age_is_flagged_not_read_as_another_number(tmp_path):
    # The attack: an extract's age or year of birth kept only its digits, so "-5" was an
    # age of 5, "1e2" one of 12, "12.5" one of 125 and "-1990" or "19-90" the year 1990;
    # an ages_on far in the future (or the past) made birth years after today (or
    # before 1900). Each is now flagged, and the record keeps no birth year from it.
    _, rows = ingest_csv(
        tmp_path,
        MAPPING,
        "id,first,last,dob,born,age\n"
        "1,Ann,Lee,,,-5\n"
        "2,Bo,Lee,,,1e2\n"
        "3,Cy,Lee,,,12.5\n"
        "4,Di,Lee,,-1990,\n"
        "5,Ed,Lee,,19-90,\n"
        "6,Fe,Lee,,99999999999999999999999,\n"
        "7,Gu,Lee,,,99999999999999999999999\n"
        "8,Ha,Lee,,' OR 1=1 --,\n"
        "9,Io,Lee,,1990 ,34 \n",  # surrounding spaces are only spaces
        ["birth_year", "flags"],
    )
    age, year = ["age_implausible"], ["birth_year_implausible"]
    assert rows == [
        ("1", None, age),
        ("2", None, age),
        ("3", None, age),
        ("4", None, year),
        ("5", None, year),
        ("6", None, year),
        ("7", None, age),
        ("8", None, year),
        ("9", 1990, []),
    ]
    for ages_on in ("2999-01-01", "1000-01-01"):
        far = tmp_path / f"far-{ages_on}.duckdb"
        mapping = parse_mapping(MAPPING.replace("2020-06-30", ages_on), "housing.yaml")
        only = tmp_path / "age.csv"
        only.write_text("id,first,last,dob,born,age\n1,Ann,Lee,,,34\n", encoding="utf-8")
        ingest("housing", [only], hub=far, mapping=mapping)
        con = duckdb.connect(str(far), read_only=True)
        assert con.execute("SELECT birth_year, flags FROM person_record").fetchall() == [
            (None, age)
        ]
        con.close()
