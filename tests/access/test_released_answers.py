"""A repeated aggregate question returns the table released before, and the attacks on
that: a kept answer reaches no principal the gate refuses, crosses no purpose, grant or
decision, and outlives no change of the hub, the agreement, the day or the cell key."""

import importlib.resources
import json
import shutil
from datetime import date

import pytest
from tests.grants import granted

from crosswalk.access import Gate
from crosswalk.access import gate as gate_module
from crosswalk.agreement import Principal
from crosswalk.analytics import Filters, ProgramOverlap
from crosswalk.audit import AuditLog
from crosswalk.audit.keys import CELL_KEY_FILE
from crosswalk.errors import AccessDenied
from crosswalk.hub import Hub

ADA = Principal("ada", "cdo", "analyst")
BEN = Principal("ben", "hfs", "analyst")
QUESTION = ProgramOverlap(Filters(start=date(2019, 1, 1), end=date(2019, 12, 31)))


@pytest.fixture
def counted(monkeypatch):
    """How many times the gate counted a question over the hub."""
    calls = []
    real = gate_module.run_counts

    def counting(con, sql, secret):
        calls.append(sql)
        return real(con, sql, secret)

    monkeypatch.setattr(gate_module, "run_counts", counting)
    return calls


@pytest.fixture
def own_hub(hub, tmp_path):
    """A copy of the linked hub that a test may write."""
    copy = tmp_path / "hub.duckdb"
    shutil.copy(hub, copy)
    return copy


def reads(control):
    return [
        json.loads(e["body"]) for e in AuditLog(control).entries() if e["action"] == "data.read"
    ]


def test_a_repeat_is_the_same_table_counted_once_and_audited_each_time(hub, control, counted):
    with Hub(hub, control) as the_hub:
        gate = Gate(the_hub)
        first = gate.aggregate(ADA, "program_evaluation", QUESTION)
        again = gate.aggregate(ADA, "program_evaluation", QUESTION)
        other = gate.aggregate(BEN, "program_evaluation", QUESTION)
    assert len(counted) == 1
    assert again.table.equals(first.table) and other.table.equals(first.table)
    entries = reads(control)
    assert [e["user"] for e in entries] == ["ada", "ada", "ben"]
    # What a privacy officer reads: the repeat released nothing new, cell for cell.
    history = [e["objects"]["protection"]["history"] for e in entries]
    assert history[0] == {"repeated": 0, "near": 0}
    assert history[1]["repeated"] > 0 and history[1] == history[2]


def test_a_kept_answer_reaches_no_principal_the_gate_refuses(hub, control, counted):
    with Hub(hub, control) as the_hub:
        gate = Gate(the_hub)
        gate.aggregate(ADA, "program_evaluation", QUESTION)
        for refused, purpose in (
            (Principal("cal", "fcs", "caseworker"), "program_evaluation"),
            (ADA, "care_coordination"),
            (ADA, "research"),  # by request only: no grant
        ):
            with pytest.raises(AccessDenied):
                gate.aggregate(refused, purpose, QUESTION)
    assert len(counted) == 1
    denied = [e for e in AuditLog(control).entries() if e["action"] == "data.denied"]
    assert len(denied) == 3


def test_a_kept_answer_crosses_no_purpose_or_grant(hub, control, counted):
    rae, sam = Principal("rae", "cdo", "researcher"), Principal("sam", "cdo", "researcher")
    with Hub(hub, control) as the_hub:
        gate = Gate(the_hub)
        gate.aggregate(rae, "program_evaluation", QUESTION)
        for who in (rae, sam):
            granted(gate, who, "research", QUESTION.elements, level="aggregate")
        gate.aggregate(rae, "research", QUESTION)
        gate.aggregate(sam, "research", QUESTION)
        gate.aggregate(sam, "research", QUESTION)
    # Each grant is a decision of its own: counted once per grant, never shared.
    assert len(counted) == 3


def test_a_revoked_grant_is_refused_though_its_answer_is_kept(hub, control, counted):
    rae = Principal("rae", "cdo", "researcher")
    with Hub(hub, control) as the_hub:
        gate = Gate(the_hub)
        request = granted(gate, rae, "research", QUESTION.elements, level="aggregate")
        gate.aggregate(rae, "research", QUESTION)
        steward = f"{request.agencies[0]}.steward"
        gate.revoke_grant(steward, request.request_id, "project ended")
        with pytest.raises(AccessDenied):
            gate.aggregate(rae, "research", QUESTION)
    assert len(counted) == 1


def test_the_hub_changing_counts_again(own_hub, control, counted):
    with Hub(own_hub, control, writable=True) as the_hub:
        gate = Gate(the_hub)
        before = gate.aggregate(ADA, "program_evaluation", QUESTION)
        # A change of what the question counts, as a batch or a linkage run makes it.
        with the_hub.write() as writer:
            writer.execute("DELETE FROM linked_event WHERE program = 'SNAP'")
        after = gate.aggregate(ADA, "program_evaluation", QUESTION)
        assert gate.aggregate(ADA, "program_evaluation", QUESTION).table.equals(after.table)
    assert len(counted) == 2
    assert not after.table.equals(before.table)


def test_a_new_agreement_version_counts_again(hub, control, counted, tmp_path):
    text = importlib.resources.files("crosswalk.agreement").joinpath("emou.yaml").read_text()
    amendment = tmp_path / "emou-v2.yaml"
    amendment.write_text(text.replace("version: 1\n", "version: 2\n", 1), encoding="utf-8")
    with Hub(hub, control) as the_hub:
        gate = Gate(the_hub)
        gate.aggregate(ADA, "program_evaluation", QUESTION)
        gate.agreement_load("cdo.steward", amendment)
        gate.aggregate(ADA, "program_evaluation", QUESTION)
    assert len(counted) == 2


def test_another_day_or_cell_key_counts_again(hub, control, counted, clock_at, tmp_path):
    with Hub(hub, control) as the_hub:
        gate = Gate(the_hub)
        gate.aggregate(ADA, "program_evaluation", QUESTION)
        clock_at(date(2025, 6, 2))
        gate.aggregate(ADA, "program_evaluation", QUESTION)
        assert len(counted) == 2
        key = the_hub.secrets / CELL_KEY_FILE
        key.write_text("ab" * 32)  # the cell key replaced
        gate.aggregate(ADA, "program_evaluation", QUESTION)
    assert len(counted) == 3


def test_a_hub_opened_for_each_read_keeps_nothing(hub, control, counted):
    gate = Gate(Hub(hub, control, shared=False))
    gate.aggregate(ADA, "program_evaluation", QUESTION)
    gate.aggregate(ADA, "program_evaluation", QUESTION)
    assert len(counted) == 2
