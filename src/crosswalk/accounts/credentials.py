"""Secrets that prove who someone is: passwords (argon2id hashes only) and API tokens.

A token is ``cwt_<id>_<secret>``: the id finds its row, the secret (32 random bytes) is
checked against its SHA-256, which is all the control plane keeps. A token is shown once,
when it is made. A fast hash is right for a token (its secret is random, not guessable)
and wrong for a password, which is why passwords get argon2id.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory parameters.
_hasher = PasswordHasher()
# Verified against when the account does not exist, so that a wrong username takes as
# long as a wrong password.
_DUMMY = _hasher.hash("not a password of anyone")

MIN_PASSWORD = 12
TOKEN_FORMAT = re.compile(r"cwt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches the stored hash (None: no password; checked anyway)."""
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> tuple[str, str, str]:
    """A new token: its id, the whole token to show once, and the SHA-256 to store."""
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return token_id, f"cwt_{token_id}_{secret}", _sha256(secret)


def parse_token(token: str) -> tuple[str, str] | None:
    """The id and the secret's SHA-256 of a well-formed token, or None."""
    found = TOKEN_FORMAT.fullmatch(token)
    return (found.group(1), _sha256(found.group(2))) if found else None


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def save_token(path: str | Path, token: str) -> Path:
    """Write a token to a new file only its owner can read (mode 0600), as the CLI's token
    file must be; an existing file is refused rather than overwritten."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return p
