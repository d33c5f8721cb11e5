"""The review view: both records side by side with each comparison's level and partial
match weight, drawn as a waterfall."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.planted import planted_link

from crosswalk.identity.charts import pair_steps, waterfall, write_waterfall

FIELDS = {
    "first_name": {"weight": 4.0, "level": "nickname-canonical equal"},
    "last_name": {"weight": 9.5, "level": "Exact match on last_name"},
    "dob": {"weight": -5.25, "level": "within two years"},
    "address": {"weight": 8.7, "level": "Exact match on zip"},
}
A = {"first_name": "JOSE", "last_name": "MALONE", "dob": "1990-01-02", "zip": "62390"}
B = {"first_name": "JOSEPH", "last_name": "MALONE", "dob": "1991-02-01", "zip": "62390",
     "county": "GREENE"}  # fmt: skip


def test_pair_steps_put_both_records_beside_each_level_and_weight() -> None:
    steps = pair_steps(2.0, FIELDS, A, B)
    by = {s["step"]: s for s in steps}
    assert [s["step"] for s in steps] == [
        "prior", "first_name", "last_name", "dob", "address", "final match weight"
    ]  # fmt: skip
    assert (by["first_name"]["a"], by["first_name"]["b"]) == ("JOSE", "JOSEPH")
    assert (by["address"]["a"], by["address"]["b"]) == ("62390", "62390, GREENE")
    assert by["dob"]["level"] == "within two years" and by["dob"]["weight"] == -5.25
    # The prior is what the comparisons leave of the final weight; the bars add up.
    assert by["prior"]["weight"] == pytest.approx(2.0 - (4.0 + 9.5 - 5.25 + 8.7))
    assert by["address"]["end"] == pytest.approx(2.0)
    assert by["dob"]["start"] == pytest.approx(by["last_name"]["end"])
    assert (by["final match weight"]["start"], by["final match weight"]["end"]) == (0.0, 2.0)


def test_the_waterfall_is_written_as_html_and_png(tmp_path: Path) -> None:
    steps = pair_steps(2.0, FIELDS, A, B)
    spec = waterfall(steps, "fcs:1 ~ hfs:2").to_dict()
    assert spec["layer"][0]["encoding"]["x2"]["field"] == "end"
    page = write_waterfall(steps, "fcs:1 ~ hfs:2", tmp_path / "pair.html").read_text()
    assert "JOSEPH" in page and "<script src=" not in page
    png = write_waterfall(steps, "fcs:1 ~ hfs:2", tmp_path / "pair.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["pair.html", "pair.png"])
def test_a_pairs_chart_is_its_owners_only_and_a_planted_link_is_not_followed(
    tmp_path: Path, name: str
) -> None:
    # The attack: the waterfall's labels are both records' values (names, dates of
    # birth), and `review show --chart` wrote it 0644 under umask 022, through any link
    # another account planted at the path in a shared folder.
    with planted_link(tmp_path, name) as out:
        write_waterfall(pair_steps(2.0, FIELDS, A, B), "fcs:1 ~ hfs:2", out)


def test_what_a_decision_would_merge_or_split() -> None:
    from crosswalk.identity.review import Side, effects

    apart = effects(Side("fcs:1", "P0000000007", 3), Side("hfs:2", "P0000000009", 1))
    assert apart["match"] == (
        "merges P0000000007 (3 records) and P0000000009 (1 record) into one person of 4 "
        "records at the next link run"
    )
    assert apart["no-match"].endswith("apart: no change")
    together = effects(Side("fcs:1", "P0000000007", 4), Side("hfs:2", "P0000000007", 4))
    assert together["match"] == "keeps both in P0000000007 (4 records): no change"
    assert together["no-match"].startswith("splits P0000000007 (4 records)")
    new = effects(Side("fcs:1", None, 0), Side("hfs:2", "P0000000009", 2))
    assert "fcs:1 (not linked yet)" in new["match"]


@pytest.fixture
def steward(signed_in, control: str) -> list[str]:
    return signed_in("cdo.linkage", "cdo", "linkage_steward", control=control)


def _first_pair(hub: Path, control: str, capsys, steward: list[str]) -> dict:
    from crosswalk.cli import run

    args = ["review", "list", *steward, "--hub", str(hub), "--control", control, "--json"]
    assert run([*args, "--limit", "1"]) == 0
    return json.loads(capsys.readouterr().out)[0]


def test_review_show_puts_both_records_side_by_side_with_levels_and_weights(
    linked_hub: Path, control: str, capsys, tmp_path: Path, monkeypatch, steward
) -> None:
    from crosswalk.cli import run

    pair = _first_pair(linked_hub, control, capsys, steward)
    a, b = pair["record_a"], pair["record_b"]
    ids = [pair["persons"][k]["enterprise_id"] for k in (a, b)]
    assert all(i and i.startswith("P") for i in ids)
    assert all(i in pair["persons today"] for i in ids)  # the list says what a match merges
    base = ["review", "show", b, *steward, "--hub", str(linked_hub), "--control", control]
    assert run([*base, "--json", "--chart", str(tmp_path / "pair.html")]) == 0
    views = json.loads(capsys.readouterr().out)
    view = next(v for v in views if {v["record_a"], v["record_b"]} == {a, b})
    steps = {s["step"]: s for s in view["comparisons"]}
    assert set(pair["fields"]) <= set(steps)
    name = steps["last_name"]
    assert (name["a"], name["b"]) == (view["records"][0].get("last_name") or "",
                                      view["records"][1].get("last_name") or "")  # fmt: skip
    assert name["level"] == pair["fields"]["last_name"]["level"]
    assert steps["final match weight"]["end"] == pytest.approx(view["weight"], abs=1e-3)
    assert set(view["if_decided"]) == {"match", "no-match"}
    assert "merges" in view["if_decided"]["match"] or "keeps both" in view["if_decided"]["match"]
    page = Path(view["chart"]).read_text()
    assert "<script src=" not in page and a in page
    monkeypatch.setenv("COLUMNS", "120")
    assert run([*base, a]) == 0  # the pair named by both keys
    text = capsys.readouterr().out
    assert a in text and b in text and "partial weight" in text and "--match:" in text


def test_review_show_of_a_record_without_pairs_says_so(
    linked_hub: Path, control: str, capsys, steward
) -> None:
    from crosswalk.cli import run

    args = ["review", "show", "fcs:NOPE", *steward, "--hub", str(linked_hub), "--control", control]
    assert run(args) == 2
    assert "no pair of fcs:NOPE awaits review" in " ".join(capsys.readouterr().err.split())


def test_review_decide_records_the_principal_and_the_note(
    linked_hub: Path, control: str, capsys, tmp_path: Path, steward
) -> None:
    import shutil

    import duckdb

    from crosswalk.audit import AuditLog
    from crosswalk.cli import run

    hub = tmp_path / "hub.duckdb"
    shutil.copy(linked_hub, hub)
    pair = _first_pair(hub, control, capsys, steward)
    note = "different mothers on the birth records"
    args = ["review", "decide", pair["record_a"], pair["record_b"], "--no-match",
            *steward, "--note", note, "--hub", str(hub), "--control", control]  # fmt: skip
    assert run(args) == 0, capsys.readouterr().err
    con = duckdb.connect(str(hub), read_only=True)
    assert con.execute("SELECT decided_by, note FROM review_decision").fetchall() == [
        ("cdo.linkage", note)
    ]
    entries = [e for e in AuditLog(control).entries() if e["action"] == "identity.review"]
    assert entries and all(e["user"] == "cdo.linkage" for e in entries)
    assert all(note in str(e["body"]) for e in entries)
