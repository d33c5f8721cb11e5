"""The same ingest on both engines: the same accepted and quarantined counts, the same
standardised rows, the same quarantine (file, row, field, rule) and the same audit
entries; on Spark the batch lands in the warehouse by one atomic step, and a bad batch
leaves it as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.ingest.conftest import MAPPING, write

from crosswalk.audit import AuditLog
from crosswalk.engines import SparkEngine
from crosswalk.engines.warehouse import CURRENT, SNAPSHOTS
from crosswalk.errors import QualityGateError
from crosswalk.ingest import ingest, ingest_state, parse_mapping
from crosswalk.synth import small_state

# A batch with something wrong of every kind ingest refuses or flags: no id, the same id
# twice, an unknown sex code, a placeholder SSN, a bad date, an odd phone, an accented
# name with a suffix, a middle initial, events of an unknown client, an unknown program,
# an unparseable start, a start out of range, an end before its start, a bad amount, a
# row with a field too many; and a value written as SQL and parameter markers, which
# stays a value.
CLIENTS = """id,name,dob,sex,ssn,phone
1,"SMITH JR, WILLIAM J",3/4/1990,M,123-45-6789,(312) 555-0101
2,"García-López, José",1990-02-13,F,078-05-1120,+44 20 7946 0958
2,"DOE, JANE",01/02/1980,F,,
,"NOBODY, NO",01/02/1980,F,,
3,"O'Brien, Mary Ann",13/45/1990,X,219-09-9999,555-0101
4,"ROE, AL",01/01/1900,M,512-34-6789,312.555.0199
5,"POE, AN",03/04/2080,F,,,extra
6,"Robert'); DROP TABLE person_record;--, :p0 $p1",01/02/1980,M,,
"""
EVENTS = """event,id,program,start,end,amount
E1,1,FS,01/02/2019,02/02/2019,"$1,200.50"
E2,1,CA,3/4/2019,,-5
E3,9,FS,01/02/2019,,
E4,2,XX,01/02/2019,,
E5,2,FS,31/31/2019,,
E6,4,FS,01/02/1850,,
E7,4,CA,05/02/2019,01/02/2019,abc
E7,4,CA,05/02/2019,,
"""


ENGINES = ("duckdb", "spark")


def rows(folder: Path, sql: str) -> list[tuple[Any, ...]]:
    """The rows of a query over the hub's tables: the DuckDB file, or the Parquet of the
    warehouse's current snapshot (read here with DuckDB, the same way for both; a table
    the warehouse holds no rows of has no folder there)."""
    con = duckdb.connect(":memory:" if folder.is_dir() else str(folder), read_only=False)
    try:
        if folder.is_dir():
            snapshot = folder / SNAPSHOTS / (folder / CURRENT).read_text().strip()
            for table in snapshot.iterdir():
                files = str(table / "*.parquet").replace("'", "''")
                con.execute(f"CREATE VIEW {table.name} AS SELECT * FROM read_parquet('{files}')")
        try:
            return con.execute(sql).fetchall()
        except duckdb.CatalogException:
            if not folder.is_dir():
                raise
            return []
    finally:
        con.close()


def audited(control: str, batch_ids: list[str]) -> list[dict[str, Any]]:
    """The audit entries without when, the batch ids as their order of loading."""
    out = []
    for entry in AuditLog(control).entries():
        body = entry["body"]
        for i, b in enumerate(batch_ids):
            body = body.replace(b, f"BATCH{i}")
        parsed = json.loads(body)
        parsed.pop("at", None)
        out.append(parsed)
    return out


def target(engine: str, root: Path, spark_session: Any) -> Any:
    return root / "hub.duckdb" if engine == "duckdb" else SparkEngine(root, session=spark_session)


def where(engine: str, root: Path) -> Path:
    return root / "hub.duckdb" if engine == "duckdb" else root


def loaded(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    session = request.getfixturevalue("spark_session") if engine == "spark" else None
    root = tmp_path / engine
    root.mkdir()
    control = f"sqlite:///{root}/control.db"
    files = [write(tmp_path / "clients.csv", CLIENTS), write(tmp_path / "events.csv", EVENTS)]
    result = ingest(
        "fcs",
        files,
        hub=target(engine, root, session),
        mapping=parse_mapping(MAPPING, "fcs.yaml"),
        control=control,
        loaded_by="steward",
    )
    hub = where(engine, root)
    return {
        "files": [
            (f.file, f.kind, f.rows_read, f.rows_accepted, f.rows_quarantined, f.issues)
            for f in result.files
        ],
        "quarantine": rows(
            hub, "SELECT file, source_row, field, rule, value FROM quarantine ORDER BY ALL"
        ),
        "records": rows(hub, "SELECT * EXCLUDE (batch_id) FROM person_record ORDER BY record_key"),
        "events": rows(hub, "SELECT * EXCLUDE (batch_id) FROM service_event ORDER BY event_key"),
        "lineage": rows(
            hub,
            "SELECT kind, file, sha256, rows_read, rows_accepted, rows_quarantined"
            " FROM batch_file ORDER BY ALL",
        ),
        "issues": rows(hub, "SELECT * EXCLUDE (batch_id) FROM batch_issue ORDER BY ALL"),
        "audit": audited(control, [str(result.batch_id)]),
    }


@pytest.mark.slow
def test_a_batch_is_loaded_the_same_on_both_engines(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    on_duckdb = loaded("duckdb", tmp_path, request)
    on_spark = loaded("spark", tmp_path, request)
    for part in on_duckdb:
        assert on_spark[part] == on_duckdb[part], part
    files = on_duckdb["files"]
    assert [(read, acc + q) for _, _, read, acc, q, _ in files] == [(8, 8), (8, 8)]
    rules = {rule for _, _, _, rule, _ in on_duckdb["quarantine"]}
    assert {"required", "duplicate_source_id", "wrong_field_count", "unknown_client"} <= rules
    flagged = {rule for _, _, rule, _, quarantined in on_duckdb["issues"] if not quarantined}
    assert {"ssn_placeholder", "dob_unparseable", "sex_unknown_code"} <= flagged
    names = {r[9] for r in on_spark["records"]}  # first_name_raw, as sent
    assert "Robert'); DROP TABLE person_record;--, :p0 $p1" in names


@pytest.mark.parametrize(
    "engine", [pytest.param(e, marks=[pytest.mark.slow] if e == "spark" else []) for e in ENGINES]
)
def test_a_refused_batch_leaves_the_hub_as_it_was(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    session = request.getfixturevalue("spark_session") if engine == "spark" else None
    control = f"sqlite:///{tmp_path}/control.db"
    first = write(tmp_path / "first.csv", 'id,name,dob,sex,ssn,phone\n99,"X, Y",01/02/1990,M,,\n')
    ingest("fcs", [first], hub=target(engine, tmp_path, session), mapping=parse_mapping(MAPPING, "fcs.yaml"), kinds=["clients"], control=control)  # fmt: skip
    hub = where(engine, tmp_path)
    tables = ("person_record", "service_event", "batch", "batch_file", "quarantine")
    before = {t: rows(hub, f"SELECT * FROM {t} ORDER BY ALL") for t in tables}
    pointer = (tmp_path / CURRENT).read_text() if engine == "spark" else None
    with pytest.raises(QualityGateError):
        ingest(
            "fcs",
            [write(tmp_path / "clients.csv", CLIENTS), write(tmp_path / "events.csv", EVENTS)],
            hub=target(engine, tmp_path, session),
            mapping=parse_mapping(MAPPING + "quality:\n  on_breach: refuse\n", "fcs.yaml"),
            control=control,
        )
    assert {t: rows(hub, f"SELECT * FROM {t} ORDER BY ALL") for t in tables} == before
    actions = [e["action"] for e in AuditLog(control).entries()]
    assert actions[-2:] == ["ingest.started", "ingest.failed"]
    if engine == "spark":
        assert (tmp_path / CURRENT).read_text() == pointer
        # Nothing staged is left behind: the snapshot in use and no other.
        assert [p.name for p in (tmp_path / SNAPSHOTS).iterdir()] == [pointer.strip()]


@pytest.mark.slow
def test_a_synthetic_state_is_loaded_the_same_on_both_engines(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    small_state(str(tmp_path / "state"), people=300, seed=4)
    out = {}
    for engine in ENGINES:
        session = request.getfixturevalue("spark_session") if engine == "spark" else None
        root = tmp_path / engine
        root.mkdir()
        control = f"sqlite:///{root}/control.db"
        results = ingest_state(
            tmp_path / "state", hub=target(engine, root, session), control=control
        )
        hub = where(engine, root)
        out[engine] = (
            [(f.file, f.rows_read, f.rows_accepted, f.rows_quarantined, f.issues) for r in results for f in r.files],
            rows(hub, "SELECT file, source_row, field, rule FROM quarantine ORDER BY ALL"),
            rows(hub, "SELECT * EXCLUDE (batch_id) FROM person_record ORDER BY record_key"),
            rows(hub, "SELECT * EXCLUDE (batch_id) FROM service_event ORDER BY event_key"),
            audited(control, [str(r.batch_id) for r in results]),
        )  # fmt: skip
    assert out["spark"][0] == out["duckdb"][0]  # counts per file, flags and quarantine
    assert out["spark"][1] == out["duckdb"][1]  # the quarantine, row by row
    assert out["spark"][2] == out["duckdb"][2]  # the standardised records
    assert out["spark"][3] == out["duckdb"][3]  # the events
    assert out["spark"][4] == out["duckdb"][4]  # the audit entries
    assert out["duckdb"][2] and out["duckdb"][3]  # (a state this small quarantines nothing)
