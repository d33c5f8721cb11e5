"""Opening the two stores: the hub (DuckDB, agency data) and the control plane (SQLAlchemy).

Only the parts of the system that own a store's tables write to it; readers of agency data
go through the policy gate (``crosswalk.agreement``), never through a raw connection.

Both stores hold personal data (the hub) or the evidence of who read it (the control
plane): their files are created readable by their owner only (0600), with their
write-ahead logs and journals. SQLite gives its journals the mode of the database file,
which is created 0600 before SQLite opens it; DuckDB creates its write-ahead log anew
with the process's umask, so a process that opens the hub for writing keeps group and
others out of every file it creates from then on (umask 077).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import struct
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

from crosswalk import settings
from crosswalk.errors import ConfigError, HubBusy, NotFound, StoreUnavailable


def connect_hub(
    path: str | Path | None = None,
    *,
    read_only: bool = False,
    config: dict[str, str | bool | int | float | list[str]] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the hub's DuckDB file, with DuckDB ``config`` if given.

    DuckDB lets one process write the file or several read it. When another process
    holds it, this raises ``HubBusy`` naming that process and its command, instead of
    DuckDB's error; any other failure to open it is ``StoreUnavailable``.
    """
    hub = settings.HUB.value(None if path is None else str(path))
    if hub != ":memory:":
        if read_only and not Path(hub).is_file():
            raise NotFound(
                f"no hub at {hub}: load agency data first (crosswalk ingest), or name "
                "the hub with --hub or $CROSSWALK_HUB"
            )
        Path(hub).parent.mkdir(parents=True, exist_ok=True)
        if not read_only:
            private_files()
    try:
        con = duckdb.connect(hub, read_only=read_only, config=config or {})
    except duckdb.IOException as e:
        holder = _lock_holder(Path(hub)) if hub != ":memory:" else None
        if holder is not None:
            raise HubBusy(_busy_message(hub, holder), holder, _command_of(holder)) from None
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise StoreUnavailable(f"cannot open the hub {hub}: {first}") from None
    threads = int(settings.THREADS.value())
    if threads > 0:
        con.execute(f"SET threads = {threads}")
    limit = settings.MEMORY_LIMIT.value()
    if limit:
        con.execute("SET memory_limit = ?", [limit])
    return con


def _lock_holder(path: Path) -> int | None:
    """The process holding a lock on ``path`` that conflicts with writing, if any.

    Asks the kernel (``F_GETLK``) rather than reading DuckDB's message: DuckDB locks the
    whole file with a POSIX record lock. Linux only (the layout of ``struct flock``);
    elsewhere ``None``.
    """
    if not sys.platform.startswith("linux"):
        return None
    query = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        kind, _, _, _, pid = struct.unpack("hhqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, query))
    except OSError:
        return None
    finally:
        os.close(fd)
    return pid if kind != fcntl.F_UNLCK and pid > 0 else None


def _command_of(pid: int) -> str | None:
    """A process's command line, shortened to the ``crosswalk …`` part when it is one."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return None
    argv = [" ".join(a.split()) for a in args.split("\0") if a.strip()]
    for i, a in enumerate(argv):
        if Path(a).name == "crosswalk" or (a == "-m" and argv[i + 1 : i + 2] == ["crosswalk"]):
            rest = argv[i + 2 :] if a == "-m" else argv[i + 1 :]
            return " ".join(["crosswalk", *rest])
    return " ".join(argv) or None


def _running_for(pid: int) -> str | None:
    try:
        started = Path(f"/proc/{pid}").stat().st_mtime
    except OSError:
        return None
    seconds = max(0, int(time.time() - started))
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def _note_path(hub: str | Path) -> Path:
    return Path(f"{hub}.service")


@contextmanager
def service_note(hub: str | Path, url: str) -> Iterator[None]:
    """While the service runs, a note beside the hub names its process and address, so
    that a command meeting the hub's lock can say where to submit instead."""
    note = _note_path(hub)
    note.write_text(json.dumps({"pid": os.getpid(), "url": url}), encoding="utf-8")
    try:
        yield
    finally:
        note.unlink(missing_ok=True)


def _service_of(hub: str, pid: int) -> str | None:
    """The address of the service holding the hub, if the holder left its note."""
    try:
        note = json.loads(_note_path(hub).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(note, dict) or note.get("pid") != pid:
        return None  # a note left by a service that is gone, or of another process
    return str(note.get("url") or "") or None


def _busy_message(hub: str, pid: int) -> str:
    url = _service_of(hub, pid)
    if url is not None:
        return (
            f"the hub {hub} is held by the Crosswalk service at {url} (pid {pid}), which "
            "owns it while it runs: submit through the service instead (an upload: "
            f"POST {url}/uploads; a linkage run: POST {url}/link-runs; reads: the same "
            f"questions at {url}; from Python: crosswalk.client.Client({url!r}, token)), "
            "or stop the service to use this command"
        )
    command = _command_of(pid)
    what = f"`{command[:120]}`" if command else "another process"
    running = _running_for(pid)
    since = f", running for {running}" if running else ""
    return (
        f"the hub {hub} is busy: {what} (pid {pid}{since}) holds it; try again when it has finished"
    )


def private_files() -> None:
    """From now on, files this process creates are its owner's only (umask 077 added to
    the one in force; never loosened). Taken in one step, so no thread sees it looser."""
    os.umask(os.umask(0o077) | 0o077)


def _private_sqlite_file(url: sa.URL) -> None:
    """Create a SQLite control plane's file 0600 before SQLite does (SQLite then gives
    its journal and write-ahead log the same mode)."""
    database = url.database or ""
    if database.startswith("file:"):
        database = database[len("file:") :].split("?")[0]
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return
    path = Path(database)
    if path.exists() or not path.parent.is_dir():
        return  # an existing file keeps its mode; a missing folder is SQLite's error
    with contextlib.suppress(FileExistsError):  # another process created it first
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


SQLITE_SYNC = {"normal": "NORMAL", "full": "FULL"}


def control_engine(url: str | None = None) -> sa.Engine:
    """Create the SQLAlchemy engine of the control plane (SQLite by default); a new SQLite
    file is created readable by its owner only.

    A SQLite control plane runs in write-ahead-log mode, so readers never wait for the
    audit log's writer, at the durability ``$CROSSWALK_CONTROL_SYNC`` names: ``normal``
    (the default) writes each commit to the log before it returns but waits for the disk
    only at checkpoints, so a commit survives the process crashing and only a power loss
    or an operating-system crash can take the last ones; ``full`` waits for the disk at
    every commit."""
    chosen = sa.make_url(settings.CONTROL.value(url))
    if chosen.get_backend_name() != "sqlite":
        return sa.create_engine(chosen, future=True)
    _private_sqlite_file(chosen)
    sync = settings.CONTROL_SYNC.value().strip().lower()
    if sync not in SQLITE_SYNC:
        raise ConfigError(
            f"{settings.CONTROL_SYNC.env} is {' or '.join(SQLITE_SYNC)}, not {sync!r}"
        )
    engine = sa.create_engine(chosen, future=True)
    sa.event.listen(engine, "connect", functools.partial(_sqlite_pragmas, SQLITE_SYNC[sync]))
    return engine


def _sqlite_pragmas(sync: str, dbapi_connection: Any, _record: Any) -> None:
    """Each new SQLite connection: wait for a lock rather than fail at once, the
    write-ahead log (kept by the file once set), and the durability chosen."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA synchronous = {sync}")
    finally:
        cursor.close()


def apply_migrations(
    con: duckdb.DuckDBPyConnection, part: str, migrations: tuple[str, ...]
) -> None:
    """Apply a part's numbered hub migrations that have not run yet, each in a transaction.

    ``schema_migration`` records what has run, per part of the system, so each part keeps
    its own sequence of migrations.
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migration (part VARCHAR, version INTEGER, applied_at TIMESTAMP)"
    )
    done = con.execute(
        "SELECT coalesce(max(version), 0) FROM schema_migration WHERE part = ?", [part]
    ).fetchall()[0][0]
    for version, sql in enumerate(migrations, start=1):
        if version <= done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in sql.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.execute(
                "INSERT INTO schema_migration VALUES (?, ?, now()::TIMESTAMP)", [part, version]
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
