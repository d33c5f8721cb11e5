"""The policy engine: one pure function decides every request for agency data.

Default deny. A request names who asks (user, agency, role), for which purpose, which
data elements of which datasets, and at what level. Each element is granted only if a
clause of the agreement in force on the day covers the recipient, role, purpose, the
element's sensitivity class and the level; every grant, drop and denial cites its clause.

Two rules hold whatever the clauses say, so that no amendment can weaken them:

- the pseudonymised level never carries a direct identifier (an element of class
  ``direct_identifier`` or ``case_identifier``, or one the agreement's
  ``levels.pseudonymised.withheld`` lists, or one of ``ALWAYS_WITHHELD``), and carries
  the dates it lists under ``year_only`` (and ``dob`` in any case) as their year;
- an element of a 42 CFR Part 2 dataset (``part2: true``, or of class
  ``substance_use``) goes out at person level (identified or pseudonymised) only for
  persons whose consent covers the recipient and purpose, unless the recipient is the
  program itself (an own-data clause).

The constants below are a floor that an amendment's lists can add to but not remove.

Use by request: a clause marked ``by_request`` (or any clause, for a purpose the
agreement lists under ``by_request``) permits an element only together with a grant (an
approved data request, ``Grant``) of the principal that covers the purpose, the element,
the level and the day. Grants are passed in as values, so the function stays pure; a
grant only narrows what a clause permits: it never grants what no clause does. One
answer uses one grant: elements of two grants are never combined in one decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from crosswalk.agreement.model import Agreement, Level, Rule

# Roles whose holders the agreement names, party by party (the list of the party that
# names them): a principal in one of them is decided only if named there.
NAMED_ROLES = {
    "steward": "stewards",
    "linkage_steward": "stewards",
    "privacy_officer": "privacy_officers",
}

# Never at the pseudonymised level, whatever an agreement's lists say.
ALWAYS_WITHHELD = frozenset(
    {
        "record_key",
        "source_record_id",
        "first_name",
        "middle_name",
        "last_name",
        "name_suffix",
        "first_name_canonical",
        "first_name_raw",
        "last_name_raw",
        "dob_raw",
        "ssn",
        "ssn_last4",
        "ssn_raw",
        "address_line",
        "address_raw",
        "phone",
        "phone_raw",
        "medicaid_id",
        "case_id",
        "household_id",
        "household",
    }
)
ALWAYS_YEAR_ONLY = frozenset({"dob"})


@dataclass(frozen=True)
class Principal:
    """Who is asking. There is no anonymous principal and no superuser."""

    user: str
    agency: str
    role: str


@dataclass(frozen=True)
class Request:
    principal: Principal
    purpose: str
    elements: tuple[tuple[str, str], ...]  # (dataset id, element)
    level: str  # identified | pseudonymised | aggregate


@dataclass(frozen=True)
class Grant:
    """An approved data request: the principal may use these elements for this purpose,
    at this level or a lower one, from ``starts_on`` to ``ends_on`` (both included)."""

    grant_id: str
    principal: Principal
    purpose: str
    elements: frozenset[tuple[str, str]]
    level: str
    starts_on: date
    ends_on: date

    def serves(self, request: Request, at: date) -> bool:
        """Whether this grant may answer ``request`` on ``at`` (any of its elements)."""
        return (
            self.principal == request.principal
            and self.purpose == request.purpose
            and self.level in Level.__members__
            and request.level in Level.__members__
            and Level[self.level] >= Level[request.level]
            and self.starts_on <= at <= self.ends_on
        )


def _grant_for(request: Request, grants: Iterable[Grant], at: date) -> Grant | None:
    """The one grant that answers ``request``: of those that serve it, the one covering
    most of its elements (the earliest id on a tie)."""
    wanted = set(request.elements)
    serving = sorted((g for g in grants if g.serves(request, at)), key=lambda g: g.grant_id)
    if not serving:
        return None
    return max(serving, key=lambda g: len(wanted & g.elements))


@dataclass(frozen=True)
class Reason:
    clause: str | None  # None where the agreement has no clause for it (default deny)
    text: str


@dataclass(frozen=True)
class Decision:
    """The verdict, the transformations the reader must apply, and why."""

    allowed: bool
    level: str
    granted: tuple[tuple[str, str], ...] = ()
    dropped: tuple[tuple[str, str], ...] = ()
    consent_required: tuple[tuple[str, str], ...] = ()  # granted only for consenting persons
    year_only: tuple[tuple[str, str], ...] = ()  # granted as their year only
    min_cell: int | None = None
    transformations: tuple[str, ...] = ()
    reasons: tuple[Reason, ...] = field(default_factory=tuple)
    agreement_version: int | None = None
    grant: str | None = None  # the grant (an approved data request) the decision used

    def to_dict(self) -> dict[str, Any]:
        """Every field, the reasons as dicts (as ``dataclasses.asdict`` gives them, without
        its deep copy of every element pair: this is in every read's audit entry)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["reasons"] = tuple({"clause": r.clause, "text": r.text} for r in self.reasons)
        return out


def _in_force(rule: Rule, at: date) -> bool:
    return (rule.effective_from is None or rule.effective_from <= at) and (
        rule.effective_to is None or at <= rule.effective_to
    )


def decide(
    agreement: Agreement, request: Request, *, at: date, grants: Iterable[Grant] = ()
) -> Decision:
    """Decide ``request`` under ``agreement`` as in force on ``at``, with the principal's
    ``grants`` (approved data requests) for the clauses used only by request."""
    p = request.principal
    reasons: list[Reason] = []
    if request.level not in Level.__members__:
        return Decision(
            False, request.level, reasons=(Reason(None, f"unknown level {request.level!r}"),)
        )
    want = Level[request.level]

    def refused(why: str) -> Decision:
        return Decision(
            False,
            request.level,
            reasons=(Reason(None, why),),
            agreement_version=agreement.version,
        )

    if at < agreement.effective_from:
        return refused(
            f"agreement version {agreement.version} is not in force before "
            f"{agreement.effective_from}"
        )
    party = agreement.party(p.agency)
    if party is None:
        return refused(f"{p.agency!r} is not a party to the agreement")
    if request.purpose not in agreement.purposes:
        return refused(f"{request.purpose!r} is not a permitted purpose")
    named = NAMED_ROLES.get(p.role)
    if named is not None and p.user not in getattr(party, named):
        # The agreement names each party's stewards and privacy officers: an account an
        # administrator gave such a role is not one of them (else any administrator could
        # make one, and read the review queue's records of every agency, the audit log or
        # the consent registry, who is in treatment).
        return refused(
            f"agreement version {agreement.version} does not name {p.user} among the "
            f"{named.replace('_', ' ')} of {p.agency}"
        )
    granted, dropped, consent, year_only = [], [], [], []
    person_level = want > Level.aggregate
    withheld = ALWAYS_WITHHELD | set(agreement.levels.pseudonymised.withheld)
    years = ALWAYS_YEAR_ONLY | set(agreement.levels.pseudonymised.year_only)
    min_cells: list[int] = []
    grant = _grant_for(request, grants, at)
    used_grant = False
    for dataset_id, element in request.elements:
        dataset = agreement.dataset(dataset_id)
        if dataset is None or element not in dataset.elements:
            dropped.append((dataset_id, element))
            reasons.append(
                Reason(None, f"{dataset_id}.{element} is not a data element of the agreement")
            )
            continue
        owner = agreement.party(dataset.party)
        if owner is not None and owner.withdrawn_on is not None and owner.withdrawn_on <= at:
            dropped.append((dataset_id, element))
            reasons.append(
                Reason(None, f"{owner.code} withdrew from the agreement on {owner.withdrawn_on}")
            )
            continue
        cls = dataset.elements[element]
        if want == Level.pseudonymised and (
            cls in ("direct_identifier", "case_identifier") or element in withheld
        ):
            dropped.append((dataset_id, element))
            reasons.append(
                Reason(
                    None,
                    f"{dataset_id}.{element} is a direct identifier: the pseudonymised level never carries one",
                )
            )
            continue
        covering = [
            r
            for r in agreement.rules
            if _in_force(r, at)
            and ("*" in r.recipients or p.agency in r.recipients)
            and p.role in r.roles
            and request.purpose in r.purposes
            and cls in r.classes
            and Level[r.level] >= want
            and (not r.own_data_only or dataset.party == p.agency)
        ]
        if not covering:
            dropped.append((dataset_id, element))
            reasons.append(
                Reason(
                    None,
                    f"no clause lets {_a(p.role)} of {p.agency} receive {cls} data ({dataset_id}.{element}) at {request.level} level for {request.purpose}",
                )
            )
            continue
        standing = [r for r in covering if not agreement.by_request_only(r, request.purpose)]
        under_grant = ""
        if not standing:
            if grant is None or (dataset_id, element) not in grant.elements:
                dropped.append((dataset_id, element))
                reasons.append(
                    Reason(
                        covering[0].clause,
                        f"{dataset_id}.{element} ({cls}): {covering[0].title}; used only by "
                        f"request, and no grant of {p.user} in force on {at} covers it at "
                        f"{request.level} level for {request.purpose}",
                    )
                )
                continue
            used_grant = True
            under_grant = f"; under grant {grant.grant_id}"
        else:
            covering = standing
        part2 = dataset.part2 or cls == "substance_use"
        free = [
            r
            for r in covering
            if not (person_level and (r.requires_consent or (part2 and not r.own_data_only)))
        ]
        rule = free[0] if free else covering[0]
        granted.append((dataset_id, element))
        if want == Level.pseudonymised and element in years:
            year_only.append((dataset_id, element))
        if not free:
            consent.append((dataset_id, element))
            reasons.append(
                Reason(
                    rule.clause,
                    f"{dataset_id}.{element} ({cls}): {rule.title}{under_grant}; only for persons whose consent covers {p.agency} and {request.purpose}",
                )
            )
        else:
            reasons.append(
                Reason(rule.clause, f"{dataset_id}.{element} ({cls}): {rule.title}{under_grant}")
            )
        if want == Level.aggregate:
            min_cells.append(rule.min_cell or agreement.min_cell)
    allowed = bool(granted)
    transformations: list[str] = [f"drop {d}.{e}" for d, e in dropped] if allowed else []
    if want == Level.pseudonymised:
        transformations.append(
            "replace enterprise ids with a keyed pseudonym for this purpose; drop direct identifiers"
        )
        transformations += [f"show {d}.{e} as its year only" for d, e in year_only]
    if want == Level.aggregate and allowed:
        transformations.append(f"aggregate with suppression of counts below {max(min_cells)}")
    if consent:
        transformations.append("withhold consent-only elements of persons without a valid consent")
    if not allowed and not reasons:
        reasons.append(Reason(None, "nothing was requested"))
    return Decision(
        allowed=allowed,
        level=request.level,
        granted=tuple(granted),
        dropped=tuple(dropped),
        consent_required=tuple(consent),
        year_only=tuple(year_only),
        min_cell=max(min_cells) if min_cells and allowed else None,
        transformations=tuple(transformations),
        reasons=tuple(_dedupe(reasons)),
        agreement_version=agreement.version,
        grant=grant.grant_id if used_grant and allowed and grant is not None else None,
    )


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _dedupe(reasons: list[Reason]) -> list[Reason]:
    seen: set[Reason] = set()
    out = []
    for r in reasons:
        if r not in seen:
            seen.add(r)
            out.append(r)
    return out
