"""The hub object: one per process, owning the stores that process reads and writes.

A CLI command, the service or a notebook creates one ``Hub`` and passes it down; the
gate (``crosswalk.access.Gate(hub)``) is the only thing that hands its read side to a
question. The hub holds:

- the data plane behind a thin engine layer (``ReadEngine``, and the reader hooks of
  ``crosswalk.engines``): DuckDB, where every read gets its own cursor of one shared
  read-only connection that cannot reach outside the hub (no files, no ATTACH, no
  extensions) and whose configuration is locked from the moment it is opened; or Spark
  (``crosswalk.engines.SparkEngine``: the analytic tables as Parquet in a warehouse),
  chosen by ``$CROSSWALK_ENGINE`` or passed in as an engine;
- the control-plane engine (SQLAlchemy; SQLite or PostgreSQL), with the audit log and
  the consent registry and the data requests (and their grants) over it;
- the folder of keys kept outside the hub.

The hub never decides anything: the gate decides each request against the agreement in
force and today's date, read afresh every time, so a long-lived hub never freezes them.

Example:
    >>> with Hub("hub.duckdb") as hub:  # doctest: +SKIP
    ...     Gate(hub).person(principal, "care_coordination", "P0000000042")
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

import duckdb
import sqlalchemy as sa

from crosswalk import settings, stores
from crosswalk.agreement.consent import ConsentRegistry
from crosswalk.agreement.requests import RequestRegistry
from crosswalk.audit import AuditLog
from crosswalk.errors import ConfigError, HubBusy, ReadTimedOut

# Settings of every read connection of the hub: read-only is set on opening; these keep a
# statement from reaching anything outside the hub (see crosswalk.access.confine).
READ_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "python_enable_replacements": False,
}


class ReadEngine(Protocol):
    """The data plane as the gate sees it: a dialect and a way to read.

    An engine hands out one read at a time per caller, never shared between two reads at
    once: a DuckDB connection, or a ``crosswalk.engines.Reader``
    (``crosswalk.engines.reader`` gives the hooks of either); temporary views made
    during a read stay with it.
    """

    dialect: str
    timeout: float  # seconds one read may take before it is interrupted; 0: no limit

    def read(self) -> AbstractContextManager[Any]: ...

    def version(self) -> int | None:
        """A number that changes whenever what a read sees may have changed (a batch, a
        linkage run, a review decision), or None where the engine cannot tell: then
        nothing read through it may be reused between reads. It is odd while a write is
        under way (a write moves it on when it starts and again when it ends)."""
        ...

    def close(self) -> None: ...


class _Deadlines:
    """Interrupts each read that runs past its deadline: one thread watches every read
    of the process (a timer thread started for each read would cost more than a point
    read itself)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._due: dict[int, tuple[float, duckdb.DuckDBPyConnection]] = {}
        self._numbers = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, con: duckdb.DuckDBPyConnection, seconds: float) -> int:
        """Interrupt ``con`` once ``seconds`` have passed, unless released before."""
        due = time.monotonic() + seconds
        with self._changed:
            number = next(self._numbers)
            sooner = all(due < d for d, _ in self._due.values())
            self._due[number] = (due, con)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="read-deadlines", daemon=True
                )
                self._thread.start()
            elif sooner:
                self._changed.notify()
        return number

    def release(self, number: int) -> None:
        """The read is over: it is not interrupted after this returns."""
        with self._changed:
            self._due.pop(number, None)

    def _run(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                for number in [n for n, (due, _) in self._due.items() if due <= now]:
                    self._due.pop(number)[1].interrupt()
                nearest = min((due for due, _ in self._due.values()), default=now + 60)
                self._changed.wait(max(nearest - now, 0.001))


_DEADLINES = _Deadlines()


class DuckDBEngine:
    """The hub's DuckDB file, read through cursors of one read-only connection.

    ``shared=True`` (the service, a notebook) opens the file once and keeps it open:
    reads are cursors, safe to use from several threads at once. ``shared=False`` (a
    one-shot CLI command, a test that writes the hub between reads) opens the file for
    each read and closes it after, so the process does not hold the file between reads.

    ``writable=True`` (the service, which owns the hub) opens the file once for writing,
    still with ``READ_CONFIG`` and its configuration locked: reads are cursors in a
    read-only transaction (a snapshot: a read while a batch loads sees the hub as it was
    before the batch, never half of it, and waits for no lock); ``write()`` hands one
    writer at a time a cursor of the same connection (ingest, linkage, review decisions).
    Nothing written through it reads a file: an upload is read on a connection of its
    own and handed over as Arrow (``crosswalk.ingest``).
    """

    dialect = "duckdb"

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        shared: bool = True,
        timeout: float = 0,
        writable: bool = False,
    ) -> None:
        self.path = settings.HUB.value(None if path is None else str(path))
        self.shared = shared or writable
        self.timeout = timeout  # seconds one read may take; 0: no limit
        self.writable = writable
        self._con: duckdb.DuckDBPyConnection | None = None
        self._opening = threading.Lock()
        self._writer = threading.Lock()
        self._generation = 0  # moved on as every write starts and ends, and at every reopening

    def version(self) -> int | None:
        """The hub's content generation while this engine holds it open (``shared``):
        moved on when a write through ``write()`` starts (odd while it runs) and after it
        ends, and when the file is closed. No
        other process can write the file meanwhile (DuckDB holds it locked: one writing
        process, or any number reading), so an unchanged generation is an unchanged hub.
        None for an engine that opens the file for each read (another process may write
        it in between)."""
        return self._generation if self.shared else None

    def _open(self) -> duckdb.DuckDBPyConnection:
        con = stores.connect_hub(self.path, read_only=not self.writable, config=READ_CONFIG)
        # Locked before any question runs: no statement can turn external access back on.
        # DuckDB shares one database per file within a process: a second engine of the
        # same hub finds it locked already, which is as good, once that is checked.
        try:
            con.execute("SET lock_configuration = true")
        except duckdb.InvalidInputException:
            locked, external = con.execute(
                "SELECT current_setting('lock_configuration'),"
                " current_setting('enable_external_access')"
            ).fetchall()[0]
            if not locked or external:
                con.close()
                raise
        return con

    def _shared(self) -> duckdb.DuckDBPyConnection:
        with self._opening:
            if self._con is None:
                self._con = self._open()
            return self._con

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection of its own for one read (a cursor of the shared one), interrupted
        once the read has taken longer than ``timeout`` seconds (``ReadTimedOut``), so a
        slow question cannot hold a worker of the service for ever."""
        con = self._shared().cursor() if self.shared else self._open()
        watched = _DEADLINES.watch(con, self.timeout) if self.timeout > 0 else None
        try:
            if self.writable:
                con.execute("BEGIN TRANSACTION READ ONLY")
            yield con
        except duckdb.InterruptException:
            raise ReadTimedOut(
                f"the question took longer than the {self.timeout:g} s a read may take: "
                "narrow it (a shorter period, fewer programs) or ask the operator"
            ) from None
        finally:
            if watched is not None:
                _DEADLINES.release(watched)
            con.close()

    @contextmanager
    def write(self, wait: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for the one writer of the hub at a time: the others wait their turn,
        or at most ``wait`` seconds, after which ``HubBusy`` says a job is writing."""
        if not self.writable:
            raise ConfigError(
                "this hub was opened for reading only: open it with writable=True to write"
            )
        if not self._writer.acquire(timeout=-1 if wait is None else wait):
            raise HubBusy(
                f"the hub {self.path} is being written by a background job (an ingest or a "
                "linkage run); try again when it has finished (GET /jobs shows yours)"
            )
        try:
            # Odd while the writer holds the cursor, moved on again after its commit (or
            # rollback): a read that took the generation before this saw the hub as it
            # was, or as it is now; one that found it even and unchanged after it had
            # read saw the hub as it was at that generation.
            self._generation += 1
            con = self._shared().cursor()
            try:
                yield con
            finally:
                con.close()
                self._generation += 1
        finally:
            self._writer.release()

    def close(self) -> None:
        with self._opening:
            self._generation += 2  # even again: no write is under way
            if self._con is not None:
                self._con.close()
                self._con = None


def engine_for(
    hub: str | Path | None = None,
    *,
    shared: bool = True,
    writable: bool = False,
    engine: str | None = None,
) -> ReadEngine:
    """The engine of ``$CROSSWALK_ENGINE`` (or ``engine``): ``duckdb`` reads the hub's file
    (``hub``, default ``$CROSSWALK_HUB``); ``spark`` reads the warehouse (``hub`` names
    it, default ``$CROSSWALK_WAREHOUSE``) at ``$CROSSWALK_SPARK_MASTER``."""
    name = settings.ENGINE.value(engine).strip().lower()
    if name == "duckdb":
        return DuckDBEngine(hub, shared=shared, writable=writable)
    if name == "spark":
        from crosswalk.engines.spark_engine import SparkEngine

        if writable:
            raise ConfigError(
                "the Spark engine is not opened for writing: ingest on the DuckDB hub, "
                "crosswalk export-warehouse, then crosswalk link links the warehouse"
            )
        return SparkEngine(hub)
    raise ConfigError(f"{settings.ENGINE.env} is duckdb or spark, not {name!r}")


class Hub:
    """The stores of one process: the data plane, the control plane and the keys.

    Args:
        hub: the hub's DuckDB file (default ``$CROSSWALK_HUB``) or, with
            ``CROSSWALK_ENGINE=spark``, the warehouse folder; or an engine
            (``DuckDBEngine``, ``crosswalk.engines.SparkEngine`` with a session of its own).
        control: the control plane, a URL or an engine (default ``$CROSSWALK_CONTROL``).
        secrets: the folder of keys (default ``$CROSSWALK_SECRETS``).
        shared: keep one read connection open for the life of the hub (see
            ``DuckDBEngine``).
        writable: open the hub for writing too, as the one process that owns it (the
            service: see ``DuckDBEngine``); ``write()`` then gives its writer's cursor.
    """

    def __init__(
        self,
        hub: str | Path | ReadEngine | None = None,
        control: str | sa.Engine | None = None,
        secrets: str | Path | None = None,
        *,
        shared: bool = True,
        writable: bool = False,
    ) -> None:
        if hub is None or isinstance(hub, str | Path):
            self.engine: ReadEngine = engine_for(hub, shared=shared, writable=writable)
        else:
            self.engine = hub
        self._owns_control = not isinstance(control, sa.Engine)
        self.control = control if isinstance(control, sa.Engine) else stores.control_engine(control)
        self.secrets = Path(settings.SECRETS.value(None if secrets is None else str(secrets)))
        self.audit = AuditLog(self.control, secrets=self.secrets)
        self.consents = ConsentRegistry(self.control)
        self.requests = RequestRegistry(self.control)

    @property
    def dialect(self) -> str:
        """The SQL dialect questions render for (``duckdb`` or ``spark``)."""
        return self.engine.dialect

    def read(self) -> AbstractContextManager[Any]:
        """A read connection of the data plane, for the gate only."""
        return self.engine.read()

    def version(self) -> int | None:
        """The data plane's content generation (``ReadEngine.version``); None where the
        engine cannot tell whether the hub changed between two reads."""
        return self.engine.version()

    def limit_reads(self, seconds: float) -> None:
        """Interrupt every read that takes longer than ``seconds`` (0: no limit)."""
        if seconds < 0:
            raise ValueError("a read limit is a number of seconds, 0 or more")
        self.engine.timeout = seconds

    @property
    def writable(self) -> bool:
        """Whether this process owns the hub for writing (``write()``)."""
        return isinstance(self.engine, DuckDBEngine) and self.engine.writable

    def write(self, wait: float | None = None) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """The writer's cursor of the data plane: one writer at a time (waiting at most
        ``wait`` seconds for the one before); reads go on meanwhile."""
        if not isinstance(self.engine, DuckDBEngine):
            raise ConfigError(f"the {self.dialect} engine is written by its own jobs")
        return self.engine.write(wait)

    def close(self) -> None:
        """Close the data plane and release the control plane's pooled connections."""
        self.engine.close()
        if self._owns_control:
            self.control.dispose()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
