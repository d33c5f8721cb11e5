"""The release history: a cell near one released before gets that cell's figure.

Cell keys make the released value a function of the set of people in a cell, which
defeats averaging, but leaves one difference: a cell asked with and without a person
who is not in it is the same set, and gets the same value, while with a person who is in
it, it is another set, and gets another value. Asking a cohort on the day before and the
day of a known person's birthday would tell whether that person is in the cell.

So the hub remembers every cell it has released: its true count, the outcome (the figure
shown, or hidden) and a fingerprint of its members (``crosswalk.disclosure.perturb``:
120 buckets of the members' record keys, each holding 4 bits of their XOR). A new cell
whose count and fingerprint are within k - 1 of an earlier cell's (fewer than k buckets
differ) is released with that earlier cell's outcome: with or without the person, the
answer is the same. Cells differing by fewer than k people always match (no bucket can
differ without a member differing); cells differing by a few more sometimes match too
(two differing members in one bucket), which only costs accuracy.

The earliest matching cell wins, so a set of people keeps its released figure for as long
as the history is kept. Only cells that matched nothing are remembered, so matches do not
drift: a cohort moved by k people or more gets its own figure.

The history lives with the control plane (``StoredHistory``, one table), or in memory for
code that builds its own hub (``MemoryHistory``): tests, benchmarks.
"""

from __future__ import annotations

import contextlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa

from crosswalk.disclosure.perturb import SIGNATURE_WORDS, SLOTS_PER_WORD


@dataclass(eq=False)  # one object per remembered cell: compared by identity
class Release:
    """A remembered cell: true count, fingerprint, and what was released for it.

    ``value`` is the figure shown, or None when the cell was hidden for being under k;
    ``statistics`` are the released figures of the statistics describing the cell (a
    median), by table shape and name, added as they are first released.
    """

    count: int
    signature: np.ndarray
    value: int | None
    statistics: dict[str, float | None] = field(default_factory=dict)
    id: int | None = None


def differing_buckets(signatures: np.ndarray, signature: np.ndarray) -> np.ndarray:
    """For each row of ``signatures``, how many of the 120 buckets differ from ``signature``."""
    x = np.bitwise_xor(signatures.astype(np.int64), signature.astype(np.int64))
    out = np.zeros(len(signatures), dtype=np.int64)
    for slot in range(SLOTS_PER_WORD):
        out += (((x >> np.int64(4 * slot)) & np.int64(15)) != 0).sum(axis=1)
    return out


class Matcher:
    """Finds, for a cell, the oldest remembered cell within k - 1 of it.

    Holds the candidates read from a history and the cells remembered since, indexed by
    true count (only counts within k - 1 can match).
    """

    def __init__(self, known: Iterable[Release], k: int) -> None:
        self.k = k
        self._cells: list[Release] = []
        self._by_count: dict[int, list[int]] = {}
        for r in known:
            self.add(r)

    def add(self, release: Release) -> Release:
        self._by_count.setdefault(release.count, []).append(len(self._cells))
        self._cells.append(release)
        return release

    def nearest(self, count: int, signature: np.ndarray) -> Release | None:
        close = sorted(
            i for c in range(count - self.k + 1, count + self.k) for i in self._by_count.get(c, ())
        )
        if not close:
            return None
        signatures = np.stack([self._cells[i].signature for i in close])
        near = np.flatnonzero(differing_buckets(signatures, signature) < self.k)
        return self._cells[close[near[0]]] if len(near) else None


def _intervals(counts: Iterable[int], k: int) -> list[tuple[int, int]]:
    """The counts within k - 1 of any of ``counts``, as merged closed intervals."""
    out: list[tuple[int, int]] = []
    for c in sorted(set(counts)):
        lo, hi = c - k + 1, c + k - 1
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


class ReleaseHistory(ABC):
    """What the hub has released, cell by cell (see the module's description)."""

    @abstractmethod
    def candidates(self, counts: Iterable[int], k: int) -> list[Release]:
        """Remembered cells whose true count is within k - 1 of one of ``counts``,
        oldest first."""

    @abstractmethod
    def save(self, new: Sequence[Release], updated: Sequence[Release]) -> None:
        """Remember ``new`` cells, and the statistics added to ``updated`` ones."""

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """One release at a time: matching and remembering inside ``hold`` are not
        interleaved with another release's (so the earliest cell is the same for all)."""
        yield


class MemoryHistory(ReleaseHistory):
    """A history kept in memory, for the life of the object."""

    def __init__(self) -> None:
        self._cells: list[Release] = []

    def __len__(self) -> int:
        return len(self._cells)

    def candidates(self, counts: Iterable[int], k: int) -> list[Release]:
        spans = _intervals(counts, k)
        return [r for r in self._cells if any(lo <= r.count <= hi for lo, hi in spans)]

    def save(self, new: Sequence[Release], updated: Sequence[Release]) -> None:
        for r in new:
            r.id = len(self._cells)
            self._cells.append(r)


# Waiting for another release to finish, at most (SQLite), and PostgreSQL's advisory lock
# key for the history ("CWRELEAS").
BUSY_TIMEOUT_MS = 120_000
PG_LOCK = 0x4357_5245_4C45_4153
metadata = sa.MetaData()
release_table = sa.Table(
    "disclosure_release",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("count", sa.BigInteger, nullable=False, index=True),
    *(sa.Column(f"w{i}", sa.BigInteger, nullable=False) for i in range(SIGNATURE_WORDS)),
    sa.Column("value", sa.BigInteger),  # NULL: hidden
    sa.Column("statistics", sa.Text, nullable=False),  # JSON
    sa.Column("released_at", sa.String(32), nullable=False),
)


class StoredHistory(ReleaseHistory):
    """The history in the control-plane database (table ``disclosure_release``).

    It holds true counts of released cells and fingerprints of their members (no person
    ids: the fingerprint is 4 bits per bucket of keyed hashes), so it is as confidential
    as the hub itself: only the gate reads it.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)
        self._held: sa.Connection | None = None

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """A transaction holding the history's write lock (SQLite: ``BEGIN IMMEDIATE``
        with a busy timeout; PostgreSQL: a transaction-scoped advisory lock)."""
        with self.engine.connect() as con:
            if con.dialect.name == "sqlite":
                con.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                con.exec_driver_sql("BEGIN IMMEDIATE")
            elif con.dialect.name == "postgresql":
                con.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK})
            self._held = con
            try:
                yield
                con.commit()
            except BaseException:
                con.rollback()
                raise
            finally:
                self._held = None

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sa.Connection]:
        if self._held is not None:
            yield self._held
        else:
            with self.engine.begin() as con:
                yield con

    def candidates(self, counts: Iterable[int], k: int) -> list[Release]:
        spans = _intervals(counts, k)
        if not spans:
            return []
        if len(spans) > 50:
            # One range rather than a condition too deep for the database to parse.
            spans = [(spans[0][0], spans[-1][1])]
        t = release_table
        query = (
            sa.select(t)
            .where(sa.or_(*(t.c["count"].between(lo, hi) for lo, hi in spans)))
            .order_by(t.c.id)
        )
        with self._connection() as con:
            rows = con.execute(query).mappings().all()
        return [
            Release(
                int(r["count"]),
                np.array([r[f"w{i}"] for i in range(SIGNATURE_WORDS)], dtype=np.int64),
                None if r["value"] is None else int(r["value"]),
                json.loads(r["statistics"]),
                int(r["id"]),
            )
            for r in rows
        ]

    def save(self, new: Sequence[Release], updated: Sequence[Release]) -> None:
        at = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connection() as con:
            if new:
                con.execute(
                    release_table.insert(),
                    [
                        {
                            "count": r.count,
                            **{f"w{i}": int(r.signature[i]) for i in range(SIGNATURE_WORDS)},
                            "value": r.value,
                            "statistics": json.dumps(r.statistics, sort_keys=True),
                            "released_at": at,
                        }
                        for r in new
                    ],
                )
            for r in updated:
                con.execute(
                    release_table.update()
                    .where(release_table.c.id == r.id)
                    .values(statistics=json.dumps(r.statistics, sort_keys=True))
                )
