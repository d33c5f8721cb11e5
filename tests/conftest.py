"""Keep every test's control plane and secrets out of the working tree.

Set at import, before any session fixture runs, so library defaults (which write to the
current directory) never touch the repository.
"""

import os
import tempfile

_root = tempfile.mkdtemp(prefix="crosswalk-tests-")
os.environ["CROSSWALK_CONTROL"] = f"sqlite:///{_root}/control.db"
os.environ["CROSSWALK_SECRETS"] = f"{_root}/secrets"
os.environ.pop("CROSSWALK_HUB", None)
os.environ.pop("CROSSWALK_AGREEMENT", None)
# The CLI signs in only with the tokens a test gives it: never the tester's own.
os.environ.pop("CROSSWALK_TOKEN", None)
os.environ["CROSSWALK_TOKEN_FILE"] = f"{_root}/no-token"
os.environ["CROSSWALK_PROFILE"] = f"{_root}/no-profile.yaml"


import pytest  # noqa: E402

from crosswalk import clock  # noqa: E402


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

LINKAGE_STEWARD = ("cdo.linkage", "cdo", "linkage_steward")


def evaluate_index(truth, hub, control=None, secrets=None):
    """Score a hub's person index against ground truth as the hub operator's linkage
    steward, through the gate (the only way to read the index and its records)."""
    from crosswalk.access import Gate
    from crosswalk.agreement import Principal

    gate = Gate(hub, control, secrets)
    return gate.evaluate_linkage(Principal(*LINKAGE_STEWARD), "linkage_review", truth)
