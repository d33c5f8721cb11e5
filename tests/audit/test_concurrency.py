"""Concurrent writers queue for the log instead of being refused: a refused append is a
refused read."""

import multiprocessing

from tests.audit.conftest import read

from crosswalk.audit import AuditLog
from crosswalk.errors import AuditUnavailable

WRITERS = 8
APPENDS = 25


def _append_many(url: str, options: dict, writer: int, failures) -> None:
    log = AuditLog(url, checkpoint_every=10, **options)
    for i in range(APPENDS):
        try:
            log.record(read(writer * 1000 + i))
        except AuditUnavailable:
            failures.put(writer)


def refused_appends(ctx, url: str, options: dict) -> int:
    """Run WRITERS processes of APPENDS appends each at once; how many were refused."""
    failures = ctx.Queue()
    writers = [
        ctx.Process(target=_append_many, args=(url, options, w, failures)) for w in range(WRITERS)
    ]
    for p in writers:
        p.start()
    for p in writers:
        p.join(timeout=300)
    assert all(p.exitcode == 0 for p in writers)
    refused = 0
    while not failures.empty():
        failures.get()
        refused += 1
    return refused


def test_eight_processes_append_without_refusals(tmp_path):
    url = f"sqlite:///{tmp_path}/control.db"
    options = {"secrets": str(tmp_path / "secrets")}
    AuditLog(url, **options).public_key()  # the schema and key exist before the race
    refused = refused_appends(multiprocessing.get_context("fork"), url, options)
    assert refused == 0, f"{refused} of {WRITERS * APPENDS} appends were refused"
    result = AuditLog(url, **options).verify()
    assert result.ok, result.problem
    assert result.entries == WRITERS * APPENDS
    assert result.checkpoints == WRITERS * APPENDS // 10
