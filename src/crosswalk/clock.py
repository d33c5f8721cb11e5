"""Today's date, for every decision that depends on the day (agreement in force, consent
validity, a party's withdrawal).

The library reads the day only through ``today()``; no caller chooses it. Tests that need
a fixed day replace this function for the length of one test (the ``clock_at`` fixture
in ``tests/conftest.py``): there is no parameter on the production path to do so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def today() -> date:
    """Today in UTC (the hub's day, whatever the machine's time zone)."""
    return datetime.now(UTC).date()
