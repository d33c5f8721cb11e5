"""The attacker of tests/disclosure/attacker.py as a fixture."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from attacker import Ranges, linear_bounds


@pytest.fixture(scope="session")
def attack() -> Callable[..., Ranges]:
    return linear_bounds
