"""Files of agency data written for a person to take away: their owner's only.

A person index, an extract or a table written with the common umask 022 would be
readable by every account of the host, and one written to a path another account has
made a symbolic link (``/tmp/index.csv`` pointing at a file of the victim's) would
overwrite the file the link names. ``write`` makes the file 0600 in the folder it goes
to, then renames it onto the path, which replaces a link rather than following it and
never leaves half a file under the path.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write(path: str | Path, fill: Callable[[Path], object]) -> Path:
    """Write ``path`` by calling ``fill`` on a new private file beside it (mode 0600),
    then put that file in its place.

    Example:
        >>> write(tmp / "index.csv", lambda p: p.write_text("a,b\\n"))  # doctest: +SKIP
    """
    target = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)  # mkstemp made it 0600; ``fill`` writes it by name
    temporary = Path(name)
    try:
        fill(temporary)
        temporary.chmod(0o600)  # a writer that recreated the file gets it back
        temporary.replace(target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    return target
