"""The audit log: append-only, hash-chained, in the control-plane database.

Each entry's hash covers its sequence number, its content (canonical JSON) and the hash
of the entry before, so changing, deleting, reordering or inserting an entry breaks the
chain at that entry. A signed checkpoint (count, head hash, time; HMAC-SHA256 with a key
kept outside the log) detects truncation or a rewritten history later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from crosswalk import stores
from crosswalk.audit.events import AuditEvent
from crosswalk.errors import AuditUnavailable, IntegrityError

GENESIS = "0" * 64
metadata = sa.MetaData()
audit_entry = sa.Table(
    "audit_entry",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(32), nullable=False),  # ISO 8601 UTC
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("user", sa.String(128), nullable=False),
    sa.Column("agency", sa.String(32)),
    sa.Column("purpose", sa.String(64)),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # canonical JSON of the whole event
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(seq: int, at: str, body: str, prev_hash: str) -> str:
    return hashlib.sha256(f"{seq}|{at}|{body}|{prev_hash}".encode()).hexdigest()


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_bad: int | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Checkpoint:
    count: int
    head: str
    at: str
    signature: str

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "head": self.head, "at": self.at, "signature": self.signature}


class AuditLog:
    """Append and verify audit entries in the control plane (SQLite by default)."""

    def __init__(self, engine: sa.Engine | str | None = None) -> None:
        self.engine = engine if isinstance(engine, sa.Engine) else stores.control_engine(engine)
        try:
            metadata.create_all(self.engine)
        except sa.exc.SQLAlchemyError as e:
            raise AuditUnavailable(
                f"the audit log cannot be opened: {str(e).splitlines()[0]}"
            ) from None

    def record(self, event: AuditEvent) -> int:
        """Append one entry; raise AuditUnavailable if it cannot be written (fail closed)."""
        body = event.payload()
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        try:
            with self.engine.begin() as conn:
                last = conn.execute(
                    sa.select(audit_entry.c.seq, audit_entry.c.hash)
                    .order_by(audit_entry.c.seq.desc())
                    .limit(1)
                ).first()
                seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
                text = _canonical(body)
                conn.execute(
                    audit_entry.insert().values(
                        seq=seq,
                        at=at,
                        action=body["action"],
                        user=body["user"],
                        agency=body.get("agency"),
                        purpose=body.get("purpose"),
                        outcome=body["outcome"],
                        body=text,
                        prev_hash=prev,
                        hash=entry_hash(seq, at, text, prev),
                    )
                )
            return seq
        except sa.exc.SQLAlchemyError as e:
            raise AuditUnavailable(
                f"the audit log cannot be written: {str(e).splitlines()[0]}"
            ) from None

    def entries(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(audit_entry).order_by(audit_entry.c.seq)).mappings().all()
        return [dict(r) for r in rows]

    def verify(
        self, checkpoint: Checkpoint | None = None, key: bytes | None = None
    ) -> Verification:
        """Walk the chain; name the first entry that was changed, deleted, moved or inserted."""
        prev = GENESIS
        rows = self.entries()
        for expected_seq, row in enumerate(rows, start=1):
            if row["seq"] != expected_seq:
                return Verification(
                    False,
                    len(rows),
                    expected_seq,
                    f"entry {expected_seq} is missing (found {row['seq']} in its place)",
                )
            if row["prev_hash"] != prev:
                return Verification(
                    False,
                    len(rows),
                    row["seq"],
                    f"entry {row['seq']} does not follow entry {row['seq'] - 1} (reordered, inserted or a predecessor changed)",
                )
            if entry_hash(row["seq"], row["at"], row["body"], row["prev_hash"]) != row["hash"]:
                return Verification(False, len(rows), row["seq"], f"entry {row['seq']} was changed")
            body = json.loads(row["body"])
            if (body.get("action"), body.get("user"), body.get("outcome")) != (
                row["action"],
                row["user"],
                row["outcome"],
            ):
                return Verification(False, len(rows), row["seq"], f"entry {row['seq']} was changed")
            prev = row["hash"]
        if checkpoint is not None:
            if key is None or not hmac.compare_digest(
                sign(key, checkpoint.count, checkpoint.head, checkpoint.at), checkpoint.signature
            ):
                return Verification(
                    False, len(rows), None, "the checkpoint's signature is not valid"
                )
            if len(rows) < checkpoint.count:
                return Verification(
                    False,
                    len(rows),
                    len(rows) + 1,
                    f"the log was truncated: the checkpoint has {checkpoint.count} entries, the log {len(rows)}",
                )
            if rows[checkpoint.count - 1]["hash"] != checkpoint.head:
                return Verification(
                    False, len(rows), checkpoint.count, "history up to the checkpoint was rewritten"
                )
        return Verification(True, len(rows))

    def checkpoint(self, key: bytes) -> Checkpoint:
        """A signed head of the log, to keep outside the hub."""
        rows = self.entries()
        head = rows[-1]["hash"] if rows else GENESIS
        at = datetime.now(UTC).isoformat(timespec="seconds")
        return Checkpoint(len(rows), head, at, sign(key, len(rows), head, at))


def sign(key: bytes, count: int, head: str, at: str) -> str:
    return hmac.new(key, f"{count}|{head}|{at}".encode(), hashlib.sha256).hexdigest()


def load_key(path: str | Path) -> bytes:
    """The checkpoint signing key; created (mode 0600) on first use."""
    p = Path(path)
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(os.urandom(32).hex())
    try:
        return bytes.fromhex(p.read_text().strip())
    except ValueError:
        raise IntegrityError(f"{p} is not a checkpoint key") from None
