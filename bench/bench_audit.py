"""The audit log: appends (one writer, and eight processes at once) and a full verify.

Each append is one signed, hash-chained entry in its own SQLite transaction (as every
read through the gate writes one); verify re-hashes every entry, checks its Ed25519
signature and link, and compares the log with every checkpoint. A fresh control plane in
a temporary folder; wall clock. Baseline in the same run: the same bodies inserted with
plain ``sqlite3``, one transaction each, unhashed and unsigned (what a commit costs on
this disk).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.harness import machine
from crosswalk.audit import AuditLog, DataRead

SIZES = {"small": 2_000, "full": 20_000}
WRITERS = 8


def _event(i: int) -> DataRead:
    return DataRead(
        f"user{i % 50}",
        "fcs",
        "caseworker",
        "care_coordination",
        {"enterprise_ids": [f"P{i:010d}"], "datasets": ["fcs.clients", "fcs.events"]},
        {"granted": ["fcs.clients"], "reasons": ["clause 4.2"]},
        i % 7,
    )


def _append(url: str, secrets: str, start: int, count: int) -> None:
    log = AuditLog(url, secrets=secrets)
    for i in range(start, start + count):
        log.record(_event(i))


def main(size: str = "full") -> None:
    n = SIZES[size]
    print(f"machine: {machine()}")
    print("| step | entries | seconds | per entry |")
    print("| --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        secrets = str(Path(tmp) / "secrets")
        one = f"sqlite:///{tmp}/one.db"
        AuditLog(one, secrets=secrets).public_key()
        start = time.perf_counter()
        _append(one, secrets, 0, n)
        _row("append, one writer", n, time.perf_counter() - start)

        many = f"sqlite:///{tmp}/many.db"
        AuditLog(many, secrets=secrets).public_key()
        ctx = mp.get_context("fork")
        share = n // WRITERS
        procs = [
            ctx.Process(target=_append, args=(many, secrets, w * share, share))
            for w in range(WRITERS)
        ]
        start = time.perf_counter()
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        _row(f"append, {WRITERS} processes at once", share * WRITERS, time.perf_counter() - start)
        if any(p.exitcode for p in procs):
            raise SystemExit("a writer failed")

        con = sqlite3.connect(f"{tmp}/plain.db", isolation_level=None)
        con.execute("CREATE TABLE entry (seq INTEGER PRIMARY KEY, body TEXT)")
        start = time.perf_counter()
        for i in range(n):
            con.execute("BEGIN IMMEDIATE")
            con.execute("INSERT INTO entry (body) VALUES (?)", [json.dumps(_event(i).payload())])
            con.execute("COMMIT")
        _row("baseline: plain insert, one transaction each", n, time.perf_counter() - start)
        con.close()

        log = AuditLog(one, secrets=secrets)
        start = time.perf_counter()
        result = log.verify()
        _row(
            f"verify ({result.checkpoints} checkpoints)",
            result.entries,
            time.perf_counter() - start,
        )
        if not result.ok:
            raise SystemExit(f"verify failed: {result.problem}")


def _row(step: str, entries: int, seconds: float) -> None:
    print(
        f"| {step} | {entries:,} | {seconds:.2f} | {seconds / entries * 1e3:.2f} ms |", flush=True
    )
