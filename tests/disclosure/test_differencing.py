"""Asking for a cohort with and without one person does not reveal that person."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from crosswalk.disclosure import (
    TableSpec,
    cell_key_sql,
    population_key_sql,
    protect,
    record_key_sql,
)

K = 11
SPEC = TableSpec(("program",), ("people",), cell_keys={"people": "people_key"})
SPEC_WITHOUT_KEYS = TableSpec(("program",), ("people",))


@pytest.fixture(scope="module")
def hub() -> duckdb.DuckDBPyConnection:
    """2,000 people; about a third in the program whose membership an attacker wants."""
    con = duckdb.connect()
    rng = np.random.default_rng(11)
    con.register(
        "people_src",
        pa.table(
            {
                "person": [f"P{i:05d}" for i in range(2000)],
                "in_program": rng.random(2000) < 0.35,
            }
        ),
    )
    con.execute("CREATE TABLE people AS SELECT * FROM people_src")
    return con


def count_in_program(con: duckdb.DuckDBPyConnection, cohort: list[str]) -> pa.Table:
    """The released table: people of ``cohort`` in the program, with its cell key."""
    rk = record_key_sql("person", "$secret")
    sql = f"""
        WITH cohort AS (SELECT person, in_program, {rk} AS rk FROM people
                        WHERE person IN (SELECT unnest($cohort))),
             population AS (SELECT {population_key_sql("rk")} AS key FROM cohort)
        SELECT 'X' AS program, count(*) AS people,
               {cell_key_sql("rk", "(SELECT key FROM population)")} AS people_key
        FROM cohort WHERE in_program
    """
    params = {"secret": "hub-secret", "cohort": cohort}
    result = con.sql(sql, params=params)
    assert result is not None
    return result.to_arrow_table()


def differencing_attack(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> float:
    """Share of 300 targets whose membership the attacker guesses right."""
    rng = np.random.default_rng(5)
    everyone = [r[0] for r in con.execute("SELECT person FROM people").fetchall()]
    truth = dict(con.execute("SELECT person, in_program FROM people").fetchall())
    columns = ["program", "people", *spec.cell_keys.values()]
    right = 0
    targets = rng.choice(everyone, 300, replace=False).tolist()
    for target in targets:
        others = [p for p in rng.choice(everyone, 400, replace=False).tolist() if p != target]
        without, with_ = (
            protect(count_in_program(con, cohort).select(columns), spec, K).table["people"][0]
            for cohort in (others, [*others, target])
        )
        guess = with_.as_py() - without.as_py() >= 1
        right += guess == truth[target]
    return right / len(targets)


def test_without_perturbation_the_attack_always_works(hub: duckdb.DuckDBPyConnection) -> None:
    assert differencing_attack(hub, SPEC_WITHOUT_KEYS) == 1.0


def test_with_cell_keys_the_attack_is_barely_better_than_a_coin(
    hub: duckdb.DuckDBPyConnection,
) -> None:
    # Two independent draws from {-4..4}: the best guess is right about 56% of the time.
    assert differencing_attack(hub, SPEC) < 0.62


def test_asking_again_gives_the_same_answer(hub: duckdb.DuckDBPyConnection) -> None:
    cohort = [f"P{i:05d}" for i in range(0, 2000, 3)]
    answers = {
        protect(count_in_program(hub, cohort), SPEC, K).table["people"][0].as_py() for _ in range(5)
    }
    # The same members listed in another order are the same population and the same cell.
    answers.add(protect(count_in_program(hub, cohort[::-1]), SPEC, K).table["people"][0].as_py())
    assert len(answers) == 1


def test_noise_is_small_and_unbiased(hub: duckdb.DuckDBPyConnection) -> None:
    rng = np.random.default_rng(9)
    everyone = [f"P{i:05d}" for i in range(2000)]
    errors = []
    for _ in range(200):
        cohort = rng.choice(everyone, 600, replace=False).tolist()
        exact = count_in_program(hub, cohort)
        shown = protect(exact, SPEC, K).table["people"][0].as_py()
        errors.append(shown - exact["people"][0].as_py())
    assert max(abs(e) for e in errors) <= 4
    assert abs(float(np.mean(errors))) < 0.5
    assert len(set(errors)) > 5
