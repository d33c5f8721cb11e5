"""A link planted at an output path by another account of the host, and the check that a
private file written there is its owner's only and left the linked file alone."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

VICTIM_TEXT = "the steward's own file\n"


@contextmanager
def planted_link(folder: Path, name: str) -> Iterator[Path]:
    """The path ``folder/name``, a link to another file of the owner's, under umask 022;
    on leaving, asserts the file written there is 0600 and the linked file is untouched."""
    victim = folder / "notes.txt"
    victim.write_text(VICTIM_TEXT)
    out = folder / name
    out.symlink_to(victim)
    old = os.umask(0o022)
    try:
        yield out
    finally:
        os.umask(old)
    assert victim.read_text() == VICTIM_TEXT
    assert not out.is_symlink() and stat.S_IMODE(out.stat().st_mode) == 0o600
