"""Reading and checking agreement files."""

from __future__ import annotations

import importlib.resources
from functools import lru_cache
from pathlib import Path

from crosswalk import settings, yamlfile
from crosswalk.agreement.model import Agreement
from crosswalk.errors import AgreementError


def parse_agreement(text: str, source: str) -> Agreement:
    return yamlfile.parse(text, source, Agreement, AgreementError)


def load_agreement(path: str | Path | None = None) -> Agreement:
    """An agreement file, or the one shipped for the synthetic state.

    Example:
        >>> load_agreement().version
        1
    """
    chosen = settings.AGREEMENT.value(None if path is None else str(path))
    if not chosen:
        return _shipped()
    try:
        text = Path(chosen).read_text(encoding="utf-8")
    except OSError as e:
        raise AgreementError(f"cannot read agreement {chosen}: {e.strerror}") from None
    return _parsed(text, str(chosen))


@lru_cache(maxsize=1)
def _shipped() -> Agreement:
    """The agreement shipped with the package, read once per process (the gate falls back
    to it on every request while the control plane stores none; it is part of the
    installed code, which does not change under a running process)."""
    text = (
        importlib.resources.files("crosswalk.agreement")
        .joinpath("emou.yaml")
        .read_text(encoding="utf-8")
    )
    return _parsed(text, "emou.yaml")


@lru_cache(maxsize=16)
def _parsed(text: str, source: str) -> Agreement:
    """An agreement file parsed once per process and content (the gate asks for the
    agreement in force on every request; parsing and validating it takes a while)."""
    return parse_agreement(text, source)


def check_agreement(path: str | Path) -> Agreement:
    """Validate an agreement file; raises AgreementError naming every problem's line and key."""
    return load_agreement(path)
