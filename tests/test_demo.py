import stat

import duckdb

from crosswalk.cli import run


def test_demo_generates_ingests_links_asks_and_reports(tmp_path, capsys, monkeypatch):
    out = tmp_path / "demo"
    assert run(["demo", "--out", str(out), "--people", "1500"]) == 0
    text = capsys.readouterr().out
    assert "Ingested into" in text and "quarantined" in text
    assert "True cross-agency overlap" in text
    assert "B-cubed F1" in text and "Linked" in text
    # Two weekly batches, each linked incrementally with the saved model.
    for week in (1, 2):
        assert f"Week {week} (" in text
    assert text.count("model version (not retrained)") == 2
    assert "persons keeping their id" in text and "review backlog (pairs)" in text
    assert "id changes, created: incremental run" in text
    assert "Requests through the gate" in text and "DENIED" in text
    assert "A data request for research" in text and "; granted" in text
    assert "under the grant: 20 rows (pseudonym," in text
    assert "revoked by cdo.privacy; the next request: rae (researcher, cdo) may not" in text
    for title in ("pair of programs", "before and after TANF", "unemployment claim"):
        assert title in text
    assert "counts hidden (·)" in text
    assert "One family's services across agencies (household H" in text
    for name in ("overlap", "pathways", "cohort"):
        for kind in ("html", "png"):
            assert (out / "charts" / f"{name}.{kind}").stat().st_size > 1000
    assert "chain intact" in text
    con = duckdb.connect(str(out / "hub.duckdb"), read_only=True)
    assert con.execute("SELECT count(DISTINCT agency) FROM person_record").fetchall() == [(13,)]
    kinds = con.execute("SELECT kind FROM link_run ORDER BY started_at").fetchall()
    assert kinds == [("full",), ("incremental",), ("incremental",)]
    # One account per role, each with an owner-only token file that signs the CLI in.
    assert "Demo accounts, one per role" in text
    tokens = out / "tokens"
    names = {"analyst", "researcher", "caseworker", "doc-caseworker", "fcs-steward",
             "hfs-steward", "sud-steward", "operator-steward", "linkage-steward",
             "privacy-officer", "administrator"}  # fmt: skip
    assert {p.name for p in tokens.iterdir()} == names
    for path in tokens.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text().strip() in text  # printed with its account
    monkeypatch.setenv("CROSSWALK_SECRETS", str(out / "secrets"))
    control = f"sqlite:///{out / 'control.db'}"
    officer = ["--token-file", str(tokens / "privacy-officer"), "--control", control]
    assert run(["audit", "purposes", *officer, "--json"]) == 0
    assert '"program_evaluation"' in capsys.readouterr().out  # the analyst's questions
    assert run(["audit", "verify", "--control", control]) == 0
    from crosswalk.audit import AuditLog

    users = {e["user"] for e in AuditLog(control).entries() if e["action"] == "data.read"}
    assert users >= {"bob", "ana", "rae", "sud.steward", "cdo.privacy"}
