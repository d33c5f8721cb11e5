"""Cell-key perturbation: noise that depends only on who is in a cell.

As in the cell-key method of statistical offices (the Australian Bureau of Statistics'
TableBuilder): every person carries a fixed record key, a keyed SHA-256 of their
enterprise id with a secret the hub keeps (analysts never see it); a cell's key is the
XOR of the record keys of the people counted in it; a fixed perturbation table maps the
cell key and the cell's true count to the noise added. So:

- the same set of people always gets the same released value, whatever else is asked
  beside it, however the question is phrased, and however often: asking variants of a
  question and averaging the answers converges on the released value, not on the truth;
- a cell with one more person has an unrelated key, and so independent noise.

Zeros stay zero (an empty cell has no members), and a perturbed count is never shown
below k. Released tables are therefore not exactly additive: a total is a cell like any
other. Medians and other magnitudes are perturbed by the same key (``perturb_magnitude``).

Both keys are written in SQL that DuckDB and Spark compute identically (SHA-256, a
hexadecimal prefix read as an integer, XOR); ``record_key`` is the same function in Python.
"""

from __future__ import annotations

import hashlib

import numpy as np
from sqlglot import exp

# The perturbation table: for any true count, noise values drawn with equal probability
# by the cell key (mixed with the count, so cells of one key and different counts differ).
NOISE = np.arange(-4, 5, dtype=np.int64)
# Relative noise for magnitudes (medians), chosen the same way, before rounding to
# ``MAGNITUDE_DIGITS`` significant digits.
MAGNITUDE_NOISE = np.linspace(-0.1, 0.1, 9)
MAGNITUDE_DIGITS = 2
# Record keys are 48-bit integers: 12 hexadecimal digits of the keyed hash.
KEY_HEX_DIGITS = 12

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


def _draw(cell_keys: np.ndarray, salt: np.ndarray, n: int) -> np.ndarray:
    """An index in ``range(n)`` picked by each (cell key, salt) pair."""
    mixed = _mix(cell_keys.astype(np.uint64) ^ _mix(salt.astype(np.uint64)))
    return (mixed % np.uint64(n)).astype(np.int64)


def noise(cell_keys: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The perturbation table's noise for each (cell key, true count)."""
    return NOISE[_draw(cell_keys, counts, len(NOISE))]


def perturb(counts: np.ndarray, cell_keys: np.ndarray, k: int) -> np.ndarray:
    """Counts with their cell's noise added; zeros kept, nothing pushed below ``k``."""
    out = counts + noise(cell_keys, counts)
    out = np.where(counts >= k, np.maximum(out, k), out)
    return np.where(counts == 0, 0, out)


def perturb_magnitude(values: np.ndarray, cell_keys: np.ndarray, salt: int) -> np.ndarray:
    """Magnitudes (a median of days, of amounts) moved by up to 10% as the cell key
    picks, then rounded to two significant digits; NaN stays NaN.

    ``salt`` tells the statistics of one cell apart (each gets its own draw). The noise
    hides the exact value of the person in the middle of a small cell; the rounding hides
    what is left of it, and keeps released figures from looking more precise than they are.
    """
    salts = np.full(len(values), salt, dtype=np.uint64)
    moved = values * (1 + MAGNITUDE_NOISE[_draw(cell_keys, salts, len(MAGNITUDE_NOISE))])
    return round_significant(moved, MAGNITUDE_DIGITS)


def round_significant(values: np.ndarray, digits: int = MAGNITUDE_DIGITS) -> np.ndarray:
    """Values rounded to ``digits`` significant digits (NaN and zero unchanged)."""
    out = np.array(values, dtype=np.float64)
    finite = np.isfinite(out) & (out != 0)
    magnitude = np.floor(np.log10(np.abs(out[finite])))
    scale = 10.0 ** (digits - 1 - magnitude)
    out[finite] = np.round(out[finite] * scale) / scale
    return out


def record_key(secret_hex: str, person: str) -> int:
    """A person's record key, as ``record_key_sql`` and ``key_of_hash_sql`` compute it."""
    digest = hashlib.sha256(f"{secret_hex}:{person}".encode()).hexdigest()
    return int(digest[:KEY_HEX_DIGITS], 16)


def record_key_sql(person: str, secret: str) -> str:
    """SQL for the keyed hash (hexadecimal SHA-256) behind a person's record key:
    sha256(secret ":" person).

    The hash is never shown (only noise chosen by the XOR of many of them), so the
    secret-prefix form is enough: length extension needs the hash itself. ``secret`` is a
    SQL expression (a session variable or a bound parameter holding the secret in
    hexadecimal), never the secret written into SQL. Turn the hash into the key with
    ``key_of_hash_sql`` (in a later step of the query, so the hash is computed once per
    person).
    """
    return f"sha256({secret} || ':' || {person})"


def key_of_hash_sql(digest: str) -> str:
    """SQL (DuckDB) for the 48-bit record key in the first 12 hexadecimal digits of
    ``digest``; ``for_dialect`` writes it for other engines (Spark: ``conv``)."""
    return f"CAST('0x' || substr({digest}, 1, {KEY_HEX_DIGITS}) AS BIGINT)"


def for_dialect(tree: exp.Expr, dialect: str) -> exp.Expr:
    """``tree`` (a query parsed from DuckDB SQL) with the casts of ``key_of_hash_sql``
    written as ``dialect`` reads hexadecimal: the same keys on every engine."""
    if dialect == "duckdb":
        return tree

    def rewrite(node: exp.Expr) -> exp.Expr:
        if (
            isinstance(node, exp.Cast)
            and node.to.is_type(exp.DataType.Type.BIGINT)
            and isinstance(node.this, exp.DPipe)
            and node.this.this == exp.Literal.string("0x")
        ):
            digits = node.this.expression
            conv = exp.Anonymous(
                this="CONV", expressions=[digits, exp.Literal.number(16), exp.Literal.number(10)]
            )
            return exp.cast(conv, exp.DataType.Type.BIGINT)
        return node

    return tree.transform(rewrite)


# A cell's fingerprint (see ``crosswalk.disclosure.history``): its members' record keys
# fall into 120 buckets (eight 64-bit words of fifteen 4-bit slots); each slot holds the
# XOR of 4 bits of the keys in its bucket.
SIGNATURE_WORDS = 8
SLOTS_PER_WORD = 15
BUCKETS = SIGNATURE_WORDS * SLOTS_PER_WORD


def cell_key_sql(record_key: str) -> str:
    """SQL aggregate for a cell's key and fingerprint, as one array of integers.

    The first is the cell key, the XOR of its members' record keys; then
    ``SIGNATURE_WORDS`` words of the fingerprint by which the release history finds
    cells that differ from this one by a few people (``crosswalk.disclosure.history``).
    """
    rk = record_key
    # Bits 0-3 of a key are its 4 bits, bits 4-6 its word, the rest its slot in the word.
    words = [
        f"bit_xor(CASE WHEN ({rk} >> 4) & 7 = {w} "
        f"THEN ({rk} & 15) << (4 * (({rk} >> 7) % {SLOTS_PER_WORD})) END)"
        for w in range(SIGNATURE_WORDS)
    ]
    return f"[bit_xor({rk}), {', '.join(words)}]"


def cell_key_and_signature(rks: list[int]) -> tuple[int, np.ndarray]:
    """What ``cell_key_sql`` computes for members with record keys ``rks`` (in Python)."""
    key = 0
    words = np.zeros(SIGNATURE_WORDS, dtype=np.int64)
    for rk in rks:
        key ^= rk
        words[(rk >> 4) & 7] ^= (rk & 15) << (4 * ((rk >> 7) % SLOTS_PER_WORD))
    return key, words
