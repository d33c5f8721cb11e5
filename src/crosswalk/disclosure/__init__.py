"""Disclosure control: what an aggregate may show.

``protect(table, spec, k)`` hides counts from 1 to k - 1 and any rate derived from them
(primary), hides further cells so that none can be recomputed from totals, margins or an
overlap matrix (complementary, checked by linear programming), and perturbs the shown
counts by the cell-key method so that cohorts differing by one person cannot be told
apart (differencing). See docs/disclosure.md.
"""

from crosswalk.disclosure.perturb import (
    NOISE,
    cell_key_sql,
    population_key_sql,
    record_key_sql,
)
from crosswalk.disclosure.protect import Protected, SuppressedCell, protect
from crosswalk.disclosure.spec import At, DisclosureError, Rate, Sum, TableSpec

__all__ = [
    "NOISE",
    "At",
    "DisclosureError",
    "Protected",
    "Rate",
    "Sum",
    "SuppressedCell",
    "TableSpec",
    "cell_key_sql",
    "population_key_sql",
    "protect",
    "record_key_sql",
]
