"""A file whose header names a column the reader reserves for itself (its row number, the
raw row, the standardising SQL's lambda parameters) is refused before anything is stored,
with an error naming the file and the field: such a column would be read in place of the
reader's own (a forged row number in quarantine, a raw row that is not the file's)."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from crosswalk.errors import InputFileError
from crosswalk.ingest import ingest, parse_mapping
from crosswalk.ingest.mapping import RESERVED_COLUMNS

MAPPING = {
    "agency": "fcs",
    "version": 1,
    "clients": {
        "format": "csv",
        "name_format": "last_first",
        "date_formats": ["%m/%d/%Y"],
        "columns": {"source_record_id": "id", "full_name": "name", "dob": "dob", "sex": "sex"},
        "codes": {"sex": {"1": "M", "2": "F"}},
    },
}
ROWS = [["1", "DOE, JO", "01/02/1990", "1"], ["2", "ROE, AL", "03/04/1980", "2"]]


def _batches(hub) -> int:
    if not hub.exists():
        return 0
    con = duckdb.connect(str(hub), read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        return (
            con.execute("SELECT count(*) FROM batch").fetchall()[0][0] if "batch" in tables else 0
        )
    finally:
        con.close()


def _mapping(fmt: str):
    m = yaml.safe_load(yaml.safe_dump(MAPPING))
    m["clients"]["format"] = fmt
    return parse_mapping(yaml.safe_dump(m), "fcs.yaml")


@pytest.mark.parametrize("reserved", RESERVED_COLUMNS)
def test_a_csv_header_naming_a_reserved_column_is_refused(tmp_path, reserved):
    clients = tmp_path / "clients.csv"
    lines = [f"id,name,dob,sex,{reserved}"] + [
        ",".join([*r, "'; DROP TABLE batch; --"]) for r in ROWS
    ]
    clients.write_text(
        "\n".join(lines).replace("DOE, JO", '"DOE, JO"').replace("ROE, AL", '"ROE, AL"') + "\n"
    )
    hub = tmp_path / "hub.duckdb"
    with pytest.raises(InputFileError) as refused:
        ingest("fcs", [str(clients)], hub=hub, mapping=_mapping("csv"))
    problems = refused.value.problems
    assert [(p.file, p.field) for p in problems] == [(str(clients), reserved)]
    assert f"column name {reserved!r} is reserved" in problems[0].message
    assert _batches(hub) == 0


@pytest.mark.parametrize("reserved", ["_cw_x", "_cw_raw"])
def test_a_parquet_column_naming_a_reserved_column_is_refused(tmp_path, reserved):
    clients = tmp_path / "clients.parquet"
    columns = list(zip(*ROWS, strict=True))
    pq.write_table(
        pa.table(
            {n: list(c) for n, c in zip(["id", "name", "dob", "sex"], columns, strict=True)}
            | {reserved: ["x", "y"]}
        ),
        clients,
    )
    hub = tmp_path / "hub.duckdb"
    with pytest.raises(InputFileError) as refused:
        ingest("fcs", [str(clients)], hub=hub, mapping=_mapping("parquet"))
    assert [(p.file, p.field) for p in refused.value.problems] == [(str(clients), reserved)]
    assert _batches(hub) == 0


def test_the_same_file_without_the_reserved_column_loads(tmp_path):
    clients = tmp_path / "clients.csv"
    clients.write_text('id,name,dob,sex\n1,"DOE, JO",01/02/1990,1\n2,"ROE, AL",03/04/1980,2\n')
    hub = tmp_path / "hub.duckdb"
    result = ingest("fcs", [str(clients)], hub=hub, mapping=_mapping("csv"))
    assert result.files[0].rows_accepted == 2
    assert _batches(hub) == 1
