"""Entries are signed (Ed25519): a forger without the key cannot append or rewrite them,
and an outside auditor verifies with the published public key alone."""

import contextlib
import json
import sqlite3
import stat

import pytest
from tests.audit.conftest import read

from crosswalk.audit import AuditLog, PublicKey
from crosswalk.audit.keys import SigningKey, load_key, load_signing_key
from crosswalk.audit.log import _signed_message, audit_entry, entry_hash
from crosswalk.errors import ConfigError


def rows(log):
    return log.entries()


def insert(log, entry):
    with log.engine.begin() as conn:
        conn.execute(audit_entry.insert().values(**entry))


def replace(log, entry):
    with log.engine.begin() as conn:
        conn.execute(audit_entry.delete().where(audit_entry.c.seq == entry["seq"]))
        conn.execute(audit_entry.insert().values(**entry))


def forged_after(last, body_fields, key=None):
    body = json.dumps(body_fields, sort_keys=True, separators=(",", ":"))
    entry = {
        "seq": last["seq"] + 1,
        "at": last["at"],
        **{k: body_fields.get(k) for k in ("action", "user", "agency", "purpose", "outcome")},
        "body": body,
        "prev_hash": last["hash"],
    }
    entry["hash"] = entry_hash(entry)
    entry["signature"] = key.sign(_signed_message(entry["hash"])) if key else "00" * 64
    return entry


def test_forged_entry_with_a_correct_hash_fails(log):
    last = rows(log)[-1]
    body = json.loads(last["body"]) | {"user": "forger"}
    insert(log, forged_after(last, body))
    result = log.verify()
    assert not result.ok and result.first_bad == 7 and "not signed" in result.problem


def test_entry_signed_with_another_key_fails(log, tmp_path):
    other = load_signing_key(tmp_path / "elsewhere")
    last = rows(log)[-1]
    insert(log, forged_after(last, json.loads(last["body"]), other))
    result = log.verify()
    assert not result.ok and result.first_bad == 7 and "not signed" in result.problem


def test_rehashed_edit_fails_on_its_signature(log):
    entry = rows(log)[2]
    entry["body"] = entry["body"].replace('"rows":3', '"rows":0')
    entry["hash"] = entry_hash(entry)
    replace(log, entry)
    result = log.verify()
    assert not result.ok and result.first_bad == 3 and "not signed" in result.problem


def test_predecessor_rewritten_by_a_key_holder_breaks_the_chain(log):
    """Someone with the key re-signs an edited entry 3: entry 4 no longer follows it."""
    key: SigningKey = log._signing_key()
    entry = rows(log)[2]
    entry["body"] = entry["body"].replace('"P3"', '"P9"')
    entry["hash"] = entry_hash(entry)
    entry["signature"] = key.sign(_signed_message(entry["hash"]))
    replace(log, entry)
    result = log.verify()
    assert not result.ok and result.first_bad == 4 and "does not follow" in result.problem


def test_entry_spliced_from_a_restored_copy_breaks_the_chain(log, make_log, tmp_path):
    """A copy of the log restored from a backup goes on with validly signed entries of its
    own; one of them put in place of the original's is caught where the chain forks."""
    # A whole copy, as SQLite's backup makes it (in write-ahead-log mode the newest
    # commits are still in control.db-wal, which a copy of control.db alone would miss).
    with (
        contextlib.closing(sqlite3.connect(tmp_path / "control.db")) as source,
        contextlib.closing(sqlite3.connect(tmp_path / "restored.db")) as copy,
    ):
        source.backup(copy)
    log.record(read(7))
    log.record(read(8))
    restored = make_log("restored", checkpoint_every=0)
    restored.record(read(7, purpose="program_evaluation"))
    replace(log, rows(restored)[6])
    result = log.verify()
    assert not result.ok and result.first_bad == 8 and "does not follow" in result.problem


def test_outside_auditor_verifies_with_the_public_key_only(log, tmp_path):
    pem = log.public_key().pem()
    with (
        contextlib.closing(sqlite3.connect(tmp_path / "control.db")) as source,
        contextlib.closing(sqlite3.connect(tmp_path / "copy.db")) as copy,
    ):
        source.backup(copy)
    auditor = AuditLog(f"sqlite:///{tmp_path}/copy.db", secrets=tmp_path / "no-secrets")
    result = auditor.verify(public_key=PublicKey.from_pem(pem))
    assert result.ok and result.entries == 6
    assert not (tmp_path / "no-secrets").exists(), "verifying never creates a key"


def test_a_different_public_key_fails_from_the_first_entry(log, tmp_path):
    other = load_signing_key(tmp_path / "elsewhere").public
    result = log.verify(public_key=other)
    assert not result.ok and result.first_bad == 1 and other.fingerprint in result.problem


def test_verifying_without_any_key_says_what_to_give(log, tmp_path):
    auditor = AuditLog(log.engine, secrets=tmp_path / "no-secrets")
    with pytest.raises(ConfigError, match="--public-key"):
        auditor.verify()


def test_signing_key_is_owner_only(log, tmp_path):
    path = tmp_path / "secrets" / "audit-signing.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()
    assert b"PRIVATE" not in log.public_key().pem()


def test_a_key_others_can_read_is_refused(log, tmp_path):
    (tmp_path / "secrets" / "audit-signing.key").chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_signing_key(tmp_path / "secrets")


@pytest.mark.parametrize("name", ["pseudonym.key", "cell-key.key"])
def test_a_symmetric_key_others_can_read_is_refused(tmp_path, name):
    # Whoever reads the pseudonym key can reverse pseudonyms of enumerable enterprise ids;
    # whoever reads the cell key can take the noise off released counts.
    path = tmp_path / "secrets" / name
    key = load_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(key) == 32
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_key(path)


def _first_uses(path, threads=8):
    """``load_key(path)`` by ``threads`` threads at once: (keys, errors)."""
    import threading

    start = threading.Barrier(threads)
    keys, errors = [], []

    def first_use():
        start.wait()
        try:
            keys.append(load_key(path))
        except Exception as e:
            errors.append(e)

    running = [threading.Thread(target=first_use) for _ in range(threads)]
    for t in running:
        t.start()
    for t in running:
        t.join()
    return keys, errors


def test_threads_creating_a_key_at_once_all_get_the_one_key(tmp_path):
    """The service's threads may each be first to need the cell key: one key is made,
    every thread reads it, and none fails on another's file written aside."""
    for round_ in range(10):
        path = tmp_path / f"secrets{round_}" / "cell-key.key"
        keys, errors = _first_uses(path)
        assert errors == [] and len(set(keys)) == 1 and len(keys) == 8
        assert [p.name for p in path.parent.iterdir()] == ["cell-key.key"]  # nothing aside
