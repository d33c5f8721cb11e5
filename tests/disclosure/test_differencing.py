"""A cell asked with and without one person tells nothing about that person.

Cell keys give the same people the same figure; the release history gives a cell within
k - 1 people of one released before that one's figure (or its hiding), so the cell looks
the same with or without the person.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import sqlalchemy as sa
import sqlglot

from crosswalk.analytics import Filters, ProgramOverlap
from crosswalk.disclosure import (
    MemoryHistory,
    StoredHistory,
    TableSpec,
    key_of_hash_sql,
    protect,
    record_key,
    record_key_sql,
)
from crosswalk.disclosure.perturb import cell_key_and_signature

K = 11
SPEC = TableSpec(("program",), ("people",), cell_keys={"people": "people_key"})
TOTALS = TableSpec(
    ("program",), ("people",), margins={"program": "ALL"}, cell_keys={"people": "people_key"}
)
RNG = np.random.default_rng(17)
KEYS = [int(k) for k in RNG.integers(0, 2**48, size=5000)]


def cell_key(members: list[int]) -> list[int]:
    key, signature = cell_key_and_signature([KEYS[m] for m in members])
    return [key, *signature.tolist()]


def table(cells: dict[str, list[int]]) -> pa.Table:
    return pa.table(
        {
            "program": list(cells),
            "people": [len(m) for m in cells.values()],
            "people_key": [cell_key(m) for m in cells.values()],
        }
    )


def released(t: pa.Table, spec: TableSpec = SPEC, history: MemoryHistory | None = None) -> list:
    return protect(t, spec, K, history).table.column("people").to_pylist()


def test_record_keys_are_one_function_in_sql_and_python() -> None:
    con = duckdb.connect()
    con.execute("SET VARIABLE s = 'a1b2c3'")
    digest = record_key_sql("id", "getvariable('s')")
    sql = f"SELECT id, {key_of_hash_sql('d')} FROM (SELECT id, {digest} AS d FROM t) AS h"
    con.execute("CREATE TABLE t AS SELECT 'E' || range AS id FROM range(50)")
    for person, key in con.execute(sql).fetchall():
        assert key == record_key("a1b2c3", person)


def test_cell_keys_are_written_for_spark_without_engine_specific_hashes() -> None:
    spark = ProgramOverlap(Filters(programs=("SNAP", "TANF"))).render(dialect="spark")
    assert "SHA2(" in spark and "BIT_XOR(" in spark and "CONV(" in spark
    assert "'0x'" not in spark
    tree = sqlglot.parse_one(spark, read="spark")
    names = {f.sql_name().lower() for f in tree.find_all(sqlglot.exp.Func)}
    assert not names & {"hash", "xxhash64", "murmur3"}


def test_the_same_people_get_the_same_figure() -> None:
    members = list(range(0, 300, 3))
    answers = {released(table({"X": members}))[0] for _ in range(3)}
    answers.add(released(table({"Y": members[::-1]}))[0])
    assert len(answers) == 1


def test_without_history_one_more_person_changes_the_figure_often() -> None:
    """The leak the history closes: with cell keys alone, a cell with one more person is
    another set and usually another figure, while one without them is the same set."""
    changed = 0
    for start in range(100):
        members = list(range(start, start + 60))
        before, after = released(table({"X": members, "Y": [*members, 4999]}))
        changed += before != after
    assert changed > 70


def test_with_history_a_cell_one_person_away_is_released_alike() -> None:
    history = MemoryHistory()
    for start in range(0, 1000, 100):
        members = list(range(start, start + 60))
        [before] = released(table({"X": members}), history=history)
        for extra in ([4999], [4998, 4999], list(range(4990, 5000))):
            [after] = released(table({"X": [*members, *extra]}), history=history)
            assert after == before
        [without] = released(table({"X": members[3:]}), history=history)
        assert without == before


def test_a_cell_k_people_away_gets_its_own_figure() -> None:
    history = MemoryHistory()
    members = list(range(200))
    figures = [
        released(table({"X": members[: len(members) - i]}), history=history)[0]
        for i in range(0, 5 * K, K)
    ]
    # Each step drops k people: a new set, its own draw (not the first cell's figure).
    assert len(set(figures)) >= 3


def test_a_cell_near_one_hidden_before_is_hidden_with_its_complements(attack) -> None:
    history = MemoryHistory()
    small = list(range(8))
    big = list(range(100, 400))
    assert released(table({"A": small, "B": big, "ALL": small + big}), TOTALS, history)[0] is None
    grown = small + list(range(1000, 1005))  # 13 people, 5 of them new
    result = protect(table({"A": grown, "B": big, "ALL": grown + big}), TOTALS, K, history)
    assert result.table.column("people")[0].as_py() is None
    assert ("A", "history") in {(c.dimensions["program"], c.reason) for c in result.suppressed}
    # The total would give it back: complementary suppression still applies.
    ranges = attack(result.table, "people", ("program",), {"program": "ALL"})
    assert all(hi - lo >= K - 1e-6 for lo, hi in ranges.values())


def test_noise_is_small_and_unbiased() -> None:
    errors = []
    for _ in range(300):
        members = RNG.choice(5000, size=int(RNG.integers(20, 400)), replace=False).tolist()
        errors.append(released(table({"X": members}))[0] - len(members))
    assert max(abs(e) for e in errors) <= 4
    assert abs(float(np.mean(errors))) < 0.5
    assert len(set(errors)) == 9


def test_concurrent_releases_of_near_cells_agree(tmp_path: Path) -> None:
    """Eight gates releasing near cells at once on one control plane: one figure."""
    engine = sa.create_engine(f"sqlite:///{tmp_path}/control.db")
    StoredHistory(engine)
    members = list(range(100))

    def release(extra: int) -> int:
        history = StoredHistory(engine)
        return released(table({"X": [*members, 4000 + extra]}), history=history)[0]

    with ThreadPoolExecutor(8) as pool:
        figures = set(pool.map(release, range(16)))
    assert len(figures) == 1


def test_the_audit_summary_counts_cells_released_as_earlier_ones() -> None:
    history = MemoryHistory()
    members = list(range(80))
    assert protect(table({"X": members}), SPEC, K, history).to_dict()["history"] == {
        "repeated": 0,
        "near": 0,
    }
    again = protect(table({"X": members, "Y": [*members, 4999]}), SPEC, K, history)
    assert again.to_dict()["history"] == {"repeated": 1, "near": 1}
