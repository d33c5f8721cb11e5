"""Counts from 1 to k - 1 are hidden, zero and counts of k or more are shown."""

from __future__ import annotations

import pyarrow as pa
import pytest

from crosswalk.disclosure import At, Rate, TableSpec, protect

SPEC = TableSpec(("county",), ("people", "enrolled"), rates=(Rate("share", "enrolled", "people"),))


@pytest.mark.parametrize(
    ("k", "count", "shown"),
    [
        (11, 0, True),
        (11, 1, False),
        (11, 5, False),
        (11, 10, False),
        (11, 11, True),
        (11, 12, True),
        (5, 4, False),
        (5, 5, True),
        (1, 1, True),
    ],
)
def test_small_counts_are_hidden(k: int, count: int, shown: bool) -> None:
    spec = TableSpec(("county",), ("people",))
    result = protect(pa.table({"county": ["COOK"], "people": [count]}), spec, k)
    assert (result.table.column("people")[0].as_py() == count) is shown
    assert result.table.column("people_suppressed")[0].as_py() is not shown
    assert [c.reason for c in result.suppressed] == ([] if shown else ["primary"])


def test_rates_from_hidden_counts_are_hidden_too() -> None:
    table = pa.table(
        {"county": ["COOK", "LAKE", "KANE"], "people": [200, 40, 0], "enrolled": [50, 4, 0]}
    )
    released = protect(table, SPEC, 11).table.to_pylist()
    assert released[0]["share"] == pytest.approx(25.0)
    assert released[1]["enrolled"] is None
    assert released[1]["share"] is None and released[1]["share_suppressed"]
    # An empty county: zero shown, no rate (0 / 0), and nothing hidden.
    assert released[2]["people"] == 0 and released[2]["share"] is None
    assert not released[2]["share_suppressed"]


def test_rate_with_denominator_in_another_row() -> None:
    spec = TableSpec(
        ("program",),
        ("people",),
        rates=(Rate("share_of_all", "people", "people", {"program": At("ALL")}),),
    )
    table = pa.table({"program": ["SNAP", "TANF", "ALL"], "people": [300, 100, 400]})
    released = protect(table, spec, 11).table.to_pylist()
    assert [r["share_of_all"] for r in released] == [75.0, 25.0, 100.0]


def test_reasons_are_kept_for_the_audit_log_not_the_table() -> None:
    table = pa.table({"county": ["COOK", "LAKE"], "people": [3, 30], "enrolled": [1, 20]})
    result = protect(table, SPEC, 11)
    assert result.table.column("people").to_pylist() == [None, 30]
    assert not any("primary" in str(v) for v in result.table.to_pylist())
    assert result.to_dict()["suppressed"] == {"primary": 2, "derived": 1}
