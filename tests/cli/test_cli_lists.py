"""Lists take --json and --csv, and a table never cuts an id another command needs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from crosswalk.cli import run
from crosswalk.cli.output import table


@pytest.fixture
def analyst(signed_in, control: str) -> list[str]:
    return signed_in("ada", "hfs", "analyst", control=control)


@pytest.fixture
def officer(signed_in, control: str) -> list[str]:
    return signed_in("cdo.privacy", "cdo", "privacy_officer", control=control)


@pytest.fixture
def steward_of(signed_in, control: str):
    def sign_in(agency: str) -> list[str]:
        return [*signed_in(f"{agency}.steward", agency, "steward", control=control),
                "--control", control]  # fmt: skip

    return sign_in


@pytest.fixture
def linkage(signed_in, control: str) -> list[str]:
    return [*signed_in("cdo.linkage", "cdo", "linkage_steward", control=control),
            "--control", control]  # fmt: skip


def _out(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert run(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def _json(capsys, argv):
    return json.loads(_out(capsys, [*argv, "--json"]))


def _csv(capsys, argv):
    return list(csv.DictReader(io.StringIO(_out(capsys, [*argv, "--csv"]))))


def test_batches_as_json_and_csv_carry_every_batch_of_the_agency(
    linked_hub: Path, capsys, steward_of
):
    argv = ["batches", *steward_of("fcs"), "--hub", str(linked_hub)]
    as_json, as_csv = _json(capsys, argv), _csv(capsys, argv)
    assert len(as_json) == 1 and {r["agency"] for r in as_json} == {"fcs"}
    assert [r["batch_id"] for r in as_csv] == [r["batch_id"] for r in as_json]
    assert all(isinstance(r["read"], int) for r in as_json)  # a count, not 272.0
    assert [int(r["read"]) for r in as_csv] == [r["read"] for r in as_json]


@pytest.mark.parametrize("columns", ["80", "60", "40"])
def test_batch_ids_are_whole_at_any_terminal_width(
    linked_hub: Path, capsys, monkeypatch, columns: str, steward_of
) -> None:
    argv = ["batches", *steward_of("fcs"), "--hub", str(linked_hub)]
    ids = [r["batch_id"] for r in _json(capsys, argv)]
    monkeypatch.setenv("COLUMNS", columns)
    shown = _out(capsys, argv)
    assert all(line.rstrip() == line.rstrip()[: int(columns)] for line in shown.splitlines())
    assert all(i in shown for i in ids), "a batch id was cut"
    assert "…" not in shown


AGENCIES = ["hfs", "fcs", "sud", "mh", "dd", "dcfs", "aging", "idph", "doc", "djj", "ides",
            "dva", "housing"]  # fmt: skip


def test_quarantine_as_json_names_row_field_and_rule(linked_hub: Path, capsys, steward_of) -> None:
    agency = next(
        a
        for a in AGENCIES
        for b in _json(capsys, ["batches", *steward_of(a), "--hub", str(linked_hub)])
        if b["quarantined"]
    )
    argv = ["quarantine", *steward_of(agency), "--hub", str(linked_hub), "--limit", "5"]
    rows = _json(capsys, argv)
    assert rows and set(rows[0]) >= {"batch_id", "file", "source_row", "field", "value", "rule"}
    assert {r["agency"] for r in rows} == {agency}
    shown = _out(capsys, argv)
    assert all(r["batch_id"] in shown for r in rows)


def test_review_list_keys_are_whole_and_machine_readable(
    linked_hub: Path, capsys, monkeypatch, linkage
) -> None:
    argv = ["review", "list", *linkage, "--hub", str(linked_hub), "--limit", "5"]
    rows = _json(capsys, argv)
    assert rows and all(":" in r["record_a"] and ":" in r["record_b"] for r in rows)
    assert all(isinstance(r["fields"], dict) for r in rows)
    assert [r["record_a"] for r in _csv(capsys, argv)] == [r["record_a"] for r in rows]
    monkeypatch.setenv("COLUMNS", "80")
    shown = _out(capsys, argv)
    assert all(r["record_a"] in shown and r["record_b"] in shown for r in rows)


def test_consent_and_audit_lists_as_json(
    linked_hub: Path, control: str, capsys, signed_in, officer, analyst
) -> None:
    con = duckdb.connect(str(linked_hub), read_only=True)
    [(client,)] = con.execute(
        "SELECT min(enterprise_id) FROM person_index WHERE agency = 'sud'"
    ).fetchall()
    con.close()
    assert run(
        ["consent", "add", client, "--discloser", "sud", "--recipient", "fcs",
         "--purpose", "care_coordination", "--information", "treatment records",
         "--signed", "2025-01-02", "--expires", "2026-01-02",
         *signed_in("sud.steward", "sud", "steward", control=control),
         "--hub", str(linked_hub), "--control", control]
    ) == 0, capsys.readouterr().err  # fmt: skip
    capsys.readouterr()
    listing = ["consent", "list", *officer, "--control", control]
    consents = _json(capsys, listing)
    assert [(c["person"], c["signed"], c["revoked"]) for c in consents] == [
        (client, "2025-01-02", None)
    ]
    assert _csv(capsys, listing)[0]["id"] == consents[0]["id"]
    _out(capsys, ["analyze", "overlap", *analyst, "--purpose", "program_evaluation",
                  "--hub", str(linked_hub), "--control", control, "--json"])  # fmt: skip
    reads = _json(capsys, ["audit", "purposes", *officer, "--control", control])
    assert {"purpose": "program_evaluation", "reads": 1} in reads
    assert isinstance(_json(capsys, ["audit", "denials", *officer, "--control", control]), list)


def test_analytic_answers_as_json_and_csv_keep_hidden_cells_null(
    linked_hub: Path, control: str, capsys, analyst
) -> None:
    argv = ["analyze", "lifetime", "--by", "age_group", *analyst, "--purpose",
            "program_evaluation", "--hub", str(linked_hub), "--control", control]  # fmt: skip
    rows = _json(capsys, argv)
    hidden = [r for r in rows if r["people_suppressed"]]
    assert hidden and all(r["people"] is None for r in hidden)
    as_csv = _csv(capsys, argv)
    assert len(as_csv) == len(rows)
    assert all(r["people"] == "" for r in as_csv if r["people_suppressed"] == "True")


def test_json_and_csv_together_is_an_error(linked_hub: Path, capsys, steward_of) -> None:
    argv = ["batches", *steward_of("fcs"), "--hub", str(linked_hub), "--json", "--csv"]
    assert run(argv) == 2
    assert "not both" in capsys.readouterr().err


def test_a_table_too_wide_for_the_terminal_shows_each_row_as_a_block() -> None:
    ids = [f"B{i:012d}" for i in range(3)]
    wide = table(
        ["batch_id", *(f"column_{n}" for n in range(8))],
        [[i, *("some text value" for _ in range(8))] for i in ids],
        width=50,
    )
    console = Console(width=50, record=True)
    console.print(wide)
    text = console.export_text()
    assert all(i in text for i in ids)
    assert "column_7" in text and "…" not in text
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 50


def test_lifetime_groups_come_youngest_first(
    linked_hub: Path, control: str, capsys, analyst
) -> None:
    argv = ["analyze", "lifetime", "--by", "age_group", *analyst, "--purpose",
            "program_evaluation", "--hub", str(linked_hub), "--control", control]  # fmt: skip
    groups = list(dict.fromkeys(r["group"] for r in _json(capsys, argv)))
    order = ["0-5", "6-17", "18-24", "25-44", "45-64", "65+", "unknown", "ALL"]
    assert groups == [g for g in order if g in groups]
    assert "6-17" in groups  # the group text order puts after 45-64


def test_a_long_title_does_not_squeeze_the_blocks() -> None:
    title = "a title far longer than any column name, which must not widen the first column"
    blocks = table(["record_a", "b"], [["idph:VR0000002630", "x " * 30]], title=title, width=40)
    console = Console(width=40, record=True)
    console.print(blocks)
    assert "idph:VR0000002630" in console.export_text()


def test_pseudonyms_are_never_wrapped() -> None:
    pseudonym = "Xe64585970975af3b"
    rows = [[pseudonym, *("long text value here" for _ in range(3))]]
    shown = table(["pseudonym", "a", "b", "c"], rows, width=70)  # text columns must wrap
    console = Console(width=70, record=True)
    console.print(shown)
    assert pseudonym in console.export_text()


def test_an_empty_list_says_so(control: str, capsys, officer) -> None:
    argv = ["audit", "who-accessed", "P0000000001", *officer, "--control", control]
    assert _out(capsys, argv).strip() == "reads of P0000000001: none"
    assert _json(capsys, argv) == []


def test_a_table_that_fits_by_wrapping_is_never_cropped() -> None:
    # A review queue's columns: two record keys, text, numbers and two persons' ids in a
    # text column. Left to its own widths Rich cropped the last column at 120 columns.
    columns = ["record_a", "record_b", "impact", "weight", "probability", "a", "b", "persons today"]
    rows = [
        ["dcfs:0000528", "idph:VR0000002420", "merge 9, child welfare/Part 2", "-0.84",
         "0.3578", "JASON STILLMAN, 2006-08-22, 62593", "JASON Q STILLMANSON, 1966-12-20, 62593",
         "P0000000957 (4) + P0000002250 (5)"],
        ["hfs:R000003774", "mh:MH00001005", "merge 9", "3.58", "0.9229",
         "STANLEY BILBO, 2015-07-09, 62750", "STELLA BILBO, 2015-07-09, 62750",
         "P0000000661 (4) + P0000000502 (5)"],
    ]  # fmt: skip
    for width in (120, 116):
        console = Console(width=width, record=True)
        console.print(table(columns, rows, width=width))
        text = console.export_text()
        lines = text.splitlines()
        assert all(len(line.rstrip()) <= width for line in lines)
        assert all(line.rstrip().endswith(("│", "┃", "┓", "┩", "┘")) for line in lines[1:])
        flat = "".join(text.split())
        for key in ("dcfs:0000528", "idph:VR0000002420", "hfs:R000003774"):
            assert key in text  # record keys whole on one line
        for person in ("P0000000957", "P0000002250", "P0000000661", "P0000000502"):
            assert person in flat


def test_audit_search_finds_entries_and_is_itself_audited(
    linked_hub: Path, control: str, capsys, officer, analyst
) -> None:
    _out(capsys, ["analyze", "overlap", *analyst, "--purpose", "program_evaluation",
                  "--hub", str(linked_hub), "--control", control, "--json"])  # fmt: skip
    search = ["audit", "search", *officer, "--control", control]
    found = _json(capsys, [*search, "--actor", "ada", "--action", "data.read"])
    assert [(e["user"], e["purpose"], e["outcome"]) for e in found] == [
        ("ada", "program_evaluation", "ok")
    ]
    assert found[0]["body"]["decision"]["allowed"] is True
    searches = _json(capsys, [*search, "--actor", "cdo.privacy", "--since", "2000-01-01"])
    assert any(e["body"].get("objects", {}).get("audit_query") == "search" for e in searches)
    assert "data.read" in _out(capsys, [*search, "--actor", "ada"])
    assert run(["audit", "search", *analyst, "--control", control]) == 3  # oversight only
    assert run([*search, "--since", "yesterday"]) == 2
