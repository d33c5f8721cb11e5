import shutil

import pytest

from crosswalk.identity import link
from crosswalk.ingest import ingest_state
from crosswalk.synth import small_state


@pytest.fixture(scope="session")
def linked(tmp_path_factory):
    """A small synthetic state, ingested and linked once for the session."""
    root = tmp_path_factory.mktemp("linked")
    small_state(str(root / "state"), people=2500, seed=5)
    hub = root / "hub.duckdb"
    ingest_state(root / "state", hub=hub)
    result = link(hub, charts=root / "charts")
    return root, hub, result


@pytest.fixture
def linked_copy(linked, tmp_path):
    root, hub, _ = linked
    target = tmp_path / "hub.duckdb"
    shutil.copy(hub, target)
    return root, target
