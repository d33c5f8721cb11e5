"""Ctrl-C mid-ingest: the command says it was stopped (exit code 130, no traceback), and
the hub holds what it held before, nothing of the batch."""

import signal

import duckdb
import pytest
from tests.ingest.conftest import snapshot

from crosswalk.cli import run
from crosswalk.ingest import batch as batch_module

MAPPING = """\
agency: housing
version: 1
clients:
  format: csv
  ssn_form: absent
  columns:
    source_record_id: id
    first_name: first
    last_name: last
"""


def _stopped_by_duckdb(fn):
    """As DuckDB does when Ctrl-C arrives during a query: its own error, not the
    KeyboardInterrupt the signal raised."""

    def stopped(*args, **kwargs):
        fn(*args, **kwargs)
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            raise RuntimeError("Query interrupted") from None

    return stopped


def _stopped_in_python(fn):
    def stopped(*args, **kwargs):
        fn(*args, **kwargs)
        signal.raise_signal(signal.SIGINT)

    return stopped


@pytest.fixture
def default_sigint():
    """Ctrl-C as a fresh process has it (a test before may have left another handler,
    Spark's among them), and the handler from before the test put back after it."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("stop", [_stopped_in_python, _stopped_by_duckdb])
def test_ctrl_c_mid_ingest_stores_nothing_and_says_so(
    tmp_path, monkeypatch, capsys, stop, default_sigint
):
    mapping = tmp_path / "housing.yaml"
    mapping.write_text(MAPPING)
    hub = tmp_path / "hub.duckdb"
    first, second = tmp_path / "clients1.csv", tmp_path / "clients2.csv"
    first.write_text("id,first,last\n1,Ann,Lee\n")
    second.write_text("id,first,last\n2,Bo,Kim\n3,Cy,Park\n")
    args = ["ingest", "housing", "--mapping", str(mapping), "--hub", str(hub), "--kind", "clients"]
    assert run([*args, str(first)]) == 0
    before = snapshot(hub)
    # Stopped after the batch's rows are staged in the hub's open transaction.
    monkeypatch.setattr(batch_module, "_stage", stop(batch_module._stage))
    capsys.readouterr()
    assert run([*args, str(second)]) == 130
    err = capsys.readouterr().err
    assert "Interrupted" in err and "nothing of it is stored" in err
    assert "Traceback" not in err
    assert snapshot(hub) == before
    con = duckdb.connect(str(hub), read_only=True)
    assert con.execute("SELECT source_record_id FROM person_record").fetchall() == [("1",)]
    con.close()
    # The signal's handler is the one from before the command.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
