"""Disclosure control: what an aggregate may show.

``protect(table, spec, k)`` hides counts from 1 to k - 1 and any rate derived from them
(primary), hides further cells so that none can be recomputed from totals, margins or an
overlap matrix (complementary, checked by linear programming), and perturbs the shown
counts and magnitudes by the cell-key method: the noise of a cell depends only on the
people in it, so asking variants of a question averages nothing away; and a cell within
k - 1 people of one released before is released as that one was (``StoredHistory``), so
asking a cohort with and without one person tells nothing about that person. See
docs/disclosure.md.
"""

from crosswalk.disclosure.history import MemoryHistory, ReleaseHistory, StoredHistory
from crosswalk.disclosure.perturb import (
    NOISE,
    cell_key_sql,
    for_dialect,
    key_of_hash_sql,
    record_key,
    record_key_sql,
)
from crosswalk.disclosure.protect import Protected, SuppressedCell, protect
from crosswalk.disclosure.spec import At, DisclosureError, Rate, Sum, TableSpec

__all__ = [
    "NOISE",
    "At",
    "DisclosureError",
    "MemoryHistory",
    "Protected",
    "Rate",
    "ReleaseHistory",
    "StoredHistory",
    "Sum",
    "SuppressedCell",
    "TableSpec",
    "cell_key_sql",
    "for_dialect",
    "key_of_hash_sql",
    "protect",
    "record_key",
    "record_key_sql",
]
