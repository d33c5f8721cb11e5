"""The gate: the one way to read agency data.

Every read is decided by the policy engine, written to the audit log and transformed as
the decision requires before anything reaches the reader. The gate holds the hub
connection; callers never get it. If the audit entry cannot be written, nothing is
returned (fail closed).

Three kinds of read:

- ``person``: one person's records and services (a whole-person view);
- ``aggregate``: an analytic question's counts, under disclosure control at the
  agreement's minimum cell size;
- ``rows``: a row-level question (one row per person), at the identified or
  pseudonymised level only.

Questions are intent objects (see ``crosswalk.analytics``): they declare the data
elements they read and render their SQL against the views the gate grants.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, ClassVar, Protocol

import pyarrow as pa

from crosswalk.access.confine import check_question_sql, relations
from crosswalk.access.history import IdHistory
from crosswalk.access.oversight import Oversight
from crosswalk.access.requests import DataRequests
from crosswalk.access.scope import CELL_KEY_SECRET, Scope, granted_scope, run_counts
from crosswalk.agreement import (
    Agreement,
    Decision,
    Principal,
    Request,
)
from crosswalk.audit import AccessDenied as DeniedEvent
from crosswalk.audit import DataRead, load_key
from crosswalk.audit.keys import CELL_KEY_FILE
from crosswalk.disclosure import Protected, StoredHistory, TableSpec, protect
from crosswalk.engines import reader
from crosswalk.errors import AccessDenied, ConfigError, NotFound
from crosswalk.identity import households
from crosswalk.identity.history import successors
from crosswalk.identity.index import (
    EVENT_ELEMENTS,
    RECORD_ELEMENTS,
    PersonView,
    has_history,
    person_records,
)

REDISCLOSURE_NOTICE = (
    "42 CFR part 2 prohibits unauthorized use or disclosure of these records. "
    "This information has been disclosed to you from records protected by federal "
    "confidentiality rules (42 CFR part 2)."
)


# Shown with every person view, whether or not anything was withheld: which records were
# withheld, and why, would itself disclose (42 CFR 2.13(c): that a person is a patient).
WITHHOLDING_NOTICE = "Records may be withheld under federal or state law."


def is_pseudonym(value: str) -> bool:
    """Whether ``value`` has a pseudonym's form (``X`` and 16 hexadecimal digits)."""
    return len(value) == 17 and value[0] == "X" and all(c in "0123456789abcdef" for c in value[1:])


def unseen_person(enterprise_id: str) -> str:
    """The one answer for a person who does not exist and for one the reader may not see."""
    return f"no person {enterprise_id!r} in the records you may see"


def person_elements(agreement: Agreement) -> tuple[tuple[str, str], ...]:
    """Every (dataset, element) a person view can show, for every agency of the agreement
    (worked out once per agreement version parsed: it is asked on every person read)."""
    kept = _PERSON_ELEMENTS.get(id(agreement))
    if kept is not None and kept[0] is agreement:
        return kept[1]
    out: list[tuple[str, str]] = []
    for d in agreement.datasets:
        kind = d.id.rsplit(".", 1)[-1]
        names = RECORD_ELEMENTS if kind == "clients" else EVENT_ELEMENTS if kind == "events" else ()
        out += [(d.id, e) for e in names if e in d.elements]
    elements = tuple(out)
    if len(_PERSON_ELEMENTS) >= 64:
        _PERSON_ELEMENTS.clear()
    # The agreement is kept with its elements, so its id stays its own while kept.
    _PERSON_ELEMENTS[id(agreement)] = (agreement, elements)
    return elements


_PERSON_ELEMENTS: dict[int, tuple[Agreement, tuple[tuple[str, str], ...]]] = {}

_Pairs = frozenset[tuple[str, str]]
_GrantSets = tuple[_Pairs, _Pairs, frozenset[str], frozenset[str]]
_GRANT_SETS: dict[tuple[int, int], tuple[Agreement, Decision, _GrantSets]] = {}


def _grant_sets(agreement: Agreement, decision: Decision) -> _GrantSets:
    """What a person view needs of a decision, worked out once per decision (a frozen
    object, the same for every request decided alike): the granted and year-only
    elements, the datasets granted only with consent, and the datasets with some granted
    element that is more than a quasi-identifier."""
    key = (id(agreement), id(decision))
    kept = _GRANT_SETS.get(key)
    if kept is not None and kept[0] is agreement and kept[1] is decision:
        return kept[2]
    sets = (
        frozenset(decision.granted),
        frozenset(decision.year_only),
        frozenset(d for d, _ in decision.consent_required),
        frozenset(
            d
            for d, e in decision.granted
            if (spec := agreement.dataset(d)) is not None and spec.elements[e] != "quasi_identifier"
        ),
    )
    if len(_GRANT_SETS) >= 1024:
        _GRANT_SETS.clear()
    # Both kept with their sets, so their ids stay their own while kept.
    _GRANT_SETS[key] = (agreement, decision, sets)
    return sets


@dataclass(frozen=True)
class PersonAnswer:
    """A person's records and service events as this principal may see them."""

    person: str  # the enterprise id, or a per-purpose pseudonym
    records: list[dict[str, Any]]
    events: list[dict[str, Any]]
    decision: Decision
    notices: list[str] = field(default_factory=list)
    followed_from: str | None = None  # the retired id asked for, when it was followed

    @property
    def record_columns(self) -> list[str]:
        """The records' columns in one stable order (agency first)."""
        return _columns(self.records, RECORD_ELEMENTS)

    @property
    def event_columns(self) -> list[str]:
        """The events' columns in one stable order (agency first)."""
        return _columns(self.events, EVENT_ELEMENTS)


@dataclass(frozen=True)
class FamilyMember:
    """One member of a household on a day, with what this principal may see of them."""

    person: str  # the enterprise id
    valid_from: date | None  # the membership's first day (None: since before any record)
    valid_to: date | None  # its last day (None: still a member)
    records: list[dict[str, Any]]
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class FamilyAnswer:
    """A person's enterprise household on a day: its members' services across agencies."""

    household: str
    on: date
    members: list[FamilyMember]
    decision: Decision
    notices: list[str] = field(default_factory=list)


def _columns(rows: list[dict[str, Any]], order: tuple[str, ...]) -> list[str]:
    present = {k for r in rows for k in r}
    names = [n for e in order for n in (e, f"{e}_year") if n in present]
    return ["agency", *names] if rows else []


class AskedQuestion(Protocol):
    """A question: the data elements it reads and its SQL over the granted views."""

    name: str

    @property
    def elements(self) -> tuple[tuple[str, str], ...]: ...

    def render(self, scope: Scope | None = None, dialect: str = "duckdb") -> str: ...


class RowQuestion(AskedQuestion, Protocol):
    """A question answered one row per person, with an ``enterprise_id`` column.

    It says so with ``row_level = True`` (a class attribute): ``Gate.rows`` answers
    nothing else, so an aggregate question never leaves as its raw count table.
    """

    row_level: ClassVar[bool]


class AggregateQuestion(AskedQuestion, Protocol):
    """A question answered as a count table, described by its ``spec``."""

    @property
    def spec(self) -> TableSpec: ...

    def answer(self, protected: Protected) -> pa.Table: ...


@dataclass(frozen=True)
class Aggregate:
    """A released aggregate answer and the protected count table behind it."""

    table: pa.Table
    protected: Protected
    decision: Decision


ROW_LEVELS = ("identified", "pseudonymised")
# Where a row question's SQL would read the cell-key secret: no value, on every engine.
NO_SECRET = "CAST(NULL AS VARCHAR)"


class Gate(Oversight, DataRequests, IdHistory):
    """Reads agency data for a principal and purpose, under the agreement.

    ``Gate(hub, control, secrets)``: the agreement in force and the day come from the
    control plane and the clock (see ``GateCore``), never from the caller.
    """

    def _question_sql(
        self,
        con: Any,
        principal: Principal,
        purpose: str,
        question: AskedQuestion,
        decision: Decision,
        *,
        cell_keys: bool,
    ) -> str:
        """The question's SQL over views of what ``decision`` granted, checked to read
        nothing else (a refusal is audited); the connection's configuration is locked
        before it runs.

        Only an aggregate reads the cell-key secret (``cell_keys``): a row question is
        rendered with NULL where the secret would be and may name no parameter, so a row
        read neither binds the secret nor can reach it."""
        scope = granted_scope(con, decision.granted, year_only=decision.year_only)
        if not cell_keys:
            scope = replace(scope, secret=NO_SECRET)
        dialect = reader(con).dialect
        sql = question.render(scope, dialect)
        try:
            check_question_sql(
                sql,
                scope.relations.values(),
                relations(con),
                variables=[CELL_KEY_SECRET] if cell_keys else [],
                dialect=dialect,
            )
        except AccessDenied as refused:
            objects = _objects(question, sql)
            self._record(DeniedEvent, principal, purpose, objects, decision, 0, "denied")
            raise AccessDenied(refused.message, decision) from None
        return sql

    def person(
        self, principal: Principal, purpose: str, enterprise_id: str, level: str = "identified"
    ) -> PersonAnswer:
        """One person's records and events across agencies (a whole-person view).

        The decision covers every agency's records, whichever the person has, so it says
        nothing about this person. A person who does not exist and a person of whom
        this reader may see nothing get the same answer (``NotFound``, the same text);
        both are audited. At the pseudonymised level the person is asked for by the
        pseudonym an answer gave (an enterprise id only by a reader who may also read
        the person identified).
        """
        agreement, today = self._in_force()
        elements = person_elements(agreement)
        decision = self._decide(agreement, Request(principal, purpose, elements, level), today)
        asked = enterprise_id
        objects: dict[str, Any] = {"enterprise_ids": [asked]}
        if not decision.allowed or level == "aggregate":
            self._record(DeniedEvent, principal, purpose, objects, decision, 0, "denied")
            raise AccessDenied(
                f"{principal.user} ({principal.role}, {principal.agency}) may not read person-level data for {purpose}",
                decision,
            )
        by_pseudonym = level != "identified" and is_pseudonym(asked)
        if level != "identified" and not by_pseudonym:
            # A pseudonymised reader holds pseudonyms: answering one by enterprise id
            # would tell which id each pseudonym of their extract is, and two projects
            # could join their extracts on the ids (every id can be tried in turn).
            identified = self._decide(
                agreement, Request(principal, purpose, elements, "identified"), today
            )
            if not identified.allowed:
                self._record(DeniedEvent, principal, purpose, objects, decision, 0, "denied")
                raise AccessDenied(
                    "at the pseudonymised level a person is asked for by the pseudonym an "
                    "answer gave, not by enterprise id",
                    decision,
                )
        views: list[PersonView] = []
        version = self._hub.version()  # taken before the read sees the hub
        with self._read() as con:
            subject: str | None = asked
            if by_pseudonym:
                subject = self._pseudonymised_id(con, asked, purpose, decision.grant)
                objects = {"pseudonym": asked, "enterprise_ids": [subject] if subject else []}
            if subject is not None:
                try:
                    views = [self._person_view(con, subject, version)]
                except NotFound:
                    # A retired id is followed to the persons its records are in now.
                    later = successors(con, subject) if has_history(con) else []
                    for i in later:
                        with contextlib.suppress(NotFound):  # a person with no records left
                            views.append(self._person_view(con, i, version))
        # Only to persons this reader may see: which persons a retired id went into,
        # and that it existed, are not told of anyone else (42 CFR 2.13(c)).
        shown = [
            (view, self._shown_of_person(agreement, decision, principal, purpose, view, today))
            for view in views
        ]
        seen = [(view, rows) for view, rows in shown if rows[0]]
        if subject is not None and {v.enterprise_id for v in views} - {subject}:
            objects["enterprise_ids"] = [subject, *(v.enterprise_id for v in views)]

        def shown_id(i: str) -> str:
            return i if level == "identified" else self.pseudonym(i, purpose, decision.grant)

        if len(seen) > 1:
            objects["enterprise_ids"] = [subject, *(view.enterprise_id for view, _ in seen)]
            self._record(DeniedEvent, principal, purpose, objects, decision, 0, "denied")
            raise NotFound(
                f"person {asked!r} was retired: its records are now in "
                f"{', '.join(shown_id(view.enterprise_id) for view, _ in seen)}; "
                "ask for one of them"
            )
        if not seen:
            objects["found"] = any(view.records for view in views)
            self._record(DeniedEvent, principal, purpose, objects, decision, 0, "denied")
            raise NotFound(unseen_person(asked))
        view, (records, events) = seen[0]
        enterprise_id = view.enterprise_id
        assert subject is not None
        objects["enterprise_ids"] = (
            [subject] if enterprise_id == subject else [subject, enterprise_id]
        )
        objects["datasets"] = sorted(
            {f"{r['agency']}.clients" for r in records} | {f"{e['agency']}.events" for e in events}
        )
        notices = [WITHHOLDING_NOTICE]
        part2 = {d.id.split(".")[0] for d in agreement.datasets if d.part2}
        if {r["agency"] for r in records + events} & part2:
            notices.append(REDISCLOSURE_NOTICE)
        self._record(DataRead, principal, purpose, objects, decision, len(records) + len(events))
        shown_person = shown_id(enterprise_id)
        followed = None
        if subject != enterprise_id:
            followed = shown_id(subject)
            notices.insert(0, f"{followed} was retired (merged): shown is {shown_person}")
        return PersonAnswer(shown_person, records, events, decision, notices, followed)

    def _shown_of_person(
        self,
        agreement: Agreement,
        decision: Decision,
        principal: Principal,
        purpose: str,
        view: PersonView,
        today: date,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """A person's records and services as ``decision`` lets this principal see them."""
        granted, year_only, consent_datasets, of_substance = _grant_sets(agreement, decision)
        # Datasets granted only for persons whose consent covers this disclosure: withheld
        # whole for a person without one (even a county would show that the record exists).
        consented = self._consents.consented_by(
            view.enterprise_id,
            {d.split(".")[0] for d in consent_datasets},
            principal.agency,
            purpose,
            today,
        )
        needs_consent = {d for d in consent_datasets if d.split(".")[0] not in consented}
        # An agency's rows go out only where some of its substantive data may: rows showing
        # nothing but a county or a birth date would still reveal that the person is its
        # client. A service goes out only with something substantive of it (no blank rows).
        substantive = of_substance - needs_consent
        of_agency = {d.split(".")[0] for d in substantive}

        def shown(dataset: str, row: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
            agency, kind = dataset.split(".")
            if agency not in of_agency or dataset in needs_consent:
                return {}
            if kind == "events" and dataset not in substantive:
                return {}
            out = {}
            for e in names:
                if (dataset, e) not in granted:
                    continue
                value = row[e]
                if (dataset, e) in year_only:
                    out[f"{e}_year"] = None if value is None else value.year
                else:
                    out[e] = value
            return out

        records = []
        for r in view.records:
            ds = f"{r['agency']}.clients"
            if fields := shown(ds, r, RECORD_ELEMENTS):
                records.append({"agency": r["agency"], **fields})
        events = []
        for ev in view.events:
            ds = f"{ev['agency']}.events"
            if fields := shown(ds, ev, EVENT_ELEMENTS):
                events.append({"agency": ev["agency"], **fields})
        return records, events

    def _sees_death(
        self,
        agreement: Agreement,
        decision: Decision,
        principal: Principal,
        purpose: str,
        view: PersonView,
        died: date,
        today: date,
    ) -> bool:
        """Whether this principal is shown the death record that dates ``died``, to the day."""
        records = view.records
        death = [e for e in view.events if e.get("program") == households.DEATH]
        _, shown = self._shown_of_person(
            agreement,
            decision,
            principal,
            purpose,
            PersonView(view.enterprise_id, records, events=death),
            today,
        )
        return any(e.get("start_date") == died for e in shown)

    def family(
        self, principal: Principal, purpose: str, enterprise_id: str, on: date | None = None
    ) -> FamilyAnswer:
        """The enterprise household ``enterprise_id`` belonged to on ``on`` (today by
        default): each member and their records and services, identified, as this
        principal may see them.

        A membership counts only where the agency whose data placed the person in the
        household grants its ``household`` element (and, for Part 2 data, the member's
        consent covers the disclosure): a reader never learns a family member from an
        agency whose data it may not see. A person in no household this reader may see,
        and one who does not exist, get the same answer; both are audited.
        """
        agreement, today = self._in_force()
        on = on or today
        placing = tuple(
            (d.id, "household") for d in agreement.datasets if "household" in d.elements
        )
        elements = person_elements(agreement) + placing
        decision = self._decide(
            agreement, Request(principal, purpose, elements, "identified"), today
        )
        objects: dict[str, Any] = {
            "enterprise_ids": [enterprise_id],
            "household_on": on.isoformat(),
        }
        granted = set(decision.granted)
        if not decision.allowed or not granted & set(placing):
            self._record(DeniedEvent, principal, purpose, objects, decision, 0, "denied")
            raise AccessDenied(
                f"{principal.user} ({principal.role}, {principal.agency}) may not read households for {purpose}",
                decision,
            )
        consent_only = {d for d, e in decision.consent_required if e == "household"}

        def granted_of(person: str, agency: str) -> bool:
            dataset = f"{agency}.clients"
            if (dataset, "household") not in granted:
                return False
            # Part 2 data places a person only with the member's consent.
            return dataset not in consent_only or bool(
                self._consents.consenting([person], agency, principal.agency, purpose, today)
            )

        shown_decision = replace(
            decision, granted=tuple(g for g in decision.granted if g[1] != "household")
        )
        with self._read() as con:
            every = households.family_rows(con, enterprise_id)
            views = {
                str(r["enterprise_id"]): PersonView(str(r["enterprise_id"]), []) for r in every
            }
            for member in views:
                with contextlib.suppress(NotFound):  # a member with no records left
                    views[member] = person_records(con, member)
            # A placement the reader may not see never happened for them: the child is
            # at home all along, not away from home for dates that would tell of it. A
            # death they may not see neither: the last day of a stay would date it.
            unseen_deaths = {
                member: died
                for member, view in views.items()
                if (died := households.deaths(view.events)) is not None
                and not self._sees_death(
                    agreement, shown_decision, principal, purpose, view, died, today
                )
            }
            rows = households.as_seen(
                every,
                lambda r: granted_of(r["enterprise_id"], r["agency"]),
                on,
                unseen_deaths,
            )
            evidence = households.evidence(con, sorted({str(r["enterprise_id"]) for r in rows}), on)

        # A member counts only where the reader's agencies' data place them, and group
        # them with the person asked about: two families that only another agency's data
        # joins (a substance-use case number) are not shown as one.
        together = households.joined(
            enterprise_id, [(p, key) for p, agency, key in evidence if granted_of(p, agency)]
        )
        rows = [
            r
            for r in rows
            if r["enterprise_id"] in together and granted_of(r["enterprise_id"], r["agency"])
        ]
        mine = sorted({r["household_id"] for r in rows if r["enterprise_id"] == enterprise_id})
        members: list[FamilyMember] = []
        household = mine[0] if mine else None
        for person in sorted({r["enterprise_id"] for r in rows if r["household_id"] == household}):
            records, events = self._shown_of_person(
                agreement, shown_decision, principal, purpose, views[person], today
            )
            if not records:
                continue  # nothing of them this reader may see: not shown at all
            stays = [
                r for r in rows if r["household_id"] == household and r["enterprise_id"] == person
            ]
            starts = [r["valid_from"] for r in stays]
            ends = [r["valid_to"] for r in stays]
            members.append(
                FamilyMember(
                    person,
                    None if None in starts else min(starts),
                    None if None in ends else max(ends),
                    records,
                    events,
                )
            )
        if household is None or not any(m.person == enterprise_id for m in members):
            objects["found"] = bool(rows)
            self._record(DeniedEvent, principal, purpose, objects, decision, 0, "denied")
            raise NotFound(unseen_person(enterprise_id))
        objects["household"] = household
        objects["enterprise_ids"] = [
            enterprise_id,
            *(m.person for m in members if m.person != enterprise_id),
        ]
        objects["datasets"] = sorted(
            {f"{r['agency']}.clients" for m in members for r in m.records}
            | {f"{e['agency']}.events" for m in members for e in m.events}
        )
        shown_rows = sum(len(m.records) + len(m.events) for m in members)
        self._record(DataRead, principal, purpose, objects, decision, shown_rows)
        notices = [WITHHOLDING_NOTICE]
        part2 = {d.id.split(".")[0] for d in agreement.datasets if d.part2}
        if {r["agency"] for m in members for r in m.records + m.events} & part2:
            notices.append(REDISCLOSURE_NOTICE)
        return FamilyAnswer(household, on, members, decision, notices)

    def aggregate(
        self, principal: Principal, purpose: str, question: AggregateQuestion
    ) -> Aggregate:
        """Answer ``question`` as aggregates under disclosure control, or refuse it whole."""
        agreement, today, decision = self._decided_whole(principal, purpose, question, "aggregate")
        min_cell = decision.min_cell
        assert min_cell is not None
        secret = load_key(self._secrets / CELL_KEY_FILE)
        version = self._hub.version()  # taken before the read sees the hub
        with self._read() as con:
            sql = self._question_sql(con, principal, purpose, question, decision, cell_keys=True)

            def counted() -> Protected:
                exact = run_counts(con, sql, secret)
                history = StoredHistory(self._audit.engine)
                return protect(exact, question.spec, min_cell, history)

            # Everything the released table depends on (see crosswalk.access.answers);
            # the principal only through its decision, which holds its grant.
            key = (
                None
                if version is None
                else (
                    version,
                    id(agreement),
                    today,
                    purpose,
                    decision,
                    hashlib.sha256(secret).hexdigest(),
                    sql,
                )
            )
            protected, again = self._answers.answer(key, agreement, counted)
        if again:
            protected = protected.repeated_now()
        table = question.answer(protected)
        objects = {**_objects(question, sql), "protection": protected.to_dict()}
        self._record(DataRead, principal, purpose, objects, decision, table.num_rows)
        return Aggregate(table, protected, decision)

    def rows(
        self,
        principal: Principal,
        purpose: str,
        question: RowQuestion,
        level: str = "pseudonymised",
    ) -> pa.Table:
        """Answer a row-level question at ``level``; enterprise ids become per-purpose
        pseudonyms at the pseudonymised level.

        Only a declared row question is answered (``row_level``, no count-table ``spec``):
        anything else is refused, and the refusal audited, before any SQL runs. The audit
        entry of an answer is written before any transformation of it (fail closed)."""
        if level not in ROW_LEVELS:
            raise ConfigError(f"row-level answers are {' or '.join(ROW_LEVELS)}, not {level!r}")
        if getattr(type(question), "row_level", False) is not True or hasattr(question, "spec"):
            agreement, today = self._in_force()
            request = Request(principal, purpose, question.elements, level)
            decision = self._decide(agreement, request, today)
            self._record(DeniedEvent, principal, purpose, _objects(question), decision, 0, "denied")
            raise AccessDenied(
                f"{question.name!r} is not a row-level question: ask it as aggregates, "
                "under disclosure control",
                decision,
            )
        decision = self._decide_whole(principal, purpose, question, level)
        with self._read() as con:
            sql = self._question_sql(con, principal, purpose, question, decision, cell_keys=False)
            table = _arrow(con, sql)
        self._record(
            DataRead, principal, purpose, _objects(question, sql), decision, table.num_rows
        )
        if "enterprise_id" not in table.column_names:
            raise ConfigError(f"row question {question.name!r} gave no enterprise_id column")
        if level == "pseudonymised":
            ids = table.column("enterprise_id").to_pylist()
            table = table.drop(["enterprise_id"]).add_column(
                0,
                "pseudonym",
                pa.array([self.pseudonym(i, purpose, decision.grant) for i in ids], pa.string()),
            )
        return table

    def _decide_whole(
        self, principal: Principal, purpose: str, question: AskedQuestion, level: str
    ) -> Decision:
        """Decide a question, refusing (and auditing the refusal) unless every element it
        reads is granted outright: a question is not answered over less data than it says."""
        return self._decided_whole(principal, purpose, question, level)[2]

    def _decided_whole(
        self, principal: Principal, purpose: str, question: AskedQuestion, level: str
    ) -> tuple[Agreement, date, Decision]:
        """``_decide_whole``, with the agreement in force and the day it decided under."""
        agreement, today = self._in_force()
        request = Request(principal, purpose, question.elements, level)
        decision = self._decide(agreement, request, today)
        problems = []
        if not decision.allowed:
            what = "aggregates" if level == "aggregate" else f"{level} person-level data"
            problems.append(
                f"{principal.user} ({principal.role}, {principal.agency}) may not receive {what} for {purpose}"
            )
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
            self._record(DeniedEvent, principal, purpose, _objects(question), decision, 0, "denied")
            raise AccessDenied("; ".join(problems), decision)
        return agreement, today, decision


def _arrow(con: Any, sql: str) -> pa.Table:
    return reader(con).arrow(sql)


def _objects(question: AskedQuestion, sql: str | None = None) -> dict[str, Any]:
    """What the audit entry says was asked: the question, its datasets and the SHA-256 of
    the SQL that ran (of the question's SQL over the hub's tables, if it was refused)."""
    sql = sql if sql is not None else question.render()
    return {
        "question": question.name,
        "datasets": sorted({d for d, _ in question.elements}),
        "sql_sha256": hashlib.sha256(sql.encode()).hexdigest(),
    }
