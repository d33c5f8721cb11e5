"""Values as legacy systems and spreadsheets write them: null tokens and blank space are
no value (not an invalid one, not a name), codes match whatever their case, and a number a
spreadsheet turned into a decimal or stripped of its leading zero is read as it was."""

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
  name_format: last_first
  date_formats: ["%m/%d/%Y"]
  columns:
    source_record_id: id
    full_name: name
    dob: dob
    sex: sex
    ssn: ssn
    zip: zip
    phone: phone
    case_id: case
  codes:
    sex: {"M": M, "F": F}
events:
  format: csv
  date_formats: ["%m/%d/%Y"]
  columns:
    source_event_id: event
    source_record_id: id
    program: program
    start_date: start
    amount: amount
  codes:
    program: {"HCV": HOUSING_ASSISTANCE}
"""

COLUMNS = ["first_name", "last_name", "dob", "sex", "ssn", "zip", "phone", "flags"]


def test_null_tokens_and_blank_space_are_no_value(tmp_path):
    result, rows = ingest_csv(
        tmp_path,
        MAPPING,
        "id,name,dob,sex,ssn,zip,phone,case\n"
        '1,"LEE, ANN",NULL,  ,N/A,#N/A,-,\n'
        "2,N/A,   ,?,  -  ,null,--,none\n"
        '3,"NA, KIM",01/02/1990,f,078-05-1120,60601,,\n',
        COLUMNS,
    )
    assert rows == [
        ("1", "ANN", "LEE", None, "U", None, None, None, []),
        ("2", None, None, None, "U", None, None, None, []),
        # "NA" is a surname, not a null token.
        ("3", "KIM", "NA", __import__("datetime").date(1990, 1, 2), "F", None, "60601", None,
         ["ssn_placeholder"]),
    ]  # fmt: skip
    assert {i.rule for f in result.files for i in f.issues} == {"ssn_placeholder"}


def test_a_mapping_names_its_own_null_values(tmp_path):
    mapping = MAPPING.replace("  name_format:", '  null_values: ["UNK", "9999"]\n  name_format:', 1)
    _, rows = ingest_csv(
        tmp_path,
        mapping,
        'id,name,dob,sex,ssn,zip,phone,case\n1,"LEE, ANN",unk,M,9999,NULL,,\n',
        ["dob", "zip", "flags"],
    )
    # NULL is not among this mapping's null values: a ZIP that is no ZIP.
    assert rows == [("1", None, None, ["zip_invalid"])]


def test_a_blank_null_value_is_a_mapping_error():
    with pytest.raises(MappingError, match="null value cannot be blank"):
        parse_mapping(
            MAPPING.replace("  name_format:", '  null_values: [" "]\n  name_format:', 1),
            "housing.yaml",
        )


def test_spreadsheet_numbers_keep_their_digits(tmp_path):
    """An id, SSN or phone a spreadsheet wrote as 123.0; a ZIP that lost its leading zero
    (four digits, or ZIP+4 with four); ZIP+4 in nine digits."""
    _, rows = ingest_csv(
        tmp_path,
        MAPPING,
        "id,name,dob,sex,ssn,zip,phone,case\n"
        '101.0,"LEE, ANN",,m,078051121.0,6060,3125550142.0,77.0\n'
        '102,"LEE, BO",,F,,6060-1234,,\n'
        '103,"LEE, CY",,F,,6060.0,,\n'
        '104,"LEE, DI",,F,,606011234,,\n'
        '105,"LEE, ED",,F,,123,,\n',
        ["sex", "ssn", "zip", "phone", "case_id", "flags"],
    )
    assert rows == [
        ("101", "M", "078051121", "06060", "+13125550142", "77", []),
        ("102", "F", None, "06060", None, None, []),
        ("103", "F", None, "06060", None, None, []),
        ("104", "F", None, "60601", None, None, []),
        ("105", "F", None, None, None, None, ["zip_invalid"]),
    ]


def test_events_find_a_client_whose_id_became_a_decimal_and_codes_ignore_case(tmp_path):
    clients = tmp_path / "clients.csv"
    clients.write_text('id,name,dob,sex,ssn,zip,phone,case\n101,"LEE, ANN",,F,,,,\n')
    events = tmp_path / "events.csv"
    events.write_text("event,id,program,start,amount\nE1.0,101.0,hcv,01/02/2024,N/A\n")
    hub = tmp_path / "hub.duckdb"
    result = ingest(
        "housing", [clients, events], hub=hub, mapping=parse_mapping(MAPPING, "housing.yaml")
    )
    assert result.rows_quarantined == 0
    con = duckdb.connect(str(hub), read_only=True)
    try:
        assert con.execute(
            "SELECT source_event_id, record_key, program, amount, flags FROM service_event"
        ).fetchall() == [("E1.0", "housing:101", "HOUSING_ASSISTANCE", None, [])]
    finally:
        con.close()


def test_codes_that_differ_only_in_case_stay_exact(tmp_path):
    mapping = MAPPING.replace('sex: {"M": M, "F": F}', 'sex: {"M": M, "m": F, "F": F}')
    _, rows = ingest_csv(
        tmp_path,
        mapping,
        'id,name,dob,sex,ssn,zip,phone,case\n1,"A, B",,M,,,,\n2,"A, C",,m,,,,\n3,"A, D",,f,,,,\n',
        ["sex"],
    )
    assert rows == [("1", "M"), ("2", "F"), ("3", "F")]


def test_a_code_the_mapping_names_is_no_null_value(tmp_path):
    mapping = MAPPING.replace('sex: {"M": M, "F": F}', 'sex: {"M": M, "F": F, "?": U, "-": U}')
    _, rows = ingest_csv(
        tmp_path,
        mapping,
        'id,name,dob,sex,ssn,zip,phone,case\n1,"A, B",,?,?,,,\n2,"A, C",,-,,,,\n',
        ["sex", "sex_raw", "ssn_raw", "flags"],
    )
    assert rows == [("1", "U", "?", None, []), ("2", "U", "-", None, [])]
