"""The main job on the embedded default, end to end, on a fresh synthetic state.

``crosswalk demo`` (and ``make demo``) generates a synthetic state with two weekly update
batches, ingests all 13 agencies into a fresh hub, links person records into enterprise
persons, loads each week and links it incrementally (showing how many persons keep their
id, every id change by cause, the accuracy against the week's truth and the review
backlog, those that matter most first), asks the gate
for a person's records as different accounts, takes a researcher's data request
through the stewards' approvals to a grant and answers a research question under it,
and asks cross-agency questions
(program overlap, a pathway, a cohort's outcomes) as an analyst under disclosure
control, writing their charts. It reports what each step produced, with the linkage
scored against the ground truth. Each step is the library function a user would call;
the demo only chains them.

The host operator first makes one account per role (``DEMO_ACCOUNTS``) and a token for
each, written owner-only to ``out/tokens/<name>``; every request of the demo is made
with those tokens, signed in as the CLI and the service sign in, and the same files sign
the CLI in afterwards (``CROSSWALK_TOKEN=$(cat demo-out/tokens/analyst)``).
"""

from __future__ import annotations

import json
import secrets as secrets_module
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from crosswalk import analytics, clock, migrations, stores
from crosswalk.access import REDISCLOSURE_NOTICE, Gate
from crosswalk.accounts import Accounts, Actor
from crosswalk.accounts.credentials import save_token
from crosswalk.agreement import Principal
from crosswalk.audit import AuditLog, Verification
from crosswalk.errors import AccessDenied, NotFound
from crosswalk.identity import Evaluation, LinkResult, link
from crosswalk.ingest import IngestResult, ingest_state
from crosswalk.synth import Manifest, synth

Step = Callable[[str], None]


@dataclass(frozen=True)
class GateExample:
    """One request through the gate and what came back."""

    who: str
    purpose: str
    level: str
    outcome: str  # allowed, transformed, denied
    detail: str
    clauses: list[str]


@dataclass(frozen=True)
class AnalyticsExample:
    """One question asked as an analyst, its protected answer and its charts."""

    title: str
    answer: analytics.Answer
    charts: list[Path]


@dataclass(frozen=True)
class DemoAccount:
    """A demo account and its token (also in ``token_file``, mode 0600)."""

    name: str
    username: str
    agency: str
    roles: tuple[str, ...]
    token: str
    token_file: Path


# (token file name, username, agency, roles): one account per role. The agreement names
# the stewards and privacy officers by username, so these are the names it names.
DEMO_ACCOUNTS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("analyst", "bob", "cdo", ("analyst",)),
    ("researcher", "rae", "cdo", ("researcher",)),
    ("caseworker", "ana", "fcs", ("caseworker",)),
    ("doc-caseworker", "dan", "doc", ("caseworker",)),
    ("fcs-steward", "fcs.steward", "fcs", ("steward",)),
    ("hfs-steward", "hfs.steward", "hfs", ("steward",)),
    ("sud-steward", "sud.steward", "sud", ("steward",)),
    ("operator-steward", "cdo.steward", "cdo", ("steward",)),
    ("linkage-steward", "cdo.linkage", "cdo", ("linkage_steward",)),
    ("privacy-officer", "cdo.privacy", "cdo", ("privacy_officer",)),
    ("administrator", "cdo.admin", "cdo", ("administrator",)),
)
TOKEN_DAYS = 30


@dataclass(frozen=True)
class GrantExample:
    """A data request for a purpose used only by request, from asking to an answer."""

    request_id: str
    purpose: str
    level: str
    agencies: list[str]
    approved_by: list[str]
    before: str  # what the gate answered the question before the grant
    rows: int  # rows of the question answered under the grant
    columns: list[str]
    revoked_by: str
    after: str  # what the gate answered the very next request after the revocation


@dataclass(frozen=True)
class WeekExample:
    """One weekly update batch: loaded, linked incrementally, scored, its review backlog."""

    week: int
    date: str
    changes: dict[str, int]  # what the generator's week changed, by kind (its truth)
    records_accepted: int  # rows of the week's client and event files loaded
    persons_before: int
    linked: LinkResult
    pairwise_f1: float
    review: list[str]  # the review queue's first pairs, those that matter most first

    @property
    def persons_keeping_id(self) -> int:
        """Persons of before the week whose id is still in use after it."""
        return (
            self.persons_before
            - self.linked.changes.get("merged", 0)
            - self.linked.changes.get("retired", 0)
        )


@dataclass(frozen=True)
class FamilyExample:
    """One family's services across agencies, as the SNAP caseworker may see them."""

    household: str
    on: date
    members: list[tuple[str, list[str], list[str]]]  # person, agencies, programs


@dataclass(frozen=True)
class DemoResult:
    out: Path
    hub: Path
    manifest: Manifest
    ingested: list[IngestResult]
    linked: LinkResult
    evaluation: Evaluation
    gate_examples: list[GateExample]
    grant_example: GrantExample
    analytics_examples: list[AnalyticsExample]
    audit: Verification
    accounts: list[DemoAccount]
    password_file: Path | None = None  # every demo account's password, for the web UI
    weeks: list[WeekExample] = field(default_factory=list)
    family: FamilyExample | None = None  # one family's services across agencies


def demo(
    out: str | Path = "demo-out", people: int = 20_000, seed: int = 7, step: Step | None = None
) -> DemoResult:
    """Generate a state into ``out/state``, ingest it into a fresh ``out/hub.duckdb``, link
    its person records (charts in ``out/charts``) and evaluate against the ground truth."""
    say = step or (lambda message: None)
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    say(f"generating a synthetic state of {people:,} people")
    manifest = synth(people=people, seed=seed, out=out / "state", weeks=DEMO_WEEKS)
    hub = out / "hub.duckdb"
    control = f"sqlite:///{out / 'control.db'}"
    # One folder of keys for every step, so the whole audit chain is signed by one key.
    secrets = out / "secrets"
    say("making one account per role, with a token each")
    # One password for every demo account (synthetic data), to sign in to the web UI.
    password = secrets_module.token_urlsafe(12)
    password_file = save_token(out / "password", password)
    accounts = make_accounts(control, secrets, out / "tokens", password)
    say("ingesting the 13 agencies' extracts")
    ingested = ingest_state(out / "state", hub=hub, control=control, secrets=secrets)
    say("linking person records across agencies")
    linked = link(hub, charts=out / "charts", control=control, secrets=secrets)
    say("evaluating the person index against the ground truth")
    evaluation = Gate(hub, control, secrets).evaluate_linkage(
        _signed_in(control, secrets, accounts, "linkage-steward", "linkage_review"),
        "linkage_review",
        out / "state" / "truth",
    )
    weeks = week_examples(out, hub, control, secrets, accounts, linked, say)
    say("a researcher's data request: the stewards approve, the grant answers")
    granted = grant_example(hub, control, secrets, accounts)
    say("asking the gate for data as different agencies and purposes")
    examples = gate_examples(hub, control, secrets, accounts)
    say("asking cross-agency questions as an analyst, under disclosure control")
    questions = analytics_examples(hub, control, secrets, out / "charts", accounts)
    say("one family's services across agencies, as the SNAP caseworker may see them")
    family = family_example(hub, control, secrets, accounts)
    return DemoResult(
        out,
        hub,
        manifest,
        ingested,
        linked,
        evaluation,
        examples,
        granted,
        questions,
        AuditLog(control, secrets=secrets).verify(),
        accounts,
        password_file,
        weeks,
        family,
    )


def make_accounts(
    control: str, secrets: Path, folder: Path, password: str | None = None
) -> list[DemoAccount]:
    """The control plane migrated, then ``DEMO_ACCOUNTS`` made by the host operator, each
    with a token of the scopes its roles use, written to ``folder/<name>`` (0600), and
    ``password`` (to sign in to the web UI), if given."""
    engine = stores.control_engine(control)
    try:
        migrations.upgrade(engine)
        accounts = Accounts(engine, AuditLog(engine, secrets=secrets))
        operator = Actor.host_operator()
        made = []
        for name, username, agency, roles in DEMO_ACCOUNTS:
            accounts.add(operator, username, agency, list(roles), f"demo {name}", password)
            _, token = accounts.create_token(
                operator, username, days=TOKEN_DAYS, label="crosswalk demo"
            )
            path = save_token(folder / name, token)
            made.append(DemoAccount(name, username, agency, roles, token, path))
        return made
    finally:
        engine.dispose()


def _signed_in(
    control: str, secrets: Path, accounts: list[DemoAccount], name: str, purpose: str
) -> Principal:
    """The principal of a demo account's request: its token authenticated and its role
    chosen for the purpose as for any CLI or API request (``Accounts.principal``)."""
    token = next(a.token for a in accounts if a.name == name)
    engine = stores.control_engine(control)
    try:
        book = Accounts(engine, AuditLog(engine, secrets=secrets))
        return book.principal(book.authenticate(token, "crosswalk demo"), purpose)
    finally:
        engine.dispose()


DEMO_WEEKS = 2


def week_examples(
    out: Path,
    hub: Path,
    control: str,
    secrets: Path,
    accounts: list[DemoAccount],
    first: LinkResult,
    say: Step,
) -> list[WeekExample]:
    """Each weekly update batch of the state ingested and linked incrementally (the saved
    model, only what is new or changed), scored against that week's truth and followed by
    the first pairs of the review queue, as a linkage steward sees them."""
    steward = _signed_in(control, secrets, accounts, "linkage-steward", "linkage_review")
    gate = Gate(hub, control, secrets)
    weeks, before = [], first
    for week in range(1, DEMO_WEEKS + 1):
        folder = out / "state" / "weeks" / f"{week:02d}"
        manifest = json.loads((folder / "manifest.json").read_text())
        say(f"week {week}: ingesting the agencies' update batches")
        loaded = ingest_state(folder, hub=hub, control=control, secrets=secrets)
        say(f"week {week}: linking the new and changed records incrementally")
        linked = link(hub, control=control, secrets=secrets)
        evaluation = gate.evaluate_linkage(steward, "linkage_review", folder / "truth")
        queue = gate.review_list(steward, "linkage_review", limit=3)
        review = [
            f"{p['record_key_l']} ~ {p['record_key_r']} (match weight {p['match_weight']:.1f}):"
            f" would {p['impact']['decides']} {p['impact']['records']} records"
            + (", child welfare or Part 2" if p["impact"]["first"] else "")
            for p in queue
        ]
        weeks.append(
            WeekExample(
                week,
                manifest["date"],
                dict(manifest["changes"]),
                sum(r.rows_accepted for r in loaded),
                before.clusters,
                linked,
                evaluation.pairwise_f1,
                review,
            )
        )
        before = linked
    return weeks


DEMO_QUESTIONS: list[tuple[str, analytics.Question]] = [
    (
        "People in each pair of programs, 2019",
        analytics.ProgramOverlap(
            analytics.Filters(
                start=date(2019, 1, 1),
                end=date(2019, 12, 31),
                programs=(
                    "MEDICAID",
                    "SNAP",
                    "TANF",
                    "MENTAL_HEALTH",
                    "SUD_TREATMENT",
                    "HOMELESS_SERVICES",
                ),
            )
        ),
    ),
    (
        "Programs entered just before and after TANF, entries 2015-2020",
        analytics.Pathways(
            analytics.Filters(
                start=date(2015, 1, 1),
                end=date(2020, 12, 31),
                programs=(
                    "UI_CLAIM",
                    "SNAP",
                    "MEDICAID",
                    "HOUSING_ASSISTANCE",
                    "HOMELESS_SERVICES",
                    "MENTAL_HEALTH",
                ),
            ),
            program="TANF",
        ),
    ),
    (
        "After an unemployment claim (2015-2017): share entering each program within 4 years",
        analytics.CohortOutcomes(
            program="UI_CLAIM",
            event="entry",
            cohort_start=date(2015, 1, 1),
            cohort_end=date(2017, 12, 31),
            years=4,
            outcomes=("SNAP", "TANF", "MEDICAID", "HOMELESS_SERVICES"),
        ),
    ),
]


def analytics_examples(
    hub: Path, control: str, secrets: Path, charts: Path, accounts: list[DemoAccount]
) -> list[AnalyticsExample]:
    """Overlap, a pathway and a cohort asked by the demo analyst for program evaluation,
    with each answer's charts written as interactive HTML and PNG into ``charts``."""
    analyst = _signed_in(control, secrets, accounts, "analyst", "program_evaluation")
    out = []
    for title, question in DEMO_QUESTIONS:
        answer = analytics.ask(
            question, analyst, "program_evaluation", hub=hub, control=control, secrets=secrets
        )
        spec = analytics.chart(
            question.name, answer.table, title, getattr(question, "program", None)
        )
        paths = [
            analytics.write_chart(spec, charts / f"{question.name}.{kind}")
            for kind in ("html", "png")
        ]
        out.append(AnalyticsExample(title, answer, paths))
    return out


# Research is used only by request (the agreement's ``by_request``): the researcher asks
# for these programs' services and their clients' birth year, sex and county.
RESEARCH_QUESTION = analytics.HeavyUsers(
    analytics.Filters(programs=("MEDICAID", "SNAP", "TANF")), limit=20
)


def grant_example(
    hub: Path, control: str, secrets: Path, accounts: list[DemoAccount]
) -> GrantExample:
    """The researcher asks the heaviest multi-system users for research (refused: no
    grant), requests the data, the steward of every agency it names approves, the same
    question is answered, pseudonymised, under the grant; the privacy officer revokes it
    and the next request is refused again."""
    gate = Gate(hub, control, secrets=secrets)
    today = clock.today()
    level = "pseudonymised"
    researcher = _signed_in(control, secrets, accounts, "researcher", "research")
    try:
        gate.rows(researcher, "research", RESEARCH_QUESTION, level)
        before = "answered"
    except AccessDenied as denied:
        before = str(denied)
    agencies = sorted({d.split(".")[0] for d, _ in RESEARCH_QUESTION.elements})
    elements = [
        *RESEARCH_QUESTION.elements,
        *((f"{a}.clients", "county") for a in agencies),
    ]
    request = gate.request_data(
        researcher,
        "research",
        elements,
        level,
        today,
        today + timedelta(days=179),
        "Who uses the most programs, and which, to plan coordinated services",
    )
    approved_by = []
    for agency in request.agencies:
        steward = next(a.username for a in accounts if a.name == f"{agency}-steward")
        request = gate.approve_request(steward, request.request_id, "within the agreement")
        approved_by.append(steward)
    rows = gate.rows(researcher, "research", RESEARCH_QUESTION, level)
    # The project ends: the privacy officer revokes the grant, which counts for nothing
    # from the very next request.
    officer = next(a.username for a in accounts if a.name == "privacy-officer")
    gate.revoke_grant(officer, request.request_id, "the demo's project has ended")
    try:
        gate.rows(researcher, "research", RESEARCH_QUESTION, level)
        after = "answered"
    except AccessDenied as denied:
        after = str(denied)
    return GrantExample(
        request.request_id,
        "research",
        level,
        list(request.agencies),
        approved_by,
        before,
        rows.num_rows,
        rows.column_names,
        officer,
        after,
    )


def gate_examples(
    hub: Path, control: str, secrets: Path, accounts: list[DemoAccount]
) -> list[GateExample]:
    """A few requests by demo accounts of different agencies, roles and purposes, with
    what the gate did."""
    today = clock.today()
    gate = Gate(hub, control, secrets=secrets)

    def who(name: str, purpose: str) -> Principal:
        return _signed_in(control, secrets, accounts, name, purpose)

    def signing_in(name: str, purpose: str) -> Principal | Refused:
        try:
            return who(name, purpose)
        except AccessDenied as refused:
            return Refused(next(a for a in accounts if a.name == name), str(refused))

    # The substance-use program's steward finds one of its own clients (its own data,
    # clause 6.1): the client who then signs a consent.
    sud_steward = who("sud-steward", "operations")
    clients = gate.rows(
        sud_steward,
        "operations",
        analytics.HeavyUsers(analytics.Filters(programs=("SUD_TREATMENT",)), limit=1),
        level="identified",
    )
    person = clients.column("enterprise_id").to_pylist()[0]
    asks = [
        ("caseworker", "care_coordination", "identified"),
        ("researcher", "research", "pseudonymised"),
        ("doc-caseworker", "care_coordination", "identified"),
        ("analyst", "program_evaluation", "identified"),
    ]
    examples = []
    for i, (name, purpose, level) in enumerate(asks):
        if i == 1:  # the person signs a Part 2 consent for their SNAP caseworker
            gate.consent_add(
                sud_steward.user,
                person,
                "sud",
                "fcs",
                "care_coordination",
                "substance-use treatment records",
                today - timedelta(days=1),
                today + timedelta(days=365),
            )
            examples.append(
                _ask(
                    gate,
                    signing_in("caseworker", "care_coordination"),
                    "care_coordination",
                    "identified",
                    person,
                    "after consent",
                )
            )
        examples.append(_ask(gate, signing_in(name, purpose), purpose, level, person, ""))
    return examples


def family_example(
    hub: Path, control: str, secrets: Path, accounts: list[DemoAccount]
) -> FamilyExample | None:
    """The SNAP caseworker's view of one family: among the caseworker's heaviest SNAP and
    TANF clients, the first whose household today has members known to several agencies
    (None if there is none)."""
    gate = Gate(hub, control, secrets=secrets)
    caseworker = _signed_in(control, secrets, accounts, "caseworker", "care_coordination")
    clients = gate.rows(
        caseworker,
        "care_coordination",
        analytics.HeavyUsers(analytics.Filters(programs=("SNAP", "TANF")), limit=25),
        level="identified",
    )
    for person in clients.column("enterprise_id").to_pylist():
        try:
            answer = gate.family(caseworker, "care_coordination", person)
        except NotFound:
            continue
        agencies = {r["agency"] for m in answer.members for r in m.records}
        if len(answer.members) >= 2 and len(agencies) >= 2:
            return FamilyExample(
                answer.household,
                answer.on,
                [
                    (
                        m.person,
                        sorted({r["agency"] for r in m.records}),
                        sorted({str(e.get("program")) for e in m.events if e.get("program")}),
                    )
                    for m in answer.members
                ],
            )
    return None


@dataclass(frozen=True)
class Refused:
    """A demo account refused at sign-in: no role of it may use data for the purpose."""

    account: DemoAccount
    reason: str


def _ask(
    gate: Gate, who: Principal | Refused, purpose: str, level: str, person: str, note: str
) -> GateExample:
    if isinstance(who, Refused):
        a = who.account
        label = f"{a.username} ({', '.join(a.roles)}, {a.agency})"
        return GateExample(label, purpose, level, "denied", f"at sign-in: {who.reason}", [])
    label = f"{who.user} ({who.role}, {who.agency}){' ' + note if note else ''}"
    try:
        answer = gate.person(who, purpose, person, level)
    except AccessDenied as denied:
        reasons = denied.decision.reasons if denied.decision else ()
        return GateExample(
            label, purpose, level, "denied", reasons[0].text if reasons else str(denied), []
        )
    except NotFound as unseen:  # nothing this reader may see: the same answer as no person
        return GateExample(label, purpose, level, "denied", str(unseen), [])
    agencies = sorted({r["agency"] for r in answer.records})
    detail = f"person {answer.person}: {len(answer.records)} records from {', '.join(agencies)}, {len(answer.events)} services"
    if REDISCLOSURE_NOTICE in answer.notices:
        detail += "; with the 42 CFR 2.32 redisclosure notice"
    outcome = "transformed" if answer.decision.dropped or level != "identified" else "allowed"
    clauses = sorted({r.clause for r in answer.decision.reasons if r.clause})
    return GateExample(label, purpose, level, outcome, detail, clauses)
