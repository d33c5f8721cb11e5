"""Signed checkpoints of the audit log, kept in a second location.

A checkpoint is the log's entry count and head hash at a time, signed with the audit key.
Because each entry's hash covers the one before, a head hash vouches for the whole
history up to it: a log that no longer reaches a checkpoint's count was truncated, and
one whose entry at that count has another hash was rewritten.

The log writes checkpoints by itself to a folder (``$CROSSWALK_AUDIT_CHECKPOINTS``), one
JSON file per checkpoint: every N entries, after every denial, failed sign-in and
administrative act, after every ingest batch and linkage run, and on a time schedule;
``verify`` reads them all.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from crosswalk import settings
from crosswalk.audit.keys import PublicKey, SigningKey
from crosswalk.errors import ConfigError

DEFAULT_FOLDER = "crosswalk-audit-checkpoints"


@dataclass(frozen=True)
class Checkpoint:
    count: int
    head: str
    at: str
    signature: str

    @staticmethod
    def message(count: int, head: str, at: str) -> bytes:
        return f"crosswalk-audit-checkpoint|{count}|{head}|{at}".encode()

    @classmethod
    def signed(cls, key: SigningKey, count: int, head: str, at: str) -> Checkpoint:
        return cls(count, head, at, key.sign(cls.message(count, head, at)))

    def is_signed_by(self, key: PublicKey) -> bool:
        return key.verifies(self.message(self.count, self.head, self.at), self.signature)

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "head": self.head, "at": self.at, "signature": self.signature}

    @classmethod
    def from_dict(cls, data: Any, source: str) -> Checkpoint:
        try:
            return cls(
                int(data["count"]), str(data["head"]), str(data["at"]), str(data["signature"])
            )
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"{source} is not an audit checkpoint") from None

    @classmethod
    def read(cls, path: Path) -> Checkpoint:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            raise ConfigError(f"{path} is not an audit checkpoint") from None
        return cls.from_dict(data, str(path))


def default_folder(url: sa.URL, explicit: str | Path | None = None) -> Path | None:
    """Where a log's checkpoints go: the setting, else beside a SQLite control plane.

    None for an in-memory log, which has nothing to check later.
    """
    chosen = settings.AUDIT_CHECKPOINTS.value(None if explicit is None else str(explicit))
    if chosen:
        return Path(chosen)
    if url.get_backend_name() != "sqlite":
        return Path(DEFAULT_FOLDER)
    database = url.database or ""
    if database.startswith("file:"):
        database = database[len("file:") :].split("?")[0]
    if database in ("", ":memory:"):
        return None
    return Path(database + ".checkpoints")


def write(folder: Path, checkpoint: Checkpoint) -> Path:
    """Write one checkpoint file whole (aside, then renamed into place)."""
    folder.mkdir(parents=True, exist_ok=True)
    # Named by count and head: a history rewritten later adds its own files beside these
    # rather than replacing them.
    path = folder / f"{checkpoint.count:012d}-{checkpoint.head[:16]}.json"
    # Each writer's file aside has a name of its own (two threads may write one checkpoint).
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(checkpoint.to_dict(), indent=2) + "\n")
    Path(name).replace(path)
    return path


def newest(folder: Path | None) -> Checkpoint | None:
    """The checkpoint of the highest count in the folder (files are named by count, so
    only that one is read), or None."""
    if folder is None or not folder.is_dir():
        return None
    for path in sorted(folder.glob("*.json"), reverse=True):
        try:
            return Checkpoint.read(path)
        except ConfigError:
            continue
    return None


def read_all(folder: Path | None) -> tuple[list[tuple[Path, Checkpoint]], list[Path]]:
    """Every checkpoint in the folder by count, and the files that are not checkpoints."""
    if folder is None or not folder.is_dir():
        return [], []
    found, unreadable = [], []
    for path in sorted(folder.glob("*.json")):
        try:
            found.append((path, Checkpoint.read(path)))
        except ConfigError:
            unreadable.append(path)
    return sorted(found, key=lambda pc: pc[1].count), unreadable
