import duckdb
import pytest

from crosswalk.ingest import ingest_state
from crosswalk.synth import small_state

TABLES = ("person_record", "service_event", "batch", "batch_file", "quarantine")


def snapshot(hub):
    con = duckdb.connect(str(hub), read_only=True)
    try:
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in TABLES}
    finally:
        con.close()


@pytest.fixture(scope="session")
def state(tmp_path_factory):
    out = tmp_path_factory.mktemp("state")
    small_state(str(out), people=2000, seed=21)
    return out


@pytest.fixture(scope="session")
def loaded_hub(state, tmp_path_factory):
    hub = tmp_path_factory.mktemp("hub") / "hub.duckdb"
    results = ingest_state(state, hub=hub)
    return hub, results


@pytest.fixture
def hub_copy(loaded_hub, tmp_path):
    import shutil

    target = tmp_path / "hub.duckdb"
    shutil.copy(loaded_hub[0], target)
    return target


MAPPING = """\
agency: fcs
version: 1
clients:
  format: csv
  delimiter: ","
  encoding: detect
  name_format: last_first
  date_formats: ["%m/%d/%Y", "%Y-%m-%d"]
  columns:
    source_record_id: id
    full_name: name
    dob: dob
    sex: sex
    ssn: ssn
    phone: phone
  codes:
    sex: {"M": M, "F": F}
events:
  format: csv
  date_formats: ["%m/%d/%Y"]
  columns:
    source_event_id: event
    source_record_id: id
    program: program
    start_date: start
    end_date: end
    amount: amount
  codes:
    program: {"FS": SNAP, "CA": TANF}
"""


@pytest.fixture
def mapping_file(tmp_path):
    path = tmp_path / "fcs.yaml"
    path.write_text(MAPPING)
    return path


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def ingest_csv(tmp_path, mapping, text, columns, *, hub=None, name="clients.csv"):
    """Ingest one CSV file written from ``text`` under the mapping ``mapping`` (YAML text
    of agency housing) and return the ingest result and the person records' ``columns``,
    ordered by source record id."""
    from crosswalk.ingest import ingest, parse_mapping

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    hub = hub or tmp_path / "hub.duckdb"
    result = ingest("housing", [path], hub=hub, mapping=parse_mapping(mapping, "housing.yaml"))
    con = duckdb.connect(str(hub), read_only=True)
    try:
        rows = con.execute(
            f"SELECT source_record_id, {', '.join(columns)} FROM person_record ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    return result, rows
