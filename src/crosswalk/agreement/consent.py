"""The consent registry (42 CFR Part 2): who consented to which disclosure, until when.

A consent covers one person (enterprise id), a disclosing party, a recipient party, a
purpose and the information it names; it is valid from its signature date until it
expires or is revoked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from crosswalk import stores
from crosswalk.errors import ConfigError, NotFound

metadata = sa.MetaData()
consent_table = sa.Table(
    "consent",
    metadata,
    sa.Column("consent_id", sa.String(32), primary_key=True),
    sa.Column("enterprise_id", sa.String(32), nullable=False, index=True),
    sa.Column("discloser", sa.String(32), nullable=False),
    sa.Column("recipient", sa.String(32), nullable=False),
    sa.Column("purpose", sa.String(64), nullable=False),
    sa.Column("information", sa.String(256), nullable=False),
    sa.Column("signed_on", sa.Date, nullable=False),
    sa.Column("expires_on", sa.Date, nullable=False),
    sa.Column("revoked_on", sa.Date),
)


@dataclass(frozen=True)
class Consent:
    consent_id: str
    enterprise_id: str
    discloser: str
    recipient: str
    purpose: str
    information: str
    signed_on: date
    expires_on: date
    revoked_on: date | None = None

    def valid_on(self, day: date) -> bool:
        return _valid(self.signed_on, self.expires_on, self.revoked_on, day)


def _valid(signed_on: date, expires_on: date, revoked_on: date | None, day: date) -> bool:
    """Whether a consent so dated covers ``day``: signed, not expired, not revoked."""
    return signed_on <= day <= expires_on and (revoked_on is None or day < revoked_on)


class ConsentRegistry:
    def __init__(self, engine: sa.Engine | str | None = None) -> None:
        self.engine = engine if isinstance(engine, sa.Engine) else stores.control_engine(engine)
        metadata.create_all(self.engine)

    def add(
        self,
        enterprise_id: str,
        discloser: str,
        recipient: str,
        purpose: str,
        information: str,
        signed_on: date,
        expires_on: date,
    ) -> Consent:
        if expires_on <= signed_on:
            raise ConfigError(
                "a consent must expire after it is signed (42 CFR 2.31 requires an expiry)"
            )
        consent = Consent(
            uuid.uuid4().hex[:12],
            enterprise_id,
            discloser,
            recipient,
            purpose,
            information,
            signed_on,
            expires_on,
        )
        with self.engine.begin() as conn:
            conn.execute(consent_table.insert().values(**consent.__dict__))
        return consent

    def revoke(self, consent_id: str, on: date) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                consent_table.update()
                .where(consent_table.c.consent_id == consent_id)
                .values(revoked_on=on)
            )
        if done.rowcount == 0:
            raise NotFound(f"no consent {consent_id!r}")

    def get(self, consent_id: str) -> Consent:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(consent_table).where(consent_table.c.consent_id == consent_id)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no consent {consent_id!r}")
        return Consent(**row)

    def all(self) -> list[Consent]:
        with self.engine.connect() as conn:
            return [Consent(**r) for r in conn.execute(sa.select(consent_table)).mappings()]

    def consenting(
        self, enterprise_ids: list[str], discloser: str, recipient: str, purpose: str, on: date
    ) -> set[str]:
        """Of these persons, those with a valid consent covering this disclosure on ``on``."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(consent_table).where(
                    consent_table.c.enterprise_id.in_(enterprise_ids),
                    consent_table.c.discloser == discloser,
                    consent_table.c.recipient == recipient,
                    consent_table.c.purpose == purpose,
                )
            ).mappings()
            return {r["enterprise_id"] for r in rows if Consent(**r).valid_on(on)}

    def consented_by(
        self, enterprise_id: str, disclosers: Iterable[str], recipient: str, purpose: str, on: date
    ) -> set[str]:
        """Of these disclosing agencies, those whose disclosure of this person's records to
        ``recipient`` for ``purpose`` a valid consent covers on ``on`` (one query for all)."""
        wanted = set(disclosers)
        if not wanted:
            return set()
        with self.engine.connect() as conn:
            rows = conn.execute(
                _CONSENTS_OF_PERSON,
                {
                    "enterprise_id": enterprise_id,
                    "disclosers": sorted(wanted),
                    "recipient": recipient,
                    "purpose": purpose,
                },
            ).all()
        return {
            discloser
            for discloser, signed_on, expires_on, revoked_on in rows
            if _valid(signed_on, expires_on, revoked_on, on)
        }


# A person's consents to one recipient for one purpose, from some disclosers (built once:
# the gate asks on every person read). Their validity is ``Consent.valid_on``'s.
_CONSENTS_OF_PERSON = sa.select(
    consent_table.c.discloser,
    consent_table.c.signed_on,
    consent_table.c.expires_on,
    consent_table.c.revoked_on,
).where(
    consent_table.c.enterprise_id == sa.bindparam("enterprise_id"),
    consent_table.c.discloser.in_(sa.bindparam("disclosers", expanding=True)),
    consent_table.c.recipient == sa.bindparam("recipient"),
    consent_table.c.purpose == sa.bindparam("purpose"),
)
