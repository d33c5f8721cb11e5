"""Cell-key perturbation: consistent noise that defeats differencing.

Every person gets a record key, a keyed hash of their enterprise id with a secret the
hub keeps (analysts never see it). A cell's key combines the record keys of its members
(XOR) with the key of the table's whole population, so:

- the same cell of the same population always gets the same noise: asking again, or
  asking in other words, gives the same answer and averages nothing away;
- two populations that differ by one person give every cell independent noise, so the
  difference of the two answers is the person's contribution (0 or 1) plus the difference
  of two independent draws from {-4, ..., 4}, and tells an attacker almost nothing about
  whether the person is in the cell (see docs/disclosure.md for the figures).

Zeros stay zero (an empty cell has no members), and a perturbed count is never shown
below k. The released tables are therefore not exactly additive: totals are perturbed
on their own, like any other cell.
"""

from __future__ import annotations

import numpy as np

# The perturbation table: noise values, drawn with equal probability by the cell key.
NOISE = np.arange(-4, 5, dtype=np.int64)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _mix(keys: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: spreads any 64-bit key uniformly (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = keys.astype(np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


def noise(cell_keys: np.ndarray) -> np.ndarray:
    """The noise each cell key selects from ``NOISE``."""
    return NOISE[(_mix(cell_keys) % np.uint64(len(NOISE))).astype(np.int64)]


def perturb(counts: np.ndarray, cell_keys: np.ndarray, k: int) -> np.ndarray:
    """Counts with their cell's noise added; zeros kept, nothing pushed below ``k``."""
    out = counts + noise(cell_keys)
    out = np.where(counts >= k, np.maximum(out, k), out)
    return np.where(counts == 0, 0, out)


def record_key_sql(person: str, secret: str) -> str:
    """SQL for a person's record key: a keyed hash of the person's id.

    ``secret`` is a SQL expression (a bound parameter or variable), never a literal
    written into SQL that may be shown or logged.
    """
    return f"hash({secret}, {person})"


def cell_key_sql(record_key: str, population_key: str) -> str:
    """SQL aggregate for a cell's key: its members' record keys (XOR) with the population's."""
    return f"hash(bit_xor({record_key}), {population_key})"


def population_key_sql(record_key: str) -> str:
    """SQL aggregate for the key of a whole population (a table's cohort)."""
    return f"bit_xor({record_key})"
