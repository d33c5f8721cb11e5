"""``crosswalk analyze``: thin shells over the library, answers written to files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crosswalk.cli import run


@pytest.fixture
def analyst(signed_in, control: str) -> list[str]:
    return [*signed_in("ada", "hfs", "analyst", control=control), "--purpose"]


def test_overlap_to_json_and_charts(state_hub: Path, control: str, tmp_path: Path, analyst) -> None:
    out, png, html = tmp_path / "o.json", tmp_path / "o.png", tmp_path / "o.html"
    code = run(
        ["analyze", "overlap", "--start", "2015-01-01", "--end", "2020-12-31",
         "--program", "medicaid", "--program", "SNAP", *analyst, "program_evaluation",
         "--hub", str(state_hub), "--control", control, "--out", str(out),
         "--chart", str(png), "--chart", str(html)]
    )  # fmt: skip
    assert code == 0
    rows = json.loads(out.read_text())
    assert {(r["program_a"], r["program_b"]) for r in rows} == {
        ("MEDICAID", "MEDICAID"), ("MEDICAID", "SNAP"), ("SNAP", "MEDICAID"), ("SNAP", "SNAP")
    }  # fmt: skip
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = html.read_text()
    assert "vega" in page and "<script src=" not in page  # libraries inline: works offline


def test_denied_purpose_exits_3_and_writes_nothing(
    state_hub: Path, control: str, tmp_path: Path, analyst
) -> None:
    out = tmp_path / "o.csv"
    code = run(
        ["analyze", "overlap", *analyst, "care_coordination", "--hub", str(state_hub),
         "--control", control, "--out", str(out)]
    )  # fmt: skip
    assert code == 3
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--program", "BOGUS"], "unknown programs ['BOGUS']"),
        (["--start", "2020-02-30"], "--start must be a date"),
        (["--start", "2021-01-01", "--end", "2020-01-01"], "starts (2021-01-01) after it ends"),
    ],
)
def test_bad_filters_are_named(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["analyze", "overlap", "--sql", *args]) == 2
    assert message in " ".join(capsys.readouterr().err.split())


def test_sql_dry_run_for_spark(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["analyze", "cohort", "FOSTER_CARE", "--sql", "--dialect", "spark"]) == 0
    out = capsys.readouterr().out
    # The cell-key secret is a named parameter, never text in the query.
    assert "WITH service AS" in out and ":crosswalk_cell_key_secret" in out
