"""A small synthetic state, ingested and linked once: the hub the list commands read."""

from __future__ import annotations

from pathlib import Path

import pytest

from crosswalk.identity import link
from crosswalk.ingest import ingest_state
from crosswalk.synth import small_state


@pytest.fixture(scope="session")
def linked_hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    small_state(str(root / "state"), people=1500, seed=3)  # seed 3: pairs in the review band
    hub = root / "hub.duckdb"
    ingest_state(root / "state", hub=hub)
    link(hub)
    return hub


@pytest.fixture
def control(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CROSSWALK_SECRETS", str(tmp_path / "secrets"))
    return f"sqlite:///{tmp_path}/control.db"
