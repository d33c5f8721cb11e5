"""Averaging: asking variants of a question cannot average the noise of a cell away.

A cell's noise depends only on the people in it; the same people get the same figure
whatever else is asked beside them. Rates measured here are in docs/disclosure.md.
"""

from __future__ import annotations

from itertools import combinations
from statistics import mean

import duckdb
import pytest
from attacks import EXTRAS, Ask, average_cell, county_by_differencing, overlap, value
from population import COUNTIES, SECRET
from tests.analytics.engine import exact_counts

PROGRAMS = ("MEDICAID", "SNAP", "TANF", "SUD_TREATMENT", "MENTAL_HEALTH")
# Bounds on the attacks' success (docs/disclosure.md): exact recovery of a cell happens
# only when its noise happens to be zero (1 in 9).
AVERAGING_BOUND = 0.25
COUNTY_BOUND = 0.1


def exact(con: duckdb.DuckDBPyConnection, a: str, b: str, **filters: object) -> int:
    table = exact_counts(con, overlap((a, b), **filters), SECRET)
    result = value(table, program_a=a, program_b=b)
    assert result is not None
    return result


def test_a_cell_is_the_same_whatever_is_asked_beside_it(analyst: Ask) -> None:
    for a, b in (("SNAP", "TANF"), ("SNAP", "SNAP"), ("MEDICAID", "SUD_TREATMENT")):
        released = {
            value(analyst(overlap((a, b, *extra))), program_a=a, program_b=b) for extra in EXTRAS
        }
        assert len(released) == 1, (a, b, released)


def test_mirror_cells_and_equal_sets_agree(analyst: Ask) -> None:
    table = analyst(overlap(PROGRAMS))
    for a, b in combinations(PROGRAMS, 2):
        assert value(table, program_a=a, program_b=b) == value(table, program_a=b, program_b=a)


def test_averaging_variants_recovers_few_cells(
    analyst: Ask, con: duckdb.DuckDBPyConnection
) -> None:
    pairs = [*combinations(PROGRAMS, 2), *((p, p) for p in PROGRAMS)]
    recovered = 0
    tried = 0
    for a, b in pairs:
        truth = exact(con, a, b)
        estimate = average_cell(analyst, a, b, variants=6)
        if estimate is None or truth < 11:
            continue
        tried += 1
        recovered += round(estimate) == truth
    rate = recovered / tried
    print(f"averaging attack: {recovered} of {tried} cells recovered exactly ({rate:.0%})")
    assert tried >= 10
    assert rate <= AVERAGING_BOUND


def hidden_county_attack(
    analyst: Ask, con: duckdb.DuckDBPyConnection, programs: tuple[str, ...], variants: int
) -> tuple[int, int]:
    """(recovered, tried): hidden county counts recovered by averaging the state's total
    minus the other counties' total over ``variants`` phrasings."""
    recovered = tried = 0
    for program in programs:
        for county in COUNTIES:
            truth = exact(con, program, program, counties=(county,))
            if not 1 <= truth < 11:
                continue
            tried += 1
            differences = county_by_differencing(analyst, program, county, COUNTIES, variants)
            # The same people on both sides in every phrasing: the same difference.
            assert len(set(differences)) <= 1, differences
            recovered += bool(differences) and round(mean(differences)) == truth
    return recovered, tried


def test_a_hidden_county_is_not_recovered_from_the_state_minus_the_others(
    analyst: Ask, con: duckdb.DuckDBPyConnection
) -> None:
    """The state's total minus the other counties' total is the county's count: hidden
    when under k, it must not come back, however many variants are averaged."""
    recovered, tried = hidden_county_attack(analyst, con, ("SUD_TREATMENT", "FOSTER_CARE"), 3)
    print(f"county differencing: {recovered} of {tried} hidden counts recovered")
    assert tried >= 2
    assert recovered / tried <= COUNTY_BOUND


@pytest.mark.slow
def test_hidden_counties_against_twelve_phrasings(
    analyst: Ask, con: duckdb.DuckDBPyConnection
) -> None:
    programs = ("SUD_TREATMENT", "TANF", "FOSTER_CARE", "HOMELESS_SERVICES", "UI_CLAIM")
    recovered, tried = hidden_county_attack(analyst, con, programs, len(EXTRAS))
    print(f"county differencing: {recovered} of {tried} hidden counts recovered")
    assert tried >= 4
    assert recovered / tried <= COUNTY_BOUND
