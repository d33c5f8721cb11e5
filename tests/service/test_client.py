"""The Python client: three lines from a notebook to an Arrow table; the service's errors
come back as the Crosswalk errors they name."""

import pyarrow as pa
import pytest

from crosswalk.client import Client
from crosswalk.errors import AccessDenied, Unauthenticated


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


def test_a_privacy_officer_reads_the_audit_as_a_table(service):
    Client(token=service.tokens["ada"], http=service.client).ask(
        "overlap", purpose="program_evaluation"
    )
    audit = Client(token=service.tokens["cdo.privacy"], http=service.client).audit(user="ada")
    assert audit.column("action").to_pylist() == ["data.read"]
