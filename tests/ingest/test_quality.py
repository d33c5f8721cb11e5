"""Batch quality: flag counts per field and rule, the mapping's quality gate, --check,
range checks on events, and a hint when a file's kind cannot be told."""

import duckdb
import pytest
from tests.ingest.conftest import MAPPING, snapshot, write

from crosswalk.audit import AuditLog
from crosswalk.errors import MappingError, QualityGateError
from crosswalk.ingest import ingest, parse_mapping
from crosswalk.ingest.quality import Issue

HEADER = "id,name,dob,sex,ssn,phone\n"
# Forty clients whose DOBs are day-first: the mapping's month-first format fails on 38.
CLIENTS = (
    HEADER
    + "".join(f'{i},"DOE{i}, JO",{13 + i % 15}/01/1990,M,,\n' for i in range(1, 39))
    + '39,"ROE, AL",01/02/1990,M,,\n40,"POE, AN",03/04/1980,F,,\n'
)
EVENTS = "event,id,program,start,end,amount\n"


def mapping(quality=""):
    return parse_mapping(MAPPING + quality, "fcs.yaml")


def test_every_batch_reports_its_flags_per_field_and_rule(tmp_path):
    result = ingest(
        "fcs",
        [write(tmp_path / "clients.csv", CLIENTS)],
        hub=tmp_path / "h.duckdb",
        mapping=mapping(),
    )
    f = result.files[0]
    assert (f.rows_read, f.rows_accepted) == (40, 40)
    assert Issue("dob", "dob_unparseable", 38, False) in f.issues
    (warning,) = [w for w in result.warnings if w.field == "dob"]
    assert "38 of 40 rows (95%)" in warning.message and "allows 5%" in warning.message
    assert warning.file == str(tmp_path / "clients.csv")


def test_the_quality_gate_can_refuse_the_whole_batch(tmp_path):
    hub = tmp_path / "h.duckdb"
    ingest(
        "fcs",
        [write(tmp_path / "first.csv", HEADER + '99,"X, Y",01/02/1990,M,,\n')],
        hub=hub,
        mapping=mapping(),
        kinds=["clients"],
    )
    before = snapshot(hub)
    control = f"sqlite:///{tmp_path}/control.db"
    entries = len(AuditLog(control).entries())
    with pytest.raises(QualityGateError) as err:
        ingest(
            "fcs",
            [write(tmp_path / "clients.csv", CLIENTS)],
            hub=hub,
            mapping=mapping("quality:\n  on_breach: refuse\n"),
            control=control,
        )
    assert snapshot(hub) == before, "a refused batch loads nothing"
    (problem,) = err.value.problems
    assert (problem.field, problem.rule) == ("dob", "max_flagged_share")
    assert "nothing was loaded" in str(err.value)
    actions = [e["action"] for e in AuditLog(control).entries()[entries:]]
    assert "ingest.batch" not in actions


def test_a_per_field_limit_overrides_the_default(tmp_path):
    gate = "quality:\n  on_breach: refuse\n  fields: {dob: 0.99}\n"
    result = ingest(
        "fcs",
        [write(tmp_path / "clients.csv", CLIENTS)],
        hub=tmp_path / "h.duckdb",
        mapping=mapping(gate),
    )
    assert result.batch_id and not [w for w in result.warnings if w.field == "dob"]


def test_a_field_empty_for_the_whole_batch_warns_or_refuses(tmp_path):
    path = write(
        tmp_path / "clients.csv",
        HEADER + '1,"DOE, JO",01/02/1990,M,,\n2,"ROE, AL",01/02/1990,M,,\n',
    )
    result = ingest("fcs", [path], hub=tmp_path / "a.duckdb", mapping=mapping())
    assert {w.field for w in result.warnings if w.rule == "empty_field"} == {"ssn", "phone"}
    with pytest.raises(QualityGateError) as err:
        ingest(
            "fcs",
            [path],
            hub=tmp_path / "b.duckdb",
            mapping=mapping("quality:\n  empty_field: refuse\n"),
        )
    assert {p.field for p in err.value.problems} == {"ssn", "phone"}


def test_an_unknown_field_in_the_gate_is_a_mapping_error():
    with pytest.raises(MappingError) as err:
        mapping("quality:\n  fields: {birthday: 0.1}\n")
    assert err.value.problems[0].field == "quality.fields"


def test_check_reports_everything_and_writes_nothing(tmp_path):
    hub = tmp_path / "h.duckdb"
    first = write(tmp_path / "first.csv", HEADER + '1,"X, Y",01/02/1990,M,,\n')
    ingest("fcs", [first], hub=hub, mapping=mapping(), kinds=["clients"])
    before = snapshot(hub)
    control = f"sqlite:///{tmp_path}/control.db"
    entries = len(AuditLog(control).entries())
    result = ingest(
        "fcs",
        [write(tmp_path / "clients.csv", CLIENTS)],
        hub=hub,
        mapping=mapping("quality:\n  on_breach: refuse\n"),
        control=control,
        check=True,
    )
    assert result.checked and result.batch_id is None
    assert snapshot(hub) == before and len(AuditLog(control).entries()) == entries
    issues = result.files[0].issues
    assert Issue("dob", "dob_unparseable", 37, False) in issues  # and row 1, quarantined
    # Checked against what the hub holds: client 1 is already loaded.
    assert Issue("source_record_id", "duplicate_source_id", 1, True) in issues
    assert [p.field for p in result.refusals] == ["dob"]


def test_check_does_not_create_a_hub(tmp_path):
    hub = tmp_path / "new.duckdb"
    result = ingest(
        "fcs", [write(tmp_path / "clients.csv", CLIENTS)], hub=hub, mapping=mapping(), check=True
    )
    assert result.files[0].rows_read == 40 and not hub.exists()


def test_the_cli_check_prints_the_flags_and_fails_when_the_gate_would_refuse(tmp_path, capsys):
    from crosswalk.cli import run

    (tmp_path / "fcs.yaml").write_text(MAPPING + "quality:\n  on_breach: refuse\n")
    path = write(tmp_path / "clients.csv", CLIENTS)
    code = run(
        [
            "ingest",
            "fcs",
            str(path),
            "--hub",
            str(tmp_path / "h.duckdb"),
            "--mapping",
            str(tmp_path / "fcs.yaml"),
            "--check",
        ]
    )
    out = capsys.readouterr()
    assert code == 2
    assert "dob_unparseable" in out.out and "Check only: nothing was written" in out.out
    assert "would refuse" in out.err
    assert not (tmp_path / "h.duckdb").exists()


def test_event_dates_and_amounts_are_range_checked(tmp_path):
    hub = tmp_path / "h.duckdb"
    c = write(tmp_path / "clients.csv", HEADER + '1,"DOE, JO",01/02/1990,M,,\n')
    e = write(
        tmp_path / "events.csv",
        EVENTS
        + "E1,1,FS,01/01/0001,,\n"
        + "E2,1,FS,12/31/9999,,\n"
        + "E3,1,FS,01/01/2020,12/31/9999,\n"
        + "E4,1,FS,01/01/2020,,-5\n"
        + "E5,1,FS,01/01/2020,,99999999\n"
        + "E6,1,FS,01/01/2020,02/01/2020,120.50\n",
    )
    result = ingest("fcs", [c, e], hub=hub, mapping=mapping())
    con = duckdb.connect(str(hub), read_only=True)
    q = con.execute("SELECT source_row, field, value, rule FROM quarantine ORDER BY 1").fetchall()
    assert q == [
        (1, "start", "01/01/0001", "date_out_of_range"),
        (2, "start", "12/31/9999", "date_out_of_range"),
    ]
    kept = con.execute(
        "SELECT source_event_id, end_date, amount, flags FROM service_event ORDER BY 1"
    ).fetchall()
    assert [(k[0], k[3]) for k in kept] == [
        ("E3", ["end_date_out_of_range"]),
        ("E4", ["amount_out_of_range"]),
        ("E5", ["amount_out_of_range"]),
        ("E6", []),
    ]
    assert kept[0][1] is None and kept[1][2] is None and kept[2][2] is None
    assert float(kept[3][2]) == 120.5
    events = next(f for f in result.files if f.kind == "events")
    assert Issue("start_date", "date_out_of_range", 2, True) in events.issues


def test_a_file_whose_kind_cannot_be_told_gets_a_hint(tmp_path):
    path = write(tmp_path / "extract.csv", EVENTS + "E1,1,FS,01/01/2020,,\n")
    with pytest.raises(MappingError) as err:
        ingest("fcs", [path], hub=tmp_path / "h.duckdb", mapping=mapping())
    assert "--kind events" in str(err.value) and "guessed as clients" in str(err.value)


def test_the_counts_are_kept_with_the_batch(tmp_path, capsys, signed_in):
    import json
    import os

    from crosswalk.access import lineage
    from crosswalk.agreement import Principal
    from crosswalk.cli import run
    from crosswalk.hub import Hub

    hub = tmp_path / "h.duckdb"
    result = ingest("fcs", [write(tmp_path / "clients.csv", CLIENTS)], hub=hub, mapping=mapping())
    steward = Principal("fcs.steward", "fcs", "steward")
    with Hub(hub, shared=False) as the_hub:
        rows = lineage.batch_issues(the_hub, steward, "operations", "fcs", result.batch_id)
    assert {(r["field"], r["rule"], r["rows"], r["share"], r["outcome"]) for r in rows} >= {
        ("dob", "dob_unparseable", 38, 0.95, "flagged")
    }
    control = os.environ["CROSSWALK_CONTROL"]
    flags = [*signed_in("fcs.steward", "fcs", "steward", control=control), "--control", control]
    argv = ["batches", "--issues", "--batch", result.batch_id, "--hub", str(hub), *flags]
    assert run([*argv, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert any(r["rule"] == "dob_unparseable" and r["batch_id"] == result.batch_id for r in shown)


def test_check_of_a_correction_batch_leaves_the_batch_it_would_replace(tmp_path):
    hub = tmp_path / "h.duckdb"
    first = ingest("fcs", [write(tmp_path / "clients.csv", CLIENTS)], hub=hub, mapping=mapping())
    before = snapshot(hub)
    fixed = write(tmp_path / "fixed.csv", HEADER + '1,"DOE, JOAN",01/02/1990,F,,\n')
    result = ingest(
        "fcs",
        [fixed],
        hub=hub,
        mapping=mapping(),
        kinds=["clients"],
        replace=first.batch_id,
        check=True,
    )
    assert result.checked and result.files[0].rows_accepted == 1  # its client 1 is replaced
    assert snapshot(hub) == before
