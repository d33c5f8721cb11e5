"""Keep every test's control plane and secrets out of the working tree.

Set at import, before any session fixture runs, so library defaults (which write to the
current directory) never touch the repository.
"""

import atexit
import os
import shutil
import tempfile

# Once per process: importing this file again (as ``tests.conftest``) must not undo a
# test's own settings halfway through it. Helpers tests import live in their own modules.
if "_CROSSWALK_TEST_ROOT" not in os.environ:
    _root = os.environ["_CROSSWALK_TEST_ROOT"] = tempfile.mkdtemp(prefix="crosswalk-tests-")
    atexit.register(shutil.rmtree, _root, ignore_errors=True)
    os.environ["CROSSWALK_CONTROL"] = f"sqlite:///{_root}/control.db"
    os.environ["CROSSWALK_SECRETS"] = f"{_root}/secrets"
    os.environ.pop("CROSSWALK_HUB", None)
    os.environ.pop("CROSSWALK_AGREEMENT", None)
    # The CLI signs in only with the tokens a test gives it: never the tester's own.
    os.environ.pop("CROSSWALK_TOKEN", None)
    os.environ["CROSSWALK_TOKEN_FILE"] = f"{_root}/no-token"
    os.environ["CROSSWALK_PROFILE"] = f"{_root}/no-profile.yaml"


import pytest

from crosswalk import clock


@pytest.fixture
def clock_at(monkeypatch: pytest.MonkeyPatch):
    """The test-only seam for the day: ``clock_at(date(2025, 6, 1))`` makes the library's
    clock (``crosswalk.clock.today``) answer that day until the test ends."""

    def freeze(day):
        monkeypatch.setattr(clock, "today", lambda: day)
        return day

    return freeze


from tests.postgres import postgres_database, postgres_url  # noqa: E402, F401
from tests.signin import signed_in  # noqa: E402, F401


@pytest.fixture(scope="session")
def spark_session():
    """One local Spark session for the run (see ``tests.spark``); skipped, saying why,
    where no Java runtime or no PySpark can be found."""
    from tests.spark import java_missing, start_session

    reason = java_missing()
    if reason:
        pytest.skip(reason)
    pytest.importorskip("pyspark.sql", reason="PySpark (the spark extra) missing")
    session = start_session()
    yield session
    session.stop()
