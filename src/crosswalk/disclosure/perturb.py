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

Both keys are written in SQL that DuckDB and Spark compute identically (SHA-256, text
functions and integer arithmetic); ``record_key`` is the same function in Python.
"""

from __future__ import annotations

import hashlib

import numpy as np

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
_HEX = "0123456789abcdef"


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
    inner = hashlib.sha256(f"{secret_hex}:{person}".encode()).hexdigest()
    outer = hashlib.sha256(f"{secret_hex}:{inner}".encode()).hexdigest()
    return int(outer[:KEY_HEX_DIGITS], 16)


def record_key_sql(person: str, secret: str) -> str:
    """SQL for the keyed hash (hexadecimal SHA-256) behind a person's record key.

    Nested, as HMAC is, so that the secret cannot be extended: sha256(secret ":"
    sha256(secret ":" person)). ``secret`` is a SQL expression (a session variable or a
    bound parameter holding the secret in hexadecimal), never the secret written into SQL.
    Turn the hash into the key with ``key_of_hash_sql`` (in a later step of the query, so
    the hash is computed once per person).
    """
    inner = f"sha256({secret} || ':' || {person})"
    return f"sha256({secret} || ':' || {inner})"


def key_of_hash_sql(digest: str) -> str:
    """SQL for the 48-bit record key in the first 12 hexadecimal digits of ``digest``.

    Written with text functions and integer arithmetic, which every engine has and
    computes alike (a cast from hexadecimal text is engine-specific).
    """
    terms = [
        f"(strpos('{_HEX}', substr({digest}, {i + 1}, 1)) - 1) * {16 ** (KEY_HEX_DIGITS - 1 - i)}"
        for i in range(KEY_HEX_DIGITS)
    ]
    return "(" + " + ".join(terms) + ")"


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
    bucket = f"({rk} // 16) % {BUCKETS}"
    words = [
        f"bit_xor(CASE WHEN {bucket} // {SLOTS_PER_WORD} = {w} "
        f"THEN ({rk} % 16) * (CAST(1 AS BIGINT) << (4 * (({rk} // 16) % {SLOTS_PER_WORD}))) END)"
        for w in range(SIGNATURE_WORDS)
    ]
    return f"[bit_xor({rk}), {', '.join(words)}]"


def cell_key_and_signature(rks: list[int]) -> tuple[int, np.ndarray]:
    """What ``cell_key_sql`` computes for members with record keys ``rks`` (in Python)."""
    key = 0
    words = np.zeros(SIGNATURE_WORDS, dtype=np.int64)
    for rk in rks:
        key ^= rk
        bucket = (rk // 16) % BUCKETS
        words[bucket // SLOTS_PER_WORD] ^= (rk % 16) << (4 * (bucket % SLOTS_PER_WORD))
    return key, words
