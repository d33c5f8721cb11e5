"""Agreement versions kept in the control plane: an amendment is a new version with a
later effective date; the version in force on a day is the latest that had started."""

from __future__ import annotations

import weakref
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

from crosswalk import stores
from crosswalk.agreement.load import load_agreement, parse_agreement
from crosswalk.agreement.model import Agreement
from crosswalk.errors import AgreementError

metadata = sa.MetaData()
agreement_version = sa.Table(
    "agreement_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("source", sa.String(512), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("loaded_at", sa.String(32), nullable=False),
)


_READY: weakref.WeakSet[sa.Engine] = weakref.WeakSet()
"""Engines whose control plane has the version table already (checked once per engine:
the gate reads the version in force on every request)."""


def _engine(control: str | sa.Engine | None) -> sa.Engine:
    engine = control if isinstance(control, sa.Engine) else stores.control_engine(control)
    if engine not in _READY:
        metadata.create_all(engine)
        _READY.add(engine)
    return engine


def store_version(path: str | Path, control: str | sa.Engine | None = None) -> Agreement:
    """Validate an agreement file and store it as a new version (versions only go up).

    Who may do so is the gate's to decide (``crosswalk.access.Gate.agreement_load``)."""
    return store_text(Path(path).read_text(encoding="utf-8"), str(path), control)


def store_text(text: str, source: str, control: str | sa.Engine | None = None) -> Agreement:
    """Validate agreement ``text`` and store it as a new version (versions only go up)."""
    agreement = parse_agreement(text, source)
    engine = _engine(control)
    with engine.begin() as conn:
        latest = conn.execute(sa.select(sa.func.max(agreement_version.c.version))).scalar()
        if latest is not None and agreement.version <= latest:
            raise AgreementError(
                f"{source} is version {agreement.version}; the control plane already has version {latest}"
            )
        conn.execute(
            agreement_version.insert().values(
                version=agreement.version,
                effective_from=agreement.effective_from,
                source=source,
                text=text,
                loaded_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
        )
    return agreement


def latest_version(control: str | sa.Engine | None = None) -> int | None:
    """The highest version stored, or None."""
    with _engine(control).connect() as conn:
        latest = conn.execute(sa.select(sa.func.max(agreement_version.c.version))).scalar()
    return None if latest is None else int(latest)


# The version in force on a day: the latest that had started by then. Only the fields
# that name a version are read on every request; its text only when it was not parsed yet.
_IN_FORCE = (
    sa.select(
        agreement_version.c.version,
        agreement_version.c.source,
        agreement_version.c.loaded_at,
    )
    .where(agreement_version.c.effective_from <= sa.bindparam("day", type_=sa.Date))
    .order_by(agreement_version.c.effective_from.desc(), agreement_version.c.version.desc())
    .limit(1)
)
_TEXT = sa.select(agreement_version.c.text).where(
    agreement_version.c.version == sa.bindparam("version")
)


def agreement_in_force(day: date, control: str | sa.Engine | None = None) -> Agreement:
    """The stored version in force on ``day``; the configured or shipped one if none is stored.

    A stored version is never changed in place (``store_text`` only adds higher versions),
    so the version, its source and when it was loaded name its text: the text is read
    and parsed once per process, and each later request reads only that one short row."""
    engine = _engine(control)
    with engine.connect() as conn:
        row = conn.execute(_IN_FORCE, {"day": day}).first()
        if row is None:
            return load_agreement()
        key = (int(row[0]), row[1], row[2])
        kept = _BY_VERSION.setdefault(engine, {})
        parsed = kept.get(key)
        if parsed is None:
            text = conn.execute(_TEXT, {"version": row[0]}).scalar_one()
            parsed = kept.setdefault(key, _parsed(text, row[1]))
    return parsed


# Per control plane: (version, source, loaded at) -> the version parsed (versions are few).
_BY_VERSION: weakref.WeakKeyDictionary[sa.Engine, dict[tuple[int, str, str], Agreement]]
_BY_VERSION = weakref.WeakKeyDictionary()


@lru_cache(maxsize=16)
def _parsed(text: str, source: str) -> Agreement:
    """A stored version parsed once per process (versions are never changed in place)."""
    return parse_agreement(text, source)
