"""The audit log's Ed25519 key: the private half signs, the public half verifies.

The private key is a PEM file in ``$CROSSWALK_SECRETS`` (mode 0600, created on first
append); the service reads it to sign each entry and checkpoint. The public key is
exported (``crosswalk audit public-key``) so that an outside auditor can check a copy of
the log without the secret.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crosswalk.errors import ConfigError, IntegrityError

SIGNING_KEY_FILE = "audit-signing.key"
# The symmetric keys in the same folder: per-purpose pseudonyms and the cell keys of
# disclosure control (``load_key``).
PSEUDONYM_KEY_FILE = "pseudonym.key"
CELL_KEY_FILE = "cell-key.key"


@dataclass(frozen=True)
class PublicKey:
    """The key an auditor verifies entries and checkpoints with."""

    key: Ed25519PublicKey

    @classmethod
    def from_pem(cls, pem: bytes, source: str = "the public key") -> PublicKey:
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError:
            raise ConfigError(f"{source} is not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ConfigError(f"{source} is not an Ed25519 public key")
        return cls(key)

    def pem(self) -> bytes:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the raw key, shortened: what an auditor compares by eye."""
        raw = self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()[:16]

    def verifies(self, message: bytes, signature: str | None) -> bool:
        try:
            self.key.verify(bytes.fromhex(signature or ""), message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    """The private key the service signs with."""

    key: Ed25519PrivateKey

    def sign(self, message: bytes) -> str:
        return self.key.sign(message).hex()

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.key.public_key())


def signing_key_path(secrets: str | Path) -> Path:
    return Path(secrets) / SIGNING_KEY_FILE


def load_signing_key(secrets: str | Path, *, create: bool = True) -> SigningKey:
    """The private key in ``secrets``; created (mode 0600) on first use if ``create``.

    A key file that its group or others can read is refused: whoever reads it can sign
    entries that verify.
    """
    path = signing_key_path(secrets)
    if not path.exists():
        if not create:
            raise ConfigError(f"no audit signing key in {path.parent}")
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _create_whole(path, pem)
    _owner_only(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError:
        raise ConfigError(f"{path} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key")
    return SigningKey(key)


def load_key(path: str | Path) -> bytes:
    """A 32-byte symmetric secret (pseudonyms, cell keys); created (mode 0600) on first use.

    A key file that its group or others can read is refused: whoever reads the pseudonym
    key can reverse pseudonyms, and whoever reads the cell key can remove the noise.
    """
    p = Path(path)
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        _create_whole(p, os.urandom(32).hex().encode())
    _owner_only(p)
    try:
        return bytes.fromhex(p.read_text().strip())
    except ValueError:
        raise IntegrityError(f"{p} is not a key") from None


def _owner_only(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"{path} can be read by others (mode {mode:o}): make it owner-only (chmod 600)"
        )


def _create_whole(path: Path, data: bytes) -> None:
    """Create an owner-only file, written aside then linked into place: a concurrent
    first use (another process, or another thread of this one) sees either no file or a
    whole one, and the first link wins. Each writer's file aside has a name of its own."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:  # mkstemp makes it 0600
            f.write(data)
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
