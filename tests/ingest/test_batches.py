import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest
import sqlalchemy as sa
from tests.ingest.conftest import MAPPING, snapshot, write

from crosswalk.ingest import ingest, parse_mapping

CLIENTS = 'id,name,dob,sex,ssn,phone\n1,"DOE, JO",01/02/1990,M,,\n2,"ROE, AL",03/04/1980,M,,\n,"NOID, X",01/01/1970,F,,\n2,"DUP, AL",03/04/1980,M,,\n'
EVENTS = "event,id,program,start,end,amount\nE1,1,FS,01/01/2020,,100\nE2,2,XX,01/01/2020,,\nE3,9,FS,01/01/2020,,\nE4,1,CA,31/31/2020,,\n"


def mapping():
    return parse_mapping(MAPPING, "fcs.yaml")


def test_quarantine_reasons_and_counts(tmp_path):
    hub = tmp_path / "hub.duckdb"
    c = write(tmp_path / "clients.csv", CLIENTS)
    e = write(tmp_path / "events.csv", EVENTS)
    result = ingest("fcs", [c, e], hub=hub, mapping=mapping())
    assert result.rows_read == 8 and result.rows_accepted == 3 and result.rows_quarantined == 5
    con = duckdb.connect(str(hub), read_only=True)
    q = con.execute(
        "SELECT file, source_row, field, value, rule FROM quarantine ORDER BY file, source_row"
    ).fetchall()
    assert q == [
        (str(c), 3, "id", None, "required"),
        (str(c), 4, "id", "2", "duplicate_source_id"),
        (str(e), 2, "program", "XX", "unknown_code"),
        (str(e), 3, "id", "9", "unknown_client"),
        (str(e), 4, "start", "31/31/2020", "unparseable_date"),
    ]


def test_same_file_twice_is_not_loaded_twice(tmp_path):
    hub = tmp_path / "hub.duckdb"
    c = write(tmp_path / "clients.csv", CLIENTS)
    first = ingest("fcs", [c], hub=hub, mapping=mapping())
    before = snapshot(hub)
    again = ingest("fcs", [c], hub=hub, mapping=mapping())
    assert again.batch_id is None
    assert again.files[0].already_loaded_in == first.batch_id
    assert snapshot(hub) == before


def test_correction_batch_replaces_earlier_batch(tmp_path):
    hub = tmp_path / "hub.duckdb"
    first = ingest("fcs", [write(tmp_path / "clients.csv", CLIENTS)], hub=hub, mapping=mapping())
    fixed = write(
        tmp_path / "fixed.csv", 'id,name,dob,sex,ssn,phone\n1,"DOE, JOAN",01/02/1990,F,,\n'
    )
    second = ingest("fcs", [fixed], hub=hub, mapping=mapping(), replace=first.batch_id)
    con = duckdb.connect(str(hub), read_only=True)
    assert con.execute("SELECT source_record_id, first_name FROM person_record").fetchall() == [
        ("1", "JOAN")
    ]
    statuses = dict(con.execute("SELECT batch_id, status FROM batch").fetchall())
    assert statuses == {first.batch_id: "replaced", second.batch_id: "loaded"}
    assert con.execute(
        "SELECT replaces FROM batch WHERE batch_id = ?", [second.batch_id]
    ).fetchall() == [(first.batch_id,)]


def test_another_agencys_batch_cannot_be_replaced_nor_told_apart_from_a_missing_one(tmp_path):
    # The attack: a steward names another agency's batch id as the batch to replace. The
    # refusal said "batch B... is a loaded batch of sud": that the batch exists, whose it
    # is and its status, where a missing id said "no batch ... to replace".
    from crosswalk.errors import NotFound

    hub = tmp_path / "hub.duckdb"
    theirs = ingest(
        "sud",
        [write(tmp_path / "clients.csv", CLIENTS)],
        hub=hub,
        mapping=parse_mapping(
            MAPPING.replace("agency: fcs", "agency: sud").replace(
                '{"FS": SNAP, "CA": TANF}', '{"T": SUD_TREATMENT}'
            ),
            "sud.yaml",
        ),
    )
    before = snapshot(hub)
    fixed = write(tmp_path / "fixed.csv", 'id,name,dob,sex,ssn,phone\n1,"DOE, JO",01/02/1990,F,,\n')
    answers = []
    for target in (theirs.batch_id, "B000000000000"):
        with pytest.raises(NotFound) as refused:
            ingest("fcs", [fixed], hub=hub, mapping=mapping(), replace=target)
        answers.append(str(refused.value).replace(target, "<id>"))
        assert snapshot(hub) == before
    assert answers[0] == answers[1] and "sud" not in answers[0]


def test_readers_parquet_excel_sql_latin1_bom(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    import xlsxwriter

    rows = {
        "id": ["1"],
        "name": ["NÚÑEZ, JOSÉ"],
        "dob": ["01/02/1990"],
        "sex": ["M"],
        "ssn": [None],
        "phone": [None],
    }
    pq.write_table(pa.table(rows), tmp_path / "p.parquet")
    book = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"))
    sheet = book.add_worksheet("clients")
    sheet.write_row(0, 0, list(rows))
    sheet.write_row(1, 0, [v[0] or "" for v in rows.values()])
    book.close()
    text = 'id,name,dob,sex,ssn,phone\n1,"NÚÑEZ, JOSÉ",01/02/1990,M,,\n'
    write(tmp_path / "latin.csv", text, "latin-1")
    write(tmp_path / "bom.csv", text, "utf-8-sig")
    engine = sa.create_engine(f"sqlite:///{tmp_path}/agency.db")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE clients (id TEXT, name TEXT, dob TEXT, sex TEXT, ssn TEXT, phone TEXT)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO clients VALUES ('1', 'NÚÑEZ, JOSÉ', '01/02/1990', 'M', NULL, NULL)"
            )
        )
    cases = [
        ("p.parquet", "format: parquet"),
        ("x.xlsx", "format: xlsx"),
        ("latin.csv", "format: csv"),
        ("bom.csv", "format: csv"),
        (f"sqlite:///{tmp_path}/agency.db", "format: sql\n  query: clients"),
    ]
    for i, (source, fmt) in enumerate(cases):
        text_map = MAPPING.replace("format: csv", fmt, 1)
        src = source if source.startswith("sqlite") else str(tmp_path / source)
        hub = tmp_path / f"hub{i}.duckdb"
        result = ingest(
            "fcs", [src], hub=hub, mapping=parse_mapping(text_map, "fcs.yaml"), kinds=["clients"]
        )
        assert result.rows_accepted == 1, source
        con = duckdb.connect(str(hub), read_only=True)
        assert con.execute("SELECT first_name, last_name FROM person_record").fetchall() == [
            ("JOSE", "NUNEZ")
        ], source
        con.close()


def test_kill_9_mid_batch_leaves_hub_as_it_was(hub_copy, tmp_path):
    """SIGKILL the ingest at several moments: the hub is either unchanged or fully loaded."""
    rows = "".join(f'{i},"DOE{i % 997}, JO",01/02/1990,M,,\n' for i in range(1, 400_001))
    big = write(tmp_path / "clients.csv", "id,name,dob,sex,ssn,phone\n" + rows)
    (tmp_path / "fcs.yaml").write_text(MAPPING)
    before = snapshot(hub_copy)
    script = (
        "import sys; from crosswalk.ingest import ingest;"
        f"ingest('fcs', [{str(big)!r}], hub={str(hub_copy)!r}, mapping={str(tmp_path / 'fcs.yaml')!r})"
    )
    outcomes = set()
    for delay in (0.3, 0.8, 1.5, 2.5):
        proc = subprocess.Popen([sys.executable, "-c", script])
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        after = snapshot(hub_copy)
        if after == before:
            outcomes.add("unchanged")
            continue
        con = duckdb.connect(str(hub_copy), read_only=True)
        n = con.execute(
            "SELECT count(*) FROM person_record WHERE agency = 'fcs' AND source_row <= 400000 AND source_record_id ~ '^[0-9]+$'"
        ).fetchall()[0][0]
        con.close()
        assert n == 400_000, "a batch is never half loaded"
        outcomes.add("complete")
        break
    assert "unchanged" in outcomes


def test_batches_are_audited(tmp_path):
    from crosswalk.audit import AuditLog

    control = f"sqlite:///{tmp_path}/control.db"
    result = ingest(
        "fcs",
        [write(tmp_path / "clients.csv", CLIENTS)],
        hub=tmp_path / "hub.duckdb",
        mapping=mapping(),
        control=control,
    )
    entry = AuditLog(control).entries()[-1]
    assert entry["action"] == "ingest.batch" and result.batch_id in entry["body"]


def test_unauditable_batch_is_not_loaded(tmp_path):
    import sqlalchemy as sa

    from crosswalk.audit import AuditLog
    from crosswalk.errors import AuditUnavailable

    path = tmp_path / "control.db"
    AuditLog(f"sqlite:///{path}")
    path.chmod(0o444)
    hub = tmp_path / "hub.duckdb"
    try:
        read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
        sa.create_engine(read_only)
        with pytest.raises(AuditUnavailable):
            ingest(
                "fcs",
                [write(tmp_path / "clients.csv", CLIENTS)],
                hub=hub,
                mapping=mapping(),
                control=read_only,
            )
    finally:
        path.chmod(0o644)
    con = duckdb.connect(str(hub), read_only=True)
    assert con.execute("SELECT count(*) FROM person_record").fetchall() == [(0,)]


def test_the_cli_says_what_to_run_after_a_new_batch(tmp_path, capsys):
    from crosswalk.cli import run

    hub, mapping_file = tmp_path / "hub.duckdb", write(tmp_path / "fcs.yaml", MAPPING)
    clients = write(tmp_path / "clients.csv", CLIENTS)
    args = ["ingest", "fcs", str(clients), "--mapping", str(mapping_file), "--hub", str(hub)]
    assert run(args) == 0
    assert "crosswalk link" in capsys.readouterr().out
    assert run(args) == 0  # the same file again: nothing new to link
    assert "crosswalk link" not in capsys.readouterr().out


def test_events_sent_without_program_codes_keep_to_the_agencys_own_programs(tmp_path):
    # A mapping without program codes takes the program as sent: an fcs extract must not
    # file events under the Part 2 program (or any program outside fcs's own) that way.
    plain = MAPPING.replace('  codes:\n    program: {"FS": SNAP, "CA": TANF}\n', "")
    assert plain != MAPPING
    hub = tmp_path / "hub.duckdb"
    c = write(tmp_path / "clients.csv", CLIENTS)
    e = write(
        tmp_path / "events.csv",
        "event,id,program,start,end,amount\n"
        "E1,1,SNAP,01/01/2020,,100\nE2,1,SUD_TREATMENT,01/01/2020,,\nE3,1,BOGUS,01/01/2020,,\n",
    )
    ingest("fcs", [c, e], hub=hub, mapping=parse_mapping(plain, "fcs.yaml"))
    con = duckdb.connect(str(hub), read_only=True)
    assert con.execute("SELECT source_event_id, program FROM service_event").fetchall() == [
        ("E1", "SNAP")
    ]
    assert con.execute(
        "SELECT source_row, field, value, rule FROM quarantine WHERE file = ? ORDER BY source_row",
        [str(e)],
    ).fetchall() == [
        (2, "program", "SUD_TREATMENT", "unknown_code"),
        (3, "program", "BOGUS", "unknown_code"),
    ]
