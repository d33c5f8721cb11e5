"""Reading extracts: nothing shifted, nothing guessed, every refusal says what to do."""

import time
import zipfile

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter
from tests.ingest.conftest import MAPPING, snapshot, write

from crosswalk.errors import CrosswalkError
from crosswalk.ingest import ingest, parse_mapping, readers

HEADER = "id,name,dob,sex,ssn,phone\n"


def load(tmp_path, text, name="clients.csv", mapping=MAPPING, kinds=None):
    path = write(tmp_path / name, text) if isinstance(text, str) else text
    hub = tmp_path / "hub.duckdb"
    result = ingest("fcs", [path], hub=hub, mapping=parse_mapping(mapping, "fcs.yaml"), kinds=kinds)
    con = duckdb.connect(str(hub), read_only=True)
    people = con.execute(
        "SELECT source_row, source_record_id, first_name_raw, dob FROM person_record ORDER BY 1"
    ).fetchall()
    q = con.execute("SELECT source_row, field, value, rule FROM quarantine ORDER BY 1").fetchall()
    con.close()
    return result, people, q


def refused(hub, path, mapping=MAPPING, kinds=None):
    before = snapshot(hub)
    with pytest.raises(CrosswalkError) as err:
        ingest("fcs", [path], hub=hub, mapping=parse_mapping(mapping, "fcs.yaml"), kinds=kinds)
    assert snapshot(hub) == before
    assert str(path) in str(err.value)
    return err.value


def test_a_row_with_an_extra_field_is_quarantined_with_the_counts(tmp_path):
    rows = '1,"DOE, JO",01/02/1990,M,,\n2,"ROE, AL",01/02/1990,M,,,\n3,"POE, AN",01/02/1990,F,,\n'
    result, people, q = load(tmp_path, HEADER + rows)
    assert [p[1] for p in people] == ["1", "3"]
    assert q == [(2, None, "7 fields, the header has 6 (line 3 of the file)", "wrong_field_count")]
    f = result.files[0]
    assert (f.rows_read, f.rows_accepted, f.rows_quarantined) == (3, 2, 1)


def test_a_missing_quote_does_not_shift_values_into_other_fields(tmp_path):
    rows = (
        '1,"DOE, JO",01/02/1990,M,,\n'
        '2,"MALONE, JOSE J,01/02/1990,M,,\n'
        '3,"POE, AN",01/02/1990,F,,\n'
        '4,"ROE, AL",03/04/1980,M,,\n'
    )
    _, people, q = load(tmp_path, HEADER + rows)
    assert all(p[2] in ("DOE, JO", "ROE, AL") for p in people), people
    assert q and q[0][0] == 2 and q[0][3] == "wrong_field_count"
    assert "line" in q[0][2]


def test_a_short_row_is_quarantined(tmp_path):
    _, people, q = load(tmp_path, HEADER + '1,"DOE, JO",01/02/1990,M,,\n2,"ROE, AL"\n')
    assert [p[1] for p in people] == ["1"]
    assert q == [(2, None, "2 fields, the header has 6 (line 3 of the file)", "wrong_field_count")]


@pytest.mark.parametrize(
    ("ending", "tail"),
    [("\n", "\n"), ("\r\n", "\r\n"), ("\r\n", "\n"), ("\n", "\r\n"), ("\n", " \n")],
)
def test_a_trailing_blank_line_is_not_a_row(tmp_path, ending, tail):
    """DuckDB fails such files ("state machine reached an invalid state", "CSV Error on Line")."""
    rows = HEADER + '1,"DOE, JO",01/02/1990,M,,\n2,"ROE, AL",01/02/1990,M,,\n'
    result, people, q = load(tmp_path, rows.replace("\n", ending) + tail)
    assert [p[0] for p in people] == [1, 2] and not q
    assert result.files[0].rows_read == 2


def test_a_stray_quote_inside_a_value_is_kept_as_sent(tmp_path):
    _, people, q = load(tmp_path, HEADER + '1,DOE "JO",01/02/1990,M,,\n')
    assert people[0][2] == 'DOE "JO"' and not q


def test_a_huge_single_line_is_not_a_header(hub_copy, tmp_path):
    path = write(tmp_path / "clients.csv", "x," * (readers.HEADER_LIMIT // 2 + 10))
    e = refused(hub_copy, path)
    assert "first line is longer than" in str(e) and "one record per line" in str(e)


def test_a_directory_is_named_as_one(hub_copy, tmp_path):
    folder = tmp_path / "extracts"
    folder.mkdir()
    e = refused(hub_copy, folder, kinds=["clients"])
    assert "is a directory" in str(e) and "no such file" not in str(e)


def test_parquet_dates_are_used_as_they_are(tmp_path):
    from datetime import date

    path = tmp_path / "clients.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["1", "2"],
                "name": ["DOE, JO", "ROE, AL"],
                "dob": pa.array([date(1990, 1, 2), None], type=pa.date32()),
                "sex": ["M", "M"],
                "ssn": [None, None],
                "phone": [None, None],
            }
        ),
        path,
    )
    # The mapping's formats are for text; a typed date needs none of them.
    mapping = MAPPING.replace("format: csv\n  delimiter", "format: parquet\n  delimiter", 1)
    mapping = mapping.replace(
        'date_formats: ["%m/%d/%Y", "%Y-%m-%d"]', 'date_formats: ["%m/%d/%Y"]'
    )
    _, people, q = load(tmp_path, path, mapping=mapping)
    assert [p[3] for p in people] == [date(1990, 1, 2), None] and not q
    con = duckdb.connect(str(tmp_path / "hub.duckdb"), read_only=True)
    assert con.execute("SELECT flags FROM person_record ORDER BY source_row").fetchall() == [
        ([],),
        ([],),
    ]


def _workbook(path, header, rows):
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("clients")
    sheet.write_row(0, 0, header)
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, row)
    book.close()
    return path


XLSX = MAPPING.replace("format: csv\n  delimiter", "format: xlsx\n  delimiter", 1)


def test_a_duplicate_header_in_a_workbook_names_the_column(hub_copy, tmp_path):
    path = _workbook(
        tmp_path / "clients.xlsx",
        ["id", "name", "dob", "sex", "ssn", "dob"],
        [["1", "DOE, JO", "01/02/1990", "M", "", "01/02/1990"]],
    )
    e = refused(hub_copy, path, XLSX)
    assert [p.field for p in e.problems] == ["dob"] and "2 times" in str(e)


def test_a_workbook_that_expands_too_far_is_refused_before_it_is_parsed(
    hub_copy, tmp_path, monkeypatch
):
    small = _workbook(tmp_path / "small.xlsx", ["id"], [["1"]])
    bomb = tmp_path / "clients.xlsx"
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = data.replace(b"</worksheet>", b" " * (8 << 20) + b"</worksheet>")
            out.writestr(item, data)
    monkeypatch.setattr(readers, "XLSX_MAX_UNCOMPRESSED", 4 << 20)
    assert bomb.stat().st_size < 200_000
    started = time.monotonic()
    e = refused(hub_copy, bomb, XLSX)
    assert "decompression bomb" in str(e) and time.monotonic() - started < 30


def test_a_shared_string_repeated_in_every_cell_is_refused_before_it_is_parsed(
    hub_copy, tmp_path, monkeypatch
):
    # The attack: a workbook whose one 32,000-character shared string is shown in cell
    # after cell. Its XML is small (each cell names the string by its index), so the size
    # check passed; the reader then gave every cell its own copy of the text: a 27 kB
    # workbook of 5,000 such cells took 300 MB, and the 256 MiB of XML allowed would
    # hold millions of them.
    path = tmp_path / "clients.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("clients")
    sheet.write_row(0, 0, ["id", "name", "dob", "sex", "ssn", "phone"])
    long = "A" * 32_000
    for row in range(1, 1_001):
        sheet.write_row(row, 0, [str(row), long, "01/02/1990", "M", "", ""])
    book.close()
    monkeypatch.setattr(readers, "XLSX_MAX_UNCOMPRESSED", 4 << 20)
    assert path.stat().st_size < 100_000
    with zipfile.ZipFile(path) as z:
        assert sum(m.file_size for m in z.infolist()) < 1 << 20
    started = time.monotonic()
    e = refused(hub_copy, path, XLSX)
    assert "decompression bomb" in str(e) and "shared string" in str(e)
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("member", "junk"),
    [
        ("xl/worksheets/sheet1.xml", b"<c" + b' t="s"' * 170_000 + b">"),
        ("xl/sharedStrings.xml", b"<si>" * 250_000),
    ],
    ids=["cell-tag", "shared-strings"],
)
def test_markup_made_to_be_searched_slowly_is_measured_in_linear_time(
    hub_copy, tmp_path, member, junk
):
    # The attack on the measure itself: a cell tag repeating t="s" (or shared strings
    # never closed) made each search of the text scan the rest of it again: a megabyte
    # took a minute and a half, and a workbook holds hundreds.
    small = _workbook(tmp_path / "small.xlsx", ["id", "name"], [["1", "DOE, JO"]])
    crafted = tmp_path / "clients.xlsx"
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(crafted, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == member:
                data = data.replace(b"</sheetData>", junk + b"</sheetData>")
                data = data.replace(b"</sst>", junk + b"</sst>")
            out.writestr(item, data)
    started = time.monotonic()
    refused(hub_copy, crafted, XLSX)
    assert time.monotonic() - started < 30


def test_a_workbook_of_many_short_shared_strings_is_read(tmp_path, monkeypatch):
    # The text a workbook's cells show is counted, not its shared strings times its cells.
    path = _workbook(
        tmp_path / "clients.xlsx",
        ["id", "name", "dob", "sex", "ssn", "phone"],
        [[str(i), "DOE, JO", "01/02/1990", "M", "", ""] for i in range(1, 301)],
    )
    monkeypatch.setattr(readers, "XLSX_MAX_UNCOMPRESSED", 64 << 10)
    _, people, q = load(tmp_path, path, mapping=XLSX)
    assert len(people) == 300 and not q


def test_rows_that_all_end_with_a_delimiter_are_refused_not_quarantined(hub_copy, tmp_path):
    path = write(
        tmp_path / "clients.csv",
        HEADER + '1,"DOE, JO",01/02/1990,M,,,\n2,"ROE, AL",01/02/1990,M,,,\n',
    )
    e = refused(hub_copy, path)
    assert "every row has 7 fields" in str(e)


def test_ragged_files_are_read_in_bounded_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "_ROWS_PER_CHUNK", 3)
    rows = "".join(f'{i},"DOE{i}, JO",01/02/1990,M,,\n' for i in range(1, 11)) + '11,"X, Y",,,\n'
    _, people, q = load(tmp_path, HEADER + rows)
    assert [p[0] for p in people] == list(range(1, 11)) and [r[0] for r in q] == [11]
    assert people[9][2] == "DOE10, JO"


def test_a_sparse_workbook_that_spans_billions_of_cells_is_refused_before_it_is_parsed(
    hub_copy, tmp_path
):
    # The attack: a 6 kB workbook with one cell at column 16,000 of row 1,000,000. It
    # passed the size check (it expands to a few kB), then the reader filled every cell of
    # its 16 billion-cell extent.
    path = _workbook(tmp_path / "clients.xlsx", ["id", "name"], [["1", "DOE, JO"]])
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("clients")
    sheet.write_row(0, 0, ["id", "name"])
    sheet.write(999_999, 15_999, "x")
    book.close()
    assert path.stat().st_size < 20_000
    started = time.monotonic()
    e = refused(hub_copy, path, XLSX)
    assert "row 1,000,000" in str(e) and "CSV or Parquet" in str(e)
    assert time.monotonic() - started < 30


def test_a_header_of_a_hundred_thousand_columns_is_refused_at_once(hub_copy, tmp_path):
    # The attack: each name of the header was counted against the whole header, so a
    # CSV of 100,000 distinct column names took an hour of the service's CPU to check.
    path = write(tmp_path / "clients.csv", ",".join(f"c{i}" for i in range(100_000)) + "\n1\n")
    started = time.monotonic()
    e = refused(hub_copy, path)
    assert "100,000 columns" in str(e) and time.monotonic() - started < 30


PARQUET = MAPPING.replace("format: csv\n  delimiter", "format: parquet\n  delimiter", 1)


def _repeated_parquet(path, rows, name):
    """A Parquet file of ``rows`` rows that all hold the same values (one dictionary
    entry each, run-length encoded): a few kB whatever ``rows`` is."""
    same = pa.array([0] * rows, pa.int32())
    nothing = pa.nulls(rows, pa.string())

    def column(value):
        return pa.DictionaryArray.from_arrays(same, pa.array([value]))

    table = pa.table(
        {
            "id": column("1"),
            "name": column(name),
            "dob": column("01/02/1990"),
            "sex": column("M"),
            "ssn": nothing,
            "phone": nothing,
        }
    )
    pq.write_table(table, path, compression="zstd")
    return path


def test_a_parquet_file_of_one_long_text_repeated_is_refused_before_it_is_read(
    hub_copy, tmp_path, monkeypatch
):
    # The attack: one 1,000-character name, held once in a column's dictionary and named
    # by row after row. A 27 kB file read as 200,000 such rows took 2.3 GB and 30 s of
    # CPU; the 64 MB an upload may take would hold billions.
    path = _repeated_parquet(tmp_path / "clients.parquet", 20_000, "DOE, " + "J" * 1_000)
    monkeypatch.setattr(readers, "PARQUET_MIN_TEXT", 4 << 20)
    assert path.stat().st_size < 20_000
    started = time.monotonic()
    e = refused(hub_copy, path, PARQUET)
    assert "decompression bomb" in str(e) and time.monotonic() - started < 30


def test_a_parquet_file_of_millions_of_empty_rows_is_refused_from_its_footer(
    hub_copy, tmp_path, monkeypatch
):
    path = _repeated_parquet(tmp_path / "clients.parquet", 300_000, "DOE, JO")
    monkeypatch.setattr(readers, "PARQUET_MIN_CELLS", 100_000)
    assert readers.PARQUET_EXPANSION * path.stat().st_size < 300_000 * 6
    e = refused(hub_copy, path, PARQUET)
    assert "300,000 rows of 6 columns" in str(e) and "decompression bomb" in str(e)


@pytest.mark.parametrize(
    "values",
    [
        pa.array([{"first": "JO", "last": "DOE"}]),
        pa.array([["DOE, JO", "ROE, AL"]]),
        pa.array([[("a", "DOE, JO")]], pa.map_(pa.string(), pa.string())),
    ],
    ids=["struct", "list", "map"],
)
def test_a_parquet_column_of_nested_values_is_refused_naming_it(hub_copy, tmp_path, values):
    # Before, DuckDB's text of the whole value became the name: "{'first': JO, ...}".
    path = tmp_path / "clients.parquet"
    one = {"id": ["1"], "dob": ["01/02/1990"], "sex": ["M"], "ssn": ["x"], "phone": ["x"]}
    pq.write_table(pa.table({**one, "name": values}), path)
    e = refused(hub_copy, path, PARQUET)
    assert [(p.field, p.row) for p in e.problems] == [("name", 0)]
    assert "one value a row" in str(e)


def test_a_parquet_file_of_ordinary_values_is_read_as_before(tmp_path, monkeypatch):
    path = tmp_path / "clients.parquet"
    rows = [str(i) for i in range(1, 2_001)]
    pq.write_table(
        pa.table(
            {
                "id": rows,
                "name": pa.array([f"DOE{i}, JO" for i in rows]).dictionary_encode(),
                "dob": ["01/02/1990"] * len(rows),
                "sex": ["M"] * len(rows),
                "ssn": pa.nulls(len(rows), pa.string()),
                "phone": pa.nulls(len(rows), pa.string()),
            }
        ),
        path,
    )
    monkeypatch.setattr(readers, "PARQUET_MIN_TEXT", 0)
    monkeypatch.setattr(readers, "PARQUET_MIN_CELLS", 0)
    _, people, q = load(tmp_path, path, mapping=PARQUET)
    assert len(people) == 2_000 and not q
