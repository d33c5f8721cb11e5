"""The service under load: person lookups and the overlap question through HTTP.

``crosswalk serve`` runs as its own process over a linked hub (synthetic state -> ingest
-> linkage, built once and kept in ``$BENCH_CACHE``, default ``<tmp>/crosswalk-bench``);
locust (headless, its own process) drives it as real clients do: every request carries a
bearer token, is authenticated, decided by the gate under the agreement in force and
audited before it is answered.

- Person lookups: 16 clients, each a caseworker account of its own, each asking
  ``GET /persons/{id}`` for care coordination one after the other (no think time),
  cycling through persons of its own.
- The overlap question: 8 analysts, each asking ``POST /analytics/overlap`` for program
  evaluation over periods of its own.

After the run the audit log is verified (every hash, signature and link, and the
checkpoints) and compared with what the clients did: each client's entries must be all
of its requests, in the order it made them, so not one entry was lost, doubled or moved.

Baseline, in the same run: the same lookups made in-process (16 threads over one hub
object, each lookup authenticated, decided, read and audited as the service does it),
so the ratio is what HTTP, the framework and the separate processes cost. Beside the
times, the CPU seconds per request of the process answering (the service's, all its
threads, read by psutil; the in-process run's own): on a shared machine the times
depend on the load, the CPU much less.

``--size tiny`` (a 1,500-person hub, a few seconds of load) is what CI runs, through
``tests/bench/test_service_bench.py``: it checks the audit, not the times.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.harness import machine

LOOKUP_CLIENTS = 16
ANALYSTS = 8
SIZES: dict[str, dict[str, int]] = {
    "tiny": {"people": 1_500, "lookup_s": 3, "overlap_s": 2, "persons": 40},
    "small": {"people": 100_000, "lookup_s": 20, "overlap_s": 20, "persons": 500},
    "full": {"people": 1_000_000, "lookup_s": 60, "overlap_s": 60, "persons": 2_000},
}
PERIODS = [(f"{y}-01-01", f"{y}-12-31") for y in range(2012, 2024)]
LOAD = Path(__file__).with_name("service_load.py")
CASEWORKER = ("fcs", "caseworker")
ANALYST = ("cdo", "analyst")


@dataclass
class Load:
    """One locust run: what the clients counted."""

    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    per_user: dict[str, int] = field(default_factory=dict)  # requests answered per account
    cpu_s: float = float("nan")  # CPU seconds the answering process spent (all threads)
    worst: float = float("nan")  # the slowest request, ms

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_s * 1000 / self.requests if self.requests else float("nan")


@dataclass
class AuditCheck:
    """The audit log after the run, against what the clients did."""

    verified: bool
    problem: str | None
    entries: dict[str, int]  # kind of client -> entries of its accounts
    per_user: dict[str, int]  # account -> its entries
    lost_or_moved: list[str]

    @property
    def ok(self) -> bool:
        return self.verified and not self.lost_or_moved


def cache_root() -> Path:
    return Path(os.environ.get("BENCH_CACHE", Path(tempfile.gettempdir()) / "crosswalk-bench"))


def linked_hub(people: int) -> Path:
    """A linked hub of ``people`` synthetic people, built once and kept."""
    from crosswalk.identity import link
    from crosswalk.ingest import ingest_state
    from crosswalk.synth import small_state, synth

    root = cache_root() / f"service-{people}"
    hub = root / "hub.duckdb"
    if hub.exists():
        _migrated(hub)  # a hub kept from an earlier version gets the newest hub tables
        return hub
    root.mkdir(parents=True, exist_ok=True)
    building = root / "building"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    control = f"sqlite:///{building}/control.db"
    print(f"building a linked hub of {people:,} people in {root} (once)", flush=True)
    if people <= 5_000:
        small_state(str(building / "state"), people=people, seed=11)
    else:
        synth(people=people, seed=7, out=str(building / "state"))
    ingest_state(building / "state", hub=building / "hub.duckdb", control=control)
    link(building / "hub.duckdb", control=control)
    (building / "hub.duckdb").rename(hub)
    shutil.rmtree(building, ignore_errors=True)
    return hub


def _migrated(hub: Path) -> None:
    import duckdb

    from crosswalk.identity import store
    from crosswalk.ingest import hub as ingest_hub

    con = duckdb.connect(str(hub))
    try:
        ingest_hub.migrate(con)
        store.migrate(con)
    finally:
        con.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _persons(hub: Path, count: int) -> list[str]:
    """Persons a caseworker of fcs may see (each has a record of fcs or hfs), a fixed
    sample spread over the index."""
    import duckdb

    con = duckdb.connect(str(hub), read_only=True)
    try:
        rows = con.execute(
            """SELECT enterprise_id FROM person_index
            GROUP BY enterprise_id HAVING bool_or(agency IN ('fcs', 'hfs'))
            ORDER BY hash(enterprise_id) LIMIT ?""",
            [count],
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def _accounts(control: str, secrets: Path) -> dict[str, list[str]]:
    """One account and token per client: caseworkers of fcs, analysts of cdo."""
    import sqlalchemy as sa

    from crosswalk import migrations
    from crosswalk.accounts import Accounts, Actor
    from crosswalk.audit import AuditLog

    engine = sa.create_engine(control)
    migrations.upgrade(engine)
    accounts = Accounts(engine, AuditLog(engine, secrets=secrets))
    operator = Actor.host_operator()
    tokens: dict[str, list[str]] = {"person": [], "overlap": []}
    for kind, (agency, role), n in (
        ("person", CASEWORKER, LOOKUP_CLIENTS),
        ("overlap", ANALYST, ANALYSTS),
    ):
        for i in range(n):
            name = f"bench.{role}{i:02d}"
            accounts.add(operator, name, agency, [role])
            tokens[kind].append(accounts.create_token(operator, name)[1])
    engine.dispose()
    return tokens


def _serve(hub: Path, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "crosswalk", "serve", "--hub", str(hub), "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"crosswalk serve stopped at start:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("crosswalk serve did not answer within 300 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process so far, all its threads."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _locust(
    user: str,
    clients: int,
    seconds: int,
    url: str,
    plan: Path,
    out: Path,
    name: str,
    server: int | None = None,
) -> Load:
    result = out / f"{user}.json"
    env = {**os.environ, "BENCH_SERVICE_PLAN": str(plan), "BENCH_SERVICE_RESULT": str(result)}
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOAD),
        user,
        "--headless",
        "--users",
        str(clients),
        "--spawn-rate",
        str(clients),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "120",  # a request in flight when the time is up is answered and counted
        "--host",
        url,
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    cpu_before = _cpu_seconds(server) if server is not None else float("nan")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    cpu = (_cpu_seconds(server) if server is not None else float("nan")) - cpu_before
    if done.returncode != 0 or not result.exists():
        raise RuntimeError(f"locust failed ({done.returncode}):\n{done.stderr[-3000:]}")
    answered = json.loads(result.read_text())
    per_user: dict[str, int] = {}
    for account, _, _ in answered:
        per_user[account] = per_user.get(account, 0) + 1
    ms = sorted(t for _, t, _ in answered)
    return Load(
        name,
        len(answered),
        sum(1 for _, _, failed in answered if failed),
        len(answered) / seconds,
        _pct(ms, 50),
        _pct(ms, 95),
        _pct(ms, 99),
        per_user,
        cpu,
        ms[-1] if ms else float("nan"),
    )


def audit_check(
    control: str, secrets: Path, plan: dict[str, Any], answered: dict[str, int]
) -> AuditCheck:
    """Verify the log; then each client's entries against the requests it made: as many
    as it had answered (``answered``, per account), each a read of what it asked next."""
    import sqlalchemy as sa

    from crosswalk.audit import AuditLog
    from crosswalk.audit.log import audit_entry

    engine = sa.create_engine(control)
    log = AuditLog(engine, secrets=secrets)
    verification = log.verify()
    users = {c["user"]: (kind, c) for kind, clients in plan.items() for c in clients}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                audit_entry.c.seq, audit_entry.c.user, audit_entry.c.action, audit_entry.c.body
            )
            .where(audit_entry.c.user.in_(list(users)))
            .order_by(audit_entry.c.seq)
        ).all()
    engine.dispose()
    seen: dict[str, list[Any]] = {u: [] for u in users}
    for _, user, action, body in rows:
        objects = json.loads(body).get("objects", {})
        if users[user][0] == "person":
            seen[user].append((action, (objects.get("enterprise_ids") or [None])[0]))
        else:
            seen[user].append((action, None))
    problems = []
    entries = {"person": 0, "overlap": 0}
    for user, (kind, client) in users.items():
        got = seen[user]
        entries[kind] += len(got)
        if len(got) != answered.get(user, 0):
            problems.append(f"{user}: {len(got)} entries for {answered.get(user, 0)} requests")
        asks = client["asks"]
        for i, (action, asked) in enumerate(got):
            want = asks[i % len(asks)] if kind == "person" else None
            if action != "data.read" or asked != want:
                problems.append(
                    f"{user}: entry {i + 1} is {action} of {asked}, not a read of {want}"
                )
                break
    return AuditCheck(
        verification.ok,
        verification.problem,
        entries,
        {u: len(got) for u, got in seen.items()},
        problems,
    )


def in_process(
    hub: Path, control: str, secrets: Path, plan: dict[str, Any], seconds: float
) -> Load:
    """The same lookups without HTTP: 16 threads over one hub object, each lookup
    authenticated, its principal chosen, decided, read and audited (what the operation
    does), for ``seconds``."""
    from crosswalk import clock
    from crosswalk.access import Gate
    from crosswalk.accounts import Accounts
    from crosswalk.agreement import agreement_in_force
    from crosswalk.hub import Hub

    the_hub = Hub(hub, control, secrets)
    accounts = Accounts(the_hub.control, the_hub.audit)
    gate = Gate(the_hub)
    times: list[list[float]] = [[] for _ in plan["person"]]
    failures = [0]
    stop = threading.Event()

    def client(i: int) -> None:
        me = plan["person"][i]
        n = 0
        while not stop.is_set():
            enterprise_id = me["asks"][n % len(me["asks"])]
            n += 1
            t = time.perf_counter()
            try:
                caller = accounts.authenticate(me["token"], "127.0.0.1")
                agreement = agreement_in_force(clock.today(), the_hub.control)
                principal = caller.principal(agreement, "care_coordination", None)
                gate.person(principal, "care_coordination", enterprise_id, "identified")
            except Exception:
                failures[0] += 1
            times[i].append(time.perf_counter() - t)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(plan["person"]))]
    cpu_before = _cpu_seconds(os.getpid())
    start = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    cpu = _cpu_seconds(os.getpid()) - cpu_before
    the_hub.close()
    every = sorted(x * 1000 for ts in times for x in ts)
    return Load(
        "in-process lookups",
        len(every),
        failures[0],
        len(every) / elapsed,
        _pct(every, 50),
        _pct(every, 95),
        _pct(every, 99),
        cpu_s=cpu,
        worst=every[-1] if every else float("nan"),
    )


def _pct(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return float("nan")
    return sorted_ms[min(len(sorted_ms) - 1, round(p / 100 * (len(sorted_ms) - 1)))]


def run(size: str = "full", out: Path | None = None) -> tuple[list[Load], AuditCheck]:
    """The whole benchmark at ``size``; the loads measured and the audit check."""
    cfg = SIZES[size]
    hub_source = linked_hub(cfg["people"])
    with tempfile.TemporaryDirectory(prefix="crosswalk-bench-service-") as tmp:
        work = Path(tmp) if out is None else out
        work.mkdir(parents=True, exist_ok=True)
        hub = work / "hub.duckdb"
        shutil.copy(hub_source, hub)
        control, secrets = f"sqlite:///{work}/control.db", work / "secrets"
        tokens = _accounts(control, secrets)
        persons = _persons(hub, cfg["persons"])
        plan = {
            "person": [
                {"user": f"bench.caseworker{i:02d}", "token": t, "asks": persons[i::LOOKUP_CLIENTS]}
                for i, t in enumerate(tokens["person"])
            ],
            "overlap": [
                {
                    "user": f"bench.analyst{i:02d}",
                    "token": t,
                    "asks": PERIODS[i % len(PERIODS) :] + PERIODS[: i % len(PERIODS)],
                }
                for i, t in enumerate(tokens["overlap"])
            ],
        }
        plan_file = work / "plan.json"
        plan_file.write_text(json.dumps(plan))
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "CROSSWALK_CONTROL": control, "CROSSWALK_SECRETS": str(secrets)}
        server = _serve(hub, port, env, work / "serve.log")
        try:
            loads = [
                _locust(
                    "PersonLookup",
                    LOOKUP_CLIENTS,
                    cfg["lookup_s"],
                    url,
                    plan_file,
                    work,
                    "person lookups",
                    server.pid,
                ),
                _locust(
                    "OverlapAnalyst",
                    ANALYSTS,
                    cfg["overlap_s"],
                    url,
                    plan_file,
                    work,
                    "overlap",
                    server.pid,
                ),
            ]
        finally:
            _stop(server)
        answered = {a: n for load in loads for a, n in load.per_user.items()}
        check = audit_check(control, secrets, plan, answered)
        loads.append(in_process(hub, control, secrets, plan, cfg["lookup_s"]))
    return loads, check


def main(size: str = "full") -> None:
    started = time.time()
    print(f"machine: {machine()}; load average before: {os.getloadavg()[0]:.1f}", flush=True)
    loads, check = run(size)
    print(
        "| load | clients | requests | failures | req/s | p50 ms | p95 ms | p99 ms | max ms "
        "| CPU ms / request |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    clients = {
        "person lookups": LOOKUP_CLIENTS,
        "overlap": ANALYSTS,
        "in-process lookups": LOOKUP_CLIENTS,
    }
    for x in loads:
        print(
            f"| {x.name} | {clients[x.name]} | {x.requests:,} | {x.failures:,} | {x.rps:.1f} "
            f"| {x.p50:.0f} | {x.p95:.0f} | {x.p99:.0f} | {x.worst:.0f} "
            f"| {x.cpu_ms_per_request:.1f} |"
        )
    http, base = loads[0], loads[2]
    print(
        f"HTTP / in-process lookups: {http.rps / base.rps:.2f}x the throughput, "
        f"{http.cpu_ms_per_request / base.cpu_ms_per_request:.2f}x the CPU per lookup "
        "(the service process's, all threads; locust's own is not counted)"
    )
    print(
        f"audit: chain {'verified' if check.verified else 'BROKEN: ' + str(check.problem)}; "
        f"entries {check.entries['person']:,} for {http.requests:,} lookups, "
        f"{check.entries['overlap']:,} for {loads[1].requests:,} overlap questions; "
        + (
            "none lost or out of order"
            if not check.lost_or_moved
            else "; ".join(check.lost_or_moved)
        )
    )
    print(
        f"load average after: {os.getloadavg()[0]:.1f}; {time.time() - started:.0f} s in all",
        flush=True,
    )
