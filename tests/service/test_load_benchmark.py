"""The service's load benchmark in its smallest size, so that its code keeps working, and
its audit check, which must catch a lost or moved entry.

Nothing here is timed: the run checks what the benchmark checks after every run, that
the audit log verifies and holds one entry for each request every client made, in the
order each made them (``bench/bench_service.py``; the figures are in docs/benchmarks.md).
"""

import pytest
from bench import bench_service

from crosswalk.audit import AuditLog, DataRead


def _read(user: str, enterprise_id: str) -> DataRead:
    return DataRead(
        user, "fcs", "caseworker", "care_coordination", {"enterprise_ids": [enterprise_id]}, {}, 1
    )


@pytest.fixture
def plan():
    return {
        "person": [{"user": "bench.caseworker00", "token": "", "asks": ["P1", "P2", "P3"]}],
        "overlap": [],
    }


def test_the_audit_check_passes_entries_in_the_order_asked(tmp_path, plan):
    control, secrets = f"sqlite:///{tmp_path}/control.db", tmp_path / "secrets"
    log = AuditLog(control, secrets=secrets)
    for p in ["P1", "P2", "P3", "P1"]:
        log.record(_read("bench.caseworker00", p))
    check = bench_service.audit_check(control, secrets, plan, {"bench.caseworker00": 4})
    assert check.ok and check.entries == {"person": 4, "overlap": 0}


@pytest.mark.parametrize(
    ("written", "answered", "problem"),
    [
        (["P1", "P3"], 2, "entry 2 is data.read of P3, not a read of P2"),
        (["P2", "P1"], 2, "entry 1 is data.read of P2, not a read of P1"),
        (["P1", "P2"], 3, "2 entries for 3 requests"),
        (["P1", "P2", "P3"], 2, "3 entries for 2 requests"),
    ],
)
def test_the_audit_check_finds_a_lost_moved_or_extra_entry(
    tmp_path, plan, written, answered, problem
):
    control, secrets = f"sqlite:///{tmp_path}/control.db", tmp_path / "secrets"
    log = AuditLog(control, secrets=secrets)
    for p in written:
        log.record(_read("bench.caseworker00", p))
    check = bench_service.audit_check(control, secrets, plan, {"bench.caseworker00": answered})
    assert not check.ok
    assert any(problem in p for p in check.lost_or_moved), check.lost_or_moved


@pytest.mark.slow
def test_under_load_no_audit_entry_is_lost_or_moved(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    (lookups, overlap, in_process), check = bench_service.run("tiny", out=tmp_path / "run")
    assert check.verified, check.problem
    assert not check.lost_or_moved
    for load in (lookups, overlap, in_process):
        assert load.requests > 0 and load.failures == 0, load
    assert check.entries == {"person": lookups.requests, "overlap": overlap.requests}
