"""A plain truth file is checked whole before anything is scored against it (or linked
for it): every row that cannot be scored is named with its file, row and field."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crosswalk.cli import run
from crosswalk.errors import InputFileError
from crosswalk.identity.evaluate import check_truth


def _problems(path: Path) -> list[str]:
    with pytest.raises(InputFileError) as raised:
        check_truth(path)
    return [str(p) for p in raised.value.problems]


def test_a_row_with_the_wrong_number_of_fields_is_named(tmp_path: Path) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("agency,source_record_id,entity_id\nfcs,FC1,1\nfcs,FC2,1\nfcs,FC3\n")
    [problem] = _problems(truth)
    assert problem.startswith(f"{truth}, row 3: 2 fields where the header has 3")


def test_empty_values_are_named_by_row_and_field(tmp_path: Path) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("agency,source_record_id,entity_id\nfcs,FC1,1\nfcs,,2\n,FC3,3\nfcs,FC4, \n")
    problems = _problems(truth)
    assert [p.split(":")[0] for p in problems] == [
        f"{truth}, row 2, field 'source_record_id'",
        f"{truth}, row 3, field 'agency'",
        f"{truth}, row 4, field 'entity_id'",
    ]


def test_a_record_given_twice_is_named_with_both_rows(tmp_path: Path) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("agency,source_record_id,entity_id\nfcs,FC1,1\nhfs,FC1,1\nfcs,FC1,2\n")
    [problem] = _problems(truth)
    assert problem == (
        f"{truth}, row 3, field 'source_record_id': record fcs:FC1 is given twice (first in row 1)"
    )


def test_a_good_file_is_read_as_text_from_csv_or_parquet(tmp_path: Path) -> None:
    csv_truth = tmp_path / "truth.csv"
    csv_truth.write_text("entity_id,agency,source_record_id,note\n7,fcs,0042,x\n7,hfs,R1,\n")
    table = check_truth(csv_truth)
    assert table is not None and table.to_pylist() == [
        {"agency": "fcs", "source_record_id": "0042", "entity_id": "7"},  # leading zero kept
        {"agency": "hfs", "source_record_id": "R1", "entity_id": "7"},
    ]
    parquet_truth = tmp_path / "truth.parquet"
    pq.write_table(
        pa.table({"agency": ["fcs"], "source_record_id": ["FC1"], "entity_id": [12]}),
        parquet_truth,
    )
    parsed = check_truth(parquet_truth)
    assert parsed is not None and parsed.to_pylist() == [
        {"agency": "fcs", "source_record_id": "FC1", "entity_id": "12"}
    ]


def test_link_checks_the_truth_file_before_it_runs(tmp_path: Path, capsys, signed_in) -> None:
    control = f"sqlite:///{tmp_path}/control.db"
    steward = signed_in("cdo.linkage", "cdo", "linkage_steward", control=control)
    truth = tmp_path / "truth.csv"
    truth.write_text("agency,source_record_id,entity_id\nfcs,,1\n")
    hub = tmp_path / "hub.duckdb"
    argv = ["link", "--hub", str(hub), "--evaluate", str(truth), *steward, "--control", control]
    assert run(argv) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{truth}, row 1, field 'source_record_id': empty" in err
    assert not hub.exists()  # nothing was linked (nor a hub made) for a file that cannot be scored
