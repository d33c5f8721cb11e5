"""The Python client: three lines from a notebook to an Arrow table; the service's errors
come back as the Crosswalk errors they name."""

import pyarrow as pa
import pytest

from crosswalk.client import Client
from crosswalk.errors import AccessDenied, ConfigError, Unauthenticated


def test_ask_returns_a_table_and_errors_are_crosswalk_errors(service):
    cw = Client(token=service.tokens["ada"], http=service.client)
    table = cw.ask("overlap", purpose="program_evaluation", start="2019-01-01", end="2019-12-31")
    assert isinstance(table, pa.Table) and {"program_a", "program_b", "people"} <= set(
        table.column_names
    )
    with pytest.raises(AccessDenied, match="no clause"):
        cw.person("P0000000001", purpose="care_coordination")
    with pytest.raises(Unauthenticated):
        Client(token="cwt_forged", http=service.client).me()


def test_every_question_the_cli_asks_the_client_asks(service):
    cw = Client(token=service.tokens["ada"], http=service.client)
    households = cw.ask("overlap", purpose="program_evaluation", unit="household")
    assert {"program_a", "program_b"} <= set(households.column_names)
    entries = service.get("/audit/entries?user=ada", "cdo.privacy").json()["items"]
    assert any("household" in str(e["body"]) for e in entries if e["action"] == "data.read")


def test_a_privacy_officer_reads_the_audit_as_a_table(service):
    Client(token=service.tokens["ada"], http=service.client).ask(
        "overlap", purpose="program_evaluation"
    )
    audit = Client(token=service.tokens["cdo.privacy"], http=service.client).audit(user="ada")
    assert audit.column("action").to_pylist() == ["data.read"]


def test_a_steward_uploads_from_python_and_gets_the_batch_and_its_quarantine(owned, tmp_path):
    from tests.service.test_jobs import clients_csv

    extract = tmp_path / "clients.csv"
    extract.write_bytes(clients_csv(12))
    cw = Client(token=owned.tokens["fcs.steward"], http=owned.client)
    job = cw.upload(extract, every=0.05)
    batch_id = job["result"]["batch_id"]
    assert cw.batch(batch_id)["accepted"] == 11
    quarantine = cw.quarantine(batch_id)
    assert quarantine.column("field").to_pylist() == ["Client ID"]
    assert batch_id in cw.batches().column("batch_id").to_pylist()
    assert cw.jobs().column("job_id").to_pylist() == [job["job_id"]]


def test_a_steward_uploads_a_weekly_update_batch(owned, tmp_path):
    from tests.service.test_jobs import clients_csv

    first, week = tmp_path / "clients.csv", tmp_path / "week-clients.csv"
    first.write_bytes(clients_csv(12, bad_dob_at=None))
    # the next week's extract: the same clients, one of them moved
    week.write_bytes(clients_csv(12, bad_dob_at=None).replace(b"3 OAK ST", b"3 ELM ST"))
    cw = Client(token=owned.tokens["fcs.steward"], http=owned.client)
    assert cw.upload(first, every=0.05)["result"]["accepted"] == 12
    # as an update batch, clients the hub holds are new versions (otherwise each would be
    # quarantined as a duplicate id)
    job = cw.upload(week, updates=True, every=0.05)
    assert job["status"] == "done" and job["params"]["updates"] is True
    assert (job["result"]["accepted"], job["result"]["quarantined"]) == (12, 0)


def test_a_failed_job_raises_the_error_it_failed_with(owned):
    from crosswalk.errors import NotFound

    cw = Client(token=owned.tokens["fcs.steward"], http=owned.client)
    with pytest.raises(NotFound, match="no batch"):
        cw.upload(owned.state / "agencies/fcs/clients.csv", replace="B000000000000", every=0.05)


@pytest.mark.parametrize(
    "url", ["http://crosswalk.example.gov", "ftp://crosswalk.example.gov", "crosswalk.example.gov"]
)
def test_the_client_sends_no_token_in_clear_text(url):
    # The attack: a base URL of plain http to another machine sent the bearer token (and
    # received identified records) readable by anyone on the path.
    with pytest.raises(ConfigError, match="https"):
        Client(url, token="cwt_secret")


def test_the_client_reaches_https_and_loopback():
    for url in ("https://crosswalk.example.gov", "http://localhost:8000", "http://127.0.0.1:8000"):
        Client(url, token="cwt_secret")
