"""Reading and checking agreement files."""

from __future__ import annotations

import importlib.resources
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
        text = (
            importlib.resources.files("crosswalk.agreement")
            .joinpath("emou.yaml")
            .read_text(encoding="utf-8")
        )
        return parse_agreement(text, "emou.yaml")
    try:
        text = Path(chosen).read_text(encoding="utf-8")
    except OSError as e:
        raise AgreementError(f"cannot read agreement {chosen}: {e.strerror}") from None
    return parse_agreement(text, str(chosen))


def check_agreement(path: str | Path) -> Agreement:
    """Validate an agreement file; raises AgreementError naming every problem's line and key."""
    return load_agreement(path)
