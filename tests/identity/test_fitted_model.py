"""The model fits the records it is given: any subset of identifiers links, an empty field
is left out with a message, and data that cannot be linked fails cleanly."""

import json

import duckdb
import pytest
from tests.evaluation import evaluate_index

from crosswalk.errors import LinkageError
from crosswalk.identity import link


def _blank(hub, *columns):
    con = duckdb.connect(str(hub))
    con.execute(f"UPDATE person_record SET {', '.join(f'{c} = NULL' for c in columns)}")
    con.close()


def _hub_state(hub):
    con = duckdb.connect(str(hub), read_only=True)
    state = {
        "index": con.execute(
            "SELECT record_key, enterprise_id FROM person_index ORDER BY 1"
        ).fetchall(),
        "runs": con.execute("SELECT run_id, finished_at FROM link_run ORDER BY 1").fetchall(),
        "models": con.execute("SELECT count(*) FROM link_model").fetchall()[0][0],
        "tables": sorted(
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ),
    }
    con.close()
    return state


@pytest.mark.parametrize(
    ("columns", "left_out", "f1"),
    [
        (("ssn", "ssn_last4"), ["ssn", "ssn_last4"], 0.97),
        (("ssn",), ["ssn"], 0.98),  # last four only
        (("dob", "birth_year"), ["dob"], 0.98),  # 0.986: household members refused undated
        (("county",), ["county"], 0.98),
        (("phone", "medicaid_id"), ["phone", "medicaid_id"], 0.98),
        (("ssn", "ssn_last4", "county", "phone", "medicaid_id"), ["ssn", "county"], 0.96),
    ],
    ids=[
        "no-ssn",
        "last-four-only",
        "no-dob",
        "no-county",
        "no-phone-no-medicaid",
        "names-dob-address",
    ],
)
def test_any_subset_of_identifiers_links(linked_copy, columns, left_out, f1):
    root, hub = linked_copy
    _blank(hub, *columns)
    result = link(hub, full=True)
    for name in left_out:
        assert f"{name}: empty in every agency's records, left out" in result.messages
    assert all(result.coverage["share"][c] == 0 for c in columns if c != "birth_year")
    e = evaluate_index(root / "state" / "truth", hub)
    assert e.pairwise_f1 >= f1 and e.bcubed_f1 >= f1, e


def test_a_year_of_birth_without_a_dob_is_compared(linked_copy):
    """Records that give only a year of birth (or an age) link on it: blocking on names and
    years, and a DOB comparison that weighs the year where a side has no whole date."""
    root, hub = linked_copy
    con = duckdb.connect(str(hub))
    # Half the records keep only their year of birth.
    con.execute("UPDATE person_record SET dob = NULL WHERE hash(record_key) % 2 = 0")
    con.close()
    result = link(hub, full=True)
    assert any("hold only a year of birth, compared by year" in m for m in result.messages)
    assert result.coverage["share"]["dob_year"] > result.coverage["share"]["dob"] > 0
    e = evaluate_index(root / "state" / "truth", hub)
    assert e.pairwise_f1 >= 0.97 and e.bcubed_f1 >= 0.97, e


def test_coverage_is_measured_per_agency(linked):
    _, _, result = linked
    by_agency = result.coverage["by_agency"]
    assert set(by_agency) >= {"hfs", "fcs", "housing"}
    assert all(0 <= share <= 1 for shares in by_agency.values() for share in shares.values())
    # Agencies differ in what they hold: the model must not assume one agency's fields.
    assert len({shares["ssn"] for shares in by_agency.values()}) > 1


def test_records_that_cannot_be_linked_fail_clearly_and_leave_the_hub_as_it_was(linked_copy):
    _, hub = linked_copy
    before = _hub_state(hub)
    _blank(
        hub, "first_name", "first_name_canonical", "middle_name", "dob", "ssn", "ssn_last4",
        "address_line", "zip", "county", "phone", "medicaid_id", "name_suffix", "sex", "other_ids",
        "birth_year",
    )  # fmt: skip
    with pytest.raises(LinkageError, match="fewer than two usable fields") as raised:
        link(hub, full=True)
    assert "dob: empty in every agency's records, left out" in str(raised.value)
    assert _hub_state(hub) == before


def test_an_empty_hub_fails_clearly(tmp_path):
    with pytest.raises(LinkageError, match="fewer than two person records"):
        link(tmp_path / "hub.duckdb", control=f"sqlite:///{tmp_path}/control.db")


def test_a_run_stopped_midway_leaves_nothing_behind(linked_copy, monkeypatch):
    _, hub = linked_copy
    before = _hub_state(hub)

    def stop(*args, **kwargs):
        raise KeyboardInterrupt  # as if the run were stopped after scoring

    monkeypatch.setattr("crosswalk.identity.linked.refresh", stop)
    with pytest.raises(KeyboardInterrupt):
        link(hub, full=True)
    after = _hub_state(hub)
    assert after == before
    assert not [t for t in after["tables"] if t.startswith("__splink__") or t == "link_input"]


def test_cli_names_the_cause(tmp_path, monkeypatch, capsys):
    from crosswalk.cli import run

    monkeypatch.setenv("CROSSWALK_CONTROL", f"sqlite:///{tmp_path}/control.db")
    assert run(["link", "--hub", str(tmp_path / "hub.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "linkage cannot proceed: the hub holds fewer than two person records" in err
    assert "Traceback" not in err


def test_typed_identifiers_are_compared_and_block(linked_copy):
    root, hub = linked_copy
    _blank(hub, "ssn", "ssn_last4", "medicaid_id", "other_ids")
    link(hub, full=True)
    without = evaluate_index(root / "state" / "truth", hub)
    con = duckdb.connect(str(hub))
    # A state id on most records (the true person's), one character off on a few.
    con.execute(
        """UPDATE person_record p SET other_ids = [{'kind': 'state_id', 'value':
              CASE WHEN hash(p.record_key) % 20 = 0 THEN 'S' || (hash(t.person_id) % 1000000000 + 1)
                   ELSE 'S' || (hash(t.person_id) % 1000000000) END}]
        FROM read_parquet(?) t WHERE t.record_key = p.record_key AND hash(p.record_key) % 10 < 7""",
        [str(root / "state" / "truth" / "records.parquet")],
    )
    con.close()
    result = link(hub, full=True)
    assert result.coverage["share"]["other_ids"] > 0.6
    e = evaluate_index(root / "state" / "truth", hub)
    con = duckdb.connect(str(hub), read_only=True)
    plan = json.loads(
        con.execute("SELECT training FROM link_model ORDER BY version DESC LIMIT 1").fetchall()[0][
            0
        ]
    )
    con.close()
    assert "other_ids" in plan["comparisons"]
    rules = {r["rule"]: r for r in plan["pairs_by_rule"]}
    assert rules["other identifier"]["accepted"] > 0
    assert e.pairwise_f1 > without.pairwise_f1 and e.pairwise_f1 >= 0.985, (e, without)


def test_a_killed_run_leaves_the_hub_as_it_was(linked_copy):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    _, hub = linked_copy
    before = _hub_state(hub)
    scratch = Path(f"{hub}.link-scratch")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from crosswalk.identity import link; link(sys.argv[1], full=True)", str(hub)],
        env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not scratch.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before Splink started"
    time.sleep(0.5)  # well inside training
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after = _hub_state(hub)
    assert after == before  # no link_run row, no model version, the index untouched
    assert not [t for t in after["tables"] if t.startswith("__splink__") or t == "link_input"]
    result = link(hub)  # the next run clears what the killed one left beside the hub
    assert result.run_id and not scratch.exists()
