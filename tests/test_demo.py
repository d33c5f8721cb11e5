import duckdb

from crosswalk.cli import run


def test_demo_generates_ingests_and_reports(tmp_path, capsys):
    out = tmp_path / "demo"
    assert run(["demo", "--out", str(out), "--people", "1500"]) == 0
    text = capsys.readouterr().out
    assert "Ingested into" in text and "quarantined" in text
    assert "True cross-agency overlap" in text
    assert "B-cubed F1" in text and "Linked" in text
    con = duckdb.connect(str(out / "hub.duckdb"), read_only=True)
    assert con.execute("SELECT count(DISTINCT agency) FROM person_record").fetchall() == [(13,)]
