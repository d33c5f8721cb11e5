"""crosswalk export person-index: the person index through the gate, for the hub
operator's linkage stewards only, audited."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest
from tests.planted import planted_link

from crosswalk.cli import run


@pytest.fixture
def steward(signed_in, control: str) -> list[str]:
    return signed_in("cdo.linkage", "cdo", "linkage_steward", control=control)


@pytest.fixture
def analyst(signed_in, control: str) -> list[str]:
    return [*signed_in("ada", "hfs", "analyst", control=control),
            "--purpose", "program_evaluation"]  # fmt: skip


def _entries(control: str) -> int:
    con = sqlite3.connect(control.removeprefix("sqlite:///"))
    try:
        return con.execute(
            "SELECT count(*) FROM audit_entry WHERE action LIKE 'data.%'"
        ).fetchall()[0][0]
    finally:
        con.close()


def test_a_linkage_steward_exports_the_index_as_csv_and_parquet(
    linked_hub: Path, control: str, tmp_path: Path, steward
) -> None:
    hub = ["--hub", str(linked_hub), "--control", control]
    for name in ("index.csv", "index.parquet"):
        assert run(["export", "person-index", "--out", str(tmp_path / name), *steward, *hub]) == 0
    con = duckdb.connect()
    expected = (
        duckdb.connect(str(linked_hub), read_only=True)
        .execute("SELECT agency, source_record_id, enterprise_id FROM person_index ORDER BY 1, 2")
        .fetchall()
    )
    for name in ("index.csv", "index.parquet"):
        got = con.execute(
            "SELECT agency, source_record_id, enterprise_id FROM read_csv(?, all_varchar = true)"
            if name.endswith(".csv")
            else "SELECT agency, source_record_id, enterprise_id FROM read_parquet(?)",
            [str(tmp_path / name)],
        ).fetchall()
        # Every agency's records but the Part 2 program's (42 CFR Part 2: never without
        # consent), each with its enterprise person.
        assert sorted(got) == [row for row in expected if row[0] != "sud"]
    assert _entries(control) >= 2  # each export audited


def test_an_analyst_is_refused_and_the_refusal_audited(
    linked_hub: Path, control: str, tmp_path: Path, capsys, analyst
) -> None:
    out = tmp_path / "index.csv"
    args = ["export", "person-index", "--out", str(out), *analyst, "--hub", str(linked_hub)]
    assert run([*args, "--control", control]) == 3
    assert "may not read the person index" in " ".join(capsys.readouterr().err.split())
    assert not out.exists() and _entries(control) >= 1


def test_an_unknown_format_is_refused(
    linked_hub: Path, control: str, tmp_path: Path, steward
) -> None:
    args = ["export", "person-index", "--out", str(tmp_path / "index.xlsx"), *steward]
    assert run([*args, "--hub", str(linked_hub), "--control", control]) == 2


@pytest.mark.parametrize("name", ["index.csv", "index.parquet"])
def test_the_exported_index_is_its_owners_only_and_a_planted_link_is_not_followed(
    linked_hub: Path, control: str, tmp_path: Path, steward, name: str
) -> None:
    # The attack: another account of the host reads the exported index (written 0644 by
    # a process with umask 022), or plants a link at the --out path in a shared folder
    # so that the export overwrites a file of the steward's that the link names.
    with planted_link(tmp_path, name) as out:
        args = ["export", "person-index", "--out", str(out), *steward, "--hub", str(linked_hub)]
        assert run([*args, "--control", control]) == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(f".{name}")] == []
