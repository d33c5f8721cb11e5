"""Headers as report writers and spreadsheets export them: a title above the header,
empty columns after the last one, names in another case or spacing than the mapping's."""

import datetime

import duckdb
import pytest
import xlsxwriter
from tests.ingest.conftest import ingest_csv, snapshot

from crosswalk.errors import CrosswalkError, InputFileError, MappingError
from crosswalk.ingest import ingest, parse_mapping

MAPPING = """\
agency: housing
version: 1
clients:
  format: csv
  ssn_form: absent
  date_formats: ["%m/%d/%Y"]
  columns:
    source_record_id: Client ID
    first_name: First Name
    last_name: Last Name
    dob: DOB
"""

COLUMNS = ["first_name", "last_name", "dob", "source_row"]
ANN = ("1", "ANN", "LEE", datetime.date(1980, 1, 2), 1)


def test_a_title_above_the_header(tmp_path):
    _, rows = ingest_csv(
        tmp_path,
        MAPPING.replace("  ssn_form", "  header_row: 3\n  ssn_form"),
        "Client extract, run 12/01/2026\r\n\r\nClient ID,First Name,Last Name,DOB\r\n"
        "1,Ann,Lee,01/02/1980\r\n",
        COLUMNS,
    )
    assert rows == [ANN]


def test_a_title_without_header_row_says_where_to_name_it(tmp_path):
    with pytest.raises(MappingError, match="header_row"):
        ingest_csv(
            tmp_path,
            MAPPING,
            "Client extract run 12/01/2026\nClient ID,First Name,Last Name,DOB\n1,Ann,Lee,\n",
            COLUMNS,
        )


def test_row_numbers_and_lines_count_from_the_header(tmp_path):
    """Quarantine's rows are data rows after the header; its lines are the file's."""
    ingest_csv(
        tmp_path,
        MAPPING.replace("  ssn_form", "  header_row: 2\n  ssn_form"),
        "Title\nClient ID,First Name,Last Name,DOB\n1,Ann,Lee,01/02/1980\n2,Bo,Lee,x,extra\n",
        COLUMNS,
    )

    con = duckdb.connect(str(tmp_path / "hub.duckdb"), read_only=True)
    q = con.execute("SELECT source_row, rule, value FROM quarantine").fetchall()
    con.close()
    assert [(r, rule) for r, rule, _ in q] == [(2, "wrong_field_count")]
    assert "line 4 of the file" in q[0][2]


def test_empty_unnamed_columns_after_the_last_are_dropped(tmp_path):
    _, rows = ingest_csv(
        tmp_path,
        MAPPING,
        "Client ID,First Name,Last Name,DOB,,,\n1,Ann,Lee,01/02/1980,,,\n",
        COLUMNS,
    )
    assert rows == [ANN]


def test_an_unnamed_column_with_values_is_named_by_position_and_row(tmp_path):
    hub = tmp_path / "hub.duckdb"
    ingest_csv(tmp_path, MAPPING, "Client ID,First Name,Last Name,DOB\n9,Cy,Lee,\n", COLUMNS)
    before = snapshot(hub)
    with pytest.raises(InputFileError) as err:
        ingest_csv(
            tmp_path,
            MAPPING,
            "Client ID,First Name,,Last Name,DOB\n1,Ann,,Lee,\n2,Bo,x,Lee,\n",
            COLUMNS,
            name="clients2.csv",
        )
    (problem,) = err.value.problems
    assert (problem.row, problem.field) == (2, "column 3")
    assert "clients2.csv" in str(err.value) and "no name" in str(err.value)
    assert snapshot(hub) == before


def test_names_in_another_case_or_spacing_are_the_mappings(tmp_path):
    _, rows = ingest_csv(
        tmp_path,
        MAPPING,
        "CLIENT ID,first name , Last  Name,dob\n1,Ann,Lee,01/02/1980\n",
        COLUMNS,
    )
    assert rows == [ANN]


def test_two_columns_folding_to_one_name_are_not_guessed(tmp_path):
    with pytest.raises(MappingError, match="Birth Date"):
        ingest_csv(
            tmp_path,
            MAPPING.replace("DOB", "Birth Date"),
            "Client ID,First Name,Last Name,birth date,BIRTH  DATE\n1,Ann,Lee,,\n",
            COLUMNS,
        )


def test_names_differing_only_in_case_are_an_error_not_a_crash(tmp_path):
    with pytest.raises(InputFileError, match="differ only in case") as err:
        ingest_csv(
            tmp_path,
            MAPPING.replace("    dob: DOB\n", "  ignore_columns: [Dob]\n"),
            "Client ID,First Name,Last Name,dob,Dob\n1,Ann,Lee,,\n2,Bo,Lee,x,\n",
            COLUMNS,
        )
    assert err.value.problems[0].row == 0 and "clients.csv" in str(err.value)


def test_a_workbook_with_a_title_above_the_header(tmp_path):
    path = tmp_path / "clients.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Clients")
    sheet.merge_range(0, 0, 0, 3, "Client extract")
    sheet.write_row(2, 0, ["Client ID", "First Name", "Last Name", "DOB", None])
    sheet.write_number(3, 0, 1)
    sheet.write_row(3, 1, ["Ann", "Lee"])
    sheet.write_datetime(3, 3, datetime.datetime(1980, 1, 2), book.add_format({"num_format": 14}))
    book.add_worksheet("Notes")
    book.close()
    mapping = MAPPING.replace("format: csv", "format: xlsx\n  sheet: Clients")
    with pytest.raises(CrosswalkError, match="header_row"):
        ingest("housing", [path], hub=tmp_path / "hub.duckdb", mapping=parse_mapping(mapping, "h"))
    mapping = mapping.replace("  ssn_form", "  header_row: 3\n  ssn_form")
    ingest("housing", [path], hub=tmp_path / "hub.duckdb", mapping=parse_mapping(mapping, "h"))

    con = duckdb.connect(str(tmp_path / "hub.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT source_record_id, first_name, last_name, dob, source_row FROM person_record"
    ).fetchall()
    con.close()
    assert rows == [ANN]


def test_header_row_is_for_csv_and_excel():
    with pytest.raises(MappingError, match="header_row"):
        parse_mapping(MAPPING.replace("format: csv", "format: parquet\n  header_row: 2"), "h")
