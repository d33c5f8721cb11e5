"""Data requests and the grants they become, kept in the control plane.

A request names its requester (user, agency, role), a purpose, data elements (dataset
and element, as the agreement names them), a level, a period and a justification. The
steward of every agency whose data it involves approves or denies it, each with a
reason; when every one has approved, it is a grant (``crosswalk.agreement.Grant``) for
its period, until a steward or a privacy officer revokes it. This module only keeps the
records: who may do each step, and its audit entry, is the gate's
(``crosswalk.access.Gate.request_data`` and the rest).

Times are ISO 8601 UTC text of one fixed form (to the microsecond); the period is dates.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa

from crosswalk.agreement.policy import Grant, Principal
from crosswalk.errors import NotFound, RequestConflict

metadata = sa.MetaData()

data_request = sa.Table(
    "data_request",
    metadata,
    sa.Column("request_id", sa.String(16), primary_key=True),
    sa.Column("user", sa.String(128), nullable=False, index=True),
    sa.Column("agency", sa.String(32), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("purpose", sa.String(64), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("justification", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | denied | granted | revoked
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("granted_at", sa.String(32)),
    sa.Column("revoked_at", sa.String(32)),
    sa.Column("revoked_by", sa.String(128)),
    sa.Column("revoke_reason", sa.Text),
)

data_request_element = sa.Table(
    "data_request_element",
    metadata,
    sa.Column(
        "request_id",
        sa.String(16),
        sa.ForeignKey("data_request.request_id"),
        primary_key=True,
    ),
    sa.Column("dataset", sa.String(64), primary_key=True),
    sa.Column("element", sa.String(64), primary_key=True),
)

data_request_decision = sa.Table(
    "data_request_decision",
    metadata,
    sa.Column(
        "request_id",
        sa.String(16),
        sa.ForeignKey("data_request.request_id"),
        primary_key=True,
    ),
    sa.Column("agency", sa.String(32), primary_key=True),
    sa.Column("steward", sa.String(128), nullable=False),
    sa.Column("decision", sa.String(16), nullable=False),  # approved | denied
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("decided_at", sa.String(32), nullable=False),
)

PENDING, DENIED, GRANTED, REVOKED = "pending", "denied", "granted", "revoked"


def new_request_id() -> str:
    return "R" + uuid.uuid4().hex[:11]


def _now() -> str:
    # to the microsecond: requests made within one second still list in the order made
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class StewardDecision:
    """One agency's answer to a request."""

    agency: str
    steward: str
    decision: str  # approved | denied
    reason: str
    decided_at: str


@dataclass(frozen=True)
class DataRequest:
    """A data request as stored, with the answers of the agencies it involves so far."""

    request_id: str
    requester: Principal
    purpose: str
    elements: tuple[tuple[str, str], ...]
    level: str
    starts_on: date
    ends_on: date
    justification: str
    status: str
    created_at: str
    decisions: tuple[StewardDecision, ...] = ()
    granted_at: str | None = None
    revoked_at: str | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None

    @property
    def agencies(self) -> tuple[str, ...]:
        """The agencies whose data it involves (their stewards answer it)."""
        return tuple(sorted({d.split(".")[0] for d, _ in self.elements}))

    @property
    def waiting_for(self) -> tuple[str, ...]:
        """The involved agencies that have not answered yet."""
        answered = {d.agency for d in self.decisions}
        return tuple(a for a in self.agencies if a not in answered)

    def state(self, on: date) -> str:
        """``pending``, ``denied``, ``revoked``, or for a grant ``granted`` in its period,
        ``expired`` after it and ``not yet in force`` before it."""
        if self.status != GRANTED:
            return self.status
        if on > self.ends_on:
            return "expired"
        if on < self.starts_on:
            return "not yet in force"
        return GRANTED

    def grant(self) -> Grant:
        return Grant(
            self.request_id,
            self.requester,
            self.purpose,
            frozenset(self.elements),
            self.level,
            self.starts_on,
            self.ends_on,
        )


class RequestRegistry:
    """The data requests of one control plane."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        # As the consent registry does: a control plane that was never migrated gets the
        # tables here (migration 0005 adopts them as they are).
        metadata.create_all(engine)

    def add(
        self,
        request_id: str,
        requester: Principal,
        purpose: str,
        elements: Iterable[tuple[str, str]],
        level: str,
        starts_on: date,
        ends_on: date,
        justification: str,
    ) -> DataRequest:
        with self.engine.begin() as conn:
            conn.execute(
                data_request.insert().values(
                    request_id=request_id,
                    user=requester.user,
                    agency=requester.agency,
                    role=requester.role,
                    purpose=purpose,
                    level=level,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    justification=justification,
                    status=PENDING,
                    created_at=_now(),
                )
            )
            for dataset, element in sorted(set(elements)):
                conn.execute(
                    data_request_element.insert().values(
                        request_id=request_id, dataset=dataset, element=element
                    )
                )
        return self.get(request_id)

    def get(self, request_id: str) -> DataRequest:
        found = self._load([data_request.c.request_id == request_id])
        if not found:
            raise NotFound(f"no data request {request_id!r}")
        return found[0]

    def all(self) -> list[DataRequest]:
        return self._load([])

    def active_grants(self, requester: Principal, purpose: str, on: date) -> list[Grant]:
        """The requester's grants for ``purpose`` in force on ``on`` (not revoked)."""
        return [
            r.grant()
            for r in self._load(
                [
                    data_request.c.user == requester.user,
                    data_request.c.agency == requester.agency,
                    data_request.c.role == requester.role,
                    data_request.c.purpose == purpose,
                    data_request.c.status == GRANTED,
                    data_request.c.starts_on <= on,
                    data_request.c.ends_on >= on,
                ]
            )
        ]

    def decide(
        self, request_id: str, agencies: Iterable[str], steward: str, decision: str, reason: str
    ) -> DataRequest:
        """Record ``steward``'s answer for ``agencies``; the request is denied at the
        first denial and granted once every involved agency has approved. Only a pending
        request changes (two stewards answering at once: the second sees the first)."""
        at = _now()
        try:
            with self.engine.begin() as conn:
                self._decide(conn, request_id, agencies, steward, decision, reason, at)
        except sa.exc.IntegrityError:  # another steward answered for that agency just now
            raise RequestConflict(
                f"data request {request_id} was answered for that agency meanwhile"
            ) from None
        return self.get(request_id)

    def _decide(
        self,
        conn: sa.Connection,
        request_id: str,
        agencies: Iterable[str],
        steward: str,
        decision: str,
        reason: str,
        at: str,
    ) -> None:
        for agency in agencies:
            conn.execute(
                data_request_decision.insert().values(
                    request_id=request_id,
                    agency=agency,
                    steward=steward,
                    decision=decision,
                    reason=reason,
                    decided_at=at,
                )
            )
        answers = dict(
            conn.execute(
                sa.select(data_request_decision.c.agency, data_request_decision.c.decision).where(
                    data_request_decision.c.request_id == request_id
                )
            ).all()
        )
        involved = {
            d.split(".")[0]
            for d in conn.execute(
                sa.select(data_request_element.c.dataset).where(
                    data_request_element.c.request_id == request_id
                )
            ).scalars()
        }
        pending = data_request.c.status == PENDING
        where = (data_request.c.request_id == request_id, pending)
        if "denied" in answers.values():
            conn.execute(data_request.update().where(*where).values(status=DENIED))
        elif involved <= set(answers):
            conn.execute(data_request.update().where(*where).values(status=GRANTED, granted_at=at))

    def revoke(self, request_id: str, by: str, reason: str) -> DataRequest:
        with self.engine.begin() as conn:
            conn.execute(
                data_request.update()
                .where(data_request.c.request_id == request_id, data_request.c.status == GRANTED)
                .values(status=REVOKED, revoked_at=_now(), revoked_by=by, revoke_reason=reason)
            )
        return self.get(request_id)

    def _load(self, where: list[sa.ColumnElement[bool]]) -> list[DataRequest]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(data_request)
                .where(*where)
                .order_by(data_request.c.created_at, data_request.c.request_id)
            ).all()
            if not rows:
                return []
            ids = [r.request_id for r in rows]
            elements: dict[str, list[tuple[str, str]]] = {i: [] for i in ids}
            for e in conn.execute(
                sa.select(data_request_element)
                .where(data_request_element.c.request_id.in_(ids))
                .order_by(data_request_element.c.dataset, data_request_element.c.element)
            ):
                elements[e.request_id].append((e.dataset, e.element))
            decisions: dict[str, list[StewardDecision]] = {i: [] for i in ids}
            for d in conn.execute(
                sa.select(data_request_decision)
                .where(data_request_decision.c.request_id.in_(ids))
                .order_by(data_request_decision.c.decided_at, data_request_decision.c.agency)
            ):
                decisions[d.request_id].append(
                    StewardDecision(d.agency, d.steward, d.decision, d.reason, d.decided_at)
                )
        return [
            DataRequest(
                r.request_id,
                Principal(r.user, r.agency, r.role),
                r.purpose,
                tuple(elements[r.request_id]),
                r.level,
                r.starts_on,
                r.ends_on,
                r.justification,
                r.status,
                r.created_at,
                tuple(decisions[r.request_id]),
                r.granted_at,
                r.revoked_at,
                r.revoked_by,
                r.revoke_reason,
            )
            for r in rows
        ]
