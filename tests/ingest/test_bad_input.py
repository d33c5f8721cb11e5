"""Every kind of bad input: a clear error naming the file (and row, field), hub unchanged."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter
from tests.ingest.conftest import MAPPING, snapshot, write

from crosswalk.errors import CrosswalkError, InputFileError, MappingError
from crosswalk.ingest import ingest, parse_mapping

GOOD = 'id,name,dob,sex,ssn,phone\n1,"DOE, JO",01/02/1990,M,,\n'


def attempt(hub, path, mapping=MAPPING, kinds=None):
    before = snapshot(hub)
    with pytest.raises(CrosswalkError) as err:
        ingest("fcs", [path], hub=hub, mapping=parse_mapping(mapping, "fcs.yaml"), kinds=kinds)
    assert snapshot(hub) == before, "the hub must be exactly as it was"
    assert str(path) in str(err.value)
    return err.value


def test_empty_file(hub_copy, tmp_path):
    e = attempt(hub_copy, write(tmp_path / "clients.csv", ""))
    assert "empty" in str(e)


def test_header_only(hub_copy, tmp_path):
    e = attempt(hub_copy, write(tmp_path / "clients.csv", "id,name,dob,sex,ssn,phone\n"))
    assert "no data rows" in str(e)


def test_missing_and_unknown_columns(hub_copy, tmp_path):
    e = attempt(
        hub_copy, write(tmp_path / "clients.csv", "id,fullname,dob,sex,ssn,phone\n1,x,,,,\n")
    )
    assert isinstance(e, MappingError)
    fields = {p.field for p in e.problems}
    assert {"name", "fullname"} <= fields


def test_wrong_delimiter(hub_copy, tmp_path):
    e = attempt(
        hub_copy,
        write(tmp_path / "clients.csv", GOOD.replace(",", "|").replace('"DOE| JO"', "DOE JO")),
    )
    assert "delimiter" in str(e)


def test_broken_quoting(hub_copy, tmp_path):
    e = attempt(
        hub_copy,
        write(
            tmp_path / "clients.csv", GOOD + '2,"DOE, ANN,01/02/1990,F,,\n3,"X, Y",01/01/2000,F,,\n'
        ),
    )
    assert isinstance(e, InputFileError)


def test_invalid_utf8_names_row(hub_copy, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes(GOOD.encode() + b'2,"NU\xd1EZ, JOSE",01/02/1990,M,,\n')
    e = attempt(hub_copy, path, MAPPING.replace("encoding: detect", "encoding: utf-8"))
    assert e.problems[0].row == 3
    assert "UTF-8" in str(e)


def test_nul_byte(hub_copy, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes(GOOD.encode() + b'2,"DOE\x00, AL",01/02/1990,M,,\n')
    e = attempt(hub_copy, path)
    assert e.problems[0].row == 3 and "NUL" in str(e)


def test_truncated_parquet(hub_copy, tmp_path):
    path = tmp_path / "clients.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["1"],
                "name": ["DOE, JO"],
                "dob": ["01/02/1990"],
                "sex": ["M"],
                "ssn": [None],
                "phone": [None],
            }
        ),
        path,
    )
    path.write_bytes(path.read_bytes()[:-20])
    e = attempt(
        hub_copy,
        path,
        MAPPING.replace("format: csv\n  delimiter", "format: parquet\n  delimiter", 1),
    )
    assert "Parquet" in str(e)


def test_excel_with_several_sheets_needs_a_sheet(hub_copy, tmp_path):
    path = tmp_path / "clients.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for name in ("clients", "notes"):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, ["id", "name", "dob", "sex", "ssn", "phone"])
        sheet.write_row(1, 0, ["1", "DOE, JO", "01/02/1990", "M", "", ""])
    book.close()
    e = attempt(
        hub_copy, path, MAPPING.replace("format: csv\n  delimiter", "format: xlsx\n  delimiter", 1)
    )
    assert "clients" in str(e) and "notes" in str(e) and "sheet" in str(e)


def test_mapping_for_another_agency(hub_copy, tmp_path):
    path = write(tmp_path / "clients.csv", GOOD)
    before = snapshot(hub_copy)
    with pytest.raises(MappingError, match="not 'doc'"):
        ingest("doc", [path], hub=hub_copy, mapping=parse_mapping(MAPPING, "fcs.yaml"))
    assert snapshot(hub_copy) == before


def test_missing_file(hub_copy, tmp_path):
    e = attempt(hub_copy, tmp_path / "nope.csv")
    assert "no such file" in str(e)


def test_invalid_mapping_names_line_and_key():
    bad = MAPPING.replace(
        '  delimiter: ","\n  encoding: detect\n', '  delimiter: ",,"\n  encodng: detect\n', 1
    )
    with pytest.raises(MappingError) as err:
        parse_mapping(bad, "fcs.yaml")
    problems = {p.field: p.row for p in err.value.problems}
    assert problems["clients.encodng"] == 6
    assert problems["clients.delimiter"] == 5
    assert any(p.file == "fcs.yaml" for p in err.value.problems)


def test_mapping_to_unknown_program_is_refused():
    with pytest.raises(MappingError, match="unknown programs"):
        parse_mapping(
            MAPPING.replace("CA: TANF", "CA: WELFARE").replace('"CA": TANF', '"CA": WELFARE'),
            "fcs.yaml",
        )
