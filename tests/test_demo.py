import duckdb

from crosswalk.cli import run


def test_demo_generates_ingests_links_asks_and_reports(tmp_path, capsys):
    out = tmp_path / "demo"
    assert run(["demo", "--out", str(out), "--people", "1500"]) == 0
    text = capsys.readouterr().out
    assert "Ingested into" in text and "quarantined" in text
    assert "True cross-agency overlap" in text
    assert "B-cubed F1" in text and "Linked" in text
    assert "Requests through the gate" in text and "DENIED" in text
    for title in ("pair of programs", "before and after TANF", "unemployment claim"):
        assert title in text
    assert "counts hidden (·)" in text
    for name in ("overlap", "pathways", "cohort"):
        for kind in ("html", "png"):
            assert (out / "charts" / f"{name}.{kind}").stat().st_size > 1000
    assert "chain intact" in text
    con = duckdb.connect(str(out / "hub.duckdb"), read_only=True)
    assert con.execute("SELECT count(DISTINCT agency) FROM person_record").fetchall() == [(13,)]
