"""Accounts and tokens for CLI tests: the CLI signs in as an account, never as a name.

``signed_in("ada", "hfs", "analyst", control=control)`` makes the account (once per
control plane) with the host operator's authority, the library's way, writes a token for
it to an owner-only file and returns the options that sign the CLI in with it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from crosswalk import migrations
from crosswalk.accounts import Accounts, Actor
from crosswalk.audit import AuditLog
from crosswalk.errors import NotFound

OPERATOR = Actor("operator:test", None, frozenset(), operator=True)
SignIn = Callable[..., list[str]]


def make_token(
    control: str,
    folder: Path,
    username: str,
    agency: str,
    roles: tuple[str, ...],
    scopes: list[str] | None = None,
) -> Path:
    """An account (made if missing) and a new token of it in ``folder/username`` (0600)."""
    engine = sa.create_engine(control)
    try:
        migrations.upgrade(engine)
        accounts = Accounts(engine, AuditLog(engine))
        try:
            accounts.get(username)
        except NotFound:
            accounts.add(OPERATOR, username, agency, list(roles))
        _, secret = accounts.create_token(OPERATOR, username, scopes=scopes)
    finally:
        engine.dispose()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{username}-{len(list(folder.iterdir()))}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")
    return path


@pytest.fixture
def signed_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignIn]:
    """``signed_in(username, agency, *roles, control=URL, scopes=None)``: the CLI options
    (``--token-file PATH``) that sign in as that account of that control plane."""
    folder = tmp_path_factory.mktemp("tokens")
    made: dict[tuple[str, str, tuple[str, ...] | None], Path] = {}

    def sign_in(
        username: str, agency: str, *roles: str, control: str, scopes: list[str] | None = None
    ) -> list[str]:
        key = (control, username, None if scopes is None else tuple(scopes))
        if key not in made:
            made[key] = make_token(control, folder, username, agency, roles, scopes)
        return ["--token-file", str(made[key])]

    yield sign_in
