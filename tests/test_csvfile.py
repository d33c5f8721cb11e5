"""CSV that a spreadsheet opens as text: no cell Crosswalk writes runs as a formula."""

import io

import pyarrow as pa
import pyarrow.csv as pacsv

from crosswalk.analytics.output import write_table
from crosswalk.cli.output import emit
from crosswalk.csvfile import table_csv

TEXTS = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "SANGAMON", ""]


def test_text_cells_that_a_spreadsheet_would_run_are_written_as_text():
    table = pa.table({"county": TEXTS, "people": [12, -3, 0, 11, 20, 30, None]})
    back = pacsv.read_csv(io.BytesIO(table_csv(table))).to_pydict()
    assert back["county"] == ["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\t=x", "SANGAMON", ""]
    assert back["people"] == [12, -3, 0, 11, 20, 30, None]  # numbers stay numbers


def test_every_csv_writer_makes_text_safe(tmp_path, capsys):
    table = pa.table({"note": ["=HYPERLINK(1)"], "amount": [-4.5]})
    assert "'=HYPERLINK(1)" in write_table(table, tmp_path / "t.csv").read_text()
    emit(table, as_csv=True)
    assert capsys.readouterr().out.splitlines() == ["note,amount", "'=HYPERLINK(1),-4.5"]


def test_text_of_every_arrow_text_type_is_made_safe():
    # The attack: a county read from Parquet or a DuckDB ENUM arrives dictionary-encoded
    # (or as a string view), which the check for text columns passed over: "=1+1" was
    # written as it came.
    plain = pa.array(["=1+1", "SANGAMON"])
    columns = {
        "dictionary": plain.dictionary_encode(),
        "view": plain.cast(pa.string_view()),
        "large": plain.cast(pa.large_string()),
        "dictionary_large": plain.cast(pa.large_string()).dictionary_encode(),
    }
    back = pacsv.read_csv(io.BytesIO(table_csv(pa.table(columns)))).to_pydict()
    for name in columns:
        assert back[name] == ["'=1+1", "SANGAMON"], name
