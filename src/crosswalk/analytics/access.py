"""Asking a question under the agreement: decide, audit first, run, protect.

``ask`` answers an aggregate question: the policy engine decides the request at the
aggregate level for the question's data elements, the audit entry is written before any
data is read (no entry, no answer), and the counts pass through disclosure control at the
agreement's minimum cell size. ``ask_rows`` answers a row-level question only where the
agreement allows identified or pseudonymised access for the purpose, replacing enterprise
ids with the gate's per-purpose pseudonyms at the pseudonymised level.

A question that reads any element the purpose may not use is refused whole rather than
answered over less data than it says.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from crosswalk import settings, stores
from crosswalk.access import Gate
from crosswalk.agreement import Agreement, Decision, Principal, Request, agreement_in_force, decide
from crosswalk.analytics.heavy import HeavyUsers
from crosswalk.analytics.question import Question
from crosswalk.analytics.run import Answer, compute
from crosswalk.audit import AccessDenied as DeniedEvent
from crosswalk.audit import AuditLog, DataRead, load_key
from crosswalk.errors import AccessDenied, ConfigError

ROW_LEVELS = ("identified", "pseudonymised")


class _Context:
    """The agreement, audit log and keys one request is decided and recorded with."""

    def __init__(
        self,
        control: str | sa.Engine | None,
        agreement: Agreement | None,
        today: date | None,
        secrets: str | Path | None,
    ) -> None:
        self.audit = AuditLog(control)
        self.today = today or date.today()
        self.agreement = agreement or agreement_in_force(self.today, self.audit.engine)
        self.secrets = Path(settings.SECRETS.value(None if secrets is None else str(secrets)))

    def decide(
        self, principal: Principal, purpose: str, elements: tuple[tuple[str, str], ...], level: str
    ) -> Decision:
        return decide(self.agreement, Request(principal, purpose, elements, level), at=self.today)

    def refuse_unless_whole(
        self, principal: Principal, purpose: str, decision: Decision, objects: dict, why: str
    ) -> None:
        """Record and raise a denial unless every element was granted outright."""
        problems = []
        if not decision.allowed:
            problems.append(why)
        elif decision.dropped:
            datasets = sorted({d for d, _ in decision.dropped})
            problems.append(
                f"the question reads data this purpose may not use ({', '.join(datasets)}); "
                "leave those programs out"
            )
        elif decision.consent_required:
            problems.append(
                "row-level answers cannot include data that needs each person's consent"
            )
        if problems:
            self.audit.record(
                DeniedEvent(
                    principal.user,
                    principal.agency,
                    principal.role,
                    purpose,
                    objects,
                    decision.to_dict(),
                    0,
                    "denied",
                )
            )
            raise AccessDenied("; ".join(problems), decision)

    def read(
        self, principal: Principal, purpose: str, objects: dict, decision: Decision, rows: int
    ) -> None:
        self.audit.record(
            DataRead(
                principal.user,
                principal.agency,
                principal.role,
                purpose,
                objects,
                decision.to_dict(),
                rows,
            )
        )


def _objects(question: Question | HeavyUsers, sql: str) -> dict:
    return {
        "question": question.name,
        "datasets": list(question.datasets),
        "sql_sha256": hashlib.sha256(sql.encode()).hexdigest(),
    }


def ask(
    question: Question,
    principal: Principal,
    purpose: str,
    *,
    hub: str | Path | None = None,
    control: str | sa.Engine | None = None,
    agreement: Agreement | None = None,
    today: date | None = None,
    secrets: str | Path | None = None,
) -> Answer:
    """Answer an aggregate question for ``principal`` and ``purpose``, or refuse it."""
    ctx = _Context(control, agreement, today, secrets)
    sql = question.render()
    objects = _objects(question, sql)
    decision = ctx.decide(principal, purpose, question.elements, "aggregate")
    ctx.refuse_unless_whole(
        principal,
        purpose,
        decision,
        objects,
        f"{principal.user} ({principal.role}, {principal.agency}) may not receive aggregates for {purpose}",
    )
    assert decision.min_cell is not None
    ctx.read(principal, purpose, objects, decision, 0)
    secret = load_key(ctx.secrets / "cell-key.key")
    con = stores.connect_hub(hub, read_only=True)
    try:
        return compute(con, question, k=decision.min_cell, secret=secret)
    finally:
        con.close()


def ask_rows(
    question: HeavyUsers,
    principal: Principal,
    purpose: str,
    level: str = "pseudonymised",
    *,
    hub: str | Path | None = None,
    control: str | sa.Engine | None = None,
    agreement: Agreement | None = None,
    today: date | None = None,
    secrets: str | Path | None = None,
) -> pa.Table:
    """Answer a row-level question where the agreement allows ``level`` for ``purpose``."""
    if level not in ROW_LEVELS:
        raise ConfigError(f"row-level answers are {' or '.join(ROW_LEVELS)}, not {level!r}")
    ctx = _Context(control, agreement, today, secrets)
    sql = question.render()
    objects = _objects(question, sql)
    decision = ctx.decide(principal, purpose, question.elements, level)
    ctx.refuse_unless_whole(
        principal,
        purpose,
        decision,
        objects,
        f"{principal.user} ({principal.role}, {principal.agency}) may not read {level} person-level data for {purpose}",
    )
    ctx.read(principal, purpose, objects, decision, question.limit)
    con = stores.connect_hub(hub, read_only=True)
    try:
        relation = con.sql(sql)
        assert relation is not None
        table = relation.to_arrow_table()
    finally:
        con.close()
    if level == "pseudonymised":
        gate = Gate(hub, ctx.audit.engine, ctx.agreement, ctx.today, ctx.secrets)
        ids = table.column("enterprise_id").to_pylist()
        table = table.drop(["enterprise_id"]).add_column(
            0, "pseudonym", pa.array([gate.pseudonym(i, purpose) for i in ids], pa.string())
        )
    return table
