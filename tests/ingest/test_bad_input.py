"""Every kind of bad input: a clear error naming the file (and row, field), hub unchanged."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter
from tests.ingest.conftest import MAPPING, snapshot, write

from crosswalk.errors import CrosswalkError, MappingError
from crosswalk.ingest import ingest, parse_mapping
from crosswalk.model import PROGRAMS

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


def test_invalid_utf8_names_row(hub_copy, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes(GOOD.encode() + b'2,"NU\xd1EZ, JOSE",01/02/1990,M,,\n')
    e = attempt(hub_copy, path, MAPPING.replace("encoding: detect", "encoding: utf-8"))
    # Data rows, as in quarantine (1 = the first row after the header), and the field.
    assert (e.problems[0].row, e.problems[0].field) == (2, "name")
    assert "UTF-8" in str(e) and "line 3 of the file" in str(e)


def test_nul_byte(hub_copy, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes(GOOD.encode() + b'2,"DOE\x00, AL",01/02/1990,M,,\n')
    e = attempt(hub_copy, path)
    assert (e.problems[0].row, e.problems[0].field) == (2, "name") and "NUL" in str(e)


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


def test_a_mapping_cannot_label_its_events_as_another_agencys_program():
    # fcs filing its cash-assistance events as substance-use treatment would show them only
    # under Part 2 rules, and make another agency's program hold fcs's data.
    foreign = MAPPING.replace('"CA": TANF', '"CA": SUD_TREATMENT')
    assert foreign != MAPPING
    with pytest.raises(MappingError) as err:
        parse_mapping(foreign, "fcs.yaml")
    (problem,) = err.value.problems
    assert (problem.file, problem.field) == ("fcs.yaml", "events.codes.program.CA")
    assert (
        problem.row
        == foreign.splitlines().index(
            next(line for line in foreign.splitlines() if "SUD_TREATMENT" in line)
        )
        + 1
    )
    assert "SUD_TREATMENT" in problem.message and "sud" in problem.message


def test_every_shipped_mapping_maps_to_its_own_programs():
    from crosswalk.ingest.mapping import load_mapping
    from crosswalk.model import AGENCIES

    for agency in AGENCIES:
        mapping = load_mapping(agency)
        assert mapping.events is not None
        assert {PROGRAMS[p] for p in mapping.events.codes["program"].values()} == {agency}


def test_a_key_given_twice_in_a_mapping_is_an_error():
    twice = MAPPING.replace("    sex: sex\n", "    sex: sex\n    dob: birth_date\n", 1)
    with pytest.raises(MappingError) as err:
        parse_mapping(twice, "fcs.yaml")
    (problem,) = err.value.problems
    assert (problem.file, problem.field, problem.row) == ("fcs.yaml", "clients.columns.dob", 14)
    assert "first on line 12" in problem.message


def test_a_yaml_alias_bomb_is_refused_before_it_is_built():
    import time

    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    bomb = MAPPING + "\n".join(lines).replace("a0:", "x_a0:") + "\n"
    started = time.monotonic()
    with pytest.raises(MappingError) as err:
        parse_mapping(bomb, "fcs.yaml")
    assert "alias bomb" in str(err.value) and time.monotonic() - started < 10
