"""What every part of the gate shares: the stores it holds, the agreement in force and
the day, its read connection, and the audit entry it writes for every request."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

from crosswalk import clock
from crosswalk.access.answers import ReleasedAnswers
from crosswalk.agreement import (
    Agreement,
    Decision,
    Grant,
    Principal,
    Request,
    agreement_in_force,
    decide,
)
from crosswalk.audit import AccessDenied as DeniedEvent
from crosswalk.audit import AuditEvent, DataRead, canonical, load_key
from crosswalk.audit.events import CanonicalJSON
from crosswalk.audit.keys import PSEUDONYM_KEY_FILE
from crosswalk.errors import AccessDenied
from crosswalk.hub import Hub
from crosswalk.identity import views
from crosswalk.identity.index import PersonView, person_records

REVIEW_PURPOSE = "linkage_review"  # what the person index and review pairs are read for (7.1)


class GateCore:
    """The stores, the clock and the audit trail behind every method of the gate.

    The policy and the day are not the caller's to choose: each request is decided under
    the agreement version in force today in the control plane (the shipped or configured
    agreement while none is stored), and today comes from ``crosswalk.clock``.
    """

    def __init__(
        self,
        hub: Hub | str | Path | None = None,
        control: str | sa.Engine | None = None,
        secrets: str | Path | None = None,
    ) -> None:
        # A hub object is the process's own (the service, a notebook); a path opens the
        # hub for each read and lets go of it after (a one-shot command).
        self._hub = hub if isinstance(hub, Hub) else Hub(hub, control, secrets, shared=False)
        self._audit = self._hub.audit
        self._consents = self._hub.consents
        self._secrets = self._hub.secrets
        self._answers = ReleasedAnswers()  # aggregate answers, for the questions asked again
        # Whether the hub has the person view store: once made it stays (rewritten only
        # inside the transaction that makes it again), so once seen on a hub this process
        # holds open it is not asked again.
        self._view_store = False
        self._view_current: int | None = None  # the hub version its store was current at
        self._in_force()  # the control plane holds a readable agreement, or fail now

    def _in_force(self) -> tuple[Agreement, date]:
        """The agreement in force and the day, read afresh for every request."""
        today = clock.today()
        return agreement_in_force(today, self._audit.engine), today

    def _decide(self, agreement: Agreement, request: Request, today: date) -> Decision:
        """The policy decision of ``request``, with the principal's grants in force today
        read afresh (a revocation counts from the very next request)."""
        return decide_request(self._hub, agreement, request, today)

    @contextmanager
    def _read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read connection of the hub: read-only, no access outside the hub, its
        configuration locked before any question runs."""
        with self._hub.read() as con:
            yield con

    def _person_view(
        self, con: duckdb.DuckDBPyConnection, enterprise_id: str, version: int | None
    ) -> PersonView:
        """A person's records and events (no link evidence): from the row store of person
        views in one point read while it is current, else from the hub's tables.

        ``version`` is the hub's version taken before this read's transaction began. An
        even version that is the same after the read means no write was under way at
        any time between (a write moves it on when it starts and when it ends), so the
        read saw the hub as it was at that version: whether the store is current is then
        asked once per version, and later reads at that version trust the answer."""
        if not (self._view_store or views.exists(con)):
            return person_records(con, enterprise_id, links=False)
        # Kept only where the hub is this process's for the engine's life (a version).
        self._view_store = version is not None
        trusted = version is not None and version % 2 == 0 and self._view_current == version
        found = views.read(con, enterprise_id, check=not trusted)
        steady = version is not None and version % 2 == 0 and self._hub.version() == version
        if found is not None:
            records, events, current = found
            if not trusted and steady:
                self._view_current = version if current else None
            if (trusted and steady) or current:
                return PersonView(enterprise_id, records, [], events)
        return person_records(con, enterprise_id, links=False)

    def pseudonym(self, enterprise_id: str, purpose: str, grant: str | None = None) -> str:
        """Stable within a purpose, different between purposes, never the id itself; under
        a grant (an approved data request), stable within that grant alone, so that two
        projects' extracts under the same purpose cannot be joined on their pseudonyms."""
        key = load_key(self._secrets / PSEUDONYM_KEY_FILE)
        scope = purpose if grant is None else f"{purpose}|grant:{grant}"
        return (
            "X"
            + hmac.new(key, f"{scope}|{enterprise_id}".encode(), hashlib.sha256).hexdigest()[:16]
        )

    def _pseudonymised_id(
        self, con: duckdb.DuckDBPyConnection, pseudonym: str, purpose: str, grant: str | None
    ) -> str | None:
        """The enterprise id (current or retired) whose pseudonym for this purpose and
        grant is ``pseudonym``, or None: the same keyed hash as ``pseudonym``, computed
        over every id in one scan, so only the hub, which holds the key, can reverse it."""
        key = load_key(self._secrets / PSEUDONYM_KEY_FILE).ljust(64, b"\0")
        scope = purpose if grant is None else f"{purpose}|grant:{grant}"
        rows = con.execute(
            """WITH ids AS (
              SELECT DISTINCT enterprise_id FROM person_index
              UNION SELECT enterprise_id FROM enterprise_id_retired)
            SELECT enterprise_id FROM ids
            WHERE 'X' || left(sha256($outer || unhex(sha256($inner || encode($scope || '|' || enterprise_id)))), 16) = $pseudonym
            ORDER BY 1 LIMIT 1""",
            {
                "outer": bytes(b ^ 0x5C for b in key),
                "inner": bytes(b ^ 0x36 for b in key),
                "scope": scope,
                "pseudonym": pseudonym,
            },
        ).fetchall()
        return str(rows[0][0]) if rows else None

    def _record(
        self,
        kind: type[AuditEvent],
        principal: Principal,
        purpose: str,
        objects: dict[str, Any],
        decision: Decision,
        rows: int,
        outcome: str = "ok",
    ) -> None:
        record(self._hub, kind, principal, purpose, objects, decision, rows, outcome)

    def _granted(
        self,
        principal: Principal,
        purpose: str,
        elements: Iterable[tuple[str, str]],
        objects: dict[str, Any],
        what: str,
        serves: str | None = None,
    ) -> Decision:
        """Decide an identified read of ``elements``; refuse (audited) if none is granted,
        or if the read ``serves`` one purpose and is asked for another: the review queue
        and the person index are read in bulk for linkage review, and a clause that lets
        a caseworker see a client's records does not make them a reviewer of everyone's."""
        agreement, today = self._in_force()
        decision = self._decide(
            agreement, Request(principal, purpose, tuple(elements), "identified"), today
        )
        if serves is not None and purpose != serves:
            self._record(DeniedEvent, principal, purpose, objects, decision, 0, "denied")
            raise AccessDenied(
                f"{principal.user} ({principal.role}, {principal.agency}) may not read {what} "
                f"for {purpose}: it is read for {serves} only",
                decision,
            )
        if not decision.allowed:
            self._record(DeniedEvent, principal, purpose, objects, decision, 0, "denied")
            raise AccessDenied(
                f"{principal.user} ({principal.role}, {principal.agency}) may not read {what} for {purpose}",
                decision,
            )
        return decision

    def _read_done(
        self,
        principal: Principal,
        purpose: str,
        objects: dict[str, Any],
        decision: Decision,
        rows: int,
    ) -> None:
        """The audit entry of an answered read, written before the answer is returned."""
        self._record(DataRead, principal, purpose, objects, decision, rows)


def decide_request(hub: Hub, agreement: Agreement, request: Request, today: date) -> Decision:
    """Decide ``request`` under ``agreement`` on ``today``: the principal's grants (approved
    data requests) are read from the control plane only where a clause the purpose could
    use is used by request, so standing use costs no extra query."""
    grants: list[Grant] = []
    if any(
        agreement.by_request_only(r, request.purpose)
        for r in agreement.rules
        if request.purpose in r.purposes and request.principal.role in r.roles
    ):
        grants = hub.requests.active_grants(request.principal, request.purpose, today)
    return _decided(agreement, request, today, tuple(grants))


_DECISIONS: OrderedDict[tuple[int, Request, date, tuple[Grant, ...]], tuple[Agreement, Decision]]
_DECISIONS = OrderedDict()
_DECISIONS_KEPT = 1024
_DECISIONS_LOCK = threading.Lock()


def _decided(
    agreement: Agreement, request: Request, today: date, grants: tuple[Grant, ...]
) -> Decision:
    """``decide()``, remembered: it is a pure function of the agreement version, the
    request, the day and the grants in force, all part of the key (the grants are read
    afresh for every request, so a revocation still counts from the next one), and the
    service asks the same few requests again and again (every caseworker's lookup is one
    request of the same elements)."""
    key = (id(agreement), request, today, grants)
    with _DECISIONS_LOCK:
        kept = _DECISIONS.get(key)
        if kept is not None and kept[0] is agreement:
            _DECISIONS.move_to_end(key)
            return kept[1]
    decision = decide(agreement, request, at=today, grants=grants)
    with _DECISIONS_LOCK:
        _DECISIONS[key] = (agreement, decision)  # the agreement kept: its id stays its own
        while len(_DECISIONS) > _DECISIONS_KEPT:
            _DECISIONS.popitem(last=False)
    return decision


def record(
    hub: Hub,
    kind: type[AuditEvent],
    principal: Principal,
    purpose: str,
    objects: dict[str, Any],
    decision: Decision,
    rows: int,
    outcome: str = "ok",
) -> None:
    """Write the audit entry of one request: who, for what, what was read, the decision."""
    hub.audit.record(
        kind(
            principal.user,
            principal.agency,
            principal.role,
            purpose,
            objects,
            _decision_json(decision),
            rows,
            outcome,
        )
    )


_DECISION_JSON: OrderedDict[int, tuple[Decision, CanonicalJSON]] = OrderedDict()
_DECISION_JSON_LOCK = threading.Lock()


def _decision_json(decision: Decision) -> CanonicalJSON:
    """The decision as its audit entries hold it, serialised once per decision object
    (``_decided`` hands the same object to every request it decides alike; a decision
    is frozen, so its text cannot go out of date)."""
    with _DECISION_JSON_LOCK:
        kept = _DECISION_JSON.get(id(decision))
        if kept is not None and kept[0] is decision:
            _DECISION_JSON.move_to_end(id(decision))
            return kept[1]
    text = canonical(decision.to_dict())
    with _DECISION_JSON_LOCK:
        _DECISION_JSON[id(decision)] = (decision, text)  # kept with it: its id stays its own
        while len(_DECISION_JSON) > _DECISIONS_KEPT:
            _DECISION_JSON.popitem(last=False)
    return text
