"""A throwaway PostgreSQL server for the control-plane tests (the audit log, accounts, the
service), started once per test session from the installed server binaries: on PATH, or
Debian's /usr/lib/postgresql/<version>/bin (``make test`` and CI install them where
missing, see .ci/install-postgres). It listens on a socket in its own folder only.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa


def _postgres_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


def _unavailable(reason: str) -> None:
    # CI installs the server (.ci/install-postgres): there a missing server is a failure.
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is needed in CI: {reason}")
    pytest.skip(f"PostgreSQL cannot be started here: {reason}")


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL server of our own (its own data folder and socket), started
    from the installed server binaries; the URL of its database."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        _unavailable("no server binaries (pg_ctl) installed")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("the psycopg driver is not installed")
    # Not under pytest's own temporary folder: the server's user must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="crosswalk-postgres-"))
    data, socket = root / "data", root / "socket"
    socket.mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no postgres user to run the server")
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        shutil.chown(socket, "postgres")
    port = "5432"  # names the socket file in our own folder; no TCP port is opened
    steps = [
        [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"],
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "server.log"),
            "-o",
            f"-p {port} -k {socket} -c listen_addresses=''",
            "-w",
            "start",
        ],
    ]
    for step in steps:
        done = subprocess.run([*run_as, *step], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            shutil.rmtree(root, ignore_errors=True)
            _unavailable(f"{Path(step[0]).name} failed: {(done.stderr or done.stdout).strip()}")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={socket}&port={port}"
    finally:
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_database(postgres_url, tmp_path, monkeypatch):
    """The URL of a new, empty database on the throwaway server, for one test, whose audit
    checkpoints go to the test's own folder (not the working directory's default)."""
    monkeypatch.setenv("CROSSWALK_AUDIT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield postgres_url.replace("/postgres?", f"/{name}?", 1)
