"""Released answers, kept for the questions asked again.

An aggregate answer is a pure function of what it was computed from: the question's SQL
over the views the decision granted, the decision itself (purpose, level, grant, granted
and year-only elements, the minimum cell size, the agreement version and its clauses),
the hub's content, the cell-key secret and the day. Cell keys make the same people give
the same noise, and the release history makes a cell released before be released as it
was, so asking the same question again gives the very table released the first time:
nothing new is disclosed, and noise cannot be averaged away.

``ReleasedAnswers`` keeps the protected tables of recent questions under all of that as
the key, so a repeat skips the counting (seconds at a million people) and returns the
table released before. Only the counting is skipped: every request is still
authenticated, decided under the agreement in force and audited before it is answered,
and a request the gate refuses never reaches the cache. The hub's content enters the key
as the engine's generation (``ReadEngine.version``): an engine that cannot tell whether
the hub changed between two reads (one that opens the file for each read, or Spark)
keeps nothing. Concurrent askers of one question wait for the one computing it rather
than all counting at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from crosswalk.disclosure import Protected

KEPT = 256
"""Answers kept per gate (the oldest asked goes first): a count table is small."""


class ReleasedAnswers:
    """The protected tables of recent aggregate questions, by everything they depend on.

    ``answer(key, pin, compute)`` returns ``(table, True)`` for a question released
    before under ``key`` (and the same ``pin``: an object whose identity is part of the
    key, such as the parsed agreement, kept so its id stays its own), or computes it
    once, keeps it and returns ``(table, False)``. A key of None keeps nothing.
    """

    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._answers: OrderedDict[Hashable, tuple[Any, Protected]] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def _kept_answer(self, key: Hashable, pin: Any) -> Protected | None:
        with self._lock:
            found = self._answers.get(key)
            if found is None or found[0] is not pin:
                return None
            self._answers.move_to_end(key)
            return found[1]

    def answer(
        self, key: Hashable | None, pin: Any, compute: Callable[[], Protected]
    ) -> tuple[Protected, bool]:
        if key is None:
            return compute(), False
        found = self._kept_answer(key, pin)
        if found is not None:
            return found, True
        with self._lock:
            flight = self._computing.setdefault(key, threading.Lock())
        try:
            with flight:
                found = self._kept_answer(key, pin)  # computed meanwhile by another asker
                if found is not None:
                    return found, True
                protected = compute()
                with self._lock:
                    self._answers[key] = (pin, protected)
                    self._answers.move_to_end(key)
                    while len(self._answers) > self._kept:
                        self._answers.popitem(last=False)
                return protected, False
        finally:
            with self._lock:
                if self._computing.get(key) is flight:
                    del self._computing[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._answers)
