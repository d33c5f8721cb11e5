"""The audit log: append-only, hash-chained and signed, in the control-plane database.

Each entry's hash is SHA-256 over the whole canonical entry — every stored column (its
sequence number, time, action, user, agency, purpose, outcome), the canonical JSON body of
the event and the hash of the entry before — and is signed with the audit key (Ed25519,
``crosswalk.audit.keys``). Changing any stored field breaks that entry's hash; changing
an entry and recomputing its hash breaks its signature; deleting, reordering or splicing
entries breaks the chain. Signed checkpoints written to a second location
(``crosswalk.audit.checkpoints``) catch a truncated tail or a history rewritten by
someone who holds the key: one every N entries, right after every denial, failed
sign-in and administrative act, after every batch and linkage run, and, in a log that
has been written since, once a checkpoint is older than the schedule allows.

Appends are serialised (SQLite: ``BEGIN IMMEDIATE`` with a busy timeout and retries;
PostgreSQL: a transaction-scoped advisory lock), so concurrent writers queue instead of
being refused. Within one process the entries of threads that queue while an append is
being committed are committed together, in the order they queued, in the next
transaction (a group commit: one commit, so one wait for the disk, for all of them);
each ``record`` still returns only once its own entry is committed, and raises if that
transaction failed, so no caller ever goes on with an entry that is not in the log.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from crosswalk import settings, stores
from crosswalk.audit import checkpoints
from crosswalk.audit.checkpoints import Checkpoint
from crosswalk.audit.events import AuditEvent, CanonicalJSON
from crosswalk.audit.keys import PublicKey, SigningKey, load_signing_key, signing_key_path
from crosswalk.errors import AuditUnavailable, ConfigError, IntegrityError

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
    sa.Column("signature", sa.String(128), nullable=False),  # Ed25519 over the hash
)
# Built once: every append reads the head of the chain and inserts under the lock.
_HEAD = sa.select(audit_entry.c.seq, audit_entry.c.hash).order_by(audit_entry.c.seq.desc()).limit(1)
_INSERT = audit_entry.insert()
HASHED = ("seq", "at", "action", "user", "agency", "purpose", "outcome", "body", "prev_hash")
"""The stored fields an entry's hash covers: all of them but the hash and signature."""
MIRRORED = ("action", "user", "agency", "purpose", "outcome")
"""Columns that repeat a field of the body, so queries can filter without parsing it."""

# A fixed key for PostgreSQL's advisory lock that serialises appends ("CWAUDIT").
PG_APPEND_LOCK = 0x43574155444954
BUSY_TIMEOUT_MS = 10_000
APPEND_DEADLINE_S = 120.0


def _canonical(obj: Any) -> str:
    """Canonical JSON: keys sorted, no spaces. A top-level value that is ``CanonicalJSON``
    goes in as the text it is, which is what serialising the value would give."""
    if isinstance(obj, dict) and any(isinstance(v, CanonicalJSON) for v in obj.values()):
        return (
            "{"
            + ",".join(
                f"{json.dumps(k)}:{v if isinstance(v, CanonicalJSON) else _canonical(v)}"
                for k, v in sorted(obj.items())
            )
            + "}"
        )
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def canonical(obj: Any) -> CanonicalJSON:
    """``obj`` as the canonical JSON an entry's body holds, to be put in an event as it is."""
    return CanonicalJSON(_canonical(obj))


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical entry: every stored field but the hash and signature."""
    return hashlib.sha256(_canonical({k: entry[k] for k in HASHED}).encode()).hexdigest()


def _signed_message(hash_: str) -> bytes:
    return f"crosswalk-audit-entry|{hash_}".encode()


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_bad: int | None = None
    problem: str | None = None
    checkpoints: int = 0  # how many checkpoints the log was compared with
    key: str | None = None  # the fingerprint of the public key that verified it
    last_checkpoint_at: str | None = None  # when the newest checkpoint was signed
    since_checkpoint: int | None = None  # entries after the newest checkpoint's count

    def tail_summary(self) -> str:
        """What no checkpoint covers yet: the window in which a deleted tail goes unseen."""
        if self.last_checkpoint_at is None:
            return f"no checkpoint yet: none of the {self.entries} entries is covered"
        return (
            f"newest checkpoint signed {self.last_checkpoint_at} ({_age(self.last_checkpoint_at)}"
            f" ago); {self.since_checkpoint} entries after it"
        )


class AuditLog:
    """Append and verify audit entries in the control plane (SQLite or PostgreSQL).

    Args:
        engine: the control plane (an engine or a URL; default ``$CROSSWALK_CONTROL``).
        secrets: the folder of the signing key (default ``$CROSSWALK_SECRETS``).
        checkpoints: the folder of the log's checkpoints (default
            ``$CROSSWALK_AUDIT_CHECKPOINTS``, or beside a SQLite control plane).
        checkpoint_every: write a checkpoint every N entries (default
            ``$CROSSWALK_AUDIT_CHECKPOINT_EVERY``); 0 for only explicit ones.
        checkpoint_seconds: an entry appended when this log's newest checkpoint is older
            than this many seconds gets one (default
            ``$CROSSWALK_AUDIT_CHECKPOINT_SECONDS``); 0 for none on time.

    Whatever N, a denial (``outcome`` denied), a failed sign-in and every administrative
    act (``AuditEvent.administrative``) are checkpointed as soon as they are written.
    """

    def __init__(
        self,
        engine: sa.Engine | str | None = None,
        *,
        secrets: str | Path | None = None,
        checkpoints: str | Path | None = None,
        checkpoint_every: int | None = None,
        checkpoint_seconds: int | None = None,
    ) -> None:
        self.engine = engine if isinstance(engine, sa.Engine) else stores.control_engine(engine)
        if self.engine.dialect.name not in ("sqlite", "postgresql"):
            raise AuditUnavailable(
                f"the audit log needs a SQLite or PostgreSQL control plane, not {self.engine.dialect.name}"
            )
        self.secrets = Path(settings.SECRETS.value(None if secrets is None else str(secrets)))
        self.checkpoint_folder = _checkpoint_folder(self.engine.url, checkpoints)
        every = settings.AUDIT_CHECKPOINT_EVERY.value(
            None if checkpoint_every is None else str(checkpoint_every)
        )
        try:
            self.checkpoint_every = int(every)
        except ValueError:
            raise ConfigError(
                f"{settings.AUDIT_CHECKPOINT_EVERY.env} must be a whole number, not {every!r}"
            ) from None
        self.checkpoint_seconds = _whole(
            settings.AUDIT_CHECKPOINT_SECONDS,
            None if checkpoint_seconds is None else str(checkpoint_seconds),
        )
        self._last_checkpoint: float | None = None  # when the newest was signed (epoch s)
        self._opened = time.time()
        self._key: SigningKey | None = None
        # Group commit: entries wait in ``_queued`` (in arrival order) while a batch is
        # being committed; whoever next holds ``_committing`` commits all that wait.
        self._committing = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queued: list[_Queued] = []
        # The newest entry this process appended (seq, hash): a head read later that is
        # behind it means that entries were deleted from under the process.
        self._written: tuple[int, str] | None = None
        self._open()

    def _open(self) -> None:
        for attempt in range(2):
            try:
                metadata.create_all(self.engine)
                columns = {c["name"] for c in sa.inspect(self.engine).get_columns("audit_entry")}
                break
            except sa.exc.SQLAlchemyError as e:
                # Two processes creating the table at once: the second sees it next time.
                if attempt:
                    raise AuditUnavailable(
                        f"the audit log cannot be opened: {str(e).splitlines()[0]}"
                    ) from None
        if "signature" not in columns:
            raise AuditUnavailable(
                f"the audit log in {self.engine.url.render_as_string()} predates signed entries: "
                "verify it with the version that wrote it, archive it, and start a new control plane"
            )

    # -- writing ---------------------------------------------------------------------------

    def _signing_key(self) -> SigningKey:
        if self._key is None:
            try:
                self._key = load_signing_key(self.secrets)
            except (ConfigError, OSError) as e:
                raise AuditUnavailable(f"the audit log cannot sign: {e}") from None
        return self._key

    def record(self, event: AuditEvent) -> int:
        """Append one entry; raise AuditUnavailable if it cannot be written (fail closed).

        Concurrent appends wait for each other (up to two minutes) rather than fail.
        """
        seq, hash_ = self._record(event)
        if self._checkpoint_due(event, seq):
            self._checkpoint_at(seq, hash_)
        return seq

    def _checkpoint_due(self, event: AuditEvent, seq: int) -> bool:
        """Whether the entry just appended gets a checkpoint of its own: every Nth entry;
        a denial or an administrative act (evidence someone would want to delete); or the
        first entry once this log's newest checkpoint is older than the schedule."""
        if self.checkpoint_every > 0 and seq % self.checkpoint_every == 0:
            return True
        if event.outcome == "denied" or event.administrative:
            return True
        if self.checkpoint_seconds <= 0:
            return False
        if self._last_checkpoint is None:
            newest = checkpoints.newest(self.checkpoint_folder)
            # A log never checkpointed counts from when this process opened it.
            self._last_checkpoint = self._opened if newest is None else _epoch(newest.at)
        return time.time() - self._last_checkpoint >= self.checkpoint_seconds

    def checkpoint_if_moved(self) -> Checkpoint | None:
        """A checkpoint of the head, if entries were appended after the newest checkpoint
        in the folder (for a schedule: a quiet log gets no new files)."""
        newest = checkpoints.newest(self.checkpoint_folder)
        cp = self.checkpoint()
        if newest is not None and cp.count <= newest.count:
            return None
        return self._write(cp)

    def _record(self, event: AuditEvent) -> tuple[int, str]:
        """Append one entry and wait until it is committed (with whatever entries other
        threads queued meanwhile, in the order they queued); its (seq, hash)."""
        key = self._signing_key()
        payload = event.payload()
        mine = _Queued(_canonical(payload), {k: payload.get(k) for k in MIRRORED})
        with self._queue_lock:
            self._queued.append(mine)
        with self._committing:
            if not mine.done:
                # Not committed by the batch before: this thread commits every entry
                # waiting now, its own among them (it queued before taking the lock).
                with self._queue_lock:
                    batch, self._queued = self._queued, []
                self._commit(key, batch)
        if mine.error is not None:
            raise mine.error
        assert mine.committed is not None
        return mine.committed

    def _commit(self, key: SigningKey, batch: list[_Queued]) -> None:
        """Append ``batch`` in one transaction; every entry of it is marked committed, or
        every one failed (nothing of it was written)."""
        deadline = time.monotonic() + APPEND_DEADLINE_S
        error: AuditUnavailable | None = None
        while True:
            try:
                committed = self._append(key, [(q.body, q.mirrored) for q in batch])
                break
            except sa.exc.OperationalError as e:
                if not _is_busy(e) or time.monotonic() > deadline:
                    error = AuditUnavailable(
                        f"the audit log cannot be written: {str(e).splitlines()[0]}"
                    )
                    break
            except sa.exc.SQLAlchemyError as e:
                error = AuditUnavailable(
                    f"the audit log cannot be written: {str(e).splitlines()[0]}"
                )
                break
            except BaseException as e:
                error = AuditUnavailable(f"the audit log cannot be written: {e}")
                for q in batch:
                    q.fail(error)
                raise
        for i, q in enumerate(batch):
            if error is None:
                q.committed = committed[i]
                q.done = True
            else:
                q.fail(error)

    def record_committed(self, event: AuditEvent) -> int:
        """Record the outcome of a run that changed the hub, then write a checkpoint.

        Called after the hub's commit, following an intent entry written before it: the
        log never claims a change that the hub does not hold.
        """
        seq, hash_ = self._record(event)
        self._checkpoint_at(seq, hash_)
        return seq

    def record_failed(self, event: AuditEvent) -> None:
        """Record that a started run was rolled back, if the log can be written: the run's
        own error is what the caller must see, so a log failure here is not raised."""
        with contextlib.suppress(AuditUnavailable):
            self.record(event)

    def _append(
        self, key: SigningKey, bodies: list[tuple[str, dict[str, Any]]]
    ) -> list[tuple[int, str]]:
        """Chain, sign and insert ``bodies`` (each with the fields its columns repeat) in
        one transaction, in their order."""
        written = self._written  # stable: appends hold the commit lock
        with self.engine.connect() as conn:
            _lock_for_append(conn)
            last = conn.execute(_HEAD).first()
            seq, prev = (last[0], last[1]) if last else (0, GENESIS)
            self._not_behind(seq, prev, written)
            entries: list[dict[str, Any]] = []
            for body, mirrored in bodies:
                seq += 1
                entry: dict[str, Any] = {
                    "seq": seq,
                    # Taken under the lock, so times never run backwards along the chain.
                    "at": datetime.now(UTC).isoformat(timespec="microseconds"),
                    **mirrored,
                    "body": body,
                    "prev_hash": prev,
                }
                entry["hash"] = prev = entry_hash(entry)
                entry["signature"] = key.sign(_signed_message(entry["hash"]))
                entries.append(entry)
            conn.execute(_INSERT, entries)
            conn.commit()
        if entries:
            self._written = (entries[-1]["seq"], entries[-1]["hash"])
        return [(e["seq"], e["hash"]) for e in entries]

    def _not_behind(self, seq: int, head: str, written: tuple[int, str] | None) -> None:
        """Refuse to go on from a head older than ``written``, the newest entry this
        process had appended before the head was read (fail closed), after signing a
        checkpoint of that entry: the tail deleted since, which no checkpoint covered
        yet, is then named by ``verify``."""
        if written is None or (seq, head) == written or seq > written[0]:
            return
        self._checkpoint_at(*written)
        raise AuditUnavailable(
            f"the audit log ends at entry {seq}, but this process wrote entry {written[0]}:"
            " entries were deleted or rewritten; a checkpoint of the entry it wrote is kept"
            " so that verification names it"
        )

    def checkpoint(self) -> Checkpoint:
        """A signed head of the log as it is now (count, head hash, time)."""
        key = self._signing_key()
        written = self._written  # before the head is read: appends only move it on
        with self.engine.connect() as conn:
            last = conn.execute(_HEAD).first()
        count, head = (last[0], last[1]) if last else (0, GENESIS)
        self._not_behind(count, head, written)
        return Checkpoint.signed(key, count, head, datetime.now(UTC).isoformat(timespec="seconds"))

    def write_checkpoint(self) -> Checkpoint:
        """Write a signed head to the checkpoint folder (the second location)."""
        return self._write(self.checkpoint())

    def _checkpoint_at(self, seq: int, hash_: str) -> Checkpoint:
        """A checkpoint of the entry just appended (not of the head, which other writers
        may have moved on since): every Nth entry gets exactly one."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        return self._write(Checkpoint.signed(self._signing_key(), seq, hash_, now))

    def _write(self, cp: Checkpoint) -> Checkpoint:
        self._last_checkpoint = time.time()
        if self.checkpoint_folder is not None:
            try:
                checkpoints.write(self.checkpoint_folder, cp)
            except OSError as e:
                raise AuditUnavailable(
                    f"the audit checkpoint cannot be written to {self.checkpoint_folder}: {e}"
                ) from None
        return cp

    def public_key(self) -> PublicKey:
        """The key to publish: outside auditors verify with it, without the secret."""
        return self._signing_key().public

    # -- reading ---------------------------------------------------------------------------

    def open_intents(
        self, started: type[AuditEvent], outcomes: tuple[type[AuditEvent], ...], key: str
    ) -> list[dict[str, Any]]:
        """The bodies of ``started`` entries that no outcome entry followed, matched on
        ``objects[key]`` (its first item if a list): runs whose process died in between."""
        actions = (started.action, *(o.action for o in outcomes))
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(audit_entry.c.action, audit_entry.c.body)
                .where(audit_entry.c.action.in_(actions))
                .order_by(audit_entry.c.seq)
            ).all()
        pending: dict[str, dict[str, Any]] = {}
        for action, text in rows:
            body = json.loads(text)
            ident = body.get("objects", {}).get(key)
            ident = ident[0] if isinstance(ident, list) and ident else ident
            if not isinstance(ident, str):
                continue
            if action == started.action:
                pending[ident] = body
            else:
                pending.pop(ident, None)
        return list(pending.values())

    def _pages(self, size: int = 10_000) -> Iterator[dict[str, Any]]:
        """Every entry in order, read a page at a time: memory stays flat, and no read
        holds the database long enough to keep a writer waiting."""
        query = sa.select(audit_entry).order_by(audit_entry.c.seq).limit(size)
        # The first page from the lowest sequence number there is, whatever it is: a row
        # put before entry 1 must be seen, not skipped.
        page_query = query
        while True:
            with self.engine.connect() as conn:
                page = conn.execute(page_query).mappings().all()
            if not page:
                return
            yield from (dict(r) for r in page)
            page_query = query.where(audit_entry.c.seq > page[-1]["seq"])

    def entries(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(audit_entry).order_by(audit_entry.c.seq)).mappings().all()
        return [dict(r) for r in rows]

    def verify(
        self, checkpoint: Checkpoint | None = None, public_key: PublicKey | None = None
    ) -> Verification:
        """Walk the chain and compare it with every checkpoint; name the first problem.

        Args:
            checkpoint: one more checkpoint to compare with (a copy kept elsewhere).
            public_key: the published key; by default the public half of the key in
                ``$CROSSWALK_SECRETS`` (an outside auditor passes the published one).
        """
        return self._verify(self._pages(), checkpoint, public_key, every_signature=True)

    def verified_entries(self) -> list[dict[str, Any]]:
        """Every entry, once the log as a whole verifies; IntegrityError if it does not.

        For reports: every hash, link and checkpoint is checked, but only the head's
        signature. That is as strong a check of the whole log (the head's hash covers
        every entry before it), and much cheaper, but it cannot name which entry was
        forged: ``verify`` does.
        """
        rows = self.entries()
        result = self._verify(rows, None, None, every_signature=False)
        if not result.ok:
            where = f" at entry {result.first_bad}" if result.first_bad else ""
            raise IntegrityError(
                f"the audit log failed verification{where}: {result.problem}; "
                "run crosswalk audit verify"
            )
        return rows

    def _verify(
        self,
        rows: Iterable[dict[str, Any]],
        checkpoint: Checkpoint | None,
        public_key: PublicKey | None,
        *,
        every_signature: bool,
    ) -> Verification:
        pub = public_key or self._verifying_key()
        found, unreadable = checkpoints.read_all(self.checkpoint_folder)
        named = [(str(path), cp) for path, cp in found]
        if checkpoint is not None:
            named.append(("the given checkpoint", checkpoint))
        wanted = {cp.count for _, cp in named}
        heads = {0: GENESIS}  # the hash at each count a checkpoint names
        n = 0

        def bad(seq: int | None, problem: str, compared: int = 0) -> Verification:
            return Verification(False, n, seq, problem, compared, pub.fingerprint)

        def unsigned(row: Mapping[str, Any]) -> bool:
            return not pub.verifies(_signed_message(row["hash"]), row["signature"])

        prev = GENESIS
        last: dict[str, Any] | None = None
        for expected_seq, row in enumerate(rows, start=1):
            n, seq, last = expected_seq, row["seq"], row
            if seq != expected_seq:
                return bad(
                    expected_seq, f"entry {expected_seq} is missing (found {seq} in its place)"
                )
            if entry_hash(row) != row["hash"]:
                return bad(seq, f"entry {seq} was changed: {_what_changed(row)}")
            if every_signature and unsigned(row):
                return bad(
                    seq,
                    f"entry {seq} is not signed by the audit key {pub.fingerprint} "
                    "(forged, or its hash recomputed)",
                )
            if row["prev_hash"] != prev:
                return bad(
                    seq,
                    f"entry {seq} does not follow entry {seq - 1} "
                    "(reordered, spliced in, or a predecessor rewritten)",
                )
            prev = row["hash"]
            if seq in wanted:
                heads[seq] = prev
        if not every_signature and last is not None and unsigned(last):
            return bad(
                n,
                f"the head, entry {n}, is not signed by the audit key {pub.fingerprint}: "
                "it or an entry before it was forged or re-hashed",
            )

        if unreadable:
            return bad(None, f"{unreadable[0]} is not an audit checkpoint")
        for i, (source, cp) in enumerate(named):
            if not cp.is_signed_by(pub):
                return bad(None, f"{source} is not signed by the audit key {pub.fingerprint}", i)
            if cp.count > n:
                return bad(
                    n + 1,
                    f"the log was truncated: {source} has {cp.count} entries, the log {n}",
                    i,
                )
            if heads[cp.count] != cp.head:
                return bad(
                    cp.count,
                    f"history up to entry {cp.count} was rewritten (it differs from {source})",
                    i,
                )
        newest = max((cp for _, cp in named), key=lambda cp: (cp.count, cp.at), default=None)
        return Verification(
            True,
            n,
            checkpoints=len(named),
            key=pub.fingerprint,
            last_checkpoint_at=None if newest is None else newest.at,
            since_checkpoint=n - newest.count if newest is not None else n,
        )

    def _verifying_key(self) -> PublicKey:
        if not signing_key_path(self.secrets).exists():
            raise ConfigError(
                f"no audit key in {self.secrets}: verify with the published public key "
                "(crosswalk audit verify --public-key FILE)"
            )
        return self._signing_key().public


def _whole(setting: settings.Setting, explicit: str | None) -> int:
    value = setting.value(explicit)
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise ConfigError(f"{setting.env} must be a whole number, not {value!r}")
    return number


def _epoch(at: str) -> float:
    try:
        return datetime.fromisoformat(at).timestamp()
    except ValueError:
        return 0.0


def _age(at: str) -> str:
    """How long ago an ISO time was, in the largest whole unit."""
    try:
        then = datetime.fromisoformat(at)
    except ValueError:
        return "an unknown time"
    seconds = max(0, int((datetime.now(UTC) - then).total_seconds()))
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _checkpoint_folder(url: sa.URL, explicit: str | Path | None) -> Path | None:
    return checkpoints.default_folder(url, explicit)


@dataclass
class _Queued:
    """An entry waiting for its transaction: its body and the fields its columns repeat,
    then its (seq, hash) or error."""

    body: str
    mirrored: dict[str, Any]
    done: bool = False
    committed: tuple[int, str] | None = None
    error: AuditUnavailable | None = field(default=None)

    def fail(self, error: AuditUnavailable) -> None:
        self.error = error
        self.done = True


def _lock_for_append(conn: sa.Connection) -> None:
    """Take the log's append lock for this transaction: one writer at a time."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # The write lock up front: a deferred transaction that read first would fail
        # (not wait) when it tried to write while another writer held the lock.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_APPEND_LOCK})


def _is_busy(e: sa.exc.OperationalError) -> bool:
    code = getattr(e.orig, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _what_changed(row: Mapping[str, Any]) -> str:
    """Name the field that was edited where a column and the body disagree."""
    try:
        body = json.loads(row["body"])
    except (TypeError, ValueError):
        return "its body is not the JSON that was written"
    if not isinstance(body, dict):
        return "its body is not the JSON that was written"
    for column in MIRRORED:
        if body.get(column) != row[column]:
            return f"its {column} is {row[column]!r} but its body says {body.get(column)!r}"
    return "its stored fields no longer match its hash"
