"""Data requests, approvals and grants: the gate's acts for use by request.

| act | who may | audit event |
| --- | --- | --- |
| ``request_data`` | a principal whom a clause in force would permit the elements, level and purpose | ``request.created`` |
| ``approve_request`` / ``deny_request`` | a steward of an agency whose data the request involves, for that agency only, never the requester | ``request.decision`` (and ``grant.change`` when the last agency approves) |
| ``revoke_grant`` | a steward or privacy officer of an involved agency, or a privacy officer of the hub operator | ``grant.change`` |

A request the agreement does not know (a purpose, an element, a level), or one no
clause would permit its requester, is refused at once; approving one that the agreement
in force no longer permits is refused too. A grant is used by the policy decision
(``crosswalk.agreement.decide``) from the very next request, and stops with the very
next request after it is revoked or its period ends. A request is seen only by its
requester, the stewards and privacy officers of the agencies it involves and the hub
operator's privacy officers; to anyone else it does not exist (``NotFound``, the same as
a missing one).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from crosswalk.access.admin import Administration
from crosswalk.agreement import Agreement, Decision, Grant, Level, Principal, Request, decide
from crosswalk.agreement.requests import GRANTED, PENDING, DataRequest, new_request_id
from crosswalk.audit import DataRequested, GrantChanged, RequestDecided
from crosswalk.errors import AccessDenied, ConfigError, NotFound, Problem, RequestConflict

MAX_GRANT_DAYS = 731  # a grant lasts at most two years; a longer project asks again
MAX_JUSTIFICATION = 4000


def _named(elements: Iterable[tuple[str, str]]) -> list[str]:
    return [f"{d}.{e}" for d, e in elements]


def _not_found(request_id: str) -> NotFound:
    return NotFound(f"no data request {request_id!r}")


def permits(agreement: Agreement, request: DataRequest | Grant, today: date) -> Decision:
    """What the agreement in force would grant the requester under this request, were it
    a grant in force today: the clauses alone decide (a grant cannot widen them)."""
    grant = request if isinstance(request, Grant) else request.grant()
    asked = Request(grant.principal, grant.purpose, tuple(sorted(grant.elements)), grant.level)
    prospective = Grant(
        grant.grant_id,
        grant.principal,
        grant.purpose,
        grant.elements,
        grant.level,
        today,
        today,
    )
    return decide(agreement, asked, at=today, grants=[prospective])


class DataRequests(Administration):
    def request_data(
        self,
        principal: Principal,
        purpose: str,
        elements: Iterable[tuple[str, str]],
        level: str,
        starts_on: date,
        ends_on: date,
        justification: str,
    ) -> DataRequest:
        """Ask for ``elements`` (dataset, element) at ``level`` for ``purpose`` from
        ``starts_on`` to ``ends_on``; the stewards of every agency whose data it names
        then approve or deny it."""
        agreement, today = self._in_force()
        wanted = tuple(sorted(set(elements)))
        problems = []
        if purpose not in agreement.purposes:
            problems.append(
                Problem(f"{purpose!r} is not a purpose of the agreement", field="purpose")
            )
        if level not in Level.__members__:
            problems.append(
                Problem(
                    f"the level is one of {', '.join(Level.__members__)}, not {level!r}",
                    field="level",
                )
            )
        if not wanted:
            problems.append(Problem("a request names at least one data element", field="elements"))
        for dataset_id, element in wanted:
            dataset = agreement.dataset(dataset_id)
            if dataset is None:
                problems.append(
                    Problem(
                        f"{dataset_id!r} is not a dataset of the agreement",
                        field="elements",
                        value=f"{dataset_id}.{element}",
                    )
                )
            elif element not in dataset.elements:
                problems.append(
                    Problem(
                        f"{dataset_id} has no data element {element!r}",
                        field="elements",
                        value=f"{dataset_id}.{element}",
                    )
                )
        if ends_on < starts_on:
            problems.append(Problem("the period ends before it starts", field="ends_on"))
        if starts_on < today:
            problems.append(
                Problem(f"the period starts today ({today}) or later", field="starts_on")
            )
        if (ends_on - starts_on).days + 1 > MAX_GRANT_DAYS:
            problems.append(
                Problem(f"a grant lasts at most {MAX_GRANT_DAYS} days", field="ends_on")
            )
        if not justification.strip():
            problems.append(Problem("say why the data are needed", field="justification"))
        elif len(justification) > MAX_JUSTIFICATION:
            problems.append(
                Problem(
                    f"a justification is at most {MAX_JUSTIFICATION} characters",
                    field="justification",
                )
            )
        if problems:
            raise ConfigError("the data request cannot be made", problems)
        request_id = new_request_id()
        agencies = sorted({d.split(".")[0] for d, _ in wanted})
        objects: dict[str, Any] = {
            "request": request_id,
            "level": level,
            "starts_on": str(starts_on),
            "ends_on": str(ends_on),
            "elements": _named(wanted),
            "agencies": agencies,
        }
        asked = Grant(request_id, principal, purpose, frozenset(wanted), level, starts_on, ends_on)
        decision = permits(agreement, asked, today)
        if decision.dropped:
            self._audit.record(
                DataRequested(
                    principal.user,
                    principal.agency,
                    principal.role,
                    purpose,
                    objects,
                    decision.to_dict(),
                    outcome="denied",
                )
            )
            raise AccessDenied(
                f"no clause of agreement version {agreement.version} permits "
                f"{principal.user} ({principal.role}, {principal.agency}) "
                f"{', '.join(_named(decision.dropped))} at {level} level for {purpose}, "
                "with or without a grant",
                decision,
            )

        def add() -> DataRequest:
            return self._hub.requests.add(
                request_id,
                principal,
                purpose,
                wanted,
                level,
                starts_on,
                ends_on,
                justification.strip(),
            )

        return self._act(principal, DataRequested, {**objects, "purpose": purpose}, add)

    def approve_request(self, user: str, request_id: str, reason: str = "") -> DataRequest:
        """Approve a request for the agencies ``user`` stewards; once every involved
        agency has approved, it is a grant for its period."""
        return self._answer(user, request_id, "approved", reason)

    def deny_request(self, user: str, request_id: str, reason: str) -> DataRequest:
        """Deny a request for the agencies ``user`` stewards (it is then denied whole)."""
        if not reason.strip():
            raise ConfigError("a denial says why: give a reason")
        return self._answer(user, request_id, "denied", reason)

    def _answer(self, user: str, request_id: str, decision: str, reason: str) -> DataRequest:
        agreement, today = self._in_force()
        objects: dict[str, Any] = {"request": request_id, "decision": decision}
        if reason.strip():
            objects["reason"] = reason.strip()[:MAX_JUSTIFICATION]
        try:
            found = self._visible(agreement, user, request_id)
        except NotFound:
            self._audit.record(RequestDecided(user, objects=objects, outcome="denied"))
            raise
        mine = [
            code
            for code in found.agencies
            if (party := agreement.party(code)) is not None and user in party.stewards
        ]
        refusal = None
        if user == found.requester.user:
            refusal = f"{user} may not answer their own data request"
        elif not mine:
            refusal = (
                f"{user} may not answer data request {request_id}: agreement version "
                f"{agreement.version} does not name them a steward of "
                f"{' or '.join(found.agencies)}"
            )
        if refusal is not None:
            self._audit.record(
                RequestDecided(user, None, None, found.purpose, objects, outcome="denied")
            )
            raise AccessDenied(refusal)
        who = Principal(user, mine[0], "steward")
        objects["agencies"] = mine
        if found.status != PENDING:
            raise RequestConflict(f"data request {request_id} is {found.status}, not pending")
        answered = [a for a in mine if a not in found.waiting_for]
        if answered:
            raise RequestConflict(
                f"data request {request_id} is already answered for {', '.join(answered)}"
            )
        last = decision == "approved" and set(found.waiting_for) <= set(mine)
        if decision == "approved":
            verdict = permits(agreement, found, today)
            if verdict.dropped:
                self._audit.record(
                    RequestDecided(
                        user,
                        who.agency,
                        who.role,
                        found.purpose,
                        objects,
                        verdict.to_dict(),
                        outcome="denied",
                    )
                )
                raise RequestConflict(
                    f"agreement version {agreement.version} no longer permits data request "
                    f"{request_id} ({', '.join(_named(verdict.dropped))}): deny it, and ask "
                    "for a new one"
                )
        granted = {"request": request_id, "change": "granted", "level": found.level}
        granted |= {"starts_on": str(found.starts_on), "ends_on": str(found.ends_on)}

        def answer() -> DataRequest:
            if last:  # the grant's own entry, before the grant exists
                self._audit.record(GrantChanged(who.user, who.agency, who.role, objects=granted))
            done = self._hub.requests.decide(request_id, mine, user, decision, reason.strip())
            if done.status == GRANTED and not last:  # another steward answered meanwhile
                self._audit.record(GrantChanged(who.user, who.agency, who.role, objects=granted))
            return done

        self._audit.record(RequestDecided(who.user, who.agency, who.role, found.purpose, objects))
        try:
            return answer()
        except Exception:
            self._audit.record_failed(
                RequestDecided(
                    who.user, who.agency, who.role, found.purpose, objects, outcome="failed"
                )
            )
            raise

    def revoke_grant(self, user: str, request_id: str, reason: str) -> DataRequest:
        """Revoke a grant: from the very next request, it counts for nothing."""
        agreement, today = self._in_force()
        objects: dict[str, Any] = {"request": request_id, "change": "revoked"}
        objects["reason"] = reason.strip()[:MAX_JUSTIFICATION]
        try:
            found = self._visible(agreement, user, request_id)
        except NotFound:
            self._audit.record(GrantChanged(user, objects=objects, outcome="denied"))
            raise
        who = self._revoker(agreement, user, found)
        if who is None:
            self._audit.record(GrantChanged(user, objects=objects, outcome="denied"))
            raise AccessDenied(
                f"{user} may not revoke grant {request_id}: a steward or privacy officer of "
                f"{' or '.join(found.agencies)}, or a privacy officer of "
                f"{agreement.operator}, revokes it"
            )
        if not reason.strip():
            raise ConfigError("a revocation says why: give a reason")
        if found.status != GRANTED or found.ends_on < today:
            raise RequestConflict(
                f"data request {request_id} is {found.state(today)}, not a grant in force"
            )
        return self._act(
            who,
            GrantChanged,
            objects,
            lambda: self._hub.requests.revoke(request_id, user, reason.strip()),
        )

    def list_requests(self, user: str, status: str | None = None) -> list[DataRequest]:
        """The data requests ``user`` may see (their own, those involving an agency they
        steward or oversee, every one for the hub operator's privacy officers), oldest
        first; ``status`` keeps those in that state today (pending, granted, expired ...)."""
        agreement, today = self._in_force()
        return [
            r
            for r in self._hub.requests.all()
            if self._sees(agreement, user, r) and (status is None or r.state(today) == status)
        ]

    def show_request(self, user: str, request_id: str) -> DataRequest:
        """One data request, with every agency's answer and any revocation."""
        agreement, _ = self._in_force()
        return self._visible(agreement, user, request_id)

    def _visible(self, agreement: Agreement, user: str, request_id: str) -> DataRequest:
        try:
            found = self._hub.requests.get(request_id)
        except NotFound:
            raise _not_found(request_id) from None
        if not self._sees(agreement, user, found):
            raise _not_found(request_id)
        return found

    @staticmethod
    def _sees(agreement: Agreement, user: str, request: DataRequest) -> bool:
        if user == request.requester.user:
            return True
        operator = agreement.party(agreement.operator)
        if operator is not None and user in operator.privacy_officers:
            return True
        for code in request.agencies:
            party = agreement.party(code)
            if party is not None and (user in party.stewards or user in party.privacy_officers):
                return True
        return False

    @staticmethod
    def _revoker(agreement: Agreement, user: str, request: DataRequest) -> Principal | None:
        for code in request.agencies:
            party = agreement.party(code)
            if party is not None and user in party.stewards:
                return Principal(user, code, "steward")
            if party is not None and user in party.privacy_officers:
                return Principal(user, code, "privacy_officer")
        operator = agreement.party(agreement.operator)
        if operator is not None and user in operator.privacy_officers:
            return Principal(user, operator.code, "privacy_officer")
        return None


def default_period(today: date, days: int = 365) -> tuple[date, date]:
    """A year from today: the period a request asks for unless it says otherwise."""
    return today, today + timedelta(days=days - 1)
