"""Reads of the person index's history, for the hub operator's linkage stewards (clause
7.1, as the person index export): what happened to an enterprise id (merges, splits,
retirement, with their cause and time) and which records made it up on a date, and which
id a record had on a date. Records are shown only of agencies whose record ids the
principal may read; a record of another agency is answered as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crosswalk.access.core import REVIEW_PURPOSE, GateCore
from crosswalk.agreement import Principal
from crosswalk.errors import NotFound
from crosswalk.identity import history


@dataclass(frozen=True)
class PersonHistory:
    """An enterprise id's events, its current successors if retired, and (for a date)
    the records that made it up then."""

    enterprise_id: str
    events: list[dict[str, Any]]
    successors: list[str]
    on: date | None = None
    records: list[str] = field(default_factory=list)  # record keys on ``on``


@dataclass(frozen=True)
class RecordHistory:
    """A record's enterprise ids over time, and the one it had on ``on``."""

    record_key: str
    ids: list[dict[str, Any]]  # enterprise_id, valid_from, valid_to, run_id
    on: date | None = None
    id_on: str | None = None


class IdHistory(GateCore):
    def _record_agencies(self, principal: Principal, purpose: str, objects: dict[str, Any]) -> Any:
        agreement, _ = self._in_force()
        datasets = [d.id for d in agreement.datasets if d.id.endswith(".clients")]
        elements = [(d, "source_record_id") for d in datasets]
        decision = self._granted(
            principal, purpose, elements, objects, "the person index", REVIEW_PURPOSE
        )
        granted = set(decision.granted) - set(decision.consent_required)
        agencies = {d.split(".")[0] for d in datasets if (d, "source_record_id") in granted}
        return decision, agencies

    def person_history(
        self, principal: Principal, purpose: str, enterprise_id: str, on: date | None = None
    ) -> PersonHistory:
        """What happened to ``enterprise_id`` (and, with ``on``, its records that day)."""
        objects: dict[str, Any] = {"enterprise_ids": [enterprise_id], "history": str(on or "")}
        decision, agencies = self._record_agencies(principal, purpose, objects)
        with self._read() as con:
            history.migrate_readonly_check(con)
            # An id none of whose records, ever, was of an agency the reader may see (a
            # person known only to a Part 2 program) has no history for them.
            known: dict[str, bool] = {}

            def seen(person: str) -> bool:
                if person not in known:
                    known[person] = any(
                        k.split(":", 1)[0] in agencies for k in history.records_ever(con, person)
                    )
                return known[person]

            def named(person: str | None) -> str | None:
                # The other id of a merge or split is shown only where the reader may
                # see that person: not a Part 2-only person's id.
                return person if person is None or seen(person) else None

            events = (
                []
                if not seen(enterprise_id)
                else [
                    {k: v for k, v in e.items() if k not in ("records", "record_key")}
                    | {"enterprise_id": named(e["enterprise_id"]), "other_id": named(e["other_id"])}
                    for e in history.events(con, enterprise_id)
                ]
            )
            successors = [s for s in history.successors(con, enterprise_id) if seen(s)]
            records = (
                [
                    k
                    for k in history.records_as_of(con, enterprise_id, on)
                    if k.split(":", 1)[0] in agencies
                ]
                if on is not None
                else []
            )
        if not events and not records:
            self._read_done(principal, purpose, objects | {"found": False}, decision, 0)
            raise NotFound(f"no history of person {enterprise_id!r} in the person index")
        objects["record_keys"] = records
        self._read_done(principal, purpose, objects, decision, len(events) + len(records))
        return PersonHistory(enterprise_id, events, successors, on, records)

    def record_history(
        self, principal: Principal, purpose: str, record_key: str, on: date | None = None
    ) -> RecordHistory:
        """The ids ``record_key`` has had (and, with ``on``, the one it had that day)."""
        objects: dict[str, Any] = {"record_keys": [record_key], "history": str(on or "")}
        decision, agencies = self._record_agencies(principal, purpose, objects)
        rows: list[dict[str, Any]] = []
        id_on = None
        if record_key.split(":", 1)[0] in agencies:
            with self._read() as con:
                history.migrate_readonly_check(con)
                rows = history.record_ids(con, record_key)
                id_on = history.id_as_of(con, record_key, on) if on is not None else None
        if not rows:
            self._read_done(principal, purpose, objects | {"found": False}, decision, 0)
            raise NotFound(f"no record {record_key!r} in the person index's history")
        self._read_done(principal, purpose, objects, decision, len(rows))
        return RecordHistory(record_key, rows, on, id_on)
