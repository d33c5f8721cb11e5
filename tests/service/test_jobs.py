"""Background jobs: upload an extract, poll its job, see its quarantine; a linkage run;
review decisions; what a job of someone else, an oversized or malformed upload, and
injection in column names get."""

import csv
import io
import json
import time

import pytest
import sqlalchemy as sa

from crosswalk.jobs import Jobs
from crosswalk.jobs.tables import job as job_table

HEADER = (
    "Client ID,Client Name,Date of Birth,Sex,SSN,Street,City,State,Zip,County,Phone,"
    "Case Number,Household ID,Medicaid ID"
)


def clients_csv(rows: int = 30, bad_dob_at: int | None = 4, header: str = HEADER) -> bytes:
    """An FCS clients extract of new clients; the row ``bad_dob_at`` repeats the client
    id of the row before it (quarantined) and has no valid DOB (flagged)."""
    out = io.StringIO()
    out.write(header + "\n")
    w = csv.writer(out, lineterminator="\n")
    for i in range(1, rows + 1):
        dob = "13/45/1990" if i == bad_dob_at else f"0{1 + i % 9}/1{i % 9}/19{60 + i % 40}"
        w.writerow(
            [
                f"FX{i - (i == bad_dob_at):08d}",
                f"NEWCOMB, ALEX{chr(65 + i % 26)}",
                dob,
                "F",
                "",
                f"{i} OAK ST",
                "CEDARTON",
                "IL",
                "61824",
                "CHAMPAIGN",
                "",
                f"FCS-9{i:05d}",
                f"HX{i:06d}",
                "",
            ]
        )
    return out.getvalue().encode()


def upload(s, who, *files, **data):
    return s.client.post(
        "/uploads",
        headers=s.as_(who),
        files=[("files", (name, body, "text/csv")) for name, body in files],
        data=data,
    )


def batches_of(s, agency):
    with s.hub.read() as con:
        return {
            b
            for (b,) in con.execute(
                "SELECT batch_id FROM batch WHERE agency = ?", [agency]
            ).fetchall()
        }


def test_upload_poll_then_see_the_quarantine(owned):
    s = owned
    r = upload(s, "fcs.steward", ("clients.csv", clients_csv()))
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/jobs/{r.json()['job_id']}"
    assert r.json()["status"] in ("queued", "running", "done")
    job = s.finished(r.json()["job_id"], "fcs.steward")
    assert job["status"] == "done", job
    result = job["result"]
    assert (result["read"], result["accepted"], result["quarantined"]) == (30, 29, 1)
    assert result["files"][0]["file"] == "clients.csv"
    assert job["progress"] == 1.0 and job["owner"] == "fcs.steward"
    batch = s.get(f"/batches/{result['batch_id']}", "fcs.steward").json()
    assert (batch["read"], batch["accepted"], batch["quarantined"]) == (30, 29, 1)
    assert batch["loaded_by"] == "fcs.steward"
    rows = s.get(f"/batches/{result['batch_id']}/quarantine", "fcs.steward").json()["items"]
    assert [(q["file"], q["source_row"], q["field"]) for q in rows] == [
        ("clients.csv", 4, "Client ID")
    ]
    # the job, the batch and its rows are not there for another agency or another user
    for who in ("sud.steward", "ana", "cdo.linkage"):
        assert s.get(f"/jobs/{job['job_id']}", who).status_code == 404
    missing = s.get("/jobs/J000000000000", "fcs.steward")
    other = s.get(f"/jobs/{job['job_id']}", "sud.steward")
    assert missing.status_code == other.status_code == 404
    assert other.json()["detail"] == f"no job {job['job_id']!r}"
    assert s.get(f"/batches/{result['batch_id']}", "sud.steward").status_code == 404
    assert s.get("/batches/B000000000000", "fcs.steward").status_code == 404
    assert s.get("/jobs", "sud.steward").json()["total"] == 0
    assert [j["job_id"] for j in s.get("/jobs", "fcs.steward").json()["items"]] == [job["job_id"]]
    actions = [e["action"] for e in s.hub.audit.entries() if e["user"] == "fcs.steward"]
    assert "ingest.started" in actions and "ingest.batch" in actions
    assert not list(s.app.state.upload_folder.iterdir())


def test_the_same_file_again_is_recognised_not_loaded_twice(owned):
    s = owned
    first = s.finished(
        upload(s, "fcs.steward", ("c.csv", clients_csv(10))).json()["job_id"], "fcs.steward"
    )
    again = s.finished(
        upload(s, "fcs.steward", ("c.csv", clients_csv(10))).json()["job_id"], "fcs.steward"
    )
    assert first["result"]["batch_id"] and again["result"]["batch_id"] is None
    assert again["result"]["files"][0]["already_loaded_in"] == first["result"]["batch_id"]


def test_an_oversized_upload_is_refused_and_stores_nothing(owned):
    s = owned  # its upload limit is 1 MB
    before = batches_of(s, "fcs")
    big = clients_csv(rows=20000, bad_dob_at=None)
    assert len(big) > 1024 * 1024
    r = upload(s, "fcs.steward", ("clients.csv", big))
    assert r.status_code == 413 and r.json()["type"].endswith("PayloadTooLarge")
    # streamed without a length: refused as it crosses the limit
    boundary = "xyz"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="clients.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()

    def chunks():
        yield head
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]
        yield f"\r\n--{boundary}--\r\n".encode()

    r = s.client.post(
        "/uploads",
        headers={
            **s.as_("fcs.steward"),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
        content=chunks(),
    )
    assert r.status_code == 413
    assert batches_of(s, "fcs") == before
    assert s.get("/jobs", "fcs.steward").json()["total"] == 0
    folder = s.app.state.upload_folder
    assert not folder.exists() or not list(folder.iterdir())


@pytest.mark.parametrize(
    "body, where",
    [
        # a column the mapping does not know, named as an attacker would
        (
            clients_csv(header=HEADER.replace("Medicaid ID", "Robert'); DROP TABLE batch;--")),
            {"file": "clients.csv", "field": "Robert'); DROP TABLE batch;--"},
        ),
        (b"", {"file": "clients.csv"}),
        (HEADER.encode() + b"\n", {"file": "clients.csv"}),
    ],
    ids=["injected-column", "empty", "header-only"],
)
def test_a_malformed_upload_names_file_and_field_and_stores_nothing(owned, body, where):
    s = owned
    before = batches_of(s, "fcs")
    with s.hub.read() as con:
        total = con.execute("SELECT count(*) FROM batch").fetchone()[0]
    r = upload(s, "fcs.steward", ("clients.csv", body))
    assert r.status_code in (400, 422), r.text
    problem = r.json()
    assert str(s.app.state.upload_folder) not in json.dumps(problem)
    located = [
        p for p in problem.get("problems", []) if all(p.get(k) == v for k, v in where.items())
    ]
    assert located or ("field" not in where and "clients.csv" in problem["detail"]), problem
    assert batches_of(s, "fcs") == before
    assert s.get("/jobs", "fcs.steward").json()["total"] == 0
    assert not list(s.app.state.upload_folder.iterdir())
    with s.hub.read() as con:  # the hub's tables are all there, unchanged
        assert con.execute("SELECT count(*) FROM batch").fetchone()[0] == total


def test_rows_the_load_flags_are_reported_by_file_and_field(owned):
    """Problems only the load finds (here: no DOB that parses) come back in the job's
    result as the quality gate's findings, by file and field."""
    s = owned
    bad = io.StringIO()
    bad.write(HEADER + "\n")
    for i in range(1, 11):
        bad.write(f'FY{i:08d},"DOE, JO",99/99/1999,F,,1 ELM ST,CEDARTON,IL,61824,CHAMPAIGN,,,,\n')
    r = upload(s, "fcs.steward", ("clients.csv", bad.getvalue().encode()))
    assert r.status_code == 202, r.text
    job = s.finished(r.json()["job_id"], "fcs.steward")
    assert job["status"] == "done", job
    warned = {(w.get("file"), w.get("field")) for w in job["result"]["warnings"]}
    assert ("clients.csv", "Date of Birth") in warned or ("clients.csv", "dob") in warned, job


def test_only_a_named_steward_uploads_and_only_for_their_agency(owned):
    s = owned
    # sud.steward uploads as sud (the account's agency, never the request's): sud's mapping
    r = upload(s, "sud.steward", ("clients.csv", clients_csv(5)))
    assert r.status_code == 422  # an FCS file does not match sud's mapping
    for who in ("ana", "ada", "cdo.linkage", "fran"):
        assert upload(s, who, ("clients.csv", clients_csv(5))).status_code == 403
    # a steward account the agreement does not name is refused by the gate, audited
    from tests.service.conftest import OPERATOR

    s.accounts.add(OPERATOR, "fcs.helper", "fcs", ["steward"])
    token = s.accounts.create_token(OPERATOR, "fcs.helper")[1]
    r = s.client.post(
        "/uploads",
        headers={"Authorization": f"Bearer {token}"},
        files=[("files", ("clients.csv", clients_csv(5), "text/csv"))],
    )
    assert r.status_code == 403 and "does not name them" in r.json()["detail"]
    assert s.hub.audit.entries()[-1]["action"] == "data.denied"


def test_reads_go_on_while_a_job_writes_and_never_see_half_a_batch(owned):
    s = owned
    before = s.get("/batches", "fcs.steward").json()["total"]
    with s.hub.write() as con:  # what a job holds: the writer, mid-transaction
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "INSERT INTO batch SELECT * REPLACE ('Bhalf00000000' AS batch_id) FROM batch"
            " WHERE agency = 'fcs' LIMIT 1"
        )
        t = time.monotonic()
        during = s.get("/batches", "fcs.steward").json()
        assert time.monotonic() - t < 2.0
        assert during["total"] == before
        assert "Bhalf00000000" not in {b["batch_id"] for b in during["items"]}
        con.execute("ROLLBACK")


@pytest.mark.slow
def test_a_link_run_job_then_a_review_decision(owned):
    s = owned
    assert s.post("/link-runs", "fcs.steward", {}).status_code == 403
    r = s.post("/link-runs", "cdo.linkage", {"seed": 3, "full": True})
    assert r.status_code == 202, r.text
    job = s.finished(r.json()["job_id"], "cdo.linkage")
    assert job["status"] == "done", job
    assert job["result"]["run_id"].startswith("L") and job["result"]["records"] > 1000
    assert job["step"] == "done"
    queue = s.get("/review", "cdo.linkage", params={"limit": 5}).json()
    assert queue["total"] == job["result"]["review_pairs"] or queue["total"] <= 5
    pair = queue["items"][0]
    a, b = pair["record_key_l"], pair["record_key_r"]
    decided = s.post(
        "/review/decisions",
        "cdo.linkage",
        {"record_a": a, "record_b": b, "decision": "no-match", "note": "twins"},
    )
    assert decided.status_code == 201, decided.text
    assert decided.json() == {
        "record_keys": sorted((a, b)),
        "decision": "no-match",
        "decided_by": "cdo.linkage",
    }
    after = s.get("/review", "cdo.linkage", params={"limit": 500}).json()["items"]
    assert (a, b) not in {(p["record_key_l"], p["record_key_r"]) for p in after}
    assert any(
        e["action"] == "identity.review" and e["user"] == "cdo.linkage"
        for e in s.hub.audit.entries()
    )
    refused = s.post(
        "/review/decisions", "fcs.steward", {"record_a": a, "record_b": b, "decision": "match"}
    )
    assert refused.status_code == 403


def test_a_read_only_service_refuses_jobs_clearly(service):
    r = service.post("/link-runs", "cdo.linkage", {})
    assert r.status_code == 400 and "reading only" in r.json()["detail"]


def test_jobs_a_stopped_service_left_are_failed_at_the_next_start(tmp_path):
    from crosswalk import migrations

    engine = sa.create_engine(f"sqlite:///{tmp_path}/c.db")
    migrations.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            job_table.insert().values(
                job_id="J1",
                kind="link",
                owner="u",
                agency="cdo",
                status="running",
                step="training",
                progress=0.3,
                params="{}",
                created_at="2025-01-01T00:00:00+00:00",
            )
        )
    jobs = Jobs(engine)
    job = jobs.get("J1", "u")
    assert job.status == "failed" and "stopped before" in job.problem["detail"]
