"""Reads for the people who run and oversee the hub, each through a decision and an
audit entry like any other read:

- ``quarantine``: rows an agency sent that could not be used, as sent (names, SSNs):
  the stewards of that agency, for operations (clause 6.1);
- ``review_list``: pairs awaiting clerical review with both records: the hub
  operator's linkage stewards, for linkage review (clause 7.1); a pair is listed only
  if both of its records may be shown (never a Part 2 record), and a person's records
  are counted only among those (a decision, too, names only such records);
- ``person_index``: the person index (each record's enterprise person) of the agencies
  whose record ids the principal may read: the hub operator's linkage stewards, for
  linkage review (clause 7.1), to export it;
- ``evaluate_linkage``: the person index scored against ground truth (precision, recall,
  blocking recall), over the records of the agencies a review decision lets the reader
  see: the hub operator's linkage stewards, for linkage review (clause 7.1);
- ``consent_list``, ``who_accessed``, ``audit_purposes``, ``audit_denials``: the consent
  registry (who holds a Part 2 consent is who is in treatment) and the audit log (who
  read whom): the hub operator's privacy officers, for oversight (clause 8.1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from crosswalk.access.core import REVIEW_PURPOSE, GateCore
from crosswalk.agreement import Agreement, Consent, Decision, Principal
from crosswalk.audit import queries as audit_queries
from crosswalk.identity.evaluate import Evaluation, evaluation
from crosswalk.identity.index import (
    RECORD_ELEMENTS,
    REVIEW_FIRST,
    person_index_rows,
    review_pairs,
)
from crosswalk.identity.quality import link_quality
from crosswalk.ingest.queries import quarantined

QUARANTINE_ELEMENTS = ("file", "source_row", "field", "value", "rule", "raw_row")
AUDIT_LOG = ("cdo.oversight", "audit_log")
CONSENTS = ("cdo.oversight", "consents")


def review_elements(agreement: Agreement) -> list[tuple[str, str]]:
    """Every record element a review pair can show, of every agency's records."""
    datasets = [d.id for d in agreement.datasets if d.id.endswith(".clients")]
    return [(d, e) for d in datasets for e in RECORD_ELEMENTS]


def review_agencies(agreement: Agreement, decision: Decision) -> set[str]:
    """The agencies whose records a review decision lets the reader see (some element
    granted without a consent): the review queue lists, counts and lets a steward decide
    only pairs of these agencies' records."""
    granted = set(decision.granted) - set(decision.consent_required)
    return {d.split(".")[0] for d, e in review_elements(agreement) if (d, e) in granted}


class Oversight(GateCore):
    def quarantine(
        self, principal: Principal, purpose: str, batch_id: str | None = None, limit: int = 100
    ) -> pa.Table:
        """Quarantined rows of the agencies whose quarantine this principal may read."""
        agreement, _ = self._in_force()
        datasets = [d.id for d in agreement.datasets if d.id.endswith(".quarantine")]
        elements = [(d, e) for d in datasets for e in QUARANTINE_ELEMENTS]
        objects: dict[str, Any] = {"quarantine": batch_id or "all"}
        decision = self._granted(principal, purpose, elements, objects, "quarantined rows")
        granted = set(decision.granted)
        agencies = {
            d.split(".")[0] for d in datasets if all((d, e) in granted for e in QUARANTINE_ELEMENTS)
        }
        with self._read() as con:
            table = quarantined(con, agencies, batch_id, limit)
        objects["datasets"] = sorted(f"{a}.quarantine" for a in agencies)
        self._read_done(principal, purpose, objects, decision, table.num_rows)
        return table

    def review_list(
        self, principal: Principal, purpose: str, limit: int = 50, record_key: str | None = None
    ) -> list[dict[str, Any]]:
        """Pairs awaiting clerical review, those that matter most first (only those of
        ``record_key``, if given), with both records (only the elements granted), where
        both records may be shown."""
        agreement, _ = self._in_force()
        objects: dict[str, Any] = {"review_queue": limit}
        if record_key is not None:
            objects["looked_up"] = record_key
        elements = review_elements(agreement)
        decision = self._granted(
            principal, purpose, elements, objects, "records under review", REVIEW_PURPOSE
        )
        granted = set(decision.granted) - set(decision.consent_required)
        agencies = review_agencies(agreement, decision)
        with self._read() as con:
            # Child welfare and Part 2 programmes first, of those the reader may see.
            part2 = {d.id.split(".")[0] for d in agreement.datasets if d.part2}
            pairs = review_pairs(con, agencies, limit, record_key, {*REVIEW_FIRST, *part2})
        for pair in pairs:
            for side in ("record_l", "record_r"):
                r = pair[side]
                ds = f"{r['agency']}.clients"
                pair[side] = {
                    "record_key": r["record_key"],
                    "agency": r["agency"],
                    **{e: r[e] for e in RECORD_ELEMENTS if (ds, e) in granted},
                }
        objects["record_keys"] = sorted(
            {k for p in pairs for k in (p["record_key_l"], p["record_key_r"])}
        )
        self._read_done(principal, purpose, objects, decision, len(pairs))
        return pairs

    def person_index(self, principal: Principal, purpose: str) -> pa.Table:
        """The person index (agency, source record id, enterprise id) of every agency
        whose record ids this principal may read; refused, and audited, otherwise."""
        agreement, _ = self._in_force()
        datasets = [d.id for d in agreement.datasets if d.id.endswith(".clients")]
        elements = [(d, "source_record_id") for d in datasets]
        objects: dict[str, Any] = {"person_index": "export"}
        decision = self._granted(
            principal, purpose, elements, objects, "the person index", REVIEW_PURPOSE
        )
        granted = set(decision.granted) - set(decision.consent_required)
        agencies = {d.split(".")[0] for d in datasets if (d, "source_record_id") in granted}
        with self._read() as con:
            table = person_index_rows(con, agencies)
        objects["agencies"] = sorted(agencies)
        self._read_done(principal, purpose, objects, decision, table.num_rows)
        return table

    def evaluate_linkage(self, principal: Principal, purpose: str, truth: str | Path) -> Evaluation:
        """Score the person index against ground truth (a synthetic state's truth folder,
        or a file of agency, source_record_id, entity_id), over the records of the
        agencies whose records this principal may see for review; refused, and audited,
        otherwise."""
        agreement, _ = self._in_force()
        objects: dict[str, Any] = {"linkage_evaluation": Path(truth).name}
        elements = review_elements(agreement)
        decision = self._granted(
            principal, purpose, elements, objects, "the person index", REVIEW_PURPOSE
        )
        agencies = review_agencies(agreement, decision)
        with self._read() as con:
            scored = evaluation(con, truth, agencies)
        objects["agencies"] = sorted(agencies)
        self._read_done(principal, purpose, objects, decision, scored.records)
        return scored

    def link_quality(self, principal: Principal, purpose: str) -> dict[str, Any] | None:
        """The last linkage run's quality (trained m and u, the match weights, the run's
        counts; no record): the hub operator's linkage stewards, for linkage review."""
        agreement, _ = self._in_force()
        objects: dict[str, Any] = {"linkage": "quality"}
        elements = review_elements(agreement)
        decision = self._granted(
            principal, purpose, elements, objects, "linkage quality", REVIEW_PURPOSE
        )
        with self._read() as con:
            quality = link_quality(con)
        objects["run_id"] = None if quality is None else quality["run_id"]
        self._read_done(principal, purpose, objects, decision, 0 if quality is None else 1)
        return quality

    def audit_search(
        self,
        principal: Principal,
        purpose: str,
        *,
        action: str | None = None,
        user: str | None = None,
        of_purpose: str | None = None,
        outcome: str | None = None,
        enterprise_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[dict[str, Any]]:
        """Audit entries oldest first, filtered by the fields given (``since`` and
        ``until`` are ISO dates or times, ``until`` inclusive of its day), from a log that
        verifies. The search, with its filters, is itself audited."""
        wanted = {"action": action, "user": user, "purpose": of_purpose, "outcome": outcome}
        asked = {**wanted, "enterprise_id": enterprise_id, "since": since, "until": until}
        objects: dict[str, Any] = {
            "audit_query": "search",
            "audit_search": {k: v for k, v in asked.items() if v},
        }
        if enterprise_id:
            objects["enterprise_ids"] = [enterprise_id]
        decision = self._granted(principal, purpose, [AUDIT_LOG], objects, "the audit log")
        found = audit_queries.search(
            self._audit, wanted, enterprise_id=enterprise_id, since=since, until=until
        )
        self._read_done(principal, purpose, objects, decision, len(found))
        return found

    def consent_list(self, principal: Principal, purpose: str) -> list[Consent]:
        """Every consent in the registry."""
        objects: dict[str, Any] = {"registry": "consent"}
        decision = self._granted(principal, purpose, [CONSENTS], objects, "the consent registry")
        consents = self._consents.all()
        self._read_done(principal, purpose, objects, decision, len(consents))
        return consents

    def who_accessed(
        self, principal: Principal, purpose: str, enterprise_id: str
    ) -> list[dict[str, Any]]:
        """Every audited request for one person's data."""
        objects: dict[str, Any] = {"audit_query": "who-accessed", "subject": enterprise_id}
        decision = self._granted(principal, purpose, [AUDIT_LOG], objects, "the audit log")
        rows = audit_queries.who_accessed(self._audit, enterprise_id)
        self._read_done(principal, purpose, objects, decision, len(rows))
        return rows

    def audit_purposes(self, principal: Principal, purpose: str) -> dict[str, int]:
        """How many data reads were made for each purpose."""
        objects: dict[str, Any] = {"audit_query": "purposes"}
        decision = self._granted(principal, purpose, [AUDIT_LOG], objects, "the audit log")
        counts = audit_queries.purposes(self._audit)
        self._read_done(principal, purpose, objects, decision, len(counts))
        return counts

    def audit_denials(self, principal: Principal, purpose: str) -> dict[str, int]:
        """Denials per day."""
        objects: dict[str, Any] = {"audit_query": "denials"}
        decision = self._granted(principal, purpose, [AUDIT_LOG], objects, "the audit log")
        counts = audit_queries.denials(self._audit)
        self._read_done(principal, purpose, objects, decision, len(counts))
        return counts
