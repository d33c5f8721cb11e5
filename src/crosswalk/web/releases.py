"""The answers a page showed, kept so that a download is exactly what was released.

A dashboard answer is asked once, through the gate, and kept here under a random id for
the account it was released to: its CSV or JSON download serves that same table, not a
second question. Another account asking for the id finds nothing. The newest answers
are kept (the oldest go first), for as long as the service runs.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from crosswalk import csvfile
from crosswalk.errors import NotFound

KEPT = 512


@dataclass(frozen=True)
class Release:
    release_id: str
    username: str
    question: str
    table: pa.Table
    protection: dict[str, Any]

    def csv(self) -> bytes:
        return csvfile.table_csv(self.table)

    def json(self) -> bytes:
        body = {
            "question": self.question,
            "protection": self.protection,
            "rows": self.table.to_pylist(),
        }
        return (json.dumps(body, default=str, indent=1) + "\n").encode()


class Releases:
    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._items: OrderedDict[str, Release] = OrderedDict()
        self._lock = threading.Lock()

    def keep(
        self, username: str, question: str, table: pa.Table, protection: dict[str, Any]
    ) -> Release:
        release = Release(secrets.token_urlsafe(16), username, question, table, protection)
        with self._lock:
            self._items[release.release_id] = release
            while len(self._items) > self._kept:
                self._items.popitem(last=False)
        return release

    def get(self, username: str, release_id: str) -> Release:
        with self._lock:
            found = self._items.get(release_id)
        if found is None or found.username != username:
            raise NotFound("no such answer: it was released to another account or has expired")
        return found
