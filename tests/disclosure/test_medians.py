"""Medians and other magnitudes are released as counts are: perturbed by the cell's key
and rounded, the same for the same people, and remembered by the release history.

Rates measured here are in docs/disclosure.md.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pyarrow as pa
from attacks import Ask
from population import SECRET
from tests.analytics.engine import exact_counts

from crosswalk.analytics import Filters, LifetimeUse, Pathways, Question
from crosswalk.disclosure import MemoryHistory, TableSpec, protect
from crosswalk.disclosure.perturb import cell_key_and_signature

F = Filters(end=date(2020, 12, 31))
QUESTIONS: list[tuple[Question, tuple[str, ...]]] = [
    (LifetimeUse(F, by="age_group"), ("median_episodes", "median_days", "median_amount")),
    (LifetimeUse(F, by="county"), ("median_episodes", "median_days", "median_amount")),
    (Pathways(F, program="SNAP"), ("median_days",)),
    (Pathways(F, program="MEDICAID"), ("median_days",)),
]
# Bound on the share of shown medians equal to the exact median (docs/disclosure.md).
EXACT_BOUND = 0.35


def test_medians_are_not_released_exactly(analyst: Ask, con: duckdb.DuckDBPyConnection) -> None:
    shown = exact_hits = 0
    for question, stats in QUESTIONS:
        released = analyst(question).to_pylist()
        truth = exact_counts(con, question, SECRET).to_pylist()
        for r, t in zip(released, truth, strict=True):
            for s in stats:
                if r[s] is not None and t[s] is not None:
                    shown += 1
                    exact_hits += r[s] == t[s]
                    assert abs(r[s] - t[s]) <= 0.16 * abs(t[s]) + 1e-9, (s, r[s], t[s])
    rate = exact_hits / shown
    print(f"medians: {exact_hits} of {shown} shown medians exact ({rate:.0%})")
    assert shown >= 30
    assert rate <= EXACT_BOUND


def test_the_same_people_get_the_same_median(analyst: Ask) -> None:
    """Everyone's row (ALL, ALL) is the same people whatever the breakdown."""
    rows = [
        next(
            r
            for r in analyst(LifetimeUse(F, by=by)).to_pylist()
            if r["group"] == "ALL" and r["programs_used"] == "ALL"
        )
        for by in ("age_group", "sex", "county", "all")
    ]
    for s in ("median_episodes", "median_days", "median_amount"):
        assert len({r[s] for r in rows}) == 1, s


def test_a_median_one_person_away_is_released_alike() -> None:
    rng = np.random.default_rng(3)
    keys = [int(k) for k in rng.integers(0, 2**48, size=100)]
    spec = TableSpec(
        ("group",),
        ("people",),
        statistics={"median_days": "people"},
        cell_keys={"people": "people_key"},
    )
    history = MemoryHistory()
    released = []
    for members, median in ((list(range(40)), 120.0), (list(range(41)), 131.0)):
        key, signature = cell_key_and_signature([keys[m] for m in members])
        table = pa.table(
            {
                "group": ["ALL"],
                "people": [len(members)],
                "median_days": [median],
                "people_key": [[key, *signature.tolist()]],
            }
        )
        released.append(protect(table, spec, 11, history).table.to_pylist()[0])
    assert released[0] == released[1]
    assert released[0]["median_days"] != 120.0
