"""Fixtures of the attacks: the linear-bounds attacker, a small synthetic hub, and the
analyst's view of it (released tables only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import population
import pytest
from attacker import Ranges, linear_bounds
from attacks import Ask
from population import SECRET, K
from tests.analytics.engine import compute

from crosswalk.analytics import Question
from crosswalk.disclosure import MemoryHistory

PEOPLE = 3000


@pytest.fixture(scope="session")
def attack() -> Callable[..., Ranges]:
    return linear_bounds


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[population.Person]]:
    """A 3,000-person hub and the truth about every person in it."""
    path = tmp_path_factory.mktemp("disclosure") / "hub.duckdb"
    return path, population.build(path, PEOPLE, seed=4)


@pytest.fixture(scope="session")
def con(synthetic: tuple[Path, list[population.Person]]) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(synthetic[0]), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def people(synthetic: tuple[Path, list[population.Person]]) -> list[population.Person]:
    return synthetic[1]


def analyst_of(con: duckdb.DuckDBPyConnection, history: MemoryHistory | None) -> Ask:
    def ask(question: Question) -> object:
        return compute(con, question, k=K, secret=SECRET, history=history).table

    return ask  # type: ignore[return-value]


@pytest.fixture
def analyst(con: duckdb.DuckDBPyConnection) -> Ask:
    """An analyst asking a hub that remembers what it released (from this test on)."""
    return analyst_of(con, MemoryHistory())


@pytest.fixture
def analyst_without_history(con: duckdb.DuckDBPyConnection) -> Ask:
    """The same, on a hub protected by cell keys alone: the control of the attacks."""
    return analyst_of(con, None)
