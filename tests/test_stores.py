"""Opening the hub: a busy or broken hub is one clear line, never DuckDB's traceback."""

import subprocess
import sys
import textwrap

import pytest

from crosswalk import stores
from crosswalk.cli import run
from crosswalk.errors import HubBusy, NotFound, StoreUnavailable

HOLD = textwrap.dedent(
    """
    import sys, time
    from crosswalk import stores
    con = stores.connect_hub(sys.argv[1])
    print("holding", flush=True)
    time.sleep(60)
    """
)


@pytest.fixture
def held_hub(tmp_path):
    """A hub held open for writing by another process (as `crosswalk ingest` holds it)."""
    hub = tmp_path / "hub.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(hub)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        yield hub, holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_a_held_hub_is_busy_and_names_the_holder(held_hub):
    hub, pid = held_hub
    for read_only in (False, True):
        with pytest.raises(HubBusy) as caught:
            stores.connect_hub(hub, read_only=read_only)
        assert caught.value.holder_pid == pid
        assert f"pid {pid}" in str(caught.value) and "busy" in str(caught.value)
        assert "python" in (caught.value.holder or "")
        assert caught.value.to_dict()["status"] == 503


@pytest.mark.parametrize("argv", [["batches"], ["quarantine"], ["review", "list"]])
def test_commands_on_a_busy_hub_say_so_in_one_message(
    held_hub, capsys, argv, signed_in, tmp_path, monkeypatch
):
    hub, pid = held_hub
    control = f"sqlite:///{tmp_path}/control.db"
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    who = {"batches": ("fcs.steward", "fcs", "steward"),
           "quarantine": ("fcs.steward", "fcs", "steward"),
           "review": ("cdo.linkage", "cdo", "linkage_steward")}[argv[0]]  # fmt: skip
    argv = [*argv, *signed_in(*who, control=control), "--control", control]
    assert run([*argv, "--hub", str(hub)]) == 4
    err = capsys.readouterr().err
    assert "Traceback" not in err and "IOException" not in err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"Error: the hub {hub} is busy")
    assert f"pid {pid}" in " ".join(err.split())


def test_not_a_hub_is_unavailable_not_a_traceback(tmp_path):
    bad = tmp_path / "hub.duckdb"
    bad.write_text("not a database\n")
    with pytest.raises(StoreUnavailable, match="cannot open the hub") as caught:
        stores.connect_hub(bad)
    assert not isinstance(caught.value, HubBusy)


def test_reading_a_hub_that_does_not_exist_says_what_to_do(tmp_path):
    with pytest.raises(NotFound, match="crosswalk ingest"):
        stores.connect_hub(tmp_path / "none.duckdb", read_only=True)


def test_the_holder_command_is_shortened_to_crosswalk(monkeypatch, tmp_path):
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes(b"/venv/bin/python\0/venv/bin/crosswalk\0ingest\0fcs\0c.csv\0")
    real = stores.Path

    def fake(p: str):  # /proc/<pid>/cmdline of a fake process
        return cmdline if str(p).endswith("/cmdline") else real(p)

    monkeypatch.setattr(stores, "Path", fake)
    assert stores._command_of(1) == "crosswalk ingest fcs c.csv"
    cmdline.write_bytes(b"python3\0-m\0crosswalk\0link\0--hub\0h.duckdb\0")
    assert stores._command_of(1) == "crosswalk link --hub h.duckdb"


SERVE = textwrap.dedent(
    """
    import sys, time
    from crosswalk import stores
    from crosswalk.hub import Hub
    hub = Hub(sys.argv[1], f"sqlite:///{sys.argv[1]}.control.db", writable=True)
    with hub.read():
        pass
    with stores.service_note(sys.argv[1], "http://127.0.0.1:8765"):
        print("serving", flush=True)
        time.sleep(60)
    """
)


@pytest.mark.parametrize("argv", [["ingest", "fcs", "clients.csv"], ["link"], ["batches"]])
def test_a_command_meeting_the_service_says_to_submit_through_it(
    tmp_path, capsys, argv, signed_in, monkeypatch
):
    """While `crosswalk serve` owns the hub, a command that needs it names the service
    and how to submit through it, in one line, instead of a lock error."""
    hub = tmp_path / "hub.duckdb"
    (tmp_path / "clients.csv").write_text("Client ID\nFC1\n")
    if argv == ["batches"]:
        control = f"sqlite:///{tmp_path}/control.db"
        monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
        argv = [*argv, *signed_in("fcs.steward", "fcs", "steward", control=control)]
        argv += ["--control", control]
    service = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(hub)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert service.stdout is not None and service.stdout.readline().strip() == "serving"
        args = [a if a != "clients.csv" else str(tmp_path / a) for a in argv]
        assert run([*args, "--hub", str(hub)]) == 4
        err = " ".join(capsys.readouterr().err.split())
        assert "Traceback" not in err and "IOException" not in err
        assert (
            f"Error: the hub {hub} is held by the Crosswalk service at http://127.0.0.1:8765 "
            f"(pid {service.pid})"
        ) in err
        assert "POST http://127.0.0.1:8765/uploads" in err
        assert "POST http://127.0.0.1:8765/link-runs" in err
    finally:
        service.kill()
        service.wait()


def test_a_note_left_by_a_service_that_is_gone_is_not_believed(held_hub):
    hub, pid = held_hub
    (hub.parent / "hub.duckdb.service").write_text('{"pid": 1, "url": "http://gone"}')
    with pytest.raises(HubBusy) as caught:
        stores.connect_hub(hub)
    assert "gone" not in str(caught.value) and f"pid {pid}" in str(caught.value)
