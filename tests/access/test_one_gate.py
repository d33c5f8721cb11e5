"""No exceptions to the one gate: ingest lineage (`crosswalk batches`, `--issues`) and the
linkage evaluation read the hub only for a principal, under a decision, audited."""

import json

import duckdb
import pytest

import crosswalk.identity
import crosswalk.ingest
from crosswalk.access import Gate
from crosswalk.agreement import Principal
from crosswalk.audit import AuditLog
from crosswalk.cli import run
from crosswalk.errors import AccessDenied

LINKAGE = Principal("cdo.linkage", "cdo", "linkage_steward")


@pytest.fixture
def steward(signed_in, control):
    return signed_in("fcs.steward", "fcs", "steward", control=control)


def entries(control):
    return [json.loads(e["body"]) for e in AuditLog(control).entries()]


def test_the_ungated_readers_are_gone_from_the_public_surface():
    for name in ("batches", "batch_issues"):
        assert not hasattr(crosswalk.ingest, name) and name not in crosswalk.ingest.__all__
    assert "evaluate" not in crosswalk.identity.__all__
    assert not callable(getattr(crosswalk.identity, "evaluate", None))


@pytest.mark.parametrize("argv", [["batches"], ["batches", "--issues"]])
def test_lineage_without_a_signed_in_account_is_refused(hub, control, capsys, argv):
    assert run([*argv, "--hub", str(hub), "--control", control, "--json"]) == 3
    captured = capsys.readouterr()
    assert captured.out == "" and "not signed in" in captured.err


def test_a_steward_sees_only_their_own_agency_and_it_is_audited(hub, control, capsys, steward):
    argv = ["batches", *steward, "--hub", str(hub), "--control", control, "--json"]
    assert run(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {r["agency"] for r in rows} == {"fcs"}
    issues = ["batches", "--issues", *steward, "--hub", str(hub), "--control", control, "--json"]
    assert run(issues) == 0
    flagged = json.loads(capsys.readouterr().out)
    assert {r["agency"] for r in flagged} <= {"fcs"}
    reads = [e for e in entries(control) if e["action"] == "data.read"]
    assert [e["objects"]["lineage"] for e in reads] == ["batches", "issues"]
    assert all(e["user"] == "fcs.steward" and e["objects"]["agency"] == "fcs" for e in reads)


def test_another_agencys_batch_shows_no_issues(hub, control, capsys, steward):
    con = duckdb.connect(str(hub), read_only=True)
    [(sud_batch,)] = con.execute("SELECT batch_id FROM batch WHERE agency = 'sud'").fetchall()
    con.close()
    argv = ["batches", "--issues", "--batch", sud_batch, *steward, "--hub", str(hub),
            "--control", control, "--json"]  # fmt: skip
    assert run(argv) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_a_caseworker_may_not_read_lineage_and_the_refusal_is_audited(
    hub, control, capsys, signed_in
):
    ana = signed_in("ana", "fcs", "caseworker", control=control)
    argv = ["batches", *ana, "--purpose", "care_coordination", "--hub", str(hub),
            "--control", control]  # fmt: skip
    assert run(argv) == 3
    assert capsys.readouterr().out == ""
    [denied] = [e for e in entries(control) if e["action"] == "data.denied"]
    assert denied["user"] == "ana" and denied["objects"]["lineage"] == "batches"


def test_linkage_evaluation_is_for_linkage_stewards_and_audited(hub, control):
    truth = hub.parent / "state" / "truth"
    gate = Gate(hub, control)
    with pytest.raises(AccessDenied):
        gate.evaluate_linkage(Principal("ada", "hfs", "analyst"), "program_evaluation", truth)
    scored = gate.evaluate_linkage(LINKAGE, "linkage_review", truth)
    assert scored.records > 0 and scored.pairwise_f1 > 0.9
    denied, read = [e for e in entries(control) if e["action"].startswith("data.")]
    assert denied["action"] == "data.denied" and denied["user"] == "ada"
    assert read["action"] == "data.read" and read["user"] == "cdo.linkage"
    assert read["rows"] == scored.records and "sud" not in read["objects"]["agencies"]


def test_a_crafted_truth_file_cannot_ask_whether_a_client_is_in_treatment(hub, control, tmp_path):
    """A truth file that pairs one person's SUD record with their record elsewhere would,
    scored over every record, say whether the two were linked: that is, whether the person
    is in substance-use treatment. Part 2 records are outside the evaluation."""
    con = duckdb.connect(str(hub), read_only=True)
    sud_key, other_key = con.execute(
        """SELECT s.record_key, o.record_key FROM person_index s JOIN person_index o
           USING (enterprise_id) WHERE s.agency = 'sud' AND o.agency = 'fcs' LIMIT 1"""
    ).fetchone()
    con.close()
    crafted = tmp_path / "truth.csv"
    rows = [(k.split(":", 1)[0], k.split(":", 1)[1], "T1") for k in (sud_key, other_key)]
    crafted.write_text(
        "agency,source_record_id,entity_id\n" + "".join(f"{a},{s},{e}\n" for a, s, e in rows)
    )
    scored = Gate(hub, control).evaluate_linkage(LINKAGE, "linkage_review", crafted)
    assert scored.records == 1 and scored.true_pairs == 0 and scored.true_positive_pairs == 0


def test_link_evaluate_signs_in_as_a_linkage_steward_before_the_run(
    hub, tmp_path, capsys, control, signed_in
):
    copy = tmp_path / "hub.duckdb"
    copy.write_bytes(hub.read_bytes())
    truth = hub.parent / "state" / "truth"
    argv = ["link", "--hub", str(copy), "--evaluate", str(truth), "--control", control]
    assert run(argv) == 3
    assert "not signed in" in capsys.readouterr().err
    ada = signed_in("ada", "hfs", "analyst", control=control)
    assert run([*argv, *ada]) == 3  # an analyst's purposes do not include linkage review
    assert "no clause of the agreement lets ada" in " ".join(capsys.readouterr().err.split())
    runs = [e for e in entries(control) if e["action"].startswith("identity.link")]
    assert runs == []  # refused before the run: no linkage
