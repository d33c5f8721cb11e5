"""Membership inference: is a known person in substance-use treatment?

The attacker knows the target's date of birth, so the day they enter an age group: the
people in SUD treatment of that age group, asked on the day before and on the day, differ
by the target exactly when the target is in treatment. The attacker also asks each pair
in several phrasings (other programs beside) to average any noise that changes with the
phrasing. Targets are half in treatment, half not: a coin is right half the time.
Rates measured here are in docs/disclosure.md.
"""

from __future__ import annotations

import random

import pytest
from attacks import Ask, birthday, membership, success
from population import Person

# Bound on the attack's success with the release history (docs/disclosure.md).
BOUND = 0.65


def targets(people: list[Person], n: int, seed: int) -> list[Person]:
    """``n`` random people who enter an age group in 2016-2020, half in SUD treatment."""
    eligible = [p for p in people if birthday(p) is not None]
    rng = random.Random(seed)
    rng.shuffle(eligible)
    inside = [p for p in eligible if p.served("SUD_TREATMENT", birthday(p)[1])]  # type: ignore[index]
    outside = [p for p in eligible if p not in inside]
    assert len(inside) >= n // 2, "the synthetic state has too few targets"
    return inside[: n // 2] + outside[: n - n // 2]


def test_the_birthday_attack_fails_against_the_release_history(
    analyst: Ask, people: list[Person]
) -> None:
    rate = success(membership(analyst, targets(people, 12, seed=1), variants=2))
    print(f"birthday attack, 12 targets, with the history: {rate:.0%} right")
    assert rate <= BOUND


def test_the_birthday_attack_works_on_cell_keys_alone(
    analyst_without_history: Ask, people: list[Person]
) -> None:
    """The control: the same attack, on a hub without the history, is right most times."""
    rate = success(membership(analyst_without_history, targets(people, 12, seed=1), variants=2))
    print(f"birthday attack, 12 targets, cell keys alone: {rate:.0%} right")
    assert rate >= 0.8


@pytest.mark.slow
def test_the_birthday_attack_on_100_targets(analyst: Ask, people: list[Person]) -> None:
    rate = success(membership(analyst, targets(people, 100, seed=2), variants=4))
    print(f"birthday attack, 100 targets, with the history: {rate:.0%} right")
    assert rate <= BOUND
