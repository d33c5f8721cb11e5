"""Every operation of the OpenAPI schema, fuzzed (Schemathesis) as an administrator and
as a low-privilege account: no 500, and every response within the schema (its status
declared, its content type and body as declared).

The default run makes a few examples per operation; the slow run (``make test-slow``)
makes many more."""

import tempfile
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

from crosswalk import migrations
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
    max_examples=3,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)
LONG = hypothesis.settings(
    max_examples=40, deadline=None, suppress_health_check=list(hypothesis.HealthCheck)
)


def _schema_app():
    """An app of the service over an empty hub, for its OpenAPI schema only: the schema is
    read when the tests are collected; each call goes to the test's own service."""
    root = Path(tempfile.mkdtemp(prefix="crosswalk-schema-"))
    engine = sa.create_engine(f"sqlite:///{root}/control.db")
    migrations.upgrade(engine)
    return create_app(Hub(root / "hub.duckdb", engine, root / "secrets"), cors_origins=[])


schema = schemathesis.openapi.from_asgi("/openapi.json", _schema_app())


def _call(service, case, who):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {service.tokens[who]}"},
        checks=CHECKS,
        app=service.app,
    )


@schema.parametrize()
@FAST
def test_every_operation_as_an_administrator(case, service):
    _call(service, case, ADMINISTRATOR)


@schema.parametrize()
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
