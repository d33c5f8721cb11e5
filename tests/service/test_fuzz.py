"""Every operation of the OpenAPI schema, fuzzed (Schemathesis) as an administrator and
as a low-privilege account: no 500, and every response within the schema (its status
declared, its content type and body as declared).

The default run makes a few examples per operation; the slow run (``make test-slow``)
makes many more, and every case of the coverage phase."""

import atexit
import shutil
import tempfile
from datetime import date
from pathlib import Path

import hypothesis
import pytest
import schemathesis
import sqlalchemy as sa
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.service.conftest import start_service

from crosswalk import clock, migrations
from crosswalk.hub import Hub
from crosswalk.service import create_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ADMINISTRATOR, LOW = "fran", "ana"  # an administrator; a caseworker with no other role
FAST = hypothesis.settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)
LONG = hypothesis.settings(
    max_examples=15, deadline=None, suppress_health_check=list(hypothesis.HealthCheck)
)


def _schema_app():
    """An app of the service over an empty hub, for its OpenAPI schema only: the schema is
    read when the tests are collected; each call goes to the test's own service."""
    root = Path(tempfile.mkdtemp(prefix="crosswalk-schema-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    engine = sa.create_engine(f"sqlite:///{root}/control.db")
    migrations.upgrade(engine)
    return create_app(Hub(root / "hub.duckdb", engine, root / "secrets"), cors_origins=[])


APP = _schema_app()
# The default run: the schema's examples and a few generated cases per operation. The slow
# run adds the coverage phase (every boundary and missing or wrong-typed value the schema
# implies) and many more generated cases.
quick = schemathesis.openapi.from_asgi("/openapi.json", APP)
quick.config.phases.update(phases=["examples", "fuzzing"])
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def service(linked_hub, tmp_path_factory):
    """One service for every operation of a test module (the fuzzed cases share it: an
    account one case disables stays disabled for the next, as on a real service)."""
    root = tmp_path_factory.mktemp("fuzz")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "today", lambda: date(2025, 6, 1))
        s = start_service(linked_hub, f"sqlite:///{root}/control.db", root / "secrets")
        yield s
        s.hub.close()


def _call(service, case, who):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {service.tokens[who]}"},
        checks=CHECKS,
        app=service.app,
    )


@quick.parametrize()
@FAST
def test_every_operation_as_an_administrator(case, service):
    _call(service, case, ADMINISTRATOR)


@quick.parametrize()
@FAST
def test_every_operation_as_a_low_privilege_account(case, service):
    _call(service, case, LOW)


@pytest.mark.slow
@schema.parametrize()
@LONG
def test_every_operation_as_an_administrator_at_length(case, service):
    _call(service, case, ADMINISTRATOR)


@pytest.mark.slow
@schema.parametrize()
@LONG
def test_every_operation_as_a_low_privilege_account_at_length(case, service):
    _call(service, case, LOW)
