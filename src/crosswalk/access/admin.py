"""Administrative acts, authorised against the people the agreement in force names and
audited by the library itself (never by its caller):

| act | who may | audit event |
| --- | --- | --- |
| ``agreement_load`` (a new version) | a steward of the hub operator | ``agreement.version`` |
| ``agreement_withdraw`` (a party leaves) | a steward of that party or of the operator | ``agreement.version`` |
| ``consent_add`` / ``consent_revoke`` | a steward or privacy officer of the disclosing party | ``consent.change`` |
| ``review_decide`` (a clerical-review pair) | a steward of the hub operator | ``identity.review`` |
| ``ingest`` (a batch of an agency's extract) | a steward of that agency | ``ingest.*`` |
| ``link`` (a linkage run) | a steward of the hub operator | ``identity.link*`` |

Authority comes from the version in force *before* the act, so an amendment cannot
grant its own loader the right to load it. A refused act is audited (outcome
``denied``); an authorised one is audited before it is carried out (no entry, no act),
and again with outcome ``failed`` if it then fails.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from crosswalk import clock
from crosswalk.access.core import REVIEW_PURPOSE, GateCore
from crosswalk.access.oversight import review_agencies, review_elements
from crosswalk.agreement import Agreement, Consent, Principal, Request, parse_agreement
from crosswalk.agreement.versions import latest_version, store_text
from crosswalk.audit import (
    AccessDenied as Refused,
)
from crosswalk.audit import (
    AgreementChanged,
    AuditEvent,
    ConsentChanged,
    ReviewDecided,
)
from crosswalk.errors import AccessDenied, AgreementError, ConfigError, NotFound
from crosswalk.hub import DuckDBEngine
from crosswalk.identity.index import review_decide as record_review_decision

if TYPE_CHECKING:
    from crosswalk.identity.link import LinkResult
    from crosswalk.ingest.batch import IngestResult, Progress

T = TypeVar("T")


class Administration(GateCore):
    def _authorise(
        self,
        user: str,
        kind: type[AuditEvent],
        act: str,
        parties: list[str],
        objects: dict[str, Any],
        officers: bool = False,
    ) -> Principal:
        """The principal ``user`` acts as, if the agreement in force names them a steward
        (or, with ``officers``, a privacy officer) of one of ``parties``; else refuse."""
        agreement, _ = self._in_force()
        for code in parties:
            party = agreement.party(code)
            if party is None:
                continue
            if user in party.stewards:
                return Principal(user, code, "steward")
            if officers and user in party.privacy_officers:
                return Principal(user, code, "privacy_officer")
        self._audit.record(kind(user, objects=objects, outcome="denied"))
        named = "a steward" + (" or privacy officer" if officers else "")
        raise AccessDenied(
            f"{user} may not {act}: agreement version {agreement.version} does not name them "
            f"{named} of {' or '.join(parties)}"
        )

    def _act(
        self,
        principal: Principal,
        kind: type[AuditEvent],
        objects: dict[str, Any],
        do: Callable[[], T],
    ) -> T:
        """Audit the act, then do it; audit its failure if it fails."""
        self._audit.record(kind(principal.user, principal.agency, principal.role, objects=objects))
        try:
            return do()
        except Exception:
            self._audit.record_failed(
                kind(
                    principal.user,
                    principal.agency,
                    principal.role,
                    objects=objects,
                    outcome="failed",
                )
            )
            raise

    def agreement_load(self, user: str, path: str | Path) -> Agreement:
        """Store an agreement version (an amendment); it applies from its effective date."""
        agreement, _ = self._in_force()
        objects: dict[str, Any] = {"file": str(path)}
        who = self._authorise(
            user, AgreementChanged, "load an agreement version", [agreement.operator], objects
        )
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise AgreementError(f"cannot read agreement {path}: {e.strerror}") from None
        amendment = parse_agreement(text, str(path))
        latest = latest_version(self._audit.engine)
        if latest is not None and amendment.version <= latest:
            raise AgreementError(
                f"{path} is version {amendment.version}; the control plane already has version {latest}"
            )
        objects |= {"version": amendment.version, "effective_from": str(amendment.effective_from)}
        return self._act(
            who, AgreementChanged, objects, lambda: store_text(text, str(path), self._audit.engine)
        )

    def agreement_withdraw(self, user: str, party: str, on: date) -> Agreement:
        """A party withdraws from ``on`` (today or later): a new version of the agreement in
        force, in force from today, in which its data is excluded from that date."""
        agreement, today = self._in_force()
        if agreement.party(party) is None:
            raise NotFound(f"{party!r} is not a party to the agreement")
        objects: dict[str, Any] = {"withdrawn": party, "on": str(on)}
        who = self._authorise(
            user, AgreementChanged, f"withdraw {party}", [party, agreement.operator], objects
        )
        if on < today:
            raise ConfigError(f"a withdrawal applies from today ({today}) or later, not {on}")
        version = max(agreement.version, latest_version(self._audit.engine) or 0) + 1
        amended = agreement.model_copy(
            update={
                "version": version,
                "effective_from": max(today, agreement.effective_from),
                "parties": [
                    p.model_copy(update={"withdrawn_on": on}) if p.code == party else p
                    for p in agreement.parties
                ],
            }
        )
        text = yaml.safe_dump(amended.model_dump(mode="json"), sort_keys=False)
        source = f"withdrawal of {party} by {user}"
        objects["version"] = version
        return self._act(
            who, AgreementChanged, objects, lambda: store_text(text, source, self._audit.engine)
        )

    def consent_add(
        self,
        user: str,
        enterprise_id: str,
        discloser: str,
        recipient: str,
        purpose: str,
        information: str,
        signed_on: date,
        expires_on: date,
    ) -> Consent:
        """Record a written consent (42 CFR 2.31) of a person the discloser knows."""
        agreement, _ = self._in_force()
        objects: dict[str, Any] = {"enterprise_ids": [enterprise_id], "discloser": discloser}
        who = self._authorise(
            user, ConsentChanged, "record a consent", [discloser], objects, officers=True
        )
        if agreement.party(recipient) is None:
            raise ConfigError(f"the recipient {recipient!r} is not a party to the agreement")
        if purpose not in agreement.purposes:
            raise ConfigError(f"{purpose!r} is not a purpose of the agreement")
        if expires_on <= signed_on:
            raise ConfigError(
                "a consent must expire after it is signed (42 CFR 2.31 requires an expiry)"
            )
        with self._read() as con:
            known = con.execute(
                "SELECT count(*) FROM person_index WHERE enterprise_id = ? AND agency = ?",
                [enterprise_id, discloser],
            ).fetchall()[0][0]
        if not known:
            raise NotFound(f"no person {enterprise_id!r} among the records of {discloser}")
        objects |= {"recipient": recipient, "purpose": purpose}

        def add() -> Consent:
            return self._consents.add(
                enterprise_id, discloser, recipient, purpose, information, signed_on, expires_on
            )

        return self._act(who, ConsentChanged, objects, add)

    def consent_revoke(self, user: str, consent_id: str) -> None:
        """Revoke a consent from today."""
        consent = self._consents.get(consent_id)
        objects: dict[str, Any] = {
            "consent": consent_id,
            "enterprise_ids": [consent.enterprise_id],
            "revoked": True,
        }
        who = self._authorise(
            user, ConsentChanged, "revoke a consent", [consent.discloser], objects, officers=True
        )
        self._act(
            who,
            ConsentChanged,
            objects,
            lambda: self._consents.revoke(consent_id, clock.today()),
        )

    def review_decide(
        self, user: str, record_a: str, record_b: str, decision: str, note: str | None = None
    ) -> None:
        """Decide a clerical-review pair; the next linkage run honours it. ``note`` (why)
        is kept with the decision and in its audit entry."""
        if decision not in ("match", "no-match"):
            raise ConfigError(f"decision must be 'match' or 'no-match', not {decision!r}")
        agreement, today = self._in_force()
        objects: dict[str, Any] = {
            "record_keys": sorted((record_a, record_b)),
            "decision": decision,
        }
        if note:
            objects["note"] = note
        who = self._authorise(
            user, ReviewDecided, "decide a review pair", [agreement.operator], objects
        )
        if not isinstance(self._hub.engine, DuckDBEngine):
            raise ConfigError("review decisions are written to a DuckDB hub")
        # The process that owns the hub (the service) writes through its writer's cursor.
        target = self._hub if self._hub.writable else self._hub.engine.path
        # Only records the review queue would show this steward (never a Part 2 record):
        # any other is refused as if it did not exist.
        reviewer = Principal(user, who.agency, "linkage_steward")
        request = Request(reviewer, REVIEW_PURPOSE, tuple(review_elements(agreement)), "identified")
        agencies = review_agencies(agreement, self._decide(agreement, request, today))
        self._act(
            who,
            ReviewDecided,
            objects,
            lambda: record_review_decision(
                record_a,
                record_b,
                decision,
                decided_by=user,
                note=note,
                agencies=agencies,
                hub=target,
            ),
        )

    def _owned_hub(self, act: str) -> None:
        if not self._hub.writable:
            raise ConfigError(
                f"{act}: this process opened the hub for reading only (the service opens it "
                "for writing; the CLI's own command writes the hub's file)"
            )

    def ingest(
        self,
        user: str,
        agency: str,
        files: list[str | Path],
        *,
        kinds: list[str] | None = None,
        replace: str | None = None,
        updates: bool = False,
        progress: Progress | None = None,
        names: list[str] | None = None,
    ) -> IngestResult:
        """Load a batch of ``agency``'s extract files (``crosswalk.ingest.ingest``) into
        the hub this process owns, as ``user``: a steward the agreement in force names for
        that agency. A refusal is audited; the batch audits its own intent and outcome.
        ``names`` are the files' names in the batch's lineage (an upload's own names);
        ``updates`` loads an update batch (a weekly extract of new and changed rows)."""
        from crosswalk.ingest.batch import ingest

        self.ingest_allowed(user, agency, names or [Path(f).name for f in files])
        return ingest(
            agency,
            files,
            hub=self._hub,
            kinds=kinds,
            replace=replace,
            updates=updates,
            loaded_by=user,
            progress=progress,
            names=names,
        )

    def ingest_allowed(self, user: str, agency: str, files: list[str]) -> None:
        """Refuse (audited) unless ``user`` may load a batch of ``agency`` into this hub."""
        objects: dict[str, Any] = {"agency": agency, "files": files}
        self._authorise(user, Refused, f"load a batch of {agency}", [agency], objects)
        self._owned_hub("ingest")

    def link_allowed(self, user: str) -> None:
        """Refuse (audited) unless ``user`` may run linkage on this hub."""
        agreement, _ = self._in_force()
        self._authorise(user, Refused, "run linkage", [agreement.operator], {"link_run": None})
        self._owned_hub("link")

    def link(
        self, user: str, *, seed: int = 1, full: bool = False, progress: Progress | None = None
    ) -> LinkResult:
        """A linkage run (``crosswalk.identity.link``) on the hub this process owns, as
        ``user``: a steward the agreement in force names for the hub operator. A refusal
        is audited; the run audits its own intent and outcome."""
        from crosswalk.identity.link import link

        self.link_allowed(user)
        return link(self._hub, seed=seed, run_by=user, progress=progress, full=full)
