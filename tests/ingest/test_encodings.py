"""Extracts as Windows and older systems write them: UTF-16 with a byte-order mark,
Windows-1252 with curly quotes, lines ended by a carriage return alone, and a UTF-8 file
with one damaged byte, which is an error naming its row and field, never read as other
letters."""

import codecs

import duckdb
import pytest
from tests.ingest.conftest import snapshot

from crosswalk.errors import InputFileError
from crosswalk.ingest import ingest, parse_mapping

MAPPING = """\
agency: housing
version: 1
clients:
  format: csv
  ssn_form: absent
  columns:
    source_record_id: id
    first_name: first
    last_name: last
"""

ROWS = [["id", "first", "last"], ["1", "Seán", "O’Brien"], ["2", "Zoë", "“Müller”"]]


def _text(newline="\r\n"):
    return newline.join(",".join(r) for r in ROWS) + newline


def _load(tmp_path, data, mapping=MAPPING):
    path = tmp_path / "clients.csv"
    path.write_bytes(data)
    hub = tmp_path / "hub.duckdb"
    ingest("housing", [path], hub=hub, mapping=parse_mapping(mapping, "housing.yaml"))
    con = duckdb.connect(str(hub), read_only=True)
    try:
        return con.execute(
            "SELECT source_record_id, first_name_raw, last_name_raw, first_name, last_name"
            " FROM person_record ORDER BY 1"
        ).fetchall()
    finally:
        con.close()


EXPECTED = [
    ("1", "Seán", "O’Brien", "SEAN", "OBRIEN"),
    ("2", "Zoë", "“Müller”", "ZOE", "MULLER"),
]


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF16_LE + _text().encode("utf-16-le"),
        codecs.BOM_UTF16_BE + _text().encode("utf-16-be"),
        _text().encode("cp1252"),
        _text("\r").encode("utf-8"),
        codecs.BOM_UTF8 + _text("\r").encode("utf-8"),
    ],
    ids=["utf-16-le", "utf-16-be", "windows-1252", "cr-utf-8", "cr-utf-8-bom"],
)
def test_detected_encodings_and_line_ends_read_every_letter(tmp_path, data):
    assert _load(tmp_path, data) == EXPECTED


@pytest.mark.parametrize("encoding", ["windows-1252", "utf-16"])
def test_declared_encoding(tmp_path, encoding):
    data = _text().encode("cp1252" if encoding == "windows-1252" else "utf-16")
    mapping = MAPPING.replace("format: csv", f"format: csv\n  encoding: {encoding}")
    assert _load(tmp_path, data, mapping) == EXPECTED


def test_a_stray_byte_in_utf8_names_its_row_and_field(tmp_path):
    """One damaged byte in a UTF-8 file is not a reason to read every accent as two
    Latin-1 letters: the row and field are named, and nothing is stored."""
    hub = tmp_path / "hub.duckdb"
    _load(tmp_path, b"id,first,last\n9,Ren\xc3\xa9e,Dupr\xc3\xa9\n")
    before = snapshot(hub)
    bad = _text("\n").encode("utf-8") + b"3,Jos\xff,N\xc3\xba\xc3\xb1ez\n"
    with pytest.raises(InputFileError) as err:
        _load(tmp_path, bad)
    problem = err.value.problems[0]
    assert (problem.row, problem.field) == (3, "first")
    assert "clients.csv" in str(err.value) and "not UTF-8" in str(err.value)
    assert "line 4 of the file" in str(err.value)
    assert snapshot(hub) == before


def test_an_undefined_windows_1252_byte_is_read_as_latin_1(tmp_path):
    """0x81 means nothing in Windows-1252: such a file is Latin-1, as before."""
    rows = _load(tmp_path, b"id,first,last\n1,Ann\x81,Lee\xe9\n")
    assert rows == [("1", "Ann\x81", "Lee\xe9", "ANN", "LEEE")]
